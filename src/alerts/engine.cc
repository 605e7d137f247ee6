#include "alerts/engine.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <regex>

#include "drift/cusum.h"

namespace vigil::alerts {

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive: return "inactive";
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
    case AlertState::kResolved: return "resolved";
  }
  return "?";
}

namespace {

constexpr std::int64_t kHourMs = 3600000;
constexpr int kLatencyBins = 160;       // edges 0.01 ms * 1.1^i: 0.01 ms to about 42 s, +-5%
constexpr double kLatencyBase = 0.01, kLatencyRatio = 1.1;
constexpr std::size_t kPatternKeep = 4096;  // matching decisions kept per rule and slice
constexpr std::size_t kResolvedKeep = 200;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
double Nan() { return std::numeric_limits<double>::quiet_NaN(); }

struct Agg {
  std::uint64_t n = 0, disagree = 0;
  std::array<std::uint64_t, 4> out{};
  std::array<std::uint32_t, kLatencyBins> latency{};
  void Add(const Agg& o) {
    n += o.n;
    disagree += o.disagree;
    for (std::size_t i = 0; i < 4; ++i) out[i] += o.out[i];
    for (std::size_t i = 0; i < latency.size(); ++i) latency[i] += o.latency[i];
  }
  double P95() const {
    if (n == 0) return Nan();
    const auto need = static_cast<std::uint64_t>(std::ceil(0.95 * static_cast<double>(n)));
    std::uint64_t c = 0;
    for (int i = 0; i < kLatencyBins; ++i) {
      c += latency[static_cast<std::size_t>(i)];
      if (c >= need) return kLatencyBase * std::pow(kLatencyRatio, i + 1);  // the bin's upper edge
    }
    return kLatencyBase * std::pow(kLatencyRatio, kLatencyBins);
  }
  double Value(Metric m) const {
    const double dn = static_cast<double>(n);
    switch (m) {
      case Metric::kDecisions: return dn;
      case Metric::kPassRate: return n ? static_cast<double>(out[0]) / dn : Nan();
      case Metric::kRetryRate: return n ? static_cast<double>(out[1]) / dn : Nan();
      case Metric::kFailRate: return n ? static_cast<double>(out[2]) / dn : Nan();
      case Metric::kReviewRate: return n ? static_cast<double>(out[3]) / dn : Nan();
      case Metric::kP95LatencyMs: return P95();
      case Metric::kDisagreementRate: return n ? static_cast<double>(disagree) / dn : Nan();
    }
    return Nan();
  }
};

// Evidence ids kept per window: the first few of each outcome, of disagreements, the slowest.
struct Samples {
  std::array<std::vector<std::string>, 4> out;
  std::vector<std::string> disagree;
  std::vector<std::pair<double, std::string>> slowest;
};

struct Window {
  std::int64_t start = 0;
  Agg agg;
  Samples samples;
};

struct SliceStats {
  std::string key;
  Window open;
  std::deque<Window> closed;  // most recent last
  std::vector<Agg> ring;
  std::vector<std::int64_t> ring_hour;
  std::vector<std::deque<std::pair<std::int64_t, std::string>>> hits;  // per rule (pattern rules)
};

struct RuleState {
  Alert alert;
  drift::Cusum cusum;
  int quiet = 0;  // cusum: windows since the last alarm
};

}  // namespace

struct AlertEngine::State {
  AlertsConfig cfg;
  Notify notify;
  std::vector<std::vector<bool>> pattern_codes;  // per rule: reason code value -> matches
  std::vector<std::unique_ptr<SliceStats>> slices;
  std::map<std::string, std::size_t, std::less<>> slice_index;
  std::vector<std::vector<RuleState>> rule_states;  // [rule][slice]
  std::deque<Alert> resolved;
  std::int64_t open_window = std::numeric_limits<std::int64_t>::min();
  std::int64_t first_hour = std::numeric_limits<std::int64_t>::min();  // of the first window seen
  std::size_t keep_windows = 1;
  std::uint64_t evaluations = 0;

  State(AlertsConfig c, Notify n) : cfg(std::move(c)), notify(std::move(n)) { Compile(); }

  void Compile() {
    pattern_codes.assign(cfg.rules.size(), {});
    keep_windows = 1;
    for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
      const AlertRule& rule = cfg.rules[r];
      keep_windows = std::max<std::size_t>(keep_windows, static_cast<std::size_t>(std::max<std::int64_t>(1, rule.over_ms / cfg.window_ms)));
      if (rule.type != RuleType::kPattern) continue;
      // Match the regex against every built-in code's wire name once, here, not per decision.
      std::regex re(rule.regex);
      auto& m = pattern_codes[r];
      m.assign(kBuiltinReasonCount, false);
      for (std::size_t c = 0; c < kBuiltinReasonCount; ++c) {
        m[c] = std::regex_match(std::string(BuiltinReasonName(static_cast<ReasonCode>(c))), re);
      }
    }
    keep_windows = std::min<std::size_t>(keep_windows, 1440);
    rule_states.assign(cfg.rules.size(), {});
    for (auto& sl : slices) sl->hits.assign(cfg.rules.size(), {});
    for (std::size_t i = 0; i < slices.size(); ++i) AddSliceStates();
  }
  void AddSliceStates() {
    for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
      const AlertRule& rule = cfg.rules[r];
      RuleState st;
      drift::CusumParams p;
      p.k = rule.k;
      p.h = rule.h;
      p.baseline = rule.baseline_windows;
      st.cusum = drift::Cusum(p);
      rule_states[r].push_back(std::move(st));
    }
  }
  std::size_t SliceFor(std::string_view key) {
    if (auto it = slice_index.find(key); it != slice_index.end()) return it->second;
    if (slices.size() >= 256 && key != "other") return SliceFor("other");  // bounded
    auto s = std::make_unique<SliceStats>();
    s->key = std::string(key);
    s->open.start = open_window == std::numeric_limits<std::int64_t>::min() ? 0 : open_window * cfg.window_ms;
    s->ring.assign(static_cast<std::size_t>(cfg.baseline_hours), Agg{});
    s->ring_hour.assign(static_cast<std::size_t>(cfg.baseline_hours), -1);
    s->hits.assign(cfg.rules.size(), {});
    slices.push_back(std::move(s));
    slice_index.emplace(std::string(key), slices.size() - 1);
    AddSliceStates();
    return slices.size() - 1;
  }

  void Record(SliceStats& sl, const Observation& o, bool disagrees) {
    Window& w = sl.open;
    const auto oi = static_cast<std::size_t>(o.outcome);
    ++w.agg.n;
    ++w.agg.out[oi];
    if (disagrees) ++w.agg.disagree;
    double pos = o.latency_ms > kLatencyBase ? std::log(o.latency_ms / kLatencyBase) / std::log(kLatencyRatio) : 0.0;
    ++w.agg.latency[static_cast<std::size_t>(std::clamp(static_cast<int>(pos), 0, kLatencyBins - 1))];
    const auto keep = static_cast<std::size_t>(cfg.evidence_samples);
    if (w.samples.out[oi].size() < keep) w.samples.out[oi].emplace_back(o.evidence_id);
    if (disagrees && w.samples.disagree.size() < keep) w.samples.disagree.emplace_back(o.evidence_id);
    auto& slow = w.samples.slowest;
    if (slow.size() < keep) {
      slow.emplace_back(o.latency_ms, std::string(o.evidence_id));
    } else if (keep > 0) {
      auto mn = std::min_element(slow.begin(), slow.end());
      if (o.latency_ms > mn->first) *mn = {o.latency_ms, std::string(o.evidence_id)};
    }
    if (o.reasons) {
      for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
        if (pattern_codes[r].empty()) continue;
        for (const auto& reason : *o.reasons) {
          const auto c = static_cast<std::size_t>(reason.code);
          if (c < pattern_codes[r].size() && pattern_codes[r][c]) {
            auto& h = sl.hits[r];
            h.emplace_back(o.time_ms, std::string(o.evidence_id));
            if (h.size() > kPatternKeep) h.pop_front();
            break;
          }
        }
      }
    }
  }

  void CloseWindow(std::int64_t next_window) {
    const std::int64_t closing_start = open_window * cfg.window_ms;
    const std::int64_t hour = FloorDiv(closing_start, kHourMs);
    for (auto& slp : slices) {
      SliceStats& sl = *slp;
      const auto slot = static_cast<std::size_t>(((hour % cfg.baseline_hours) + cfg.baseline_hours) % cfg.baseline_hours);
      if (sl.ring_hour[slot] != hour) sl.ring[slot] = Agg{}, sl.ring_hour[slot] = hour;
      sl.ring[slot].Add(sl.open.agg);
      sl.open.start = closing_start;
      sl.closed.push_back(std::move(sl.open));
      while (sl.closed.size() > keep_windows) sl.closed.pop_front();
      sl.open = Window{};
      sl.open.start = next_window * cfg.window_ms;
    }
    Evaluate(closing_start + cfg.window_ms);
  }

  void Roll(std::int64_t time_ms) {
    const std::int64_t w = FloorDiv(time_ms, cfg.window_ms);
    if (open_window == std::numeric_limits<std::int64_t>::min()) {
      open_window = w;
      first_hour = FloorDiv(w * cfg.window_ms, kHourMs);
      for (auto& sl : slices) sl->open.start = w * cfg.window_ms;
      return;
    }
    // Each window that ends is evaluated (empty ones too, up to an hour of them; a longer gap
    // in event time skips ahead).
    int empty = 0;
    while (open_window < w) {
      const std::int64_t next = (++empty > 60) ? w : open_window + 1;
      CloseWindow(next);
      open_window = next;
    }
  }

  Agg Lookback(const SliceStats& sl, std::int64_t over_ms, std::vector<const Window*>* windows) const {
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(1, over_ms / cfg.window_ms));
    Agg a;
    for (std::size_t i = 0; i < n && i < sl.closed.size(); ++i) {
      const Window& w = sl.closed[sl.closed.size() - 1 - i];
      a.Add(w.agg);
      if (windows) windows->push_back(&w);
    }
    return a;
  }
  Agg Baseline(const SliceStats& sl, std::int64_t now) const {
    const std::int64_t h = FloorDiv(now - 1, kHourMs);  // the hour being filled is not baseline
    Agg a;
    for (std::size_t s = 0; s < sl.ring.size(); ++s) {
      if (sl.ring_hour[s] >= h - cfg.baseline_hours && sl.ring_hour[s] < h) a.Add(sl.ring[s]);
    }
    return a;
  }
  // The trailing baseline's decisions per `windows` windows (NaN when it has no hour yet).
  double BaselinePerLookback(const SliceStats& sl, std::int64_t now, std::size_t windows) const {
    const std::int64_t h = FloorDiv(now - 1, kHourMs);
    std::uint64_t n = 0;
    int hours = 0;
    for (std::size_t s = 0; s < sl.ring.size(); ++s) {
      // The hour the engine started in is partial: not a baseline for volumes.
      if (sl.ring_hour[s] >= h - cfg.baseline_hours && sl.ring_hour[s] < h && sl.ring_hour[s] != first_hour) {
        n += sl.ring[s].n, ++hours;
      }
    }
    if (hours == 0) return Nan();
    const double per_window = static_cast<double>(n) / (static_cast<double>(hours) * static_cast<double>(kHourMs / cfg.window_ms));
    return per_window * static_cast<double>(std::max<std::size_t>(windows, 1));
  }
  // Whole hours of history in the trailing baseline (the start hour, partial, left out).
  int BaselineHours(const SliceStats& sl, std::int64_t now) const {
    const std::int64_t h = FloorDiv(now - 1, kHourMs);
    int hours = 0;
    for (std::size_t s = 0; s < sl.ring.size(); ++s) {
      if (sl.ring_hour[s] >= h - cfg.baseline_hours && sl.ring_hour[s] < h && sl.ring_hour[s] != first_hour) ++hours;
    }
    return hours;
  }
  // The significance test of baseline rules (rules.h, min_z).
  static bool Significant(const AlertRule& rule, const Agg& look, double baseline) {
    if (rule.min_z <= 0 || rule.metric == Metric::kP95LatencyMs) return true;
    if (rule.metric == Metric::kDecisions) {
      return baseline > 0 && (look.Value(Metric::kDecisions) - baseline) / std::sqrt(baseline) >= rule.min_z;
    }
    const double n = static_cast<double>(look.n), p0 = baseline;
    const double var = n * p0 * (1.0 - p0);
    if (var <= 0) return true;  // a baseline of 0 or 1: any increase is a change
    return (look.Value(rule.metric) * n - n * p0) / std::sqrt(var) >= rule.min_z;
  }
  std::vector<std::string> Evidence(Metric m, const std::vector<const Window*>& ws) const {
    std::vector<std::string> ids;
    const auto keep = static_cast<std::size_t>(cfg.evidence_samples);
    for (const Window* w : ws) {
      const std::vector<std::string>* src = nullptr;
      std::vector<std::string> tmp;
      switch (m) {
        case Metric::kPassRate: src = &w->samples.out[0]; break;
        case Metric::kRetryRate: src = &w->samples.out[1]; break;
        case Metric::kFailRate: src = &w->samples.out[2]; break;
        case Metric::kReviewRate: src = &w->samples.out[3]; break;
        case Metric::kDisagreementRate: src = &w->samples.disagree; break;
        case Metric::kP95LatencyMs:
        case Metric::kDecisions: {
          auto slow = w->samples.slowest;
          std::sort(slow.begin(), slow.end(), [](auto& a, auto& b) { return a.first > b.first; });
          for (auto& [ms, id] : slow) tmp.push_back(id);
          src = &tmp;
          break;
        }
      }
      for (const auto& id : *src) {
        if (ids.size() >= keep) return ids;
        ids.push_back(id);
      }
    }
    return ids;
  }

  void Evaluate(std::int64_t now);
  void Transition(const AlertRule& rule, RuleState& st, const SliceStats& sl, bool cond, std::int64_t now);
};

void AlertEngine::State::Evaluate(std::int64_t now) {
  ++evaluations;
  for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
    const AlertRule& rule = cfg.rules[r];
    for (std::size_t si = 0; si < slices.size(); ++si) {
      const SliceStats& sl = *slices[si];
      if (!rule.slices.empty() && std::find(rule.slices.begin(), rule.slices.end(), sl.key) == rule.slices.end()) continue;
      RuleState& st = rule_states[r][si];
      Alert& a = st.alert;
      std::vector<const Window*> ws;
      bool cond = false;
      a.value = a.baseline = a.threshold = Nan();
      a.metric = std::string(MetricName(rule.metric));
      const Agg look = Lookback(sl, rule.over_ms, &ws);
      const Agg base = Baseline(sl, now);
      const bool enough = look.n >= static_cast<std::uint64_t>(std::max(rule.min_decisions, 0)) && look.n > 0;
      if (base.n >= static_cast<std::uint64_t>(std::max(rule.min_decisions, 1))) a.baseline = base.Value(rule.metric);
      switch (rule.type) {
        case RuleType::kThreshold:
          a.threshold = rule.value;
          if (enough) {
            a.value = look.Value(rule.metric);
            cond = rule.below ? a.value < rule.value : a.value > rule.value;
          }
          break;
        case RuleType::kBaseline:
          if (rule.baseline_min_hours > 0 && BaselineHours(sl, now) < rule.baseline_min_hours) a.baseline = Nan();
          if (rule.metric == Metric::kDecisions && std::isfinite(a.baseline)) {
            // Decisions per lookback: the baseline's mean per window times the lookback's windows.
            a.baseline = BaselinePerLookback(sl, now, ws.size());
          }
          if (enough && std::isfinite(a.baseline)) {
            a.value = look.Value(rule.metric);
            a.threshold = a.baseline * (1.0 + rule.increase);
            cond = a.value > a.threshold && Significant(rule, look, a.baseline);
          }
          break;
        case RuleType::kRate: {
          a.metric = rule.count + "_per_second";
          const double seconds = static_cast<double>(std::max<std::size_t>(ws.size(), 1)) * static_cast<double>(cfg.window_ms) / 1000.0;
          std::uint64_t c = look.n;
          if (rule.count == "pass") c = look.out[0];
          if (rule.count == "retry") c = look.out[1];
          if (rule.count == "fail") c = look.out[2];
          if (rule.count == "review") c = look.out[3];
          a.threshold = rule.value;
          if (look.n >= static_cast<std::uint64_t>(std::max(rule.min_decisions, 0))) {
            a.value = static_cast<double>(c) / seconds;
            cond = a.value > rule.value;
          }
          break;
        }
        case RuleType::kPattern: {
          a.metric = "matches";
          const std::int64_t from = now - std::max(rule.over_ms, cfg.window_ms);
          const auto& h = sl.hits[r];
          std::vector<std::string> ids;
          int count = 0;
          for (auto it = h.rbegin(); it != h.rend() && it->first >= from; ++it) {
            if (it->first >= now) continue;
            ++count;
            if (ids.size() < static_cast<std::size_t>(cfg.evidence_samples)) ids.push_back(it->second);
          }
          a.value = count;
          a.threshold = rule.min_count;
          cond = count >= rule.min_count;
          if (cond) a.evidence_ids = std::move(ids);
          break;
        }
        case RuleType::kComposite: {
          a.metric = "rules_firing";
          int firing = 0, total = 0;
          for (const auto& child : rule.children) {
            for (std::size_t c = 0; c < r; ++c) {
              if (cfg.rules[c].name != child) continue;
              ++total;
              if (rule_states[c][si].alert.state == AlertState::kFiring) ++firing;
            }
          }
          a.value = firing;
          a.threshold = rule.all_of ? total : 1;
          cond = total > 0 && (rule.all_of ? firing == total : firing > 0);
          break;
        }
        case RuleType::kCusum: {
          a.threshold = rule.h;
          const Agg last = Lookback(sl, cfg.window_ms, nullptr);
          if (last.n >= static_cast<std::uint64_t>(std::max(rule.min_decisions, 1))) {
            a.value = last.Value(rule.metric);
            const drift::CusumSignal sig = st.cusum.Add(a.value);
            const bool alarm = sig != drift::CusumSignal::kNone &&
                               (rule.direction == AlertRule::Direction::kBoth ||
                                (rule.direction == AlertRule::Direction::kUp) == (sig == drift::CusumSignal::kUp));
            st.quiet = alarm ? 0 : st.quiet + 1;
            if (st.cusum.has_baseline()) a.baseline = st.cusum.mean();
            cond = (alarm || (a.state == AlertState::kFiring && st.quiet < rule.resolve_after));
          } else {
            cond = a.state == AlertState::kFiring && ++st.quiet < rule.resolve_after;
          }
          break;
        }
      }
      if (cond && rule.type != RuleType::kPattern) a.evidence_ids = Evidence(rule.metric, ws);
      Transition(rule, st, sl, cond, now);
    }
  }
}

void AlertEngine::State::Transition(const AlertRule& rule, RuleState& st, const SliceStats& sl, bool cond, std::int64_t now) {
  Alert& a = st.alert;
  a.rule = rule.name;
  a.type = std::string(RuleTypeName(rule.type));
  a.slice = sl.key;
  a.id = rule.name + "/" + sl.key;
  a.severity = rule.severity;
  a.action = rule.action.empty() ? std::string(DefaultFirstAction(rule.metric)) : rule.action;
  a.routes = rule.routes;
  a.updated_ms = now;
  if (cond) {
    if (a.state == AlertState::kInactive || a.state == AlertState::kResolved) {
      a.state = AlertState::kPending;
      a.pending_since_ms = now;
    }
    const bool cooled = a.fired_at_ms == 0 || now - a.fired_at_ms >= rule.cooldown_ms;
    if (a.state == AlertState::kPending && now - a.pending_since_ms >= rule.for_ms && cooled) {
      a.state = AlertState::kFiring;
      a.fired_at_ms = now;
      a.resolved_at_ms = 0;
      if (notify) notify({a});
    }
  } else if (a.state == AlertState::kFiring) {
    a.state = AlertState::kResolved;
    a.resolved_at_ms = now;
    resolved.push_front(a);
    if (resolved.size() > kResolvedKeep) resolved.pop_back();
    if (notify) notify({a});
  } else if (a.state == AlertState::kPending) {
    a.state = AlertState::kInactive;
  }
}

AlertEngine::AlertEngine(AlertsConfig cfg, Notify notify) : s_(std::make_unique<State>(std::move(cfg), std::move(notify))) {}
AlertEngine::~AlertEngine() = default;

void AlertEngine::Observe(const Observation& o) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = *s_;
  s.Roll(o.time_ms);
  const bool disagrees = o.disagreement >= s.cfg.disagreement_at;
  std::string flow = "flow_type=", platform = "platform=";
  flow.append(o.flow_type.empty() ? "unknown" : o.flow_type);
  platform.append(o.platform.empty() ? "unknown" : o.platform);
  const std::size_t ids[3] = {s.SliceFor("all"), s.SliceFor(flow), s.SliceFor(platform)};
  for (std::size_t id : ids) s.Record(*s.slices[id], o, disagrees);
}

void AlertEngine::Advance(std::int64_t time_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  s_->Roll(time_ms);
}

std::vector<Alert> AlertEngine::Alerts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> out;
  for (const auto& per_rule : s_->rule_states) {
    for (const auto& st : per_rule) {
      if (st.alert.state == AlertState::kPending || st.alert.state == AlertState::kFiring) out.push_back(st.alert);
    }
  }
  std::sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) { return a.updated_ms > b.updated_ms; });
  out.insert(out.end(), s_->resolved.begin(), s_->resolved.end());
  return out;
}

std::size_t AlertEngine::firing() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (const auto& per_rule : s_->rule_states) {
    for (const auto& st : per_rule) n += st.alert.state == AlertState::kFiring;
  }
  return n;
}

std::uint64_t AlertEngine::evaluations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_->evaluations;
}

void AlertEngine::Reconfigure(AlertsConfig cfg) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cfg.window_ms != s_->cfg.window_ms || cfg.baseline_hours != s_->cfg.baseline_hours) {
    s_ = std::make_unique<State>(std::move(cfg), std::move(s_->notify));
    return;
  }
  s_->cfg = std::move(cfg);
  s_->Compile();
}

}  // namespace vigil::alerts
