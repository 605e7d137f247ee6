// What the feedback loop needs of a decision, read from its audit record's payload (the record
// written by audit/audit.cc BuildDecisionPayload): kind, outcome, fused score, versions, slices
// and raw signals. Pure; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "core/result.h"
#include "feedback/label.h"
#include "feedback/performance.h"

namespace vigil {

// Dimensions the error rates are sliced by.
inline constexpr std::array<std::string_view, 9> kSliceDimensions = {
    "flow_type", "platform", "browser_family", "sdk_version", "app_version",
    "device_class", "country", "model_version", "policy_version"};

struct DecisionFacts {
  std::string request_id;
  std::int64_t seq = 0;
  std::int64_t time_ms = 0;
  FlowKind kind = FlowKind::kLiveness;
  std::string outcome;       // generic: pass, retry, fail, review
  std::string outcome_name;  // as the flow names it: pass, challenge, deny, ...
  bool has_score = false;
  double score = 0.0;        // the fused score as the policy saw it
  std::array<std::string, kSliceDimensions.size()> slices;  // "" when absent
  struct SignalFacts {
    std::string name, model_version;
    bool present = false;
    double raw = 0.0, calibrated = 0.0;
  };
  std::vector<SignalFacts> signals;

  // Probability of the positive class (attack or fraud): 1 - score for liveness.
  double risk() const { return kind == FlowKind::kLiveness ? 1.0 - score : score; }
  // Not passed or allowed.
  bool flagged() const { return outcome != "pass"; }
};

// Parses a decision record; an error for other kinds of record or an unreadable payload.
Result<DecisionFacts> ParseDecisionRecord(const AuditRecord& record);

// The case a label makes of a decision.
LabelledCase MakeCase(const DecisionFacts& d, const Label& label);

}  // namespace vigil
