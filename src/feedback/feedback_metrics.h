// The feedback figures as Prometheus metrics (src/metrics/metrics.h), for alert rules and the
// rollout guards:
//   vigil_labels_total{label, source}                     labels stored (not duplicates)
//   vigil_label_duplicates_total                          identical labels sent again
//   vigil_label_conflicts_total                           labels that disagreed with the one in force
//   vigil_feedback_rate{kind, window, rate}               fpr, fnr, precision, recall, f1, mcc, brier,
//                                                         ece, label_coverage; for liveness also
//                                                         bpcer, max_apcer, acer_research_convention
//   vigil_feedback_apcer{window, attack_type}             APCER per attack type (liveness)
//   vigil_feedback_version_rate{kind, window, version_of, version, rate}   fpr and fnr per model
//                                                         and policy version
//   vigil_feedback_labelled_decisions{kind, window}       labelled decisions in the window
//   vigil_feedback_label_delay_seconds{window, percentile}  p50 and p90 (a gauge, not a summary)
// Windows 1h and 24h on decision time, computed at each scrape. Undefined ratios are NaN.
#pragma once

#include <functional>
#include <memory>

#include "feedback/label.h"
#include "feedback/live_performance.h"

namespace vigil {

class MetricsRegistry;

class FeedbackMetrics {
 public:
  // Registers the families and a collect hook that recomputes the gauges from `live` at each
  // scrape. Both must outlive the registry's use. `metrics` may be null (no metrics).
  static std::unique_ptr<FeedbackMetrics> Register(MetricsRegistry* metrics, LivePerformance* live,
                                                   std::function<std::int64_t()> now_ms);
  ~FeedbackMetrics();
  void OnLabel(const Label& stored, bool duplicate);

 private:
  struct Impl;
  explicit FeedbackMetrics(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
