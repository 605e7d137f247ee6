#include "feedback/feedback_metrics.h"

#include <algorithm>

#include "core/log.h"
#include "metrics/metrics.h"

namespace vigil {

struct FeedbackMetrics::Impl {
  LivePerformance* live = nullptr;
  std::function<std::int64_t()> now_ms;
  Family<Counter>* labels = nullptr;
  Counter* duplicates = nullptr;
  Counter* conflicts = nullptr;
  Family<Gauge>* rate = nullptr;
  Family<Gauge>* apcer = nullptr;
  Family<Gauge>* version_rate = nullptr;
  Family<Gauge>* labelled = nullptr;
  Family<Gauge>* delay = nullptr;

  void Publish(std::string_view window, std::int64_t span_ms) {
    PerformanceQuery q;
    q.window = std::string(window);
    q.to_ms = now_ms() + 1;
    q.from_ms = q.to_ms - span_ms;
    LiveSnapshot snap = live->Compute(q);
    for (int k = 0; k < 2; ++k) {
      const std::string_view kind = k == 0 ? "liveness" : "transaction";
      const LiveGroup& g = snap.overall[static_cast<std::size_t>(k)];
      const Performance p = ComputePerformance(g.cases);
      labelled->Get({kind, window}).Set(static_cast<double>(g.cases.size()));
      auto set = [&](std::string_view name, double v) { rate->Get({kind, window, name}).Set(v); };
      set("fpr", p.rates.fpr);
      set("fnr", p.rates.fnr);
      set("precision", p.rates.precision);
      set("recall", p.rates.recall);
      set("f1", p.rates.f1);
      set("mcc", p.n == 0 ? kUndefined : p.rates.mcc);
      set("brier", p.calibration.brier);
      set("ece", p.calibration.ece);
      set("label_coverage", g.decisions == 0 ? kUndefined
                                             : static_cast<double>(g.cases.size()) / static_cast<double>(g.decisions));
      if (k == 0) {
        set("bpcer", p.bpcer);
        set("max_apcer", p.max_apcer);
        set("acer_research_convention", p.acer);
        for (const auto& t : p.by_attack_type) apcer->Get({window, t.attack_type}).Set(t.apcer);
      }
    }
    for (const auto& s : snap.slices) {
      const std::string_view dim = kSliceDimensions[s.dimension];
      if (dim != "model_version" && dim != "policy_version") continue;
      const Performance p = ComputePerformance(s.group.cases);
      const std::string_view kind = s.kind == 0 ? "liveness" : "transaction";
      const std::string_view of = dim == "model_version" ? "model" : "policy";
      version_rate->Get({kind, window, of, s.value, "fpr"}).Set(p.rates.fpr);
      version_rate->Get({kind, window, of, s.value, "fnr"}).Set(p.rates.fnr);
    }
    delay->Get({window, "p50"}).Set(snap.DelayQuantile(0.5));
    delay->Get({window, "p90"}).Set(snap.DelayQuantile(0.9));
  }
};

std::unique_ptr<FeedbackMetrics> FeedbackMetrics::Register(MetricsRegistry* metrics, LivePerformance* live,
                                                           std::function<std::int64_t()> now_ms) {
  auto impl = std::make_unique<Impl>();
  impl->live = live;
  impl->now_ms = std::move(now_ms);
  if (metrics == nullptr) return std::unique_ptr<FeedbackMetrics>(new FeedbackMetrics(std::move(impl)));
  const auto kind = LabelSpec::Allow("kind", {"liveness", "transaction"});
  const auto window = LabelSpec::Allow("window", {"1h", "24h"});
  auto labels = metrics->AddCounter(
      "vigil_labels_total", "Labels stored, by label and source (identical repeats are not counted)",
      {LabelSpec::Allow("label", {"genuine", "attack", "legitimate", "fraud"}),
       LabelSpec::Allow("source", {"manual_review", "dispute", "chargeback", "red_team", "customer_support"})});
  auto dups = metrics->AddCounter("vigil_label_duplicates_total", "Identical labels sent again (idempotent replays)");
  auto conf = metrics->AddCounter("vigil_label_conflicts_total",
                                  "Labels that disagreed with the label in force when they arrived");
  auto rate = metrics->AddGauge(
      "vigil_feedback_rate", "Error rates of labelled decisions over a window of decision time (docs/feedback.md)",
      {kind, window,
       LabelSpec::Allow("rate", {"fpr", "fnr", "precision", "recall", "f1", "mcc", "brier", "ece", "label_coverage",
                                 "bpcer", "max_apcer", "acer_research_convention"})});
  auto apcer = metrics->AddGauge("vigil_feedback_apcer", "APCER per attack type (ISO/IEC 30107-3), liveness",
                                 {window, LabelSpec::Allow("attack_type", {"print", "screen_replay", "mask", "injection",
                                                                           "virtual_camera", "deepfake", "other",
                                                                           "unspecified"})});
  auto version_rate = metrics->AddGauge(
      "vigil_feedback_version_rate", "False-positive and false-negative rates per model and policy version",
      {kind, window, LabelSpec::Allow("version_of", {"model", "policy"}), LabelSpec::TopK("version", 20),
       LabelSpec::Allow("rate", {"fpr", "fnr"})});
  auto labelled = metrics->AddGauge("vigil_feedback_labelled_decisions", "Labelled decisions in the window", {kind, window});
  auto delay = metrics->AddGauge("vigil_feedback_label_delay_seconds", "Label delay (labelled_at - decision time)",
                                 {window, LabelSpec::Allow("percentile", {"p50", "p90"})});
  if (!labels.ok() || !dups.ok() || !conf.ok() || !rate.ok() || !apcer.ok() || !version_rate.ok() || !labelled.ok() ||
      !delay.ok()) {
    Log(LogLevel::kError, "feedback_metrics_not_registered");
    return std::unique_ptr<FeedbackMetrics>(new FeedbackMetrics(std::move(impl)));
  }
  impl->labels = *labels;
  impl->duplicates = &(*dups)->Get(std::vector<std::string_view>{});
  impl->conflicts = &(*conf)->Get(std::vector<std::string_view>{});
  impl->rate = *rate;
  impl->apcer = *apcer;
  impl->version_rate = *version_rate;
  impl->labelled = *labelled;
  impl->delay = *delay;
  Impl* raw = impl.get();
  metrics->AddCollectHook([raw] {
    if (Status st = raw->live->Refresh(); !st.ok()) return;
    raw->Publish("1h", 3600LL * 1000);
    raw->Publish("24h", 86400LL * 1000);
  });
  return std::unique_ptr<FeedbackMetrics>(new FeedbackMetrics(std::move(impl)));
}

FeedbackMetrics::FeedbackMetrics(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FeedbackMetrics::~FeedbackMetrics() = default;

void FeedbackMetrics::OnLabel(const Label& stored, bool duplicate) {
  if (impl_->labels == nullptr) return;
  if (duplicate) {
    impl_->duplicates->Inc();
    return;
  }
  impl_->labels->Get({LabelClassName(stored.label), stored.source}).Inc();
  if (stored.conflict) impl_->conflicts->Inc();
}

}  // namespace vigil
