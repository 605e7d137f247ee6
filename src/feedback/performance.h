// Error rates of labelled decisions (SPEC.md section 2.14), the same figures live
// (GET /v1/monitor/performance) and offline (`vigil eval`). Pure functions; thread-safe.
//
// Conventions (docs/feedback.md):
// - The positive class is the bad one: attack (liveness) or fraud (transaction).
// - `risk` is the probability of the positive class: 1 - score for liveness flows (whose fused
//   score is the probability of a genuine capture), the score itself for transactions.
// - A decision "flags" a case when its outcome is not pass/allow (retry, fail, review;
//   challenge, deny, review): what a genuine user or legitimate customer experiences as friction.
// - FPR = FP / (FP + TN), FNR = FN / (FN + TP). For liveness, ISO/IEC 30107-3: APCER per attack
//   type = attacks of that type accepted (passed) / attacks of that type; BPCER = genuine
//   presentations rejected (not passed) / genuine presentations. ACER = (max APCER + BPCER) / 2
//   is the research convention (it is not an ISO/IEC 30107-3 metric; the standard deprecates it).
// - precision, recall, F1 as scikit-learn's; a ratio with a zero denominator is undefined (NaN,
//   written as null). MCC is 0 when its denominator is 0 (as matthews_corrcoef).
// - Brier = mean (risk - y)^2 (brier_score_loss). ECE uses 10 equal-width bins of risk over
//   [0, 1], bin b = (b/10, (b+1)/10] with 0 in the first (as calibration_curve's uniform
//   strategy): ECE = sum_b n_b / N * |mean risk_b - positive rate_b|.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace vigil {

inline constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();

// One labelled decision (or one labelled row of an evaluation file).
struct LabelledCase {
  bool positive = false;     // ground truth: attack or fraud
  std::string attack_type;   // attack or fraud type, "" when none
  bool has_risk = false;     // false: no score (a capture rejected by the quality gate)
  double risk = 0.0;         // probability of the positive class
  bool flagged = false;      // the decision did not pass/allow
  std::string outcome;       // the decision's outcome name ("pass", "challenge", ...)
  std::int64_t decided_ms = 0;
  std::int64_t labelled_ms = 0;  // 0 when unknown
};

struct Confusion {
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  void Add(bool positive, bool flagged);
  std::int64_t n() const { return tp + fp + tn + fn; }
};

struct ClassRates {
  double fpr = kUndefined, fnr = kUndefined, tpr = kUndefined, tnr = kUndefined;
  double precision = kUndefined, recall = kUndefined, f1 = kUndefined, mcc = 0.0, accuracy = kUndefined;
};
ClassRates RatesOf(const Confusion& c);

struct AttackTypeRate {
  std::string attack_type;
  std::int64_t attacks = 0;
  std::int64_t accepted = 0;
  double apcer = kUndefined;  // accepted / attacks
};

struct ReliabilityBin {
  double lower = 0.0, upper = 0.0;
  std::int64_t count = 0;
  double mean_risk = kUndefined;      // mean predicted probability in the bin
  double positive_rate = kUndefined;  // observed fraction of positives in the bin
};

struct Calibration {
  std::int64_t n = 0;  // cases with a risk
  double brier = kUndefined;
  double ece = kUndefined;
  std::vector<ReliabilityBin> bins;
};

struct Performance {
  std::int64_t n = 0, positives = 0, negatives = 0;
  Confusion confusion;
  ClassRates rates;
  std::vector<AttackTypeRate> by_attack_type;  // sorted by type name
  double max_apcer = kUndefined;
  double bpcer = kUndefined;  // = FPR
  double acer = kUndefined;   // research convention: (max APCER + BPCER) / 2
  Calibration calibration;
};

// `bins`: number of equal-width reliability bins (10 by default).
Performance ComputePerformance(std::span<const LabelledCase> cases, int bins = 10);
Calibration ComputeCalibration(std::span<const LabelledCase> cases, int bins = 10);

// Threshold sweeps over `risk` (cases without a risk are left out): a case is flagged when
// risk >= threshold.
struct SweepPoint {
  double threshold = 0.0;
  Confusion confusion;
  double fpr = kUndefined, fnr = kUndefined, tpr = kUndefined;
};
// One point per distinct risk value, highest first (as roc_curve with drop_intermediate=False,
// without its leading +inf point), i.e. the ROC curve; DET is (fpr, fnr) of the same points.
std::vector<SweepPoint> SweepThresholds(std::span<const LabelledCase> cases);
// Confusion matrices at the given thresholds.
std::vector<SweepPoint> ConfusionAt(std::span<const LabelledCase> cases, std::span<const double> thresholds);
// Area under the ROC curve by the trapezoidal rule over the full sweep (roc_auc_score).
double RocAuc(std::span<const SweepPoint> sweep);

// The lowest threshold (catching the most positives) whose FPR (= BPCER) is <= max_fpr; NaN when
// no threshold meets it (needs negatives). Flag when risk >= the threshold.
struct TargetThreshold {
  double threshold = kUndefined;
  SweepPoint point;
};
TargetThreshold ThresholdForMaxFpr(std::span<const SweepPoint> sweep, double max_fpr);

}  // namespace vigil
