// config/alerts.yaml: the shipped file loads; mistakes are refused with file:line:col.
#include "alerts/rules.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace vigil::alerts {
namespace {

std::string WriteYaml(const std::string& body) {
  auto p = std::filesystem::temp_directory_path() / ("vigil-alerts-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(p) << body;
  return p.string();
}

TEST(AlertRules, ShippedFileLoads) {
  auto cfg = LoadAlertsConfig(vigil::testing::SourcePath("config/alerts.yaml"));
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_EQ(cfg->window_ms, 60000);
  ASSERT_GE(cfg->rules.size(), 6u);
  bool baseline = false, pattern = false, cusum = false, composite = false, rate = false;
  for (const auto& r : cfg->rules) {
    baseline |= r.type == RuleType::kBaseline && r.metric == Metric::kRetryRate && r.increase == 0.25;
    pattern |= r.type == RuleType::kPattern;
    cusum |= r.type == RuleType::kCusum && r.k == 0.5 && r.h == 8 && r.min_expected == 20;
    composite |= r.type == RuleType::kComposite;
    rate |= r.type == RuleType::kRate;
  }
  EXPECT_TRUE(baseline && pattern && cusum && composite && rate);
  // The drill's changes (tests/alerts/drill_test.cc): significance on baselines, upward CUSUM.
  for (const auto& r : cfg->rules) {
    if (r.name == "retry_rate_vs_baseline") {
      EXPECT_EQ(r.min_z, 5);
    }
    // Clustered decisions (docs/monitoring.md, "The drill"): every test on counts estimates it.
    if (r.name == "disagreement_above_normal" || r.name == "fail_rate_change_point" ||
        r.name == "injection_or_virtual_camera_burst") {
      EXPECT_TRUE(r.dispersion_estimated) << r.name;
    }
    if (r.name == "decision_volume_vs_baseline") {
      EXPECT_EQ(r.baseline_min_hours, 6);
      EXPECT_EQ(r.min_decisions, 50);
    }
    if (r.name == "fail_rate_change_point") {
      EXPECT_EQ(r.direction, AlertRule::Direction::kUp);
    }
    // Issue 8's drill rules: per slice, exact tests, drift; each with seed 000's first action.
    if (r.name == "retry_rate_by_browser") {
      EXPECT_EQ(r.slice_by, (std::vector<std::string>{"kind", "platform", "browser_family"}));
      EXPECT_EQ(r.max_p, 1e-6);
      EXPECT_EQ(r.fallback_baseline, "all");
    }
    if (r.name == "retry_rate_by_browser_version") {
      EXPECT_EQ(r.slice_by, (std::vector<std::string>{"kind", "platform", "browser_family", "browser_version"}));
      EXPECT_EQ(r.fallback_baseline, "parent");
      EXPECT_EQ(r.max_p, 1e-6);
    }
    if (r.name == "capture_failures_by_sdk_version") {
      EXPECT_EQ(r.slice_by, (std::vector<std::string>{"sdk_version"}));
      EXPECT_EQ(r.min_count, 2);
      EXPECT_EQ(r.action, "pause rollout or hotfix SDK");
    }
    if (r.name == "spoof_suspicion_by_flow_and_country") {
      EXPECT_EQ(r.also_over_ms, (std::vector<std::int64_t>{300000, 3600000}));
      EXPECT_EQ(r.action, "tighten policy, review sessions, escalate fraud review");
    }
    if (r.type == RuleType::kDrift) {
      EXPECT_FALSE(r.signal.empty());
      EXPECT_EQ(r.action, "compare calibration and fusion versions");
    }
  }
}

TEST(AlertRules, DrillOptionsParse) {
  auto cfg = LoadAlertsConfig(WriteYaml(
      "max_slice_values: 8\nrules:\n"
      "  - name: d\n    type: drift\n    signal: passive\n    over: 5m\n    min_statistic: 0.2\n    baseline_min_hours: 6\n"
      "  - name: p\n    type: pattern\n    regex: NO_FACE\n    slice_by: [sdk_version]\n    max_p: 1.0e-6\n"
      "    fallback_baseline: all\n"
      "  - name: c\n    type: cusum\n    metric: fail_rate\n    min_expected: 20\n"));
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_EQ(cfg->max_slice_values, 8);
  ASSERT_EQ(cfg->rules.size(), 3u);
  EXPECT_EQ(cfg->rules[0].type, RuleType::kDrift);
  EXPECT_EQ(cfg->rules[0].max_p, 1e-6);  // the drift default
  EXPECT_EQ(cfg->rules[0].min_statistic, 0.2);
  EXPECT_EQ(cfg->rules[0].min_decisions, 30);
  EXPECT_EQ(cfg->rules[1].slice_by, (std::vector<std::string>{"sdk_version"}));
  EXPECT_EQ(cfg->rules[1].fallback_baseline, "all");
  EXPECT_EQ(cfg->rules[2].min_expected, 20);
}

TEST(AlertRules, Durations) {
  std::int64_t ms = 0;
  EXPECT_TRUE(ParseDuration("90s", &ms));
  EXPECT_EQ(ms, 90000);
  EXPECT_TRUE(ParseDuration("15m", &ms));
  EXPECT_EQ(ms, 900000);
  EXPECT_TRUE(ParseDuration("1d", &ms));
  EXPECT_EQ(ms, 86400000);
  EXPECT_TRUE(ParseDuration("2", &ms));
  EXPECT_EQ(ms, 2000);
  EXPECT_FALSE(ParseDuration("5 minutes", &ms));
  EXPECT_FALSE(ParseDuration("-1m", &ms));
}

struct Bad {
  std::string name, yaml, where, says;
};
void PrintTo(const Bad& b, std::ostream* os) { *os << b.name; }
class AlertRulesBad : public ::testing::TestWithParam<Bad> {};
TEST_P(AlertRulesBad, RefusedWithPlace) {
  auto cfg = LoadAlertsConfig(WriteYaml(GetParam().yaml));
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().ToString().find(GetParam().where), std::string::npos) << cfg.error().ToString();
  EXPECT_NE(cfg.error().ToString().find(GetParam().says), std::string::npos) << cfg.error().ToString();
}
INSTANTIATE_TEST_SUITE_P(
    Alerts, AlertRulesBad,
    ::testing::Values(
        Bad{"typo", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    abov: 0.3\n", ":5:", "abov"},
        Bad{"bad_metric", "rules:\n  - name: a\n    type: threshold\n    metric: retries\n    above: 1\n", ":4:", "metric"},
        Bad{"bad_regex", "rules:\n  - name: p\n    type: pattern\n    regex: \"(\"\n", ":4:", "regular expression"},
        Bad{"unknown_child", "rules:\n  - name: c\n    type: composite\n    all_of: [nope]\n", ":2:", "unknown or later rule"},
        Bad{"bad_duration", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    above: 1\n    for: soon\n", ":6:", "duration"},
        Bad{"bad_route", "routes:\n  - name: w\n    type: webhook\n    url: https://x\n", ":4:", "http://"},
        Bad{"min_z_not_baseline", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    above: 1\n    min_z: 3\n", ":6:", "min_z"},
        Bad{"bad_direction", "rules:\n  - name: c\n    type: cusum\n    metric: fail_rate\n    direction: sideways\n", ":5:", "up, down or both"},
        Bad{"baseline_hours_fraction", "rules:\n  - name: b\n    type: baseline\n    metric: decisions\n    baseline_min_hours: 1.5\n", ":5:", "baseline_min_hours"},
        Bad{"baseline_hours_not_baseline", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    above: 1\n    baseline_min_hours: 24\n", ":6:", "baseline_min_hours"},
        Bad{"max_p_threshold", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    above: 1\n    max_p: 0.01\n", ":6:", "max_p"},
        Bad{"max_p_latency", "rules:\n  - name: a\n    type: baseline\n    metric: p95_latency_ms\n    max_p: 0.01\n", ":5:", "max_p"},
        Bad{"fallback_decisions", "rules:\n  - name: a\n    type: baseline\n    metric: decisions\n    fallback_baseline: all\n", ":5:", "fallback_baseline"},
        Bad{"drift_no_signal", "rules:\n  - name: d\n    type: drift\n", ":2:", "signal"},
        Bad{"signal_not_drift", "rules:\n  - name: a\n    type: baseline\n    metric: retry_rate\n    signal: passive\n", ":2:", "drift rules"},
        Bad{"also_over_threshold", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    above: 1\n    also_over: [5m]\n", ":6:", "also_over"},
        Bad{"also_over_duration", "rules:\n  - name: a\n    type: baseline\n    metric: retry_rate\n    also_over: [soon]\n", ":5:", "also_over"},
        Bad{"slice_by_five", "rules:\n  - name: a\n    type: baseline\n    metric: retry_rate\n    slice_by: [a, b, c, d, e]\n", ":5:", "one to four"},
        Bad{"fallback_unknown", "rules:\n  - name: a\n    type: baseline\n    metric: retry_rate\n    slice_by: [a, b]\n    fallback_baseline: fleet\n", ":6:", "all or parent"},
        Bad{"fallback_parent_one_field", "rules:\n  - name: a\n    type: baseline\n    metric: retry_rate\n    slice_by: [a]\n    fallback_baseline: parent\n", ":6:", "at least two"},
        Bad{"min_expected_latency", "rules:\n  - name: c\n    type: cusum\n    metric: p95_latency_ms\n    min_expected: 5\n", ":5:", "min_expected"},
        Bad{"dispersion_value", "rules:\n  - name: a\n    type: baseline\n    metric: retry_rate\n    dispersion: huge\n", ":5:", "estimated or binomial"},
        Bad{"dispersion_decisions", "rules:\n  - name: a\n    type: baseline\n    metric: decisions\n    dispersion: estimated\n", ":5:", "dispersion"},
        Bad{"dispersion_threshold", "rules:\n  - name: a\n    type: threshold\n    metric: retry_rate\n    above: 1\n    dispersion: estimated\n", ":6:", "dispersion"},
        Bad{"slice_values", "max_slice_values: 0\n", ":1:", "max_slice_values"}),
    [](const auto& p) { return p.param.name; });

}  // namespace
}  // namespace vigil::alerts
