// The types that travel along the request path: a DecisionRequest goes in, scores are attached
// by calibration and fusion, and the policy engine turns them into a Decision. Scores are never
// decisions: a Decision names the outcome, the band the score fell in, and the reasons.
// All types are plain values; safe to move between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/value.h"
#include "reasons/reason_code.h"

namespace vigil {

// The two kinds of flow; flow types ("onboarding", "login", "transaction_approval") map to one
// in the policy.
enum class FlowKind : std::uint8_t { kLiveness, kTransaction };
std::string_view FlowKindName(FlowKind k);

// Outcomes in generic form. A liveness flow names them pass/retry/fail/review, a transaction flow
// allow/challenge/deny/review; the policy holds the names.
enum class Outcome : std::uint8_t { kPass, kRetry, kFail, kReview };

// Where the decision score fell against the flow's thresholds. kNone: no score to place (a
// capture rejected by the quality gate, or every signal missing).
enum class DecisionBand : std::uint8_t { kNone, kPass, kUncertain, kFail };

// A raw score from a hosted model, an analyzer or the client ("signals" in the API).
struct Signal {
  std::string name;
  double raw = 0.0;
};

// A reason raised before the policy runs: by the session check, the quality gate, a security
// pre-check or an analyzer. `weight` in [0, 1] says how strongly it speaks; `evidence` is a JSON
// object with what was measured (both points and the speed for impossible travel, say).
struct Finding {
  ReasonCode code{};
  double weight = 1.0;
  std::string source;    // the component that raised it ("quality", "velocity", ...)
  std::string evidence;  // JSON object text, or "" when there is nothing to add
};

struct DecisionRequest {
  std::string request_id;
  std::string flow_type;
  AttributeMap context;   // platform, browser_family, sdk_version, amount, account_age_days, ...
  std::vector<Signal> signals;
  AttributeMap security;  // injection_signal, device_integrity, virtual_camera_signal, ...
  AttributeMap quality;   // blur_score, brightness_score, face_count, ...
  std::vector<Finding> findings;
  int attempt = 1;        // 1-based attempt within the session
  double time_ms = 0;     // event time, milliseconds since the Unix epoch
};

// One signal's path through calibration and fusion.
struct SignalScore {
  std::string name;
  std::string model_version;
  double raw = 0.0;
  double calibrated = 0.0;    // probability after calibration
  bool present = false;       // false: missing from the request
  bool imputed = false;       // missing, and the fusion model's imputed value stood in
  double weight = 0.0;        // fusion weight actually applied (after renormalisation)
  double contribution = 0.0;  // weight * feature, in logit units
};

// The fused score and how it was made.
struct FusionResult {
  std::string version;       // fusion model version
  bool has_score = false;    // false when no input signal was present
  double score = 0.0;        // fused probability
  double logit = 0.0;        // fused log-odds
  double bias = 0.0;
  double disagreement = 0.0; // max - min of the present calibrated signals (0 with fewer than 2)
  bool force_uncertain = false;  // a missing signal whose declared handling is "uncertain"
  std::vector<SignalScore> signals;
};

// What decided.
enum class DecidedBy : std::uint8_t {
  kHardRule,          // a hard rule matched before any threshold
  kRetryRule,         // a retryable reason (quality, expired token) with attempts left
  kAttemptsExhausted, // a retryable reason or uncertain band on the last attempt
  kThreshold,         // the score against the (segment's) thresholds
  kReviewRule,        // a manual-review condition
  kMissingSignal,     // no score could be made
};
std::string_view DecidedByName(DecidedBy d);

struct DecisionReason {
  ReasonCode code{};
  double weight = 0.0;    // in [0, 1]; decisive reasons weigh 1
  bool decisive = false;  // this reason is why the outcome is what it is
  std::string evidence;   // JSON object text from the finding, or ""
};

struct Explanation {
  DecidedBy decided_by = DecidedBy::kThreshold;
  std::string rule;             // the hard, retry or review rule's name; "" for thresholds
  std::string segment;          // the contextual-threshold segment used ("" for the flow default)
  double pass_threshold = 0.0;  // thresholds in force, in the flow's score direction
  double fail_threshold = 0.0;
  double score = 0.0;           // the decision score that was placed in a band
};

struct Decision {
  std::string request_id;
  std::string flow_type;
  FlowKind kind = FlowKind::kLiveness;
  Outcome outcome = Outcome::kFail;
  DecisionBand band = DecisionBand::kNone;
  std::string outcome_name;  // as the flow names it: "pass", "challenge", ...
  std::string band_name;     // "pass", "uncertain", "fail", "none" (or the flow's names)
  std::vector<DecisionReason> reasons;  // decisive first, then by weight
  FusionResult fusion;
  Explanation explanation;
  int attempt = 1;
  int max_attempts = 0;      // 0: the flow does not count attempts
  std::string policy_version;
  std::string model_version;  // the fusion model's version
};

}  // namespace vigil
