// The alert drill's harness: the simulator's event stream decided in process by the real engine
// (config/), each decision fed to the alert engine and the drift monitor on the simulated clock,
// the clock ticked (Advance) every simulated 10 seconds so that for-durations and resolutions
// happen between decisions. Liveness retries are followed as the driver does (up to 3 attempts,
// 15-60 simulated seconds later). Latency is not simulated in process: every decision takes 5 ms.
// Detect runs one scenario, its incident after a warm-up of clean traffic, and reports the first
// alert after the incident's start.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alerts/engine.h"
#include "api/codec.h"
#include "drift/monitor.h"
#include "pipeline/engine.h"
#include "simulate/scenario.h"
#include "simulate/traffic.h"
#include "test_util.h"

namespace vigil::drill {

struct Fired {
  std::string rule, slice;
  std::int64_t at_ms = 0;
  double value = 0, threshold = 0, baseline = 0, p_value = 0, dispersion = 0;
};

struct DrillRun {
  std::vector<Fired> fired;        // every firing notification, in order
  std::uint64_t decisions = 0;
  std::int64_t start_ms = 0, end_ms = 0;
};

class Drill {
 public:
  // VIGIL_DRILL_CONFIG overrides the configuration directory (to try rule changes).
  explicit Drill(std::string config_dir = DefaultConfigDir()) : config_dir_(std::move(config_dir)) {
    auto e = DecisionEngine::Load(EngineFiles::Under(config_dir_));
    if (!e.ok()) error_ = e.error().ToString();
    else engine_ = *e;
    auto a = alerts::LoadAlertsConfig(config_dir_ + "/alerts.yaml");
    if (!a.ok()) error_ += a.error().ToString();
    else alerts_cfg_ = *a;
    auto d = drift::LoadMonitorConfig(config_dir_ + "/drift.yaml");
    if (!d.ok()) error_ += d.error().ToString();
    else drift_cfg_ = *d;
  }
  static std::string DefaultConfigDir() {
    const char* env = std::getenv("VIGIL_DRILL_CONFIG");
    return env && *env ? std::string(env) : vigil::testing::SourcePath("config");
  }
  const std::string& error() const { return error_; }
  alerts::AlertsConfig& alerts_config() { return alerts_cfg_; }
  // Called with every decision (exploration, extra checks).
  std::function<void(const sim::SimEvent&, const DecisionRequest&, const Decision&)> on_decision;

  // Runs `scenario` from its start until `until_day` simulated days.
  // `events_per_day` overrides the scenario's volume when > 0.
  DrillRun Run(const sim::Scenario& scenario, double until_day, std::uint64_t seed = 11, double events_per_day = 0) {
    DrillRun out;
    alerts::AlertEngine alerts(alerts_cfg_, [&](const alerts::Notification& n) {
      if (n.alert.state == alerts::AlertState::kFiring) {
        out.fired.push_back({n.alert.rule, n.alert.slice, n.alert.fired_at_ms, n.alert.value, n.alert.threshold,
                             n.alert.baseline, n.alert.p_value, n.alert.dispersion});
      }
    });
    drift::DriftMonitor monitor(drift_cfg_);
    sim::TrafficOptions o;
    o.seed = seed;
    o.run_id = "drill";
    if (events_per_day > 0) o.ms_per_event = 86400000.0 / events_per_day;
    sim::TrafficGenerator g(scenario, o);
    out.start_ms = o.start_ms;
    const auto end = o.start_ms + static_cast<std::int64_t>(until_day * 86400000.0);
    auto later = [](const sim::SimEvent& a, const sim::SimEvent& b) { return a.time_ms > b.time_ms; };
    std::priority_queue<sim::SimEvent, std::vector<sim::SimEvent>, decltype(later)> retries(later);
    sim::SimEvent next = g.Next();
    std::int64_t tick = o.start_ms;
    for (;;) {
      const bool from_retry = !retries.empty() && retries.top().time_ms <= next.time_ms;
      sim::SimEvent e = from_retry ? retries.top() : next;
      if (e.time_ms >= end) break;
      if (from_retry) retries.pop();
      else next = g.Next();
      for (; tick + kTickMs <= e.time_ms; tick += kTickMs) {
        alerts.Advance(tick + kTickMs);
        monitor.Advance(tick + kTickMs);
      }
      auto parsed = ParseDecisionRequest(e.RequestBody("drill-token"));
      if (!parsed.ok()) continue;
      auto d = engine_->Decide(parsed->request);
      if (!d.ok()) continue;
      ++out.decisions;
      alerts::Observation ob;
      ob.time_ms = e.time_ms;
      ob.flow_type = parsed->request.flow_type;
      ob.platform = parsed->request.context.GetString("platform");
      ob.kind = d->kind;
      ob.outcome = d->outcome;
      ob.latency_ms = 5.0;
      ob.disagreement = d->fusion.disagreement;
      ob.evidence_id = e.request_id;
      ob.reasons = &d->reasons;
      ob.context = &parsed->request.context;
      ob.signals = &d->fusion.signals;
      alerts.Observe(ob);
      monitor.Add(parsed->request, *d, e.time_ms);
      if (on_decision) on_decision(e, parsed->request, *d);
      if (e.kind == sim::EventKind::kLiveness && d->outcome == Outcome::kRetry && e.attempt < 3) retries.push(g.NextAttempt(e));
    }
    alerts.Advance(end);
    out.end_ms = end;
    return out;
  }

  static constexpr std::int64_t kTickMs = 10000;

 private:
  std::string config_dir_;
  std::string error_;
  std::shared_ptr<const DecisionEngine> engine_;
  alerts::AlertsConfig alerts_cfg_;
  drift::MonitorConfig drift_cfg_;
};

// The scenario with its incidents moved to start `warmup_days` after the run's start (a shorter
// run with the same incident; ramps and durations kept).
inline sim::Scenario StartingAt(sim::Scenario s, double warmup_days) {
  double first = std::numeric_limits<double>::infinity();
  for (const auto& i : s.incidents) first = std::min(first, i.from_day);
  if (!std::isfinite(first)) return s;
  for (auto& i : s.incidents) {
    i.from_day += warmup_days - first;
    i.until_day += warmup_days - first;
  }
  return s;
}

constexpr double kWarmup = 0.5;            // simulated days of clean traffic before the incident
constexpr std::int64_t kFiveMin = 300000;

struct Detection {
  bool found = false;
  std::int64_t delay_ms = 0;
  Fired first;
  std::size_t before = 0;  // alerts during the warm-up
};

struct RunOptions {
  double warmup = kWarmup;       // simulated days of clean traffic before the incident
  std::uint64_t seed = 11;
  double events_per_day = 0;     // 0: the scenario's own volume (50,000 a day)
  bool shipped_days = false;     // the scenario as shipped (long form): no warm-up shift
  bool list = true;              // print every alert
};

inline Detection Detect(const std::string& name, double after_days, const RunOptions& o = {}) {
  Drill d;
  EXPECT_EQ(d.error(), "");
  auto s = sim::FindScenario(name, vigil::testing::SourcePath("config"));
  EXPECT_TRUE(s.ok());
  sim::Scenario sc = o.shipped_days ? *s : StartingAt(*s, o.warmup);
  double start = 1e9;
  for (const auto& i : sc.incidents) start = std::min(start, i.from_day);
  DrillRun r = d.Run(sc, start + after_days, o.seed, o.events_per_day);
  const std::int64_t start_ms = r.start_ms + static_cast<std::int64_t>(start * 86400000.0);
  Detection out;
  for (const auto& f : r.fired) {
    if (f.at_ms < start_ms) {
      ++out.before;
      continue;
    }
    if (!out.found) out.found = true, out.first = f, out.delay_ms = f.at_ms - start_ms;
  }
  std::printf("drill %-20s seed %llu, %.0f events/day: warm-up alerts %2zu; first alert after the start: %s", name.c_str(),
              static_cast<unsigned long long>(o.seed), o.events_per_day > 0 ? o.events_per_day : sc.events_per_day,
              out.before, out.found ? "" : "none\n");
  if (out.found) {
    std::printf("%.1f min (%s on %s, value %.4g, threshold %.4g, p %.3g)\n", out.delay_ms / 60000.0,
                out.first.rule.c_str(), out.first.slice.c_str(), out.first.value, out.first.threshold, out.first.p_value);
  }
  for (const auto& f : r.fired) {
    if (!o.list) break;
    std::printf("    %+.1f min %s on %s: value %.4g baseline %.4g p %.3g dispersion %.3g\n", (f.at_ms - start_ms) / 60000.0,
                f.rule.c_str(), f.slice.c_str(), f.value, f.baseline, f.p_value, f.dispersion);
  }
  return out;
}

}  // namespace vigil::drill
