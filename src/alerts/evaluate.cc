// The alert engine's rule evaluation (engine.h, rules.h): at the end of each window, every rule
// on every slice it applies to.
#include <algorithm>

#include "alerts/engine_state.h"
#include "drift/stats.h"

namespace vigil::alerts {

using detail::FloorDiv;
using detail::kHourMs;
using detail::Nan;

namespace detail {

void Agg::Add(const Agg& o, unsigned parts) {
  n += o.n;
  disagree += o.disagree;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] += o.out[i];
  for (std::size_t i = 0; i < pattern.size(); ++i) pattern[i] += o.pattern[i];
  if (parts & kLatency) {
    for (std::size_t i = 0; i < latency.size(); ++i) latency[i] += o.latency[i];
  }
  if (parts & kScores) {
    for (std::size_t s = 0; s < score.size(); ++s) {
      for (std::size_t i = 0; i < score[s].size(); ++i) score[s][i] += o.score[s][i];
    }
  }
}

double Agg::P95() const {
  if (n == 0) return Nan();
  const auto need = static_cast<std::uint64_t>(std::ceil(0.95 * static_cast<double>(n)));
  std::uint64_t c = 0;
  for (int i = 0; i < kLatencyBins; ++i) {
    c += latency[static_cast<std::size_t>(i)];
    if (c >= need) return kLatencyBase * std::pow(kLatencyRatio, i + 1);  // the bin's upper edge
  }
  return kLatencyBase * std::pow(kLatencyRatio, kLatencyBins);
}

std::uint64_t Agg::DispCount(std::size_t i) const {
  if (i < out.size()) return out[i];
  if (i == kDisagreeIndex) return disagree;
  return pattern[i - kPatternIndex];
}

std::uint64_t Agg::Count(Metric m) const {
  switch (m) {
    case Metric::kPassRate: return out[0];
    case Metric::kRetryRate: return out[1];
    case Metric::kFailRate: return out[2];
    case Metric::kReviewRate: return out[3];
    case Metric::kDisagreementRate: return disagree;
    case Metric::kDecisions:
    case Metric::kP95LatencyMs: return n;
  }
  return n;
}

double Agg::Value(Metric m) const {
  if (m == Metric::kDecisions) return static_cast<double>(n);
  if (m == Metric::kP95LatencyMs) return P95();
  return n ? static_cast<double>(Count(m)) / static_cast<double>(n) : Nan();
}

}  // namespace detail

namespace {

unsigned PartsFor(const AlertRule& rule) {
  if (rule.type == RuleType::kDrift) return detail::kScores;
  return rule.metric == Metric::kP95LatencyMs ? detail::kLatency : detail::kCounts;
}

// The dispersion count index of a rate metric (engine_state.h).
std::size_t DispIndex(Metric m) {
  switch (m) {
    case Metric::kPassRate: return 0;
    case Metric::kRetryRate: return 1;
    case Metric::kFailRate: return 2;
    case Metric::kReviewRate: return 3;
    default: return detail::kDisagreeIndex;
  }
}

// The significance test of baseline rules with min_z (rules.h); phi: the dispersion.
bool SignificantZ(const AlertRule& rule, const detail::Agg& look, double baseline, double phi) {
  if (rule.min_z <= 0 || rule.metric == Metric::kP95LatencyMs) return true;
  if (rule.metric == Metric::kDecisions) {
    return baseline > 0 && (look.Value(Metric::kDecisions) - baseline) / std::sqrt(baseline) >= rule.min_z;
  }
  const double n = static_cast<double>(look.n), p0 = baseline;
  const double var = phi * n * p0 * (1.0 - p0);
  if (var <= 0) return true;  // a baseline of 0 or 1: any increase is a change
  return (look.Value(rule.metric) * n - n * p0) / std::sqrt(var) >= rule.min_z;
}

// A baseline's rate of `count` of `n` decisions, smoothed so that none of a few is not 0.
double Smoothed(std::uint64_t count, std::uint64_t n) {
  return (static_cast<double>(count) + 0.5) / (static_cast<double>(n) + 1.0);
}

}  // namespace

AlertEngine::State::Agg AlertEngine::State::Lookback(const SliceStats& sl, std::int64_t over_ms, unsigned parts,
                                                      std::vector<const Window*>* windows) const {
  const auto n = static_cast<std::size_t>(std::max<std::int64_t>(1, over_ms / cfg.window_ms));
  Agg a;
  for (std::size_t i = 0; i < n && i < sl.closed.size(); ++i) {
    const Window& w = sl.closed[sl.closed.size() - 1 - i];
    a.Add(w.agg, parts);
    if (windows) windows->push_back(&w);
  }
  return a;
}

double AlertEngine::State::Dispersion(const AlertRule& rule, const SliceStats& base_of, std::size_t count_index) const {
  if (!rule.dispersion_estimated) return 1.0;
  const double phi = base_of.base_phi[count_index];
  return std::isfinite(phi) ? std::max(1.0, phi) : 1.0;
}

void AlertEngine::State::RefreshBaseline(SliceStats& sl, std::int64_t now) const {
  const std::int64_t h = FloorDiv(now - 1, kHourMs);  // the hour being filled is not baseline
  if (sl.base_hour == h) return;
  sl.base_hour = h;
  sl.base = Agg{};
  sl.base_hours = 0;
  sl.base_volume = 0;
  detail::Disp disp;
  for (std::size_t s = 0; s < sl.ring.size(); ++s) {
    if (sl.ring_hour[s] < h - cfg.baseline_hours || sl.ring_hour[s] >= h) continue;
    sl.base.Add(sl.ring[s]);
    disp.blocks += sl.disp[s].blocks;
    for (std::size_t i = 0; i < disp.sq.size(); ++i) disp.sq[i] += sl.disp[s].sq[i];
    // The hour the engine started in is partial: not a baseline for volumes.
    if (sl.ring_hour[s] != first_hour) ++sl.base_hours, sl.base_volume += sl.ring[s].n;
  }
  for (std::size_t i = 0; i < sl.base_phi.size(); ++i) {
    sl.base_phi[i] = disp.blocks < detail::kMinDispersionBlocks
                         ? Nan()
                         : DispersionToUse(PearsonDispersion(disp.sq[i], static_cast<double>(sl.base.DispCount(i)),
                                                             static_cast<double>(sl.base.n), disp.blocks),
                                           disp.blocks);
  }
}

double AlertEngine::State::BaselinePerLookback(const SliceStats& sl, std::size_t windows) const {
  if (sl.base_hours == 0) return Nan();
  const double per_window = static_cast<double>(sl.base_volume) /
                            (static_cast<double>(sl.base_hours) * static_cast<double>(kHourMs / cfg.window_ms));
  return per_window * static_cast<double>(std::max<std::size_t>(windows, 1));
}

bool AlertEngine::State::Applies(std::size_t r, const SliceStats& sl) const {
  const AlertRule& rule = cfg.rules[r];
  if (rule_dim[r] == SIZE_MAX ? sl.dim > 2 : sl.dim != rule_dim[r]) return false;
  if (rule.slices.empty()) return true;
  if (rule_dim[r] == SIZE_MAX) return std::find(rule.slices.begin(), rule.slices.end(), sl.key) != rule.slices.end();
  // slice_by: an entry keeps the keys holding each of its "field=value" parts.
  const std::string key = "," + sl.key + ",";
  for (const auto& entry : rule.slices) {
    bool all = true;
    for (std::size_t from = 0; from <= entry.size() && all;) {
      std::size_t to = entry.find(',', from);
      if (to == std::string::npos) to = entry.size();
      all = key.find("," + entry.substr(from, to - from) + ",") != std::string::npos;
      from = to + 1;
    }
    if (all) return true;
  }
  return false;
}

std::vector<std::string> AlertEngine::State::Evidence(Metric m, const std::vector<const Window*>& ws) const {
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

const detail::SliceStats* AlertEngine::State::Fallback(const AlertRule& rule, const detail::SliceStats& sl,
                                                       const detail::SliceStats* all, std::int64_t now) {
  if (rule.fallback_baseline == "parent") {
    // The same key without its last field ("...,browser_family=chrome,browser_version=132" ->
    // "...,browser_family=chrome"); the engine counts that dimension (Compile).
    const std::size_t cut = sl.key.rfind(',');
    if (cut == std::string::npos) return all ? all : &sl;
    auto it = slice_index.find(sl.key.substr(0, cut));
    if (it == slice_index.end()) return &sl;  // not seen yet (bounded slices): no fallback
    detail::SliceStats& parent = *slices[it->second];
    RefreshBaseline(parent, now);
    return &parent;
  }
  return all ? all : &sl;
}

void AlertEngine::State::Evaluate(std::int64_t now) {
  ++evaluations;
  SliceStats* all = nullptr;
  if (auto it = slice_index.find("all"); it != slice_index.end()) all = slices[it->second].get();
  if (all) RefreshBaseline(*all, now);
  for (std::size_t si = 0; si < slices.size(); ++si) {
    SliceStats& sl = *slices[si];
    bool refreshed = false;
    for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
      const AlertRule& rule = cfg.rules[r];
      RuleState& st = rule_states[r][si];
      if (st.applies < 0) st.applies = Applies(r, sl) ? 1 : 0;
      if (!st.applies) continue;
      if (!refreshed) RefreshBaseline(sl, now), refreshed = true;
      Alert& a = st.alert;
      std::vector<const Window*>& ws = scratch_windows;
      ws.clear();
      bool cond = false;
      a.value = a.baseline = a.threshold = a.p_value = a.dispersion = Nan();
      a.metric.assign(MetricName(rule.metric));
      const Agg look = Lookback(sl, rule.over_ms, PartsFor(rule), &ws);
      const auto min_n = static_cast<std::uint64_t>(std::max(rule.min_decisions, 1));
      const bool enough = look.n >= static_cast<std::uint64_t>(std::max(rule.min_decisions, 0)) && look.n > 0;
      // The baseline compared with: the slice's own trailing one, or the fallback's while it is young.
      const SliceStats* base_of = &sl;
      const int need_hours = std::max(rule.baseline_min_hours, rule.fallback_baseline.empty() ? 0 : 1);
      const bool young = sl.base_hours < need_hours || sl.base.n < min_n;
      if (young && !rule.fallback_baseline.empty()) base_of = Fallback(rule, sl, all, now);
      const Agg& base = base_of->base;
      if (base.n >= min_n) a.baseline = base.Value(rule.metric);
      switch (rule.type) {
        case RuleType::kThreshold:
          a.threshold = rule.value;
          if (enough) {
            a.value = look.Value(rule.metric);
            cond = rule.below ? a.value < rule.value : a.value > rule.value;
          }
          break;
        case RuleType::kBaseline:
          if (base_of == &sl && rule.baseline_min_hours > 0 && sl.base_hours < rule.baseline_min_hours) a.baseline = Nan();
          if (rule.metric == Metric::kDecisions && std::isfinite(a.baseline)) {
            // Decisions per lookback: the baseline's mean per window times the lookback's windows.
            a.baseline = BaselinePerLookback(sl, ws.size());
          }
          if (std::isfinite(a.baseline)) {
            a.threshold = a.baseline * (1.0 + rule.increase);
            const bool counted = rule.metric != Metric::kDecisions && rule.metric != Metric::kP95LatencyMs;
            const double phi = counted ? Dispersion(rule, *base_of, DispIndex(rule.metric)) : 1.0;
            if (counted && (rule.max_p > 0 || rule.min_z > 0)) a.dispersion = phi;
            // The lookback, then each of also_over (a scan over lengths, rules.h) until one holds.
            for (std::size_t l = 0; l <= rule.also_over_ms.size() && !cond; ++l) {
              const Agg other = l == 0 ? Agg{} : Lookback(sl, rule.also_over_ms[l - 1], detail::kCounts, nullptr);
              const Agg& lk = l == 0 ? look : other;
              if (lk.n < min_n || lk.n == 0 || (l == 0 && !enough)) continue;
              const double v = lk.Value(rule.metric);
              if (l == 0 || !std::isfinite(a.value)) a.value = v;
              bool c = v > a.threshold && SignificantZ(rule, lk, a.baseline, phi);
              if (c && rule.max_p > 0) {
                const double pv = rule.metric == Metric::kDecisions
                                      ? PoissonSf(lk.n, a.baseline)
                                      : QuasiBinomialSf(lk.Count(rule.metric), lk.n, Smoothed(base.Count(rule.metric), base.n), phi);
                c = pv <= rule.max_p;
                if (c || l == 0) a.p_value = pv;
              }
              if (c) a.value = v, cond = true;
            }
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
          a.metric.assign("matches");
          a.baseline = Nan();
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
          if (rule.max_p > 0) {
            // Against the baseline's share of matching decisions (rules.h).
            const auto ord = static_cast<std::size_t>(pattern_ordinal[r]);
            const double p0 = Smoothed(base.pattern[ord], base.n);
            a.baseline = p0 * static_cast<double>(look.n);  // matches expected in the lookback
            // No baseline yet (a fresh start): min_count alone decides, as without max_p.
            const bool based = base.n >= min_n && (base_of != &sl || sl.base_hours >= rule.baseline_min_hours);
            if (!based) a.baseline = Nan();
            const double phi = Dispersion(rule, *base_of, detail::kPatternIndex + ord);
            if (based) a.dispersion = phi;
            if (cond && based) {
              a.p_value = QuasiBinomialSf(static_cast<std::uint64_t>(count), std::max<std::uint64_t>(look.n, count), p0, phi);
              cond = a.p_value <= rule.max_p;
            }
          }
          if (cond) a.evidence_ids = std::move(ids);
          break;
        }
        case RuleType::kComposite: {
          a.metric.assign("rules_firing");
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
          const Agg last = Lookback(sl, cfg.window_ms, detail::kCounts, nullptr);
          if (rule.min_expected > 0) {
            // Pools of windows against the trailing baseline's rate (rules.h, min_expected).
            const bool held = a.state == AlertState::kFiring && st.quiet < rule.resolve_after;
            if (base.n < min_n || sl.base_hours < std::max(rule.baseline_min_hours, 1)) {
              cond = held && ++st.quiet < rule.resolve_after;
              break;
            }
            st.batch.Add(last, detail::kCounts);
            const double p0 = Smoothed(base.Count(rule.metric), base.n), n = static_cast<double>(st.batch.n);
            a.baseline = p0;
            if (n * p0 < rule.min_expected) {
              cond = held;
              break;
            }
            // The pool against the trailing baseline (rules.h, min_expected): its variance is the
            // binomial one times the dispersion, plus the baseline rate's own sampling variance.
            a.value = st.batch.Value(rule.metric);
            a.dispersion = Dispersion(rule, *base_of, DispIndex(rule.metric));
            const double var = a.dispersion * n * p0 * (1.0 - p0) * (1.0 + n / static_cast<double>(base.n));
            const double z = (static_cast<double>(st.batch.Count(rule.metric)) - n * p0) / std::sqrt(var);
            st.batch = Agg{};
            const drift::CusumSignal sig = st.cusum.Add(z);
            const bool alarm = sig != drift::CusumSignal::kNone &&
                               (rule.direction == AlertRule::Direction::kBoth ||
                                (rule.direction == AlertRule::Direction::kUp) == (sig == drift::CusumSignal::kUp));
            st.quiet = alarm ? 0 : st.quiet + 1;
            cond = alarm || (a.state == AlertState::kFiring && st.quiet < rule.resolve_after);
            break;
          }
          if (last.n >= min_n) {
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
        case RuleType::kDrift: {
          a.metric = rule.signal + "_ks_statistic";
          a.baseline = Nan();
          a.threshold = rule.min_statistic;
          const int s = signal_index[r];
          if (s < 0) break;
          const auto& cur = look.score[static_cast<std::size_t>(s)];
          const auto& ref = base.score[static_cast<std::size_t>(s)];
          std::array<double, kScoreBins> c{}, b{};
          double nc = 0, nb = 0;
          for (std::size_t i = 0; i < c.size(); ++i) c[i] = cur[i], b[i] = ref[i], nc += cur[i], nb += ref[i];
          // A young slice with a fallback: the fallback's baseline must be old enough instead.
          const int hours = base_of == &sl ? sl.base_hours : base_of->base_hours;
          const bool old_enough = rule.baseline_min_hours == 0 || hours >= rule.baseline_min_hours;
          if (nc < static_cast<double>(min_n) || nb < static_cast<double>(min_n) || !old_enough) break;
          const drift::KsResult ks = drift::KsFromCounts(b, c);
          a.value = ks.statistic;
          a.p_value = ks.p_value;
          cond = ks.p_value <= rule.max_p && ks.statistic >= rule.min_statistic;
          break;
        }
      }
      if (cond && rule.type != RuleType::kPattern) {
        a.evidence_ids = Evidence(rule.type == RuleType::kDrift ? Metric::kDecisions : rule.metric, ws);
      }
      Transition(rule, st, sl, cond, now);
    }
  }
}

void AlertEngine::State::Transition(const AlertRule& rule, RuleState& st, const SliceStats& sl, bool cond, std::int64_t now) {
  Alert& a = st.alert;
  if (a.id.empty()) {  // set once per rule and slice (rule states are rebuilt on a reload)
    a.rule = rule.name;
    a.type = std::string(RuleTypeName(rule.type));
    a.slice = sl.key;
    a.id = rule.name + "/" + sl.key;
    a.severity = rule.severity;
    a.action = rule.action.empty() ? std::string(DefaultFirstAction(rule.metric)) : rule.action;
    a.routes = rule.routes;
  }
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
    if (resolved.size() > detail::kResolvedKeep) resolved.pop_back();
    if (notify) notify({a});
  } else if (a.state == AlertState::kPending) {
    a.state = AlertState::kInactive;
  }
}

}  // namespace vigil::alerts

