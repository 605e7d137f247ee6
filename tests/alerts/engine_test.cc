// Each rule type on a simulated clock: the engine sees only event times, so these tests drive
// hours of traffic in milliseconds.
#include "alerts/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <atomic>
#include <random>
#include <thread>

#include "core/ticker.h"

namespace vigil::alerts {
namespace {

constexpr std::int64_t kMin = 60000;
constexpr std::int64_t kT0 = 1800000000000;  // a whole hour

struct Harness {
  explicit Harness(std::vector<AlertRule> rules, std::int64_t window_ms = kMin) {
    AlertsConfig cfg;
    cfg.window_ms = window_ms;
    cfg.rules = std::move(rules);
    engine = std::make_unique<AlertEngine>(cfg, [this](const Notification& n) { sent.push_back(n.alert); });
  }
  // `n` decisions spread over minute `minute`, the first `special` of them with `outcome`.
  void Minute(int minute, int n, int special, Outcome outcome, const char* platform = "web", double latency = 50,
              std::vector<DecisionReason> reasons = {}) {
    for (int i = 0; i < n; ++i) {
      Observation o;
      o.time_ms = kT0 + minute * kMin + i * (kMin / n);
      o.flow_type = "login";
      o.platform = platform;
      o.outcome = i < special ? outcome : Outcome::kPass;
      o.latency_ms = latency;
      ids.push_back("ev_" + std::to_string(minute) + "_" + std::to_string(i));
      o.evidence_id = ids.back();
      o.reasons = &reasons;
      engine->Observe(o);
    }
  }
  const Alert* Find(const std::string& rule, const std::string& slice) {
    for (const auto& a : engine->Alerts()) {
      if (a.rule == rule && a.slice == slice && a.state != AlertState::kResolved) return &(cache = a);
    }
    return nullptr;
  }
  std::unique_ptr<AlertEngine> engine;
  std::vector<Alert> sent;
  std::vector<std::string> ids;
  Alert cache;
};

AlertRule Threshold(std::string name, Metric m, double above, std::int64_t for_ms) {
  AlertRule r;
  r.name = std::move(name);
  r.type = RuleType::kThreshold;
  r.metric = m;
  r.value = above;
  r.for_ms = for_ms;
  r.min_decisions = 10;
  r.slices = {"all"};
  return r;
}

TEST(AlertEngine, ThresholdWaitsForDurationThenResolves) {
  Harness h({Threshold("retry_high", Metric::kRetryRate, 0.3, 3 * kMin)});
  for (int m = 0; m < 3; ++m) h.Minute(m, 20, 2, Outcome::kRetry);   // 10%
  for (int m = 3; m < 8; ++m) h.Minute(m, 20, 10, Outcome::kRetry);  // 50%
  h.Minute(8, 20, 2, Outcome::kRetry);  // closes minute 7
  // Minute 3 closes at 4m: pending; held 3 more windows: firing at the close of minute 6 (7m).
  ASSERT_EQ(h.sent.size(), 1u);
  const Alert& a = h.sent[0];
  EXPECT_EQ(a.state, AlertState::kFiring);
  EXPECT_EQ(a.rule, "retry_high");
  EXPECT_EQ(a.pending_since_ms, kT0 + 4 * kMin);
  EXPECT_EQ(a.fired_at_ms, kT0 + 7 * kMin);
  EXPECT_DOUBLE_EQ(a.value, 0.5);
  EXPECT_DOUBLE_EQ(a.threshold, 0.3);
  EXPECT_EQ(a.action, "check quality, browser, and threshold slices");  // seed 000
  ASSERT_EQ(a.evidence_ids.size(), 5u);
  EXPECT_EQ(a.evidence_ids[0], "ev_6_0");  // retry decisions of the latest window first
  h.Minute(9, 20, 2, Outcome::kRetry);  // closes minute 8 (10%): resolved
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].state, AlertState::kResolved);
  EXPECT_EQ(h.sent[1].resolved_at_ms, kT0 + 9 * kMin);
  EXPECT_EQ(h.engine->firing(), 0u);
}

TEST(AlertEngine, PendingThatClearsNeverFires) {
  Harness h({Threshold("retry_high", Metric::kRetryRate, 0.3, 3 * kMin)});
  h.Minute(0, 20, 10, Outcome::kRetry);
  h.Minute(1, 20, 10, Outcome::kRetry);
  const Alert* a = h.Find("retry_high", "all");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, AlertState::kPending);
  h.Minute(2, 20, 0, Outcome::kRetry);
  h.Minute(3, 20, 0, Outcome::kRetry);
  EXPECT_EQ(h.Find("retry_high", "all"), nullptr);
  EXPECT_TRUE(h.sent.empty());
}

TEST(AlertEngine, BaselinePlus25PercentAgainstTrailingHours) {
  AlertRule r;
  r.name = "retry_vs_baseline";
  r.type = RuleType::kBaseline;
  r.metric = Metric::kRetryRate;
  r.increase = 0.25;
  r.over_ms = 5 * kMin;
  r.min_decisions = 50;
  r.slices = {"all"};
  Harness h({r});
  for (int m = 0; m < 120; ++m) h.Minute(m, 20, 2, Outcome::kRetry);     // two hours at 10%
  for (int m = 120; m < 130; ++m) h.Minute(m, 20, 2, Outcome::kRetry);   // still 10%: no alert
  EXPECT_TRUE(h.sent.empty());
  for (int m = 130; m < 136; ++m) h.Minute(m, 100, 12, Outcome::kRetry); // 12% < 12.5%: no alert
  EXPECT_TRUE(h.sent.empty());
  for (int m = 136; m < 142; ++m) h.Minute(m, 20, 3, Outcome::kRetry);   // 15% > 12.5%
  ASSERT_FALSE(h.sent.empty());
  EXPECT_EQ(h.sent[0].slice, "all");
  EXPECT_NEAR(h.sent[0].baseline, 0.1, 1e-12);
  EXPECT_NEAR(h.sent[0].threshold, 0.125, 1e-12);
  EXPECT_GT(h.sent[0].value, 0.125);
}

// min_z: the same +50% is noise on 20 decisions a minute and significant on 400.
TEST(AlertEngine, BaselineSignificance) {
  AlertRule r;
  r.name = "retry_vs_baseline";
  r.type = RuleType::kBaseline;
  r.metric = Metric::kRetryRate;
  r.increase = 0.25;
  r.min_z = 4;
  r.over_ms = 5 * kMin;
  r.min_decisions = 50;
  r.slices = {"all"};
  Harness h({r});
  for (int m = 0; m < 120; ++m) h.Minute(m, 20, 2, Outcome::kRetry);    // two hours at 10%
  for (int m = 120; m < 127; ++m) h.Minute(m, 20, 3, Outcome::kRetry);  // 15% of 100: z = 1.7
  EXPECT_TRUE(h.sent.empty());
  for (int m = 127; m < 134; ++m) h.Minute(m, 400, 60, Outcome::kRetry);  // 15% of 2000: z = 7.5
  ASSERT_FALSE(h.sent.empty());
  // Closing minute 127: 72 retries of 480 in the lookback, z = 3.65; minute 128: 129 of 860, z = 4.9.
  EXPECT_EQ((h.sent[0].fired_at_ms - kT0) / kMin, 129);
}

// Decisions against the baseline: per lookback (the trailing hours' mean per window times the
// lookback's windows), not the 7 days' total; the start hour (partial) is left out.
TEST(AlertEngine, DecisionVolumeAgainstTheBaseline) {
  AlertRule r;
  r.name = "volume";
  r.type = RuleType::kBaseline;
  r.metric = Metric::kDecisions;
  r.increase = 1.0;
  r.min_z = 4;
  r.over_ms = 5 * kMin;
  r.min_decisions = 0;
  r.slices = {"all"};
  Harness h({r});
  for (int m = 30; m < 180; ++m) h.Minute(m, 40, 0, Outcome::kRetry);  // a partial hour, then two at 40/min
  EXPECT_TRUE(h.sent.empty());
  for (int m = 180; m < 184; ++m) h.Minute(m, 120, 0, Outcome::kRetry);  // three times the volume
  ASSERT_FALSE(h.sent.empty());
  EXPECT_NEAR(h.sent[0].baseline, 200.0, 1e-9);  // 40 a minute over 5 minutes
  EXPECT_LE((h.sent[0].fired_at_ms - kT0) / kMin, 184);
  // With baseline_min_hours, two hours of history are not a baseline yet: the same surge is quiet.
  r.baseline_min_hours = 3;
  Harness young({r});
  for (int m = 30; m < 180; ++m) young.Minute(m, 40, 0, Outcome::kRetry);
  for (int m = 180; m < 184; ++m) young.Minute(m, 120, 0, Outcome::kRetry);
  EXPECT_TRUE(young.sent.empty());
  // A third whole hour behind it, and it is.
  Harness grown({r});
  for (int m = 30; m < 240; ++m) grown.Minute(m, 40, 0, Outcome::kRetry);
  for (int m = 240; m < 244; ++m) grown.Minute(m, 120, 0, Outcome::kRetry);
  ASSERT_FALSE(grown.sent.empty());
  EXPECT_NEAR(grown.sent[0].baseline, 200.0, 1e-9);
}

// direction: up ignores a fall of the rate (no alarm for fewer failures).
TEST(AlertEngine, CusumDirectionUp) {
  AlertRule r;
  r.name = "fail_cusum";
  r.type = RuleType::kCusum;
  r.metric = Metric::kFailRate;
  r.baseline_windows = 30;
  r.min_decisions = 50;
  r.direction = AlertRule::Direction::kUp;
  r.slices = {"all"};
  Harness h({r});
  std::mt19937_64 rng(3);
  std::binomial_distribution<int> in_control(100, 0.10), lower(100, 0.01), higher(100, 0.25);
  for (int m = 0; m < 40; ++m) h.Minute(m, 100, in_control(rng), Outcome::kFail);
  for (int m = 40; m < 60; ++m) h.Minute(m, 100, lower(rng), Outcome::kFail);
  EXPECT_TRUE(h.sent.empty());
  for (int m = 60; m < 66; ++m) h.Minute(m, 100, higher(rng), Outcome::kFail);
  ASSERT_FALSE(h.sent.empty());
}

TEST(AlertEngine, RatePerSecond) {
  AlertRule r;
  r.name = "fail_flood";
  r.type = RuleType::kRate;
  r.count = "fail";
  r.value = 0.5;  // per second
  r.slices = {"platform=android"};
  Harness h({r});
  h.Minute(0, 30, 20, Outcome::kFail, "android");  // 0.33/s
  h.Minute(1, 60, 60, Outcome::kFail, "android");  // 1/s
  h.Minute(2, 60, 60, Outcome::kFail, "web");      // other slice
  h.Minute(3, 1, 0, Outcome::kPass, "web");
  ASSERT_EQ(h.sent.size(), 2u);  // fired at the end of minute 1, resolved at the end of minute 2
  EXPECT_EQ(h.sent[0].slice, "platform=android");
  EXPECT_DOUBLE_EQ(h.sent[0].value, 1.0);
  EXPECT_EQ(h.sent[0].fired_at_ms, kT0 + 2 * kMin);
  EXPECT_EQ(h.sent[1].state, AlertState::kResolved);
}

TEST(AlertEngine, PatternOverReasonCodes) {
  AlertRule r;
  r.name = "injection_burst";
  r.type = RuleType::kPattern;
  r.regex = "INJECTION_DETECTED|VIRTUAL_CAMERA";
  r.min_count = 3;
  r.over_ms = 5 * kMin;
  r.slices = {"all"};
  Harness h({r});
  std::vector<DecisionReason> inj = {{ReasonCode::kInjectionDetected, 1.0, true, ""}};
  std::vector<DecisionReason> blur = {{ReasonCode::kBlurry, 1.0, true, ""}};
  h.Minute(0, 2, 2, Outcome::kFail, "web", 50, inj);
  h.Minute(1, 5, 5, Outcome::kRetry, "web", 50, blur);  // not matching
  h.Minute(2, 1, 1, Outcome::kFail, "web", 50, {{ReasonCode::kVirtualCamera, 1.0, true, ""}});
  h.Minute(3, 1, 0, Outcome::kPass);
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_DOUBLE_EQ(h.sent[0].value, 3);
  EXPECT_EQ(h.sent[0].evidence_ids, (std::vector<std::string>{"ev_2_0", "ev_0_1", "ev_0_0"}));
  // Five minutes later the matches have left the window.
  for (int m = 4; m < 9; ++m) h.Minute(m, 1, 0, Outcome::kPass);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].state, AlertState::kResolved);
}

TEST(AlertEngine, CompositeAndOr) {
  AlertRule lat = Threshold("slow", Metric::kP95LatencyMs, 500, 0);
  AlertRule ret = Threshold("retry", Metric::kRetryRate, 0.3, 0);
  AlertRule both;
  both.name = "slow_and_retry";
  both.type = RuleType::kComposite;
  both.all_of = true;
  both.children = {"slow", "retry"};
  AlertRule either = both;
  either.name = "slow_or_retry";
  either.all_of = false;
  for (auto* x : {&lat, &ret, &both, &either}) x->slices = {"all"};
  Harness h({lat, ret, both, either});
  h.Minute(0, 20, 10, Outcome::kRetry, "web", 50);    // retry only
  h.Minute(1, 20, 10, Outcome::kRetry, "web", 900);   // both
  h.Minute(2, 20, 0, Outcome::kRetry, "web", 50);
  std::vector<std::string> fired;
  for (const auto& a : h.sent) {
    if (a.state == AlertState::kFiring) fired.push_back(a.rule + "@" + std::to_string((a.fired_at_ms - kT0) / kMin));
  }
  EXPECT_EQ(fired, (std::vector<std::string>{"retry@1", "slow_or_retry@1", "slow@2", "slow_and_retry@2"}));
  const Alert* slow = nullptr;
  for (const auto& a : h.sent) {
    if (a.rule == "slow") slow = &a;
  }
  ASSERT_NE(slow, nullptr);
  EXPECT_NEAR(slow->value, 900, 900 * 0.1);  // p95 from the log-spaced histogram: within 10%
}

TEST(AlertEngine, CusumOnFailRate) {
  AlertRule r;
  r.name = "fail_cusum";
  r.type = RuleType::kCusum;
  r.metric = Metric::kFailRate;
  r.baseline_windows = 30;
  r.min_decisions = 50;
  r.resolve_after = 3;
  r.slices = {"all"};
  Harness h({r});
  std::mt19937_64 rng(3);
  std::binomial_distribution<int> in_control(100, 0.05), shifted(100, 0.15);
  for (int m = 0; m < 90; ++m) h.Minute(m, 100, in_control(rng), Outcome::kFail);
  EXPECT_TRUE(h.sent.empty()) << "false alarm at " << (h.sent.empty() ? 0 : (h.sent[0].fired_at_ms - kT0) / kMin);
  for (int m = 90; m < 100; ++m) h.Minute(m, 100, shifted(rng), Outcome::kFail);
  ASSERT_FALSE(h.sent.empty());
  const std::int64_t found = (h.sent[0].fired_at_ms - kT0) / kMin - 90;
  EXPECT_LE(found, 3) << "a 10-point jump on a 5% rate (about 4.5 sigma) is found within 3 windows";
  EXPECT_NEAR(h.sent[0].baseline, 0.05, 0.02);
  for (int m = 100; m < 140; ++m) h.Minute(m, 100, in_control(rng), Outcome::kFail);
  EXPECT_EQ(h.sent.back().state, AlertState::kResolved);
}

TEST(AlertEngine, CooldownHoldsBackARefire) {
  AlertRule r = Threshold("retry_high", Metric::kRetryRate, 0.3, 0);
  r.cooldown_ms = 10 * kMin;
  r.slices = {"all"};
  Harness h({r});
  h.Minute(0, 20, 10, Outcome::kRetry);
  h.Minute(1, 20, 0, Outcome::kRetry);   // resolves
  h.Minute(2, 20, 10, Outcome::kRetry);  // again, inside the cooldown: pending only
  h.Minute(3, 20, 10, Outcome::kRetry);
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.Find("retry_high", "all")->state, AlertState::kPending);
  for (int m = 4; m < 12; ++m) h.Minute(m, 20, 10, Outcome::kRetry);
  ASSERT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.sent[2].state, AlertState::kFiring);
  EXPECT_EQ(h.sent[2].fired_at_ms, kT0 + 11 * kMin);  // 10 minutes after the first firing at 1m
}

TEST(AlertEngine, SlicesAndSeverity) {
  AlertRule r = Threshold("web_retry", Metric::kRetryRate, 0.3, 0);
  r.slices = {"platform=web"};
  r.severity = "critical";
  Harness h({r});
  h.Minute(0, 20, 10, Outcome::kRetry, "ios");
  h.Minute(1, 20, 10, Outcome::kRetry, "web");
  h.Minute(2, 1, 0, Outcome::kPass, "web");
  ASSERT_EQ(h.sent.size(), 1u);  // web only: the ios slice is not watched by this rule
  EXPECT_EQ(h.sent[0].slice, "platform=web");
  EXPECT_EQ(h.sent[0].severity, "critical");
}


// The clock tick alone (no traffic) closes windows: a for-duration runs out and the alert fires,
// then the lookback empties and it resolves.
TEST(AlertEngine, AdvanceFiresAndResolvesWithoutTraffic) {
  AlertRule r = Threshold("retry_high", Metric::kRetryRate, 0.3, 2 * kMin);
  r.over_ms = 5 * kMin;
  Harness h({r});
  h.Minute(0, 20, 10, Outcome::kRetry);
  h.Minute(1, 20, 10, Outcome::kRetry);  // closes minute 0: pending since 1m
  EXPECT_TRUE(h.sent.empty());
  h.engine->Advance(kT0 + 2 * kMin);     // closes minute 1: held 1m
  EXPECT_TRUE(h.sent.empty());
  h.engine->Advance(kT0 + 3 * kMin + 5);  // closes the empty minute 2: held 2m, fires
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0].state, AlertState::kFiring);
  EXPECT_EQ(h.sent[0].fired_at_ms, kT0 + 3 * kMin);
  h.engine->Advance(kT0 + 6 * kMin);     // minute 1 is still in the 5-minute lookback
  EXPECT_EQ(h.sent.size(), 1u);
  h.engine->Advance(kT0 + 7 * kMin);     // the lookback is empty: too few decisions, resolved
  ASSERT_EQ(h.sent.size(), 2u);
  EXPECT_EQ(h.sent[1].state, AlertState::kResolved);
  EXPECT_EQ(h.sent[1].resolved_at_ms, kT0 + 7 * kMin);
  EXPECT_EQ(h.engine->firing(), 0u);
}

// The modules' Ticker calls its function on its own thread until stopped.
TEST(AlertEngine, TickerDrivesTheEngine) {
  AlertRule r = Threshold("retry_high", Metric::kRetryRate, 0.3, 0);
  Harness h({r});
  h.Minute(0, 20, 10, Outcome::kRetry);
  std::atomic<std::int64_t> clock{kT0 + kMin};
  {
    Ticker t(std::chrono::milliseconds(5), [&] { h.engine->Advance(clock.fetch_add(kMin)); });
    for (int i = 0; i < 400 && h.engine->evaluations() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto n = h.engine->evaluations();
  EXPECT_GE(n, 3u);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(h.engine->evaluations(), n) << "stopped with the Ticker";
  EXPECT_EQ(h.engine->firing(), 0u) << "fired at 1m, resolved once the window emptied";
  EXPECT_GE(h.engine->Alerts().size(), 1u);
}

}  // namespace
}  // namespace vigil::alerts
