// The drift measures as Prometheus gauges (GET /metrics), refreshed from a DriftMonitor snapshot
// at each scrape: vigil_drift_psi, vigil_drift_ks_statistic, vigil_drift_js_distance and
// vigil_drift_wasserstein_norm {slice, feature}; vigil_drift_mix_psi and
// vigil_drift_mix_total_variation {slice, field}. NaN while a side has too little data.
#pragma once

#include "core/result.h"
#include "drift/monitor.h"
#include "metrics/metrics.h"

namespace vigil::drift {

// Registers the families and a collect hook; `monitor` must outlive the registry's use.
Status ExportDriftGauges(MetricsRegistry& registry, const DriftMonitor* monitor);

}  // namespace vigil::drift
