// Building HTTP responses: JSON bodies and application/problem+json errors.
#pragma once

#include <string>
#include <string_view>

#include "api/problem.h"
#include "server/http_server.h"

namespace vigil {

HttpResponse JsonResponse(http::status status, std::string body, unsigned version);
// A problem response; 429 and 503 carry Retry-After (seconds, at least 1).
HttpResponse ProblemResponse(const Problem& p, unsigned version, std::string_view instance = {},
                             double retry_after_s = 1.0);

}  // namespace vigil
