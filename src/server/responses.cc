#include "server/responses.h"

#include <cmath>

namespace vigil {

HttpResponse JsonResponse(http::status status, std::string body, unsigned version) {
  HttpResponse res{status, version};
  res.set(http::field::server, "vigil");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  return res;
}

HttpResponse ProblemResponse(const Problem& p, unsigned version, std::string_view instance, double retry_after_s) {
  HttpResponse res{static_cast<http::status>(ProblemStatus(p.type)), version};
  res.set(http::field::server, "vigil");
  res.set(http::field::content_type, "application/problem+json");
  res.set(http::field::cache_control, "no-store");
  if (p.type == ProblemType::kRateLimited || p.type == ProblemType::kOverloaded || p.type == ProblemType::kNotReady) {
    res.set(http::field::retry_after, std::to_string(std::max<long>(1, std::lround(std::ceil(retry_after_s)))));
  }
  res.body() = RenderProblem(p, instance);
  return res;
}

bool IsJsonRequest(const HttpRequest& req) {
  auto it = req.find(http::field::content_type);
  if (it == req.end()) return false;
  std::string_view ct(it->value().data(), it->value().size());
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return ct == "application/json";
}

std::string_view QueryParam(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    const auto eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace vigil
