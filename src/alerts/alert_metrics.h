// Firing alerts as Prometheus gauges (GET /metrics), refreshed at each scrape:
// vigil_alerts_firing{rule, severity} = slices in which the rule is firing, and
// vigil_alert_notifications_total{route, result} (delivered, failed, retried, dropped).
#pragma once

#include <functional>
#include <memory>

#include "alerts/engine.h"
#include "alerts/notifier.h"
#include "core/result.h"
#include "metrics/metrics.h"

namespace vigil::alerts {

// `engine` must outlive the registry's use; `routes` gives the current notifier's counts.
Status ExportAlertGauges(MetricsRegistry& registry, const AlertEngine* engine,
                         std::function<std::vector<RouteStats>()> routes);

}  // namespace vigil::alerts
