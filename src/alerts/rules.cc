#include "alerts/rules.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

#include "core/yaml_reader.h"

namespace vigil::alerts {

std::string_view MetricName(Metric m) {
  switch (m) {
    case Metric::kDecisions: return "decisions";
    case Metric::kPassRate: return "pass_rate";
    case Metric::kRetryRate: return "retry_rate";
    case Metric::kFailRate: return "fail_rate";
    case Metric::kReviewRate: return "review_rate";
    case Metric::kP95LatencyMs: return "p95_latency_ms";
    case Metric::kDisagreementRate: return "disagreement_rate";
  }
  return "?";
}

bool ParseMetric(std::string_view s, Metric* out) {
  for (auto m : {Metric::kDecisions, Metric::kPassRate, Metric::kRetryRate, Metric::kFailRate, Metric::kReviewRate,
                 Metric::kP95LatencyMs, Metric::kDisagreementRate}) {
    if (MetricName(m) == s) {
      *out = m;
      return true;
    }
  }
  return false;
}

std::string_view DefaultFirstAction(Metric m) {
  // Seed 000, "Example alert thresholds": typical first action per signal.
  switch (m) {
    case Metric::kRetryRate: return "check quality, browser, and threshold slices";
    case Metric::kP95LatencyMs: return "inspect infrastructure, model load, and timeouts";
    case Metric::kDisagreementRate: return "compare calibration and fusion versions";
    case Metric::kPassRate: return "tighten policy, review sessions, escalate fraud review";
    case Metric::kFailRate: return "pause rollout or hotfix SDK";
    case Metric::kReviewRate:
    case Metric::kDecisions: return "confirm the signal is real and identify affected channels and versions";
  }
  return "";
}

std::string_view RuleTypeName(RuleType t) {
  switch (t) {
    case RuleType::kThreshold: return "threshold";
    case RuleType::kBaseline: return "baseline";
    case RuleType::kRate: return "rate";
    case RuleType::kPattern: return "pattern";
    case RuleType::kComposite: return "composite";
    case RuleType::kCusum: return "cusum";
    case RuleType::kDrift: return "drift";
  }
  return "?";
}

bool ParseDuration(std::string_view s, std::int64_t* ms) {
  if (s.empty()) return false;
  double scale = 1000.0;
  char unit = s.back();
  if (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd') {
    scale = unit == 's' ? 1e3 : unit == 'm' ? 6e4 : unit == 'h' ? 3.6e6 : 8.64e7;
    s.remove_suffix(1);
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) return false;
  *ms = static_cast<std::int64_t>(std::llround(v * scale));
  return true;
}

namespace {

RouteConfig LogRoute() {
  RouteConfig r;
  r.name = "log";
  return r;
}

std::optional<std::int64_t> Duration(YamlReader& r, const YAML::Node& map, const char* key, const std::string& path) {
  const YAML::Node n = map[key];
  if (!n.IsDefined()) return std::nullopt;
  std::int64_t ms = 0;
  if (!n.IsScalar() || !ParseDuration(n.Scalar(), &ms)) {
    r.Fail(n, JoinPath(path, key), "expected a duration such as 90s, 5m, 2h or 1d");
    return std::nullopt;
  }
  return ms;
}

void ReadRule(YamlReader& r, const YAML::Node& e, const std::string& p, AlertRule& rule) {
  r.OnlyKeys(e, p, {"name", "type", "severity", "metric", "above", "below", "increase", "for", "over", "cooldown",
                    "min_decisions", "count", "per_second_above", "regex", "min_count", "all_of", "any_of", "k", "h",
                    "baseline_windows", "resolve_after", "slices", "action", "routes", "min_z", "direction",
                    "baseline_min_hours", "max_p", "min_expected", "fallback_baseline", "signal", "min_statistic", "slice_by",
                    "dispersion", "also_over"});
  rule.name = r.String(e, "name", p, true).value_or("");
  std::string type = r.String(e, "type", p, true).value_or("");
  static const std::pair<const char*, RuleType> kTypes[] = {
      {"threshold", RuleType::kThreshold}, {"baseline", RuleType::kBaseline}, {"rate", RuleType::kRate},
      {"pattern", RuleType::kPattern},     {"composite", RuleType::kComposite}, {"cusum", RuleType::kCusum},
      {"drift", RuleType::kDrift}};
  bool known = false;
  for (auto& [n, t] : kTypes) {
    if (type == n) rule.type = t, known = true;
  }
  if (!known && !type.empty()) r.Fail(e["type"], JoinPath(p, "type"), "expected threshold, baseline, rate, pattern, composite, cusum or drift");
  if (auto s = r.String(e, "severity", p, false)) {
    if (*s != "info" && *s != "warning" && *s != "critical") r.Fail(e["severity"], JoinPath(p, "severity"), "expected info, warning or critical");
    rule.severity = *s;
  }
  const bool needs_metric = rule.type == RuleType::kThreshold || rule.type == RuleType::kBaseline || rule.type == RuleType::kCusum;
  if (auto m = r.String(e, "metric", p, needs_metric)) {
    if (!ParseMetric(*m, &rule.metric)) {
      r.Fail(e["metric"], JoinPath(p, "metric"),
             "expected decisions, pass_rate, retry_rate, fail_rate, review_rate, p95_latency_ms or disagreement_rate");
    }
  }
  if (rule.type == RuleType::kThreshold) {
    auto above = r.Number(e, "above", p, false), below = r.Number(e, "below", p, false);
    if (above.has_value() == below.has_value()) r.Fail(e, p, "a threshold rule needs exactly one of above or below");
    rule.below = below.has_value();
    rule.value = above.value_or(below.value_or(0.0));
  }
  if (auto v = r.Number(e, "increase", p, false)) rule.increase = *v;
  if (auto v = r.Number(e, "min_z", p, false)) {
    rule.min_z = *v;
    if (rule.type != RuleType::kBaseline || *v < 0) r.Fail(e["min_z"], JoinPath(p, "min_z"), "min_z (>= 0) is for baseline rules");
  }
  if (auto v = r.Number(e, "baseline_min_hours", p, false)) {
    rule.baseline_min_hours = static_cast<int>(*v);
    const bool typed = rule.type == RuleType::kBaseline || rule.type == RuleType::kPattern || rule.type == RuleType::kDrift;
    if (!typed || *v < 0 || *v > 24 * 7 || *v != std::floor(*v)) {
      r.Fail(e["baseline_min_hours"], JoinPath(p, "baseline_min_hours"),
             "baseline_min_hours (a whole number of hours, 0 to 168) is for baseline, pattern and drift rules");
    }
  }
  if (auto v = r.Number(e, "max_p", p, false)) {
    rule.max_p = *v;
    const bool typed = rule.type == RuleType::kBaseline || rule.type == RuleType::kPattern || rule.type == RuleType::kDrift;
    if (!typed || !(*v > 0 && *v <= 1) || (rule.type == RuleType::kBaseline && rule.metric == Metric::kP95LatencyMs)) {
      r.Fail(e["max_p"], JoinPath(p, "max_p"), "max_p (0 < max_p <= 1) is for baseline (not p95_latency_ms), pattern and drift rules");
    }
  }
  if (auto v = r.String(e, "fallback_baseline", p, false)) {
    rule.fallback_baseline = *v;
    const bool typed = (rule.type == RuleType::kBaseline && rule.metric != Metric::kDecisions) ||
                       rule.type == RuleType::kPattern || rule.type == RuleType::kDrift;
    if (!typed || (*v != "all" && *v != "parent")) {
      r.Fail(e["fallback_baseline"], JoinPath(p, "fallback_baseline"),
             "fallback_baseline (all or parent) is for pattern and drift rules and baseline rules on a rate or latency");
    }
  }
  if (rule.type == RuleType::kDrift) {
    rule.signal = r.String(e, "signal", p, true).value_or("");
    if (rule.max_p == 0) rule.max_p = 1e-6;
    if (auto v = r.Number(e, "min_statistic", p, false)) {
      rule.min_statistic = *v;
      if (*v < 0 || *v > 1) r.Fail(e["min_statistic"], JoinPath(p, "min_statistic"), "expected a KS statistic in [0, 1]");
    }
    if (!e["min_decisions"].IsDefined()) rule.min_decisions = 30;
  } else if (e["signal"].IsDefined() || e["min_statistic"].IsDefined()) {
    r.Fail(e, p, "signal and min_statistic are for drift rules");
  }
  if (auto sb = r.StringList(e, "slice_by", p, false)) {
    rule.slice_by = *sb;
    std::set<std::string> seen(sb->begin(), sb->end());
    if (sb->empty() || sb->size() > 4 || seen.size() != sb->size()) {
      r.Fail(e["slice_by"], JoinPath(p, "slice_by"), "expected one to four distinct fields");
    }
  }
  if (rule.fallback_baseline == "parent" && rule.slice_by.size() < 2) {
    r.Fail(e["fallback_baseline"], JoinPath(p, "fallback_baseline"),
           "fallback_baseline: parent needs slice_by with at least two fields (the parent drops the last)");
  }
  if (auto d = Duration(r, e, "for", p)) rule.for_ms = *d;
  if (auto d = Duration(r, e, "over", p)) rule.over_ms = *d;
  if (auto list = r.StringList(e, "also_over", p, false)) {
    const bool typed = rule.type == RuleType::kBaseline && rule.metric != Metric::kDecisions &&
                       rule.metric != Metric::kP95LatencyMs;
    for (const auto& v : *list) {
      std::int64_t ms = 0;
      if (!typed || !ParseDuration(v, &ms) || ms <= 0) {
        r.Fail(e["also_over"], JoinPath(p, "also_over"), "also_over (durations such as 5m, 1h) is for baseline rules on a rate");
        break;
      }
      rule.also_over_ms.push_back(ms);
    }
  }
  if (auto d = Duration(r, e, "cooldown", p)) rule.cooldown_ms = *d;
  if (auto v = r.Number(e, "min_decisions", p, false)) rule.min_decisions = static_cast<int>(*v);
  if (rule.type == RuleType::kRate) {
    rule.count = r.String(e, "count", p, false).value_or("decisions");
    if (rule.count != "decisions" && rule.count != "pass" && rule.count != "retry" && rule.count != "fail" && rule.count != "review") {
      r.Fail(e["count"], JoinPath(p, "count"), "expected decisions, pass, retry, fail or review");
    }
    rule.value = r.Number(e, "per_second_above", p, true).value_or(0.0);
    if (!e["min_decisions"].IsDefined()) rule.min_decisions = 0;
  }
  if (rule.type == RuleType::kPattern) {
    rule.regex = r.String(e, "regex", p, true).value_or("");
    try {
      std::regex re(rule.regex);
    } catch (const std::regex_error&) {
      r.Fail(e["regex"], JoinPath(p, "regex"), "not a valid regular expression (ECMAScript)");
    }
    if (auto v = r.Number(e, "min_count", p, false)) rule.min_count = static_cast<int>(*v);
  }
  if (rule.type == RuleType::kComposite) {
    auto all = r.StringList(e, "all_of", p, false), any = r.StringList(e, "any_of", p, false);
    if (all.has_value() == any.has_value()) r.Fail(e, p, "a composite rule needs exactly one of all_of or any_of");
    rule.all_of = all.has_value();
    rule.children = all ? *all : any.value_or(std::vector<std::string>{});
  }
  if (rule.type == RuleType::kCusum) {
    rule.k = r.Number(e, "k", p, false).value_or(0.5);
    rule.h = r.Number(e, "h", p, false).value_or(5.0);
    if (auto v = r.Number(e, "baseline_windows", p, false)) rule.baseline_windows = static_cast<int>(*v);
    if (auto v = r.Number(e, "resolve_after", p, false)) rule.resolve_after = static_cast<int>(*v);
    if (rule.k < 0 || rule.h <= 0 || rule.baseline_windows < 2) r.Fail(e, p, "cusum needs k >= 0, h > 0, baseline_windows >= 2");
    if (auto v = r.Number(e, "min_expected", p, false)) {
      rule.min_expected = *v;
      if (*v < 0 || rule.metric == Metric::kDecisions || rule.metric == Metric::kP95LatencyMs) {
        r.Fail(e["min_expected"], JoinPath(p, "min_expected"), "min_expected (>= 0) is for cusum rules on a rate");
      }
    }
    if (auto d = r.String(e, "direction", p, false)) {
      if (*d == "up") rule.direction = AlertRule::Direction::kUp;
      else if (*d == "down") rule.direction = AlertRule::Direction::kDown;
      else if (*d != "both") r.Fail(e["direction"], JoinPath(p, "direction"), "expected up, down or both");
    }
  }
  if (auto d = r.String(e, "dispersion", p, false)) {
    const bool counts = rule.type == RuleType::kPattern ||
                        ((rule.type == RuleType::kBaseline || rule.type == RuleType::kCusum) &&
                         rule.metric != Metric::kDecisions && rule.metric != Metric::kP95LatencyMs);
    if (*d != "estimated" && *d != "binomial") {
      r.Fail(e["dispersion"], JoinPath(p, "dispersion"), "expected estimated or binomial");
    } else if (!counts) {
      r.Fail(e["dispersion"], JoinPath(p, "dispersion"), "dispersion is for baseline and cusum rules on a rate and pattern rules");
    }
    rule.dispersion_estimated = *d == "estimated";
  }
  if (auto s = r.StringList(e, "slices", p, false)) rule.slices = *s;
  if (auto a = r.String(e, "action", p, false)) rule.action = *a;
  if (auto rt = r.StringList(e, "routes", p, false)) rule.routes = *rt;
}

}  // namespace

Result<AlertsConfig> LoadAlertsConfig(const std::string& path) {
  AlertsConfig cfg;
  if (!std::filesystem::exists(path)) {
    cfg.routes.push_back(LogRoute());
    return cfg;
  }
  YamlReader r = YamlReader::FromFile(path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) return Error::Parse("expected a mapping", path);
  r.OnlyKeys(root, "", {"window", "disagreement_at", "evidence_samples", "baseline_days", "max_slice_values", "routes",
                        "rules"});
  if (auto d = Duration(r, root, "window", "")) {
    if (*d < 1000) r.Fail(root["window"], "window", "at least 1s");
    else cfg.window_ms = *d;
  }
  if (auto v = r.Number(root, "disagreement_at", "", false)) cfg.disagreement_at = *v;
  if (auto v = r.Number(root, "evidence_samples", "", false)) cfg.evidence_samples = static_cast<int>(*v);
  if (auto v = r.Number(root, "baseline_days", "", false)) cfg.baseline_hours = static_cast<int>(*v * 24);
  if (auto v = r.Number(root, "max_slice_values", "", false)) {
    if (*v < 1 || *v > 256) r.Fail(root["max_slice_values"], "max_slice_values", "expected 1 to 256");
    else cfg.max_slice_values = static_cast<int>(*v);
  }
  std::set<std::string> route_names, rule_names;
  if (const YAML::Node rs = root["routes"]; rs.IsDefined()) {
    for (std::size_t i = 0; i < rs.size(); ++i) {
      const YAML::Node e = rs[i];
      std::string p = "routes[" + std::to_string(i) + "]";
      r.OnlyKeys(e, p, {"name", "type", "url", "timeout_ms", "max_attempts", "backoff_ms", "queue_limit"});
      RouteConfig rc;
      rc.name = r.String(e, "name", p, true).value_or("");
      std::string type = r.String(e, "type", p, true).value_or("log");
      if (type == "webhook") {
        rc.kind = RouteConfig::Kind::kWebhook;
        rc.url = r.String(e, "url", p, true).value_or("");
        if (rc.url.rfind("http://", 0) != 0) r.Fail(e["url"], JoinPath(p, "url"), "expected http://host:port/path");
      } else if (type != "log") {
        r.Fail(e["type"], JoinPath(p, "type"), "expected webhook or log");
      }
      if (auto v = r.Number(e, "timeout_ms", p, false)) rc.timeout_ms = static_cast<int>(*v);
      if (auto v = r.Number(e, "max_attempts", p, false)) rc.max_attempts = std::max(1, static_cast<int>(*v));
      if (auto v = r.Number(e, "backoff_ms", p, false)) rc.backoff_ms = static_cast<int>(*v);
      if (auto v = r.Number(e, "queue_limit", p, false)) rc.queue_limit = static_cast<std::size_t>(std::max(1.0, *v));
      if (!route_names.insert(rc.name).second) r.Fail(e, p, "route name used twice: " + rc.name);
      cfg.routes.push_back(std::move(rc));
    }
  } else {
    cfg.routes.push_back(LogRoute());
  }
  if (const YAML::Node rs = root["rules"]; rs.IsDefined()) {
    if (!rs.IsSequence()) r.Fail(rs, "rules", "expected a list of rules");
    for (std::size_t i = 0; rs.IsSequence() && i < rs.size(); ++i) {
      std::string p = "rules[" + std::to_string(i) + "]";
      AlertRule rule;
      ReadRule(r, rs[i], p, rule);
      if (!rule_names.insert(rule.name).second) r.Fail(rs[i], p, "rule name used twice: " + rule.name);
      for (const auto& c : rule.children) {
        // Composites refer to rules defined before them, so evaluation order is file order.
        if (!rule_names.count(c) || c == rule.name) r.Fail(rs[i], JoinPath(p, rule.all_of ? "all_of" : "any_of"), "unknown or later rule: " + c);
      }
      for (const auto& rt : rule.routes) {
        if (!route_names.count(rt)) r.Fail(rs[i], JoinPath(p, "routes"), "unknown route: " + rt);
      }
      cfg.rules.push_back(std::move(rule));
    }
    // The engine keeps per-window counts for each pattern rule and a histogram per drift signal.
    int patterns = 0;
    std::set<std::string> signals;
    for (const auto& rule : cfg.rules) {
      patterns += rule.type == RuleType::kPattern;
      if (rule.type == RuleType::kDrift) signals.insert(rule.signal);
    }
    if (patterns > kMaxPatternRules) r.Fail(rs, "rules", "at most " + std::to_string(kMaxPatternRules) + " pattern rules");
    if (signals.size() > static_cast<std::size_t>(kMaxDriftSignals)) {
      r.Fail(rs, "rules", "drift rules on at most " + std::to_string(kMaxDriftSignals) + " signals");
    }
  }
  if (!r.ok()) return r.first_error();
  return cfg;
}

}  // namespace vigil::alerts
