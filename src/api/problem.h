// Problem details (RFC 9457, formerly 7807) for every error the API returns. Each kind has a
// stable type URI ("urn:vigil:problem:<slug>"), a title and an HTTP status; clients match on the
// type, never on the detail text. docs/api.md lists them all.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

#define VIGIL_PROBLEM_TYPES(X)                                                        \
  X(kMalformedJson, "malformed-json", 400, "Request body is not valid JSON")          \
  X(kWrongType, "wrong-type", 422, "A field has the wrong type")                      \
  X(kMissingField, "missing-field", 422, "A required field is missing")               \
  X(kInvalidNumber, "invalid-number", 422, "A number is out of range or not finite")  \
  X(kInvalidValue, "invalid-value", 422, "A field's value is not allowed")            \
  X(kUnknownField, "unknown-field", 422, "The request has a field vigil does not know") \
  X(kUnknownFlow, "unknown-flow", 422, "The flow type is not in the policy")          \
  X(kUnknownSignal, "unknown-signal", 422, "A signal has no calibration")             \
  X(kInvalidMedia, "invalid-media", 422, "Media is corrupt or not a JPEG or PNG image") \
  X(kMediaOutOfBounds, "media-out-of-bounds", 422, "Media exceeds the frame, size or pixel limits") \
  X(kBodyTooLarge, "body-too-large", 413, "Request body too large")                   \
  X(kUnsupportedMediaType, "unsupported-media-type", 415, "Content-Type must be application/json") \
  X(kNotFound, "not-found", 404, "No such resource")                                  \
  X(kMethodNotAllowed, "method-not-allowed", 405, "Method not allowed on this resource") \
  X(kUnauthorized, "unauthorized", 401, "Missing or invalid API key")                 \
  X(kForbidden, "forbidden", 403, "The API key lacks the scope for this call")        \
  X(kRateLimited, "rate-limited", 429, "Rate limit exceeded for this API key")        \
  X(kOverloaded, "overloaded", 503, "Server overloaded; retry later")                 \
  X(kIdempotencyConflict, "idempotency-conflict", 409, "request_id reused with a different body") \
  X(kNotReady, "not-ready", 503, "Server not ready")                                  \
  X(kInternal, "internal", 500, "Internal error")

enum class ProblemType : std::uint8_t {
#define VIGIL_PROBLEM_ENUM(name, slug, status, title) name,
  VIGIL_PROBLEM_TYPES(VIGIL_PROBLEM_ENUM)
#undef VIGIL_PROBLEM_ENUM
};

std::string_view ProblemSlug(ProblemType t);
std::string_view ProblemTitle(ProblemType t);
int ProblemStatus(ProblemType t);
// "urn:vigil:problem:<slug>"
std::string ProblemTypeUri(ProblemType t);
// The type named by a slug; false when there is none.
bool ProblemTypeFromSlug(std::string_view slug, ProblemType* out);

struct Problem {
  ProblemType type = ProblemType::kInternal;
  std::string detail;  // for people; never contains secrets, tokens or raw subject ids
  std::string field;   // JSON path of the offending field ("context.amount"), or ""
};

// The application/problem+json body: type, title, status, detail, field, instance.
std::string RenderProblem(const Problem& p, std::string_view instance = {});

}  // namespace vigil
