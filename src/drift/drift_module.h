// DriftModule: the DriftMonitor on the server's decision path (server/module.h). OnDecided adds
// each durable decision at its event time; routes:
//   GET    /v1/monitor/drift            (scope read)  every measure, per slice and feature
//   POST   /v1/monitor/drift/reference  (scope admin) freeze the reference now; body optional
//                                        {"label": "release-2026-11-30"}; stored in the data dir
//   DELETE /v1/monitor/drift/reference  (scope admin) back to the trailing 7 days
// Config: config/drift.yaml (re-read on reload). The frozen reference is kept in
// <data_dir>/drift_reference.json and loaded at start. Thread-safe as the monitor is.
// Metrics: the measures of the last closed window as gauges in GET /metrics (drift_metrics.h).
// Clock tick: on the wall clock, a thread advances the monitor every second so that windows close
// while no traffic arrives; on a simulated clock event time alone moves it.
#pragma once

#include <memory>

#include "core/ticker.h"
#include "drift/monitor.h"
#include "server/module.h"

namespace vigil::drift {

class DriftModule : public ServerModule {
 public:
  ~DriftModule() override;
  static Result<std::unique_ptr<DriftModule>> Create(const ModuleContext& ctx);

  std::string_view name() const override { return "drift"; }
  void AddRoutes(std::vector<Route>& routes) override;
  void OnDecided(const DecisionEvent& event) override;
  Status Reload() override;
  void Stop() override;

  DriftMonitor& monitor() { return *monitor_; }
  // Freezes the reference (a release, or an operator's request) and stores it.
  Status Freeze(std::string label);

 private:
  explicit DriftModule(const ModuleContext& ctx, MonitorConfig cfg);
  ModuleContext ctx_;
  std::unique_ptr<DriftMonitor> monitor_;
  std::unique_ptr<Ticker> ticker_;
};

}  // namespace vigil::drift
