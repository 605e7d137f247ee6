// The alert drill (issue 8): every incident scenario of the simulator, decided in process by the
// real engine and fed to the alert engine and the drift monitor on the simulated clock
// (tests/alerts/drill.h), with the shipped config/. Each scenario starts with half a simulated
// day of clean traffic (the incident moved there; ramps kept), then runs until one day after the
// incident starts. For every scenario the test prints when the first alert fired after the start;
// it asserts the detections the shipped rules achieve today (a regression guard) and the goal
// where it is met. The goals (alerted within 5 simulated minutes, fpr_creep within a day; a clean
// week raising at most one alert) are not all met: see docs/monitoring.md, "The drill".
// Long form (label soak): the full 7-day scenarios as shipped, unshifted.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "alerts/drill.h"

namespace vigil::drill {
namespace {

constexpr double kWarmup = 0.5;           // simulated days of clean traffic before the incident
constexpr std::int64_t kFiveMin = 300000;

struct Detection {
  bool found = false;
  std::int64_t delay_ms = 0;
  Fired first;
  std::size_t before = 0;  // alerts during the warm-up
};

Detection Detect(const std::string& name, double after_days, bool shipped_days = false) {
  Drill d;
  EXPECT_EQ(d.error(), "");
  auto s = sim::FindScenario(name, vigil::testing::SourcePath("config"));
  EXPECT_TRUE(s.ok());
  sim::Scenario sc = shipped_days ? *s : StartingAt(*s, kWarmup);
  double start = 1e9;
  for (const auto& i : sc.incidents) start = std::min(start, i.from_day);
  DrillRun r = d.Run(sc, start + after_days);
  const std::int64_t start_ms = r.start_ms + static_cast<std::int64_t>(start * 86400000.0);
  Detection out;
  for (const auto& f : r.fired) {
    if (f.at_ms < start_ms) {
      ++out.before;
      continue;
    }
    if (!out.found) out.found = true, out.first = f, out.delay_ms = f.at_ms - start_ms;
  }
  std::printf("drill %-20s warm-up alerts %2zu; first alert after the start: %s", name.c_str(), out.before,
              out.found ? "" : "none\n");
  if (out.found) {
    std::printf("%.1f min (%s on %s, value %.4g, threshold %.4g)\n", out.delay_ms / 60000.0, out.first.rule.c_str(),
                out.first.slice.c_str(), out.first.value, out.first.threshold);
  }
  return out;
}

// Today's figure (the run is deterministic: seed 11): 17 minutes, by the disagreement rule on
// "all" (the canary's signature). Goal: 5. A regression guard until the rules get there.
TEST(Drill, BadReleaseWithinTwentyMinutes) {
  auto d = Detect("bad_release", 0.05);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, 4 * kFiveMin);
  EXPECT_EQ(d.first.rule, "disagreement_above_normal");
}

TEST(Drill, LatencyRegressionWithinFiveMinutes) {
  auto d = Detect("latency_regression", 0.05);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, kFiveMin);
  EXPECT_EQ(d.first.rule, "decision_volume_vs_baseline");
}

// The clock tick the drill relies on: Advance alone (no decision) closes the window that fires
// the rule, then the empty one that resolves it.
TEST(Drill, TickResolvesWithoutTraffic) {
  alerts::AlertsConfig cfg;
  alerts::AlertRule r;
  r.name = "retry_high";
  r.type = alerts::RuleType::kThreshold;
  r.metric = alerts::Metric::kRetryRate;
  r.value = 0.2;
  r.min_decisions = 5;
  r.slices = {"all"};
  cfg.rules = {r};
  std::vector<alerts::Alert> sent;
  alerts::AlertEngine e(cfg, [&](const alerts::Notification& n) { sent.push_back(n.alert); });
  const std::int64_t t0 = 1798761600000;
  std::vector<DecisionReason> none;
  for (int i = 0; i < 10; ++i) {
    alerts::Observation o;
    o.time_ms = t0 + i * 1000;
    o.outcome = i % 2 ? Outcome::kRetry : Outcome::kPass;
    o.reasons = &none;
    e.Observe(o);
  }
  e.Advance(t0 + 60000);   // the tick closes the minute: firing
  ASSERT_EQ(sent.size(), 1u);
  e.Advance(t0 + 120000);  // an empty minute: too few decisions, resolved
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].state, alerts::AlertState::kResolved);
}

// Reported, not yet asserted against the goal (see the file comment).
TEST(Drill, OtherScenariosReported) {
  for (const char* name : {"browser_release", "attack_campaign", "sdk_breakage"}) Detect(name, 0.05);
  Detect("fpr_creep", 1.0);
}

TEST(Drill, CleanWeekAlertCount) {
  Drill d;
  ASSERT_EQ(d.error(), "");
  auto s = sim::FindScenario("clean", vigil::testing::SourcePath("config"));
  ASSERT_TRUE(s.ok());
  DrillRun r = d.Run(*s, 7.0);
  std::map<std::string, int> by_rule;
  for (const auto& f : r.fired) ++by_rule[f.rule];
  std::printf("drill clean week: %llu decisions, %zu alerts (goal: at most 1)\n",
              static_cast<unsigned long long>(r.decisions), r.fired.size());
  for (const auto& [rule, n] : by_rule) std::printf("  %-36s %d\n", rule.c_str(), n);
  EXPECT_GT(r.decisions, 300000u);
  RecordProperty("clean_week_alerts", static_cast<int>(r.fired.size()));
  // Goal: at most 1. Today: 55, of which 44 are the injection pattern rule reporting the real
  // attack bursts the clean scenario contains, 8 CUSUM alarms and 3 disagreement. A regression
  // guard at 1.5x; the baseline rules on rates raise none.
  EXPECT_LE(r.fired.size(), 82u);
  EXPECT_EQ(by_rule["retry_rate_vs_baseline"] + by_rule["fail_rate_vs_baseline"] + by_rule["deny_rate_vs_baseline"], 0);
}

}  // namespace
}  // namespace vigil::drill
