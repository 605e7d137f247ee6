// The policy engine: a versioned YAML policy that turns scores into decisions.
//
// Per flow type the policy names its kind (liveness or transaction) and outcome names, the fusion
// model whose score it places, pass and fail thresholds with the uncertain band between them,
// retry rules, maximum attempts and what the last attempt's results become, hard rules evaluated
// before any threshold, contextual thresholds by segment, and manual-review conditions.
// config/policy.yaml is the annotated example; docs/policy.md the reference.
//
// Evaluation order (Decide):
//   1. hard rules, in order: the first whose condition holds decides;
//   2. a finding whose reason is in retry_on: retry while attempts remain, else last_attempt.retry;
//   3. no score (every signal missing): missing_score;
//   4. the score against the first matching segment's thresholds (or the flow's): a band;
//      pass -> pass, fail -> fail, uncertain -> `uncertain` (last_attempt.uncertain on the last
//      attempt); a missing signal declared "uncertain" forces the uncertain band;
//   5. review conditions, in order: the first that holds sends the case to review.
//
// A Policy is immutable once loaded and safe to share between threads; hot reload swaps in a
// new one.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/decision.h"
#include "core/result.h"
#include "policy/expr.h"
#include "reasons/catalogue.h"

namespace vigil {

// Thresholds on the decision score. For a liveness flow (score = probability the capture is
// genuine): pass band when score >= pass, fail band when score < fail. For a transaction flow
// (score = probability of fraud): pass band when score < pass, fail band when score >= fail.
// Between them lies the uncertain band; pass == fail leaves none.
struct Thresholds {
  double pass = 0.0;
  double fail = 0.0;
};

struct HardRule {
  std::string name;
  Expression when;
  Outcome outcome = Outcome::kFail;
  ReasonCode reason{};
};

struct Segment {
  std::string name;
  Expression when;
  Thresholds thresholds;
};

struct ReviewRule {
  std::string name;
  Expression when;
  ReasonCode reason = ReasonCode::kManualReviewRequired;
};

// Where a fact's value comes from when a condition is evaluated.
enum class FactSource : std::uint8_t {
  kContext,       // context.<key>
  kSecurity,      // security.<key>
  kQuality,       // quality.<key>
  kSignal,        // signals.<key>: the raw score
  kScore,         // scores.<key>: calibrated score, or fusion / disagreement
  kReason,        // reason.<CODE>: true when a finding raised it
  kAttempt,       // attempt
  kMaxAttempts,   // max_attempts
  kFlowType,      // flow_type
  kDecisionScore, // score: the fused score the thresholds are applied to
  kBand,          // band: only in review conditions
  kSegment,       // segment: only in review conditions
};

struct FactRef {
  FactSource source = FactSource::kContext;
  std::string key;
  ReasonCode reason{};
};

// The quality gate's thresholds for a liveness flow (the flow's `quality:` block). A frame that
// breaks one raises the matching reason (NO_FACE, BLURRY, ...), which retry_on turns into a
// retry with guidance. Scores are in [0, 1]; see docs/liveness.md for how each is measured.
struct QualityPolicy {
  double min_face_size = 0.20;     // FACE_TOO_SMALL: face box width / image width below this
  double max_center_offset = 0.30; // FACE_OFF_CENTER: face centre's offset, in half-image units
  double max_blur_score = 0.60;    // BLURRY: blur_score (1 = no detail on the face) above this
  double min_brightness = 0.25;    // TOO_DARK: mean luma of the face / 255 below this
  double max_brightness = 0.85;    // TOO_BRIGHT: above this
  double max_backlight = 0.25;     // BACKLIT: (surround luma - face luma) / 255 above this
  int min_resolution = 240;        // LOW_RESOLUTION: the image's short side below this (pixels)
  int max_faces = 1;               // MULTIPLE_FACES: more faces than this in any frame
};

class YamlReader;
// Reads a flow's `quality:` block into `q` (unset keys keep their defaults); errors go to `r`.
void ReadQualityPolicy(YamlReader& r, const YAML::Node& node, const std::string& path, QualityPolicy& q);

struct FlowPolicy {
  std::string flow_type;
  FlowKind kind = FlowKind::kLiveness;
  std::array<std::string, 4> outcome_names;  // indexed by Outcome
  std::string fusion;                        // fusion model name
  Thresholds thresholds;
  Outcome uncertain = Outcome::kRetry;       // the uncertain band's outcome before the last attempt
  int max_attempts = 0;                      // 0: attempts are not counted
  Outcome last_uncertain = Outcome::kReview; // uncertain band on the last attempt
  Outcome last_retry = Outcome::kFail;       // a retryable reason on the last attempt
  Outcome missing_score = Outcome::kReview;  // no signal at all
  std::vector<ReasonCode> retry_on;
  std::array<ReasonCode, 3> band_reasons{};  // pass, uncertain, fail band reasons
  int session_ttl_seconds = 180;             // liveness sessions expire after this long
  QualityPolicy quality;                     // liveness: the quality gate's thresholds
  std::vector<HardRule> hard_rules;
  std::vector<Segment> segments;
  std::vector<ReviewRule> review;
  std::vector<FactRef> facts;                // slot -> source
  int band_slot = -1, segment_slot = -1;     // late facts, -1 when unused

  bool risk_direction() const { return kind == FlowKind::kTransaction; }
  std::string_view OutcomeName(Outcome o) const { return outcome_names[static_cast<std::size_t>(o)]; }
  std::string_view BandName(DecisionBand b) const;
  bool Retryable(ReasonCode c) const;
};

// A guard the rollout controller checks for a candidate version (read here, acted on by rollout).
struct RollbackGuard {
  std::string metric;  // retry_rate, fail_rate, p95_latency_ms, disagreement_rate, false_positive_rate
  double max = 0.0;    // roll back when the candidate's value exceeds this
  double max_increase = 0.0;  // or when it exceeds the stable version's by this much (0: unused)
};

class Policy {
 public:
  // Parses and checks a policy. Every problem found is returned, each naming file, line, column
  // and field; the policy is usable only when the list is empty.
  static Result<std::shared_ptr<const Policy>> Parse(std::string_view yaml, const std::string& source,
                                                     const ReasonCatalogue& catalogue,
                                                     std::vector<Error>* all_errors = nullptr);
  static Result<std::shared_ptr<const Policy>> LoadFile(const std::string& path,
                                                        const ReasonCatalogue& catalogue,
                                                        std::vector<Error>* all_errors = nullptr);

  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }
  const FlowPolicy* FindFlow(std::string_view flow_type) const;
  const std::vector<FlowPolicy>& flows() const { return flows_; }
  const std::vector<RollbackGuard>& rollback() const { return rollback_; }

 private:
  friend class PolicyLoader;
  std::string version_;
  std::string description_;
  std::vector<FlowPolicy> flows_;
  std::vector<RollbackGuard> rollback_;
};

// Applies `flow` to a request whose fusion result is already in `decision.fusion`, filling the
// outcome, band, reasons and explanation. Allocates only for the reason list.
void Decide(const FlowPolicy& flow, const DecisionRequest& request, Decision& decision);

}  // namespace vigil
