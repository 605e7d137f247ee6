// Building HTTP responses (JSON bodies and application/problem+json errors) and reading the two
// request details every route needs (content type, query parameters).
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

// True when the request's Content-Type is application/json (parameters such as charset allowed).
bool IsJsonRequest(const HttpRequest& req);
// The value of query parameter `name` in a request target ("/x?a=1&b=2"), "" when absent. Not
// percent-decoded: vigil's parameters are plain tokens.
std::string_view QueryParam(std::string_view target, std::string_view name);

}  // namespace vigil
