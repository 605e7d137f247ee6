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

}  // namespace vigil
