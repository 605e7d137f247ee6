// The JSON wire format of the decision API: parsing requests into DecisionRequest (bounded and
// validated: a bad body is a Problem and nothing else happens) and rendering decisions.
// Field names follow SPEC.md section 3; docs/api.md and api/openapi.yaml document them.
// Functions are thread-safe (each thread keeps its own parser).
#pragma once

#include <string>
#include <string_view>

#include "api/problem.h"
#include "core/decision.h"
#include "core/result.h"
#include "reasons/catalogue.h"

namespace vigil {

struct RequestLimits {
  std::size_t max_context_fields = 64;
  std::size_t max_string_bytes = 256;
  std::size_t max_signals = 32;
  std::size_t max_security_flags = 32;
};

// A parsed decision request plus what only the server uses.
struct ParsedDecisionRequest {
  DecisionRequest request;
  std::string session_token;  // liveness flows; "" when absent
  bool has_timestamp = false; // timestamp_ms was given (simulated clocks use it)
};

Result<ParsedDecisionRequest, Problem> ParseDecisionRequest(std::string_view body,
                                                            const RequestLimits& limits = {});

// What the server adds to a decision in the response.
struct DecisionMeta {
  double latency_ms = 0.0;
  std::string evidence_id;
  std::string next_token;  // on a liveness retry
};

// The response body for a decision (SPEC.md section 3), with reasons expanded from the catalogue
// and the explanation (signals, calibrated values, weights, what decided). When `evidence_at` is
// given and meta.evidence_id is not empty, it receives the offset of the evidence id's value in
// the body (where the audit store writes the record's hash once it is chained).
std::string RenderDecision(const DecisionRequest& request, const Decision& decision,
                           const ReasonCatalogue& catalogue, const DecisionMeta& meta,
                           std::size_t* evidence_at = nullptr);

// Maps a decision-core error (unknown flow, unknown signal) to its problem.
Problem ProblemFromEngineError(const Error& e);

}  // namespace vigil
