// The offline evaluation report (`vigil eval`): figures at the decisions (or a threshold),
// confusion matrices along the threshold, ROC and DET data, the threshold meeting a target
// (BPCER/FPR <= x) as a policy fragment; as JSON and as a self-contained HTML page whose
// reliability diagram and DET curve are inline SVG. Pure; thread-safe.
#pragma once

#include <string>

#include "feedback/eval_data.h"
#include "feedback/performance.h"

namespace vigil {

struct EvalOptions {
  std::string source;            // the data file, for the report's header
  double threshold = 0.5;        // flag when risk >= threshold (when the data has no decisions)
  double target_fpr = kUndefined;  // BPCER (liveness) or FPR (transactions) at most this
  std::string flow = "";         // flow the policy fragment is for ("" = onboarding or transaction_approval)
  std::size_t max_curve_points = 2000;  // ROC/DET points kept in the outputs (evenly thinned)
};

struct EvalReport {
  EvalData data;
  EvalOptions options;
  Performance performance;        // at the decisions when the data has them, else at the threshold
  std::vector<SweepPoint> sweep;  // every distinct risk, highest first
  std::vector<SweepPoint> grid;   // confusion at thresholds 0, 0.05, ..., 1
  double auc = kUndefined;
  TargetThreshold target;         // when a target was given
};

EvalReport BuildEvalReport(EvalData data, const EvalOptions& opt);
std::string EvalReportJson(const EvalReport& r);
std::string EvalReportHtml(const EvalReport& r);
// YAML for the policy: the pass (liveness) or allow (transaction) threshold meeting the target,
// with the figures expected there as comments. Empty when no threshold meets it.
std::string PolicyFragment(const EvalReport& r);

// The standard normal quantile (probit), for DET axes. p in (0, 1).
double NormalQuantile(double p);

}  // namespace vigil
