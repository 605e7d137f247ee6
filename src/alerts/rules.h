// Alert rules (SPEC.md 2.13), read from config/alerts.yaml. Seven kinds:
//   threshold  metric above/below a value over a lookback, held for a duration ("for")
//   baseline   metric above (1 + increase) x its trailing 7-day value ("retry rate +25%"),
//              optionally only when significant (min_z); for decisions, the baseline is the
//              trailing 7 days' decisions per lookback
//   rate       decisions (or one outcome) per second over a lookback above a value
//   pattern    at least min_count decisions whose reason codes match a regular expression
//              within a lookback ("INJECTION_DETECTED|VIRTUAL_CAMERA")
//   composite  all_of / any_of other rules, firing in the same slice
//   cusum      a two-sided CUSUM (Page 1954; k, h) on a metric per window (mu0, sigma0 from the
//              first baseline_windows) or on pools of windows against the trailing 7 days
//   drift      a signal's calibrated score distribution over a lookback against the trailing
//              7 days (Kolmogorov-Smirnov p-value and statistic on fixed log-odds bins)
// Slices: "all", "flow_type=<f>" and "platform=<p>" by default; a rule with slice_by is evaluated
// for every value (combination) of those fields ("country=BR", "flow_type=login,country=BR"),
// each field's values bounded (max_slice_values; the rest fold into "other").
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

enum class RuleType : std::uint8_t { kThreshold, kBaseline, kRate, kPattern, kComposite, kCusum, kDrift };
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
  // baseline, pattern: the exact one-sided test. A baseline rule on a rate also needs
  // P(X >= x | Binomial(n, p0)) <= max_p (x of the lookback's n decisions, p0 the baseline's rate,
  // smoothed as (k + 0.5) / (m + 1) so a slice with no such decision yet is not a rate of 0); on
  // decisions, P(X >= n | Poisson(e)) <= max_p. A pattern rule with max_p compares its matches
  // the same way with the baseline's share of matching decisions (a burst against the slice's
  // usual rate of such codes, not a fixed count); until the baseline holds min_decisions
  // decisions (a fresh start), min_count alone decides. 0: no test. Not for p95_latency_ms.
  // drift: the KS p-value must be at most max_p.
  double max_p = 0.0;
  // baseline (rates), pattern, drift: when the slice's own baseline is too young (fewer than
  // baseline_min_hours whole hours, at least 1, or fewer than min_decisions decisions), compare
  // with another slice's baseline instead: "all" (a new SDK version against the whole fleet) or
  // "parent" (slice_by of two fields or more: the same key without its last field, a new browser
  // version against its browser; the engine counts that dimension).
  std::string fallback_baseline;
  std::string signal;                 // drift: the calibrated signal ("passive", "fraud_model")
  double min_statistic = 0.05;        // drift: the KS statistic must also be at least this
  std::int64_t for_ms = 0;            // the condition must hold this long before firing
  std::int64_t over_ms = 0;           // lookback; 0 = one evaluation window
  // baseline rules on a rate: more lookbacks tested the same way when `over` does not hold (a
  // scan over lengths: a burst is diluted in a long lookback, a sustained moderate rise needs one).
  std::vector<std::int64_t> also_over_ms;
  std::int64_t cooldown_ms = 900000;  // after firing, no new firing of the same rule and slice
  int min_decisions = 20;             // fewer decisions in the lookback: no evaluation
  std::string count;                  // rate: "decisions", "pass", "retry", "fail", "review"
  std::string regex;                  // pattern
  int min_count = 1;                  // pattern
  bool all_of = true;                 // composite: and (all_of) / or (any_of)
  std::vector<std::string> children;  // composite
  double k = 0.5, h = 5.0;            // cusum
  enum class Direction : std::uint8_t { kBoth, kUp, kDown } direction = Direction::kBoth;  // cusum: alarms that count
  int baseline_windows = 30;          // cusum per window: samples that learn mu0 and sigma0
  int resolve_after = 5;              // cusum: windows without an alarm before resolving
  // cusum on a rate: 0 = each window's rate is a sample, standardised by mu0 and sigma0 learnt
  // from the first baseline_windows samples. > 0 = windows are pooled until the count the
  // trailing baseline's rate p0 expects reaches min_expected (a per-minute rate of 30 decisions
  // is no normal sample), and each pool of x of n is standardised against the trailing 7 days:
  // z = (x - n p0) / sqrt(phi n p0 (1 - p0) (1 + n / m)), m the baseline's decisions (the
  // baseline's own sampling error), phi the dispersion (below); no learning window, so no mu0
  // fitted to whatever hours of the day the first samples came from.
  double min_expected = 0.0;
  // Decisions are not independent: a liveness retry repeats the person and the capture, an
  // attacker repeats an attack, so counts cluster and binomial tests are optimistic. With
  // `dispersion: estimated` the rule measures that from its baseline slice's trailing 7 days:
  // Pearson's dispersion phi of the count over 5-minute blocks (stat_tests.h; 1 for
  // independent decisions), at least 1, used once the baseline holds an hour of blocks. The
  // exact tests become quasi-binomial (max_p: QuasiBinomialSf; min_z: the variance times phi),
  // the pooled CUSUM's variance is multiplied by phi. Default `binomial`: phi = 1. For rate
  // metrics and pattern rules; not for decisions or p95_latency_ms.
  bool dispersion_estimated = false;
  // Slices the rule is evaluated on: without slice_by, the default ones ("all", "flow_type=...",
  // "platform=..."), those listed in `slices` when given. With slice_by (fields: flow_type,
  // platform or a context field such as browser_family, sdk_version, country), every value
  // combination of those fields; `slices` then keeps the keys that contain every "field=value"
  // of one of its entries ("flow_type=login" keeps "flow_type=login,country=BR").
  std::vector<std::string> slices;
  std::vector<std::string> slice_by;
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

inline constexpr int kMaxPatternRules = 8;  // pattern rules in one file
inline constexpr int kMaxDriftSignals = 4;  // distinct signals of drift rules in one file

struct AlertsConfig {
  std::int64_t window_ms = 60000;     // evaluation window (event time)
  double disagreement_at = 0.3;       // a decision "disagrees" when max - min calibrated >= this
  int evidence_samples = 5;           // evidence ids carried by an alert
  int baseline_hours = 168;           // trailing baseline: 7 days
  int max_slice_values = 32;          // values kept per slice field; the rest are "other"
  std::vector<AlertRule> rules;
  std::vector<RouteConfig> routes;
};

// Reads config/alerts.yaml; a missing file gives no rules and a log route. Errors name
// file:line:col and the field; every error is collected.
Result<AlertsConfig> LoadAlertsConfig(const std::string& path);
// Parses a duration: "90s", "5m", "2h", "1d" or a number of seconds.
bool ParseDuration(std::string_view s, std::int64_t* ms);

}  // namespace vigil::alerts
