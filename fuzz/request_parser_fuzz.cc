// Fuzzes the decision-request parser: any bytes must give a request or a problem, never a crash,
// and a parsed request must satisfy the parser's own bounds.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  vigil::RequestLimits limits;
  auto r = vigil::ParseDecisionRequest(body, limits);
  if (r.ok()) {
    const auto& q = r->request;
    if (q.request_id.empty() || q.request_id.size() > 128 || q.flow_type.empty()) std::abort();
    if (q.signals.size() > limits.max_signals) std::abort();
    if (q.context.size() > limits.max_context_fields + 1) std::abort();  // geo adds lat and lon
  } else if (vigil::RenderProblem(r.error()).empty()) {
    std::abort();
  }
  return 0;
}
