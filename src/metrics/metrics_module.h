// MetricsModule: GET /metrics (no auth; text format 0.0.4) and the monitoring events.
// Counts each durable decision by the slices of seed 000 (flow type, platform, device class,
// browser family, SDK and app versions, model and policy versions, outcome, band), latencies
// whole and per stage, scores per signal, reasons (quality rejections, security events), retries,
// manual reviews, and each problem answered by type and route. docs/metrics.md lists every metric.
//
// Threading: OnDecided runs on the audit completion thread (one at a time); OnProblem and the
// /metrics handler on io threads. Updates are atomics. OnDecided finds its series in a cache of
// resolved slices (metrics/decision_recorder.h) and takes no lock.
#pragma once

#include <memory>
#include <string>

#include "metrics/decision_recorder.h"
#include "metrics/metrics.h"
#include "metrics/metrics_config.h"
#include "metrics/monitoring_events.h"
#include "server/module.h"

namespace vigil {

class MetricsModule final : public ServerModule {
 public:
  // Registers the families in ctx.metrics (a registry of its own when null) and starts the
  // event writer as config_dir/metrics.yaml says.
  static Result<std::unique_ptr<MetricsModule>> Create(const ModuleContext& ctx);
  ~MetricsModule() override;

  std::string_view name() const override { return "metrics"; }
  void AddRoutes(std::vector<Route>& routes) override;
  void OnDecided(const DecisionEvent& event) override;
  void OnProblem(ProblemType type, std::string_view route) override;
  Status Reload() override;
  void Stop() override;

  MetricsRegistry& registry() { return *registry_; }
  // Waits until queued monitoring events are written (tests).
  void FlushEvents();

 private:
  MetricsModule(const ModuleContext& ctx, MetricsConfig cfg);
  void StartEvents();

  ModuleContext ctx_;
  MetricsConfig cfg_;
  std::unique_ptr<MetricsRegistry> owned_registry_;  // when the context brings none
  MetricsRegistry* registry_ = nullptr;
  std::unique_ptr<DecisionFamilies> f_;
  std::unique_ptr<DecisionRecorder> recorder_;
  std::shared_ptr<EventWriter> events_;  // replaced on Reload (under events_mu_)
  std::atomic<EventWriter*> events_now_{nullptr};  // events_, read by OnDecided without a lock
  std::vector<std::shared_ptr<EventWriter>> retired_events_;  // replaced writers (stopped)
  std::mutex events_mu_;
};

// The /metrics route path form of a request path: "/v1/decisions/{request_id}" for a decision
// lookup, the path itself otherwise (bounded by top-K in the family).
std::string NormaliseRoute(std::string_view path);

}  // namespace vigil
