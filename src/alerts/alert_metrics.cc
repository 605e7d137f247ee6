#include "alerts/alert_metrics.h"

#include <map>
#include <mutex>

namespace vigil::alerts {

Status ExportAlertGauges(MetricsRegistry& registry, const AlertEngine* engine,
                         std::function<std::vector<RouteStats>()> routes) {
  auto firing = registry.AddGauge("vigil_alerts_firing", "Slices in which the alert rule is firing",
                                  {LabelSpec::TopK("rule", 64), LabelSpec::Allow("severity", {"info", "warning", "critical"})});
  auto sent = registry.AddGauge("vigil_alert_notifications", "Alert notifications by route and result since the routes were (re)loaded",
                                {LabelSpec::TopK("route", 16), LabelSpec::Allow("result", {"delivered", "failed", "retried", "dropped"})});
  if (!firing.ok()) return firing.error();
  if (!sent.ok()) return sent.error();
  Family<Gauge>* f = *firing;
  Family<Gauge>* n = *sent;
  // Rules seen firing before are set back to 0 when they stop.
  auto seen = std::make_shared<std::pair<std::mutex, std::map<std::pair<std::string, std::string>, int>>>();
  registry.AddCollectHook([=] {
    std::lock_guard<std::mutex> lock(seen->first);
    auto& counts = seen->second;
    for (auto& [k, v] : counts) v = 0;
    for (const auto& a : engine->Alerts()) {
      if (a.state == AlertState::kFiring) ++counts[{a.rule, a.severity}];
    }
    for (const auto& [k, v] : counts) f->Get({k.first, k.second}).Set(v);
    for (const auto& r : routes()) {
      n->Get({r.name, "delivered"}).Set(static_cast<double>(r.delivered));
      n->Get({r.name, "failed"}).Set(static_cast<double>(r.failed));
      n->Get({r.name, "retried"}).Set(static_cast<double>(r.retries));
      n->Get({r.name, "dropped"}).Set(static_cast<double>(r.dropped));
    }
  });
  return Status::Ok();
}

}  // namespace vigil::alerts
