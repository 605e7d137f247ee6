#include "core/decision.h"

namespace vigil {

std::string_view FlowKindName(FlowKind k) {
  return k == FlowKind::kLiveness ? "liveness" : "transaction";
}

std::string_view DecidedByName(DecidedBy d) {
  switch (d) {
    case DecidedBy::kHardRule: return "hard_rule";
    case DecidedBy::kRetryRule: return "retry_rule";
    case DecidedBy::kAttemptsExhausted: return "attempts_exhausted";
    case DecidedBy::kThreshold: return "threshold";
    case DecidedBy::kReviewRule: return "review_rule";
    case DecidedBy::kMissingSignal: return "missing_signal";
  }
  return "threshold";
}

}  // namespace vigil
