// The alert drill (issue 8): every incident scenario of the simulator, decided in process by the
// real engine and fed to the alert engine and the drift monitor on the simulated clock
// (tests/alerts/drill.h), with the shipped config/. Each scenario starts with half a simulated
// day of clean traffic (the incident moved there; ramps kept), then runs for 72 minutes after the
// incident starts (browser_release 2.4 hours, fpr_creep a day). For every
// scenario the test prints its alerts and when the first one fired after the start; it asserts
// the detections the shipped rules achieve today (a regression guard) and the goal where met.
// The goals (alerted within 5 simulated minutes, fpr_creep within a day; a clean week raising at
// most one alert) are not all met: see docs/monitoring.md, "The drill".
// Long form (label soak, Drill.LongForm): the full 7-day scenarios as shipped, unshifted.
// At higher volumes and over more seeds: drill_volume_test.cc.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "alerts/drill.h"

namespace vigil::drill {
namespace {


// The figures below are deterministic (seed 11) and asserted a little above what the shipped rules
// achieve (a regression guard); where the goal (5 simulated minutes) is not met, docs/monitoring.md
// ("The drill") says why.
TEST(Drill, BadReleaseWithinFiveMinutes) {
  auto d = Detect("bad_release", 0.05);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, kFiveMin);  // 4 min: the passive score distribution (KS on 5 minutes)
  EXPECT_EQ(d.first.rule, "liveness_score_drift");
  EXPECT_EQ(d.before, 0u);
}

TEST(Drill, LatencyRegressionWithinFiveMinutes) {
  auto d = Detect("latency_regression", 0.05);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, kFiveMin);  // 1 min
  EXPECT_EQ(d.first.rule, "decision_volume_vs_baseline");
}

// Goal not met at this volume: login from BR has about 0.83 liveness sessions a minute at the
// incident's start; by minute 5 the campaign adds about 1.2 failed decisions to the 0.15 the
// slice would have, and a test that stays quiet over a clean week (1e-6) needs about 5 failures
// in 5 to 7 decisions: about 1% of runs get there in 5 minutes (bench/RESULTS.md, "The drill's
// limits"). Seed 11's first attack decision comes at +9.6 min. 22 min; at ten times the volume,
// within 5 (drill_volume_test).
TEST(Drill, AttackCampaignInItsFlowAndCountry) {
  auto d = Detect("attack_campaign", 0.05);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, 5 * kFiveMin);
  EXPECT_EQ(d.first.rule, "spoof_suspicion_by_flow_and_country");
  EXPECT_EQ(d.first.slice, "flow_type=login,country=BR");
}

// Goal not met at this volume: the rollout ramps over a day; by minute 5 about 0.058 sessions are
// on android-3.1.0 (0.035 broken): no rule can see it in 5 minutes in 96% of runs. The second
// capture failure on it (the rule's minimum) comes at 37 min (was 64 with three).
TEST(Drill, SdkBreakageOnItsVersion) {
  auto d = Detect("sdk_breakage", 0.05);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, 8 * kFiveMin);
  EXPECT_EQ(d.first.rule, "capture_failures_by_sdk_version");
  EXPECT_EQ(d.first.slice, "sdk_version=android-3.1.0");
}

// Goal not met at this volume: Chrome 132 reaches web users over a day; by minute 5 about 0.03
// sessions are on it. Its own slice (browser_version), against its browser's retry rate while
// it is young, clears the test at 96 min (was 434 on the whole of web/chrome).
TEST(Drill, BrowserReleaseOnItsBrowser) {
  auto d = Detect("browser_release", 0.1);
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, 20 * kFiveMin);
  EXPECT_EQ(d.first.rule, "retry_rate_by_browser_version");
  EXPECT_EQ(d.first.slice, "kind=liveness,platform=web,browser_family=chrome,browser_version=132");
}

// Within a day: the fraud model's scores drift (1013 min). The first alert after the start is
// the disagreement rule at 501 min, a false alarm: 20 hours into the run the baseline's 240
// blocks do not yet show the dispersion beyond chance, so the test is still the binomial one.
TEST(Drill, FprCreepWithinADay) {
  Drill d;
  ASSERT_EQ(d.error(), "");
  auto s = sim::FindScenario("fpr_creep", vigil::testing::SourcePath("config"));
  ASSERT_TRUE(s.ok());
  DrillRun r = d.Run(StartingAt(*s, kWarmup), kWarmup + 1.0);
  const std::int64_t start_ms = r.start_ms + static_cast<std::int64_t>(kWarmup * 86400000.0);
  std::int64_t drift_at = -1;
  for (const auto& f : r.fired) {
    if (f.rule == "fraud_score_drift" && f.at_ms >= start_ms && drift_at < 0) drift_at = f.at_ms - start_ms;
  }
  std::printf("drill fpr_creep: fraud_score_drift after %.1f min\n", drift_at / 60000.0);
  for (const auto& f : r.fired) {
    std::printf("    %+.1f min %s on %s: value %.4g baseline %.4g p %.3g dispersion %.3g\n", (f.at_ms - start_ms) / 60000.0,
                f.rule.c_str(), f.slice.c_str(), f.value, f.baseline, f.p_value, f.dispersion);
  }
  ASSERT_GE(drift_at, 0);
  EXPECT_LE(drift_at, 1100 * 60000);
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
  for (const auto& f : r.fired) {
    std::printf("    %.1f h %s on %s: value %.4g baseline %.4g threshold %.4g p %.3g dispersion %.3g\n",
                (f.at_ms - r.start_ms) / 3.6e6, f.rule.c_str(), f.slice.c_str(), f.value, f.baseline, f.threshold,
                f.p_value, f.dispersion);
  }
  EXPECT_GT(r.decisions, 300000u);
  RecordProperty("clean_week_alerts", static_cast<int>(r.fired.size()));
  // Goal: at most 1: met. Today: 0 (was 55, then 2: a disagreement_above_normal on "all" whose
  // binomial test took clustered decisions as independent, p 5.9e-7, now quasi-binomial with
  // the dispersion of 1.3 the baseline shows; and a fail_rate_change_point on login whose mu0 and
  // sigma0 came from the first 30 pools, now standardised against the trailing 7 days).
  EXPECT_LE(r.fired.size(), 1u);
  for (const char* rule : {"retry_rate_vs_baseline", "fail_rate_vs_baseline", "deny_rate_vs_baseline",
                           "injection_or_virtual_camera_burst", "retry_rate_by_browser", "retry_rate_by_browser_version",
                           "spoof_suspicion_by_flow_and_country", "capture_failures_by_sdk_version",
                           "liveness_score_drift", "fraud_score_drift"}) {
    EXPECT_EQ(by_rule[rule], 0) << rule;
  }
}

// The long form (ctest -L soak; VIGIL_DRILL_LONG=1): every scenario as shipped, 7 days, incident
// where the scenario puts it, and a second seed's clean week. Reports; asserts only that each
// incident is found after its start.
TEST(Drill, LongForm) {
  if (!std::getenv("VIGIL_DRILL_LONG")) GTEST_SKIP() << "set VIGIL_DRILL_LONG=1 (ctest -L soak)";
  for (const char* name : {"bad_release", "latency_regression", "attack_campaign", "sdk_breakage", "browser_release",
                           "fpr_creep"}) {
    auto d = Detect(name, 7.0, {.shipped_days = true});
    EXPECT_TRUE(d.found) << name;
  }
}

// The long form's second seed: a clean week with seed 12 (the shipped rules are not fitted to 11).
TEST(Drill, LongFormCleanWeekSeed12) {
  if (!std::getenv("VIGIL_DRILL_LONG")) GTEST_SKIP() << "set VIGIL_DRILL_LONG=1 (ctest -L soak)";
  Drill d;
  auto s = sim::FindScenario("clean", vigil::testing::SourcePath("config"));
  ASSERT_TRUE(s.ok());
  DrillRun r = d.Run(*s, 7.0, 12);
  std::printf("drill clean week, seed 12: %zu alerts\n", r.fired.size());
  for (const auto& f : r.fired) {
    std::printf("    %.1f h %s on %s: value %.4g baseline %.4g p %.3g dispersion %.3g\n", (f.at_ms - r.start_ms) / 3.6e6,
                f.rule.c_str(), f.slice.c_str(), f.value, f.baseline, f.p_value, f.dispersion);
  }
  EXPECT_LE(r.fired.size(), 1u);  // the goal
}

}  // namespace
}  // namespace vigil::drill
