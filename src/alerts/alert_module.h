// AlertModule: the alert engine on the server's decision path (server/module.h). OnDecided feeds
// each durable decision to the engine at its event time (rates per flow type and platform, p95
// latency, disagreement, reason-code patterns); notifications go to the routes' own threads.
//   GET /v1/monitor/alerts  (scope read)  pending, firing and recently resolved alerts;
//                                          ?state=firing|pending|resolved filters
// Config: config/alerts.yaml, re-read on reload (a bad file is refused, the old rules stay).
// Metrics: vigil_alerts_firing{rule, severity} and notification counts in GET /metrics
// (alert_metrics.h). Clock tick: on the wall clock, a thread advances the engine every second so
// that windows close, for-durations run out and alerts resolve while no traffic arrives; on a
// simulated clock event time alone moves it.
#pragma once

#include <memory>
#include <mutex>

#include "alerts/engine.h"
#include "alerts/notifier.h"
#include "core/ticker.h"
#include "server/module.h"

namespace vigil::alerts {

class AlertModule : public ServerModule {
 public:
  static Result<std::unique_ptr<AlertModule>> Create(const ModuleContext& ctx);
  ~AlertModule() override;

  std::string_view name() const override { return "alerts"; }
  void AddRoutes(std::vector<Route>& routes) override;
  void OnDecided(const DecisionEvent& event) override;
  Status Reload() override;
  void Stop() override;

  AlertEngine& engine() { return *engine_; }

 private:
  AlertModule(const ModuleContext& ctx, AlertsConfig cfg);
  ModuleContext ctx_;
  std::mutex notifier_mu_;
  std::shared_ptr<Notifier> notifier_;
  std::unique_ptr<AlertEngine> engine_;
  std::unique_ptr<Ticker> ticker_;
};

}  // namespace vigil::alerts
