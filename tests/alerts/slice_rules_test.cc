// The rule options of the drill (issue 8) on a simulated clock: slice_by (per browser, SDK
// version, country, flow and country), the exact tests (max_p) on baseline and pattern rules,
// fallback_baseline for slices new to the baseline, drift rules on a signal's scores, and CUSUM
// on pooled windows (min_expected).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "alerts/engine.h"
#include "alerts/stat_tests.h"

namespace vigil::alerts {
namespace {

constexpr std::int64_t kMin = 60000;
constexpr std::int64_t kT0 = 1800000000000;  // a whole hour

struct Decision1 {
  Outcome outcome = Outcome::kPass;
  std::vector<std::pair<std::string, std::string>> context;  // country, sdk_version, ...
  std::string flow = "login";
  FlowKind kind = FlowKind::kLiveness;
  double passive = -1;  // calibrated passive score; < 0: absent
  bool injection = false;
};

struct Harness {
  explicit Harness(std::vector<AlertRule> rules, int max_slice_values = 32) {
    AlertsConfig cfg;
    cfg.rules = std::move(rules);
    cfg.max_slice_values = max_slice_values;
    engine = std::make_unique<AlertEngine>(cfg, [this](const Notification& n) {
      if (n.alert.state == AlertState::kFiring) fired.push_back(n.alert);
    });
  }
  // `make(i)` gives the i-th of `n` decisions spread over minute `minute`.
  template <typename Make>
  void Minute(int minute, int n, Make make) {
    for (int i = 0; i < n; ++i) {
      Decision1 d = make(i);
      AttributeMap ctx;
      for (auto& [k, v] : d.context) ctx.SetString(k, v);
      std::vector<SignalScore> signals;
      if (d.passive >= 0) {
        SignalScore s;
        s.name = "passive";
        s.present = true;
        s.calibrated = d.passive;
        signals.push_back(s);
      }
      std::vector<DecisionReason> reasons;
      if (d.injection) reasons.push_back({ReasonCode::kInjectionDetected, 1.0, true, ""});
      Observation o;
      o.time_ms = kT0 + minute * kMin + i * (kMin / n);
      o.flow_type = d.flow;
      o.kind = d.kind;
      o.outcome = d.outcome;
      o.latency_ms = 50;
      o.evidence_id = "ev";
      o.reasons = &reasons;
      o.context = &ctx;
      o.signals = &signals;
      engine->Observe(o);
    }
  }
  std::vector<std::string> FiredSlices(const std::string& rule) const {
    std::vector<std::string> out;
    for (const auto& a : fired) {
      if (a.rule == rule) out.push_back(a.slice);
    }
    return out;
  }
  std::unique_ptr<AlertEngine> engine;
  std::vector<Alert> fired;
};

AlertRule FailAbove(double v) {
  AlertRule r;
  r.name = "fail_high";
  r.type = RuleType::kThreshold;
  r.metric = Metric::kFailRate;
  r.value = v;
  r.min_decisions = 5;
  return r;
}

// Each value of the slice_by field is a slice of its own; a field's values beyond
// max_slice_values are "other".
TEST(SliceRules, SliceByCountryBounded) {
  AlertRule r = FailAbove(0.5);
  r.slice_by = {"country"};
  Harness h({r}, 2);
  const char* countries[] = {"DE", "BR", "FR", "IN"};
  h.Minute(0, 40, [&](int i) {
    Decision1 d;
    const char* c = countries[i % 4];
    d.context = {{"country", c}};
    if (std::string(c) != "DE") d.outcome = Outcome::kFail;  // BR fails; FR and IN fold into other
    return d;
  });
  h.Minute(1, 1, [](int) { return Decision1{}; });
  auto slices = h.FiredSlices("fail_high");
  std::sort(slices.begin(), slices.end());
  EXPECT_EQ(slices, (std::vector<std::string>{"country=BR", "country=other"}));
}

// With slice_by, `slices` keeps the keys holding each field=value of an entry; "kind" is a field.
TEST(SliceRules, SliceByCombinationFiltered) {
  AlertRule r = FailAbove(0.5);
  r.slice_by = {"flow_type", "country"};
  r.slices = {"flow_type=login"};
  AlertRule k = FailAbove(0.5);
  k.name = "fail_by_kind";
  k.slice_by = {"kind"};
  k.slices = {"kind=transaction"};
  Harness h({r, k});
  h.Minute(0, 40, [](int i) {
    Decision1 d;
    d.flow = i % 2 ? "login" : "onboarding";
    d.context = {{"country", "BR"}};
    d.outcome = Outcome::kFail;
    return d;
  });
  h.Minute(1, 1, [](int) { return Decision1{}; });
  EXPECT_EQ(h.FiredSlices("fail_high"), (std::vector<std::string>{"flow_type=login,country=BR"}));
  EXPECT_TRUE(h.FiredSlices("fail_by_kind").empty());  // all liveness
}

// Baseline with max_p: the rise must be improbable under the baseline's rate (exact binomial).
TEST(SliceRules, BaselineExactTest) {
  AlertRule r;
  r.name = "retry_vs_baseline";
  r.type = RuleType::kBaseline;
  r.metric = Metric::kRetryRate;
  r.increase = 0.25;
  r.max_p = 1e-4;
  r.min_decisions = 10;
  r.slices = {"all"};
  Harness h({r});
  auto at = [](int retries) {
    return [retries](int i) {
      Decision1 d;
      if (i < retries) d.outcome = Outcome::kRetry;
      return d;
    };
  };
  for (int m = 0; m < 120; ++m) h.Minute(m, 20, at(2));  // 10%
  h.Minute(120, 20, at(5));  // 25% of 20: P(X >= 5 | 20, 0.1) = 0.043, above 1e-4
  h.Minute(121, 20, at(2));
  EXPECT_TRUE(h.fired.empty());
  h.Minute(122, 20, at(12));  // 60%: P = 2.2e-8
  h.Minute(123, 20, at(2));
  ASSERT_EQ(h.fired.size(), 1u);
  EXPECT_EQ((h.fired[0].fired_at_ms - kT0) / kMin, 123);
  EXPECT_NEAR(h.fired[0].p_value, BinomialSf(12, 20, (240 + 0.5) / (2400 + 1.0)), 1e-15);
  EXPECT_NEAR(h.fired[0].baseline, 0.1, 1e-12);
}

// A pattern rule with max_p compares the matches with the slice's usual share of them.
TEST(SliceRules, PatternAgainstTheBaselineShare) {
  AlertRule r;
  r.name = "injection_burst";
  r.type = RuleType::kPattern;
  r.regex = "INJECTION_DETECTED";
  r.min_count = 3;
  r.max_p = 1e-4;
  r.over_ms = 5 * kMin;
  r.slices = {"all"};
  Harness h({r});
  auto at = [](int hits) {
    return [hits](int i) {
      Decision1 d;
      d.injection = i < hits;
      return d;
    };
  };
  for (int m = 0; m < 120; ++m) h.Minute(m, 20, at(m % 5 == 0 ? 1 : 0));  // 1% of decisions
  for (int m = 120; m < 125; ++m) h.Minute(m, 20, at(1));  // 5 of 100: P = 0.003 (a fixed count of 3 would fire)
  EXPECT_TRUE(h.fired.empty());
  for (int m = 125; m < 128; ++m) h.Minute(m, 20, at(5));  // 18 of 100 by minute 128
  h.Minute(128, 20, at(0));
  ASSERT_FALSE(h.fired.empty());
  EXPECT_LE(h.fired[0].p_value, 1e-4);
  EXPECT_NEAR(h.fired[0].baseline, 0.01 * 100, 0.1);  // matches expected in the lookback
}

// A slice new to the baseline (an SDK version in rollout) is compared with the fleet's; without
// fallback_baseline it has no baseline and min_count alone decides.
TEST(SliceRules, FallbackBaselineForANewVersion) {
  AlertRule r;
  r.name = "capture_failures";
  r.type = RuleType::kPattern;
  r.regex = "INJECTION_DETECTED";
  r.slice_by = {"sdk_version"};
  r.min_count = 3;
  r.max_p = 1e-6;
  r.min_decisions = 3;
  r.over_ms = 15 * kMin;
  r.baseline_min_hours = 24;
  AlertRule plain = r;
  plain.name = "no_fallback";
  r.fallback_baseline = "all";
  Harness h({r, plain});
  for (int m = 0; m < 180; ++m) {
    h.Minute(m, 20, [m](int i) {
      Decision1 d;
      d.context = {{"sdk_version", "3.0"}};
      d.injection = i == 0 && m % 10 == 0;  // 0.5%
      return d;
    });
  }
  EXPECT_TRUE(h.fired.empty());
  for (int m = 180; m < 183; ++m) {
    h.Minute(m, 2, [](int) {
      Decision1 d;
      d.context = {{"sdk_version", "3.1"}};
      d.injection = true;  // every one: 6 of 6 against the fleet's 0.5%
      return d;
    });
  }
  h.Minute(183, 1, [](int) { return Decision1{}; });
  EXPECT_EQ(h.FiredSlices("capture_failures"), (std::vector<std::string>{"sdk_version=3.1"}));
  // Without a fallback the new version has no baseline: min_count alone decides (no test).
  EXPECT_EQ(h.FiredSlices("no_fallback"), (std::vector<std::string>{"sdk_version=3.1"}));
  for (const auto& a : h.fired) {
    if (a.rule == "capture_failures") {
      EXPECT_LE(a.p_value, 1e-6);
      // The fleet's share (18 of 3600) times the 4 decisions of minutes 180-181: 4 of 4 fire it.
      EXPECT_NEAR(a.baseline, 4 * (18 + 0.5) / (3600 + 1.0), 1e-9);
    } else {
      EXPECT_TRUE(std::isnan(a.p_value));
      EXPECT_TRUE(std::isnan(a.baseline));
    }
  }
}

// fallback_baseline: parent compares a young slice with its parent (the same key without the
// last field: a new browser version with its browser), not with the fleet; the engine counts the
// parent dimension though no rule watches it.
TEST(SliceRules, FallbackBaselineParent) {
  AlertRule r;
  r.name = "by_parent";
  r.type = RuleType::kBaseline;
  r.metric = Metric::kRetryRate;
  r.slice_by = {"browser_family", "browser_version"};
  r.increase = 0.25;
  r.max_p = 1e-6;
  r.over_ms = 15 * kMin;
  r.min_decisions = 5;
  r.baseline_min_hours = 6;
  r.fallback_baseline = "parent";
  AlertRule fleet = r;
  fleet.name = "by_fleet";
  fleet.fallback_baseline = "all";
  Harness h({r, fleet});
  // Seven hours: chrome 131 retries 3 of 10 a minute, firefox 100 none.
  for (int m = 0; m < 420; ++m) {
    h.Minute(m, 20, [](int i) {
      Decision1 d;
      const bool chrome = i % 2 == 0;
      d.context = {{"browser_family", chrome ? "chrome" : "firefox"}, {"browser_version", chrome ? "131" : "100"}};
      if (chrome && i < 6) d.outcome = Outcome::kRetry;
      return d;
    });
  }
  EXPECT_TRUE(h.fired.empty());
  // Chrome 132 appears: 12 retries in 12 decisions.
  for (int m = 420; m < 423; ++m) {
    h.Minute(m, 4, [](int) {
      Decision1 d;
      d.context = {{"browser_family", "chrome"}, {"browser_version", "132"}};
      d.outcome = Outcome::kRetry;
      return d;
    });
  }
  h.Minute(423, 1, [](int) { return Decision1{}; });
  ASSERT_EQ(h.FiredSlices("by_parent"), (std::vector<std::string>{"browser_family=chrome,browser_version=132"}));
  ASSERT_EQ(h.FiredSlices("by_fleet"), (std::vector<std::string>{"browser_family=chrome,browser_version=132"}));
  for (const auto& a : h.fired) {
    // chrome's 30% (its parent), or the fleet's 15%.
    EXPECT_NEAR(a.baseline, a.rule == "by_parent" ? 0.3 : 0.15, 1e-9) << a.rule;
    // 12 of 12 against 0.3: 0.3^12 = 5.3e-7 (the smoothed rate (k + 0.5) / (m + 1) a hair above).
    if (a.rule == "by_parent") {
      EXPECT_NEAR(a.p_value, std::pow(0.3, 12), 0.02 * std::pow(0.3, 12));
    }
  }
}

// also_over: a baseline rule tests more lookbacks when its own does not hold. A 2-minute burst
// that 15 minutes dilute, and an hour-long moderate rise that neither 5 nor 15 minutes show.
// 10 decisions a minute, one fail in 25 for 7 hours, then the incident: `fails` of the 10 in
// each of its minutes (or one in `every`).
std::vector<std::string> ScanFired(int fails, int every, int minutes) {
  AlertRule plain;
  plain.name = "plain";
  plain.type = RuleType::kBaseline;
  plain.metric = Metric::kFailRate;
  plain.increase = 0.25;
  plain.max_p = 1e-6;
  plain.over_ms = 15 * kMin;
  plain.min_decisions = 5;
  plain.baseline_min_hours = 6;
  AlertRule scan = plain;
  scan.name = "scan";
  scan.also_over_ms = {5 * kMin, 60 * kMin};
  Harness h({plain, scan});
  int idx = 0;
  for (int m = 0; m < 420; ++m) {
    h.Minute(m, 10, [&](int) {
      Decision1 d;
      if (idx++ % 25 == 0) d.outcome = Outcome::kFail;
      return d;
    });
  }
  idx = 0;
  for (int m = 420; m < 420 + minutes; ++m) {
    h.Minute(m, 10, [&](int i) {
      Decision1 d;
      if (every > 0 ? idx++ % every == 0 : i < fails) d.outcome = Outcome::kFail;
      return d;
    });
  }
  h.Minute(420 + minutes, 1, [](int) { return Decision1{}; });
  std::set<std::string> out;  // one per rule (the default slices all see it)
  for (const auto& a : h.fired) out.insert(a.rule);
  return {out.begin(), out.end()};
}

TEST(SliceRules, AlsoOverScansLookbacks) {
  // Burst: 12 fails in 2 minutes. In 5 minutes about 13 of 50 against 4% (p about 5e-8); in 15
  // about 17 of 150 (p about 1e-5).
  EXPECT_EQ(ScanFired(6, 0, 2), (std::vector<std::string>{"scan"}));
  // Sustained: one in 10 for an hour: 15 of 150 in 15 minutes (p 5e-4), the hour's fails against
  // 4% (60 of 600 at its end: p about 1e-11; it fires once the hour holds enough of them).
  EXPECT_EQ(ScanFired(0, 10, 60), (std::vector<std::string>{"scan"}));
}

// Drift: the signal's calibrated scores over the lookback against the trailing baseline (KS on
// log-odds bins); significant and large.
TEST(SliceRules, DriftOnASignal) {
  AlertRule r;
  r.name = "passive_drift";
  r.type = RuleType::kDrift;
  r.signal = "passive";
  r.max_p = 1e-6;
  r.min_statistic = 0.1;
  r.min_decisions = 30;
  r.over_ms = 5 * kMin;
  r.slices = {"all"};
  Harness h({r});
  std::mt19937_64 rng(7);
  std::normal_distribution<double> live(2.5, 1.0);
  auto score = [&](double shift) {
    return [&, shift](int) {
      Decision1 d;
      d.passive = 1.0 / (1.0 + std::exp(-(live(rng) + shift)));
      return d;
    };
  };
  for (int m = 0; m < 120; ++m) h.Minute(m, 20, score(0.0));
  for (int m = 120; m < 130; ++m) h.Minute(m, 20, score(0.0));  // the same distribution
  EXPECT_TRUE(h.fired.empty());
  for (int m = 130; m < 133; ++m) h.Minute(m, 20, score(-2.0));  // a release moves it
  h.Minute(133, 20, score(-2.0));
  ASSERT_EQ(h.fired.size(), 1u);
  EXPECT_EQ(h.fired[0].metric, "passive_ks_statistic");
  EXPECT_GE(h.fired[0].value, 0.1);
  EXPECT_LE(h.fired[0].p_value, 1e-6);
}

// CUSUM with min_expected: windows pooled until the baseline's rate expects that many events;
// mu0 and sigma0 from the first baseline_windows pools.
TEST(SliceRules, CusumOnPooledWindows) {
  AlertRule r;
  r.name = "fail_change";
  r.type = RuleType::kCusum;
  r.metric = Metric::kFailRate;
  r.k = 0.5;
  r.h = 5;
  r.min_expected = 10;
  r.baseline_windows = 10;
  r.min_decisions = 1;
  r.direction = AlertRule::Direction::kUp;
  r.slices = {"all"};
  Harness h({r});
  std::mt19937_64 rng(3);
  auto at = [&](double p) {
    return [&, p](int) {
      Decision1 d;
      if (std::bernoulli_distribution(p)(rng)) d.outcome = Outcome::kFail;
      return d;
    };
  };
  // 20 a minute at 5%: one expected fail a minute, so a pool is 10 minutes.
  for (int m = 0; m < 360; ++m) h.Minute(m, 20, at(0.05));
  EXPECT_TRUE(h.fired.empty());
  for (int m = 360; m < 480; ++m) h.Minute(m, 20, at(0.10));
  ASSERT_FALSE(h.fired.empty());
  const auto at_min = (h.fired[0].fired_at_ms - kT0) / kMin;
  EXPECT_GE(at_min, 370);  // at least one pool after the shift
  EXPECT_LE(at_min, 480);
}

}  // namespace
}  // namespace vigil::alerts
