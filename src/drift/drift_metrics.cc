#include "drift/drift_metrics.h"

#include <limits>

namespace vigil::drift {

Status ExportDriftGauges(MetricsRegistry& registry, const DriftMonitor* monitor) {
  const LabelSpec slice = LabelSpec::TopK("slice", 64), feature = LabelSpec::TopK("feature", 32),
                  field = LabelSpec::Allow("field", {"platform", "device_class", "browser_family"});
  auto psi = registry.AddGauge("vigil_drift_psi", "PSI of the last closed window against the drift reference (natural log)", {slice, feature});
  auto ks = registry.AddGauge("vigil_drift_ks_statistic", "Kolmogorov-Smirnov statistic, last closed window against the reference", {slice, feature});
  auto js = registry.AddGauge("vigil_drift_js_distance", "Jensen-Shannon distance (base 2), last closed window against the reference", {slice, feature});
  auto wn = registry.AddGauge("vigil_drift_wasserstein_norm", "Wasserstein-1 over the reference standard deviation", {slice, feature});
  auto mpsi = registry.AddGauge("vigil_drift_mix_psi", "PSI of the traffic mix (platform, device class, browser family)", {slice, field});
  auto mtv = registry.AddGauge("vigil_drift_mix_total_variation", "Share of traffic that moved between categories", {slice, field});
  for (const auto* r : {&psi, &ks, &js, &wn, &mpsi, &mtv}) {
    if (!r->ok()) return r->error();
  }
  Family<Gauge>*fpsi = *psi, *fks = *ks, *fjs = *js, *fwn = *wn, *fmpsi = *mpsi, *fmtv = *mtv;
  registry.AddCollectHook([=] {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    DriftReport r = monitor->Snapshot();
    for (const auto& s : r.series) {
      const std::initializer_list<std::string_view> labels = {s.slice, s.feature};
      fpsi->Get(labels).Set(s.enough ? s.drift.psi : nan);
      fks->Get(labels).Set(s.enough ? s.drift.ks_statistic : nan);
      fjs->Get(labels).Set(s.enough ? s.drift.js_distance : nan);
      fwn->Get(labels).Set(s.enough ? s.drift.wasserstein_norm : nan);
    }
    for (const auto& m : r.mix) {
      const std::initializer_list<std::string_view> labels = {m.slice, m.field};
      fmpsi->Get(labels).Set(m.enough ? m.drift.psi : nan);
      fmtv->Get(labels).Set(m.enough ? m.drift.total_variation : nan);
    }
  });
  return Status::Ok();
}

}  // namespace vigil::drift
