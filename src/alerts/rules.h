// Alert rules (SPEC.md 2.13), read from config/alerts.yaml. Six kinds:
//   threshold  metric above/below a value over a lookback, held for a duration ("for")
//   baseline   metric above (1 + increase) x its trailing 7-day value ("retry rate +25%"),
//              optionally only when significant (min_z); for decisions, the baseline is the
//              trailing 7 days' decisions per lookback
//   rate       decisions (or one outcome) per second over a lookback above a value
//   pattern    at least min_count decisions whose reason codes match a regular expression
//              within a lookback ("INJECTION_DETECTED|VIRTUAL_CAMERA")
//   composite  all_of / any_of other rules, firing in the same slice
//   cusum      a two-sided CUSUM (Page 1954; k, h, baseline windows) on a metric per window
// Every rule has a severity, a for-duration, a cooldown, slices and the first action to take
// (by default the one seed 000's table gives for its metric). Values, safe to copy.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil::alerts {

// The per-slice measures the engine keeps. Outcomes are generic: a transaction flow's
// allow/challenge/deny count as pass/retry/fail.
enum class Metric : std::uint8_t {
  kDecisions, kPassRate, kRetryRate, kFailRate, kReviewRate, kP95LatencyMs, kDisagreementRate
};
std::string_view MetricName(Metric m);
bool ParseMetric(std::string_view s, Metric* out);
// Seed 000's "typical first action" for a metric.
std::string_view DefaultFirstAction(Metric m);

enum class RuleType : std::uint8_t { kThreshold, kBaseline, kRate, kPattern, kComposite, kCusum };
std::string_view RuleTypeName(RuleType t);

struct AlertRule {
  std::string name;
  RuleType type = RuleType::kThreshold;
  std::string severity = "warning";  // info | warning | critical
  Metric metric = Metric::kRetryRate;
  bool below = false;                 // threshold: fire when the value is below (else above)
  double value = 0.0;                 // threshold / rate (per second) bound
  double increase = 0.25;             // baseline: relative increase over the trailing baseline
  // baseline: the increase must also be significant: z = (x - n p0) / sqrt(n p0 (1 - p0)) >= min_z
  // for a rate (x of n decisions in the lookback, p0 the baseline rate), (x - e) / sqrt(e) for
  // decisions (e the baseline's decisions per lookback). 0: no significance test. Not used for
  // p95_latency_ms.
  double min_z = 0.0;
  // baseline: hours of history the baseline needs before the rule is evaluated (traffic has a
  // daily cycle: a volume compared with a few night hours is not a baseline). 0: any history.
  int baseline_min_hours = 0;
  std::int64_t for_ms = 0;            // the condition must hold this long before firing
  std::int64_t over_ms = 0;           // lookback; 0 = one evaluation window
  std::int64_t cooldown_ms = 900000;  // after firing, no new firing of the same rule and slice
  int min_decisions = 20;             // fewer decisions in the lookback: no evaluation
  std::string count;                  // rate: "decisions", "pass", "retry", "fail", "review"
  std::string regex;                  // pattern
  int min_count = 1;                  // pattern
  bool all_of = true;                 // composite: and (all_of) / or (any_of)
  std::vector<std::string> children;  // composite
  double k = 0.5, h = 5.0;            // cusum
  enum class Direction : std::uint8_t { kBoth, kUp, kDown } direction = Direction::kBoth;  // cusum: alarms that count
  int baseline_windows = 30;          // cusum: windows that learn mu0 and sigma0
  int resolve_after = 5;              // cusum: windows without an alarm before resolving
  std::vector<std::string> slices;    // "all", "flow_type=login", "platform=web"; empty = every slice
  std::string action;                 // first action; "" = DefaultFirstAction(metric)
  std::vector<std::string> routes;    // route names; empty = every route
};

struct RouteConfig {
  std::string name;
  enum class Kind : std::uint8_t { kWebhook, kLog } kind = Kind::kLog;
  std::string url;                    // webhook: http://host:port/path
  int timeout_ms = 2000;
  int max_attempts = 4;               // first try plus retries
  int backoff_ms = 250;               // doubled after each failure
  std::size_t queue_limit = 1000;     // notifications waiting; beyond it the oldest is dropped
};

struct AlertsConfig {
  std::int64_t window_ms = 60000;     // evaluation window (event time)
  double disagreement_at = 0.3;       // a decision "disagrees" when max - min calibrated >= this
  int evidence_samples = 5;           // evidence ids carried by an alert
  int baseline_hours = 168;           // trailing baseline: 7 days
  std::vector<AlertRule> rules;
  std::vector<RouteConfig> routes;
};

// Reads config/alerts.yaml; a missing file gives no rules and a log route. Errors name
// file:line:col and the field; every error is collected.
Result<AlertsConfig> LoadAlertsConfig(const std::string& path);
// Parses a duration: "90s", "5m", "2h", "1d" or a number of seconds.
bool ParseDuration(std::string_view s, std::int64_t* ms);

}  // namespace vigil::alerts
