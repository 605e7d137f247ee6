#include "alerts/engine.h"

#include <algorithm>
#include <array>
#include <regex>

#include "alerts/engine_state.h"

namespace vigil::alerts {

using detail::FloorDiv;
using detail::kHourMs;

std::string_view AlertStateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive: return "inactive";
    case AlertState::kPending: return "pending";
    case AlertState::kFiring: return "firing";
    case AlertState::kResolved: return "resolved";
  }
  return "?";
}

void AlertEngine::State::Compile() {
  pattern_codes.assign(cfg.rules.size(), {});
  pattern_ordinal.assign(cfg.rules.size(), -1);
  signal_index.assign(cfg.rules.size(), -1);
  rule_dim.assign(cfg.rules.size(), SIZE_MAX);
  drift_signals.clear();
  if (dims.empty()) dims = {{}, {"flow_type"}, {"platform"}};
  keep_windows = 1;
  int patterns = 0;
  for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
    const AlertRule& rule = cfg.rules[r];
    keep_windows = std::max<std::size_t>(keep_windows, static_cast<std::size_t>(std::max<std::int64_t>(1, rule.over_ms / cfg.window_ms)));
    for (const std::int64_t ms : rule.also_over_ms) {
      keep_windows = std::max<std::size_t>(keep_windows, static_cast<std::size_t>(std::max<std::int64_t>(1, ms / cfg.window_ms)));
    }
    if (!rule.slice_by.empty()) {
      // New dimensions are appended (slices of the old ones keep their index on a reload).
      auto it = std::find(dims.begin(), dims.end(), rule.slice_by);
      if (it == dims.end()) it = dims.insert(dims.end(), rule.slice_by);
      rule_dim[r] = static_cast<std::size_t>(it - dims.begin());
      // fallback_baseline: parent compares a young slice with the slice of the same values
      // without the last field (browser_version -> its browser): that dimension must be counted.
      if (rule.fallback_baseline == "parent" && rule.slice_by.size() >= 2) {
        const std::vector<std::string> parent(rule.slice_by.begin(), rule.slice_by.end() - 1);
        if (std::find(dims.begin(), dims.end(), parent) == dims.end()) dims.push_back(parent);
      }
    }
    if (rule.type == RuleType::kDrift) {
      auto it = std::find(drift_signals.begin(), drift_signals.end(), rule.signal);
      if (it == drift_signals.end() && drift_signals.size() < static_cast<std::size_t>(kMaxDriftSignals)) {
        it = drift_signals.insert(drift_signals.end(), rule.signal);
      }
      if (it != drift_signals.end()) signal_index[r] = static_cast<int>(it - drift_signals.begin());
    }
    if (rule.type != RuleType::kPattern || patterns >= kMaxPatternRules) continue;
    pattern_ordinal[r] = patterns++;
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

void AlertEngine::State::AddSliceStates() {
  for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
    const AlertRule& rule = cfg.rules[r];
    RuleState st;
    drift::CusumParams p;
    p.k = rule.k;
    p.h = rule.h;
    p.baseline = rule.baseline_windows;
    st.cusum = drift::Cusum(p);
    if (rule.min_expected > 0) st.cusum.SetBaseline(0.0, 1.0);  // fed z against the trailing baseline
    rule_states[r].push_back(std::move(st));
  }
}

std::size_t AlertEngine::State::SliceFor(std::string_view key, std::size_t dim) {
  if (auto it = slice_index.find(key); it != slice_index.end()) return it->second;
  if (slices.size() >= detail::kMaxSlices) return SIZE_MAX;
  auto s = std::make_unique<SliceStats>();
  s->key = std::string(key);
  s->dim = dim;
  s->open.start = open_window == std::numeric_limits<std::int64_t>::min() ? 0 : open_window * cfg.window_ms;
  s->ring.assign(static_cast<std::size_t>(cfg.baseline_hours), Agg{});
  s->ring_hour.assign(static_cast<std::size_t>(cfg.baseline_hours), -1);
  s->disp.assign(static_cast<std::size_t>(cfg.baseline_hours), detail::Disp{});
  s->base_phi.fill(detail::Nan());
  s->hits.assign(cfg.rules.size(), {});
  slices.push_back(std::move(s));
  slice_index.emplace(std::string(key), slices.size() - 1);
  AddSliceStates();
  return slices.size() - 1;
}

std::string_view AlertEngine::State::FieldValue(const Observation& o, const std::string& field) {
  std::string_view v;
  if (field == "flow_type") v = o.flow_type;
  else if (field == "kind") v = FlowKindName(o.kind);
  else if (field == "platform" && !o.platform.empty()) v = o.platform;
  else if (o.context) v = o.context->GetString(field);
  if (v.empty()) v = "unknown";
  // Bounded: the first max_slice_values values of a field are kept, the rest are "other".
  auto& seen = field_values[field];
  if (seen.count(v)) return v;
  if (seen.size() >= static_cast<std::size_t>(cfg.max_slice_values)) return "other";
  return *seen.emplace(std::string(v)).first;
}

void AlertEngine::State::Observe(const Observation& o) {
  Roll(o.time_ms);
  detail::Prepared p;
  p.disagrees = o.disagreement >= cfg.disagreement_at;
  const double pos = o.latency_ms > detail::kLatencyBase
                         ? std::log(o.latency_ms / detail::kLatencyBase) / std::log(detail::kLatencyRatio) : 0.0;
  p.latency_bin = std::clamp(static_cast<int>(pos), 0, detail::kLatencyBins - 1);
  p.score_bin.fill(-1);
  if (o.signals) {
    for (std::size_t i = 0; i < drift_signals.size(); ++i) {
      for (const auto& s : *o.signals) {
        if (s.present && s.name == drift_signals[i]) p.score_bin[i] = ScoreBin(s.calibrated);
      }
    }
  }
  if (o.reasons) {
    for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
      if (pattern_ordinal[r] < 0) continue;
      for (const auto& reason : *o.reasons) {
        const auto c = static_cast<std::size_t>(reason.code);
        if (c < pattern_codes[r].size() && pattern_codes[r][c]) {
          p.patterns |= 1u << pattern_ordinal[r];
          break;
        }
      }
    }
  }
  // Each field's value once per decision (dimensions share fields: kind, platform, browser).
  std::array<std::pair<const std::string*, std::string_view>, 16> seen_fields;
  std::size_t n_seen = 0;
  auto value_of = [&](const std::string& field) {
    for (std::size_t i = 0; i < n_seen; ++i) {
      if (*seen_fields[i].first == field) return seen_fields[i].second;
    }
    const std::string_view v = FieldValue(o, field);
    if (n_seen < seen_fields.size()) seen_fields[n_seen++] = {&field, v};
    return v;
  };
  std::string& key = scratch_key;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    key.clear();
    for (const auto& field : dims[d]) {
      if (!key.empty()) key += ',';
      key.append(field).append("=").append(value_of(field));
    }
    if (key.empty()) key = "all";
    const std::size_t id = SliceFor(key, d);
    if (id != SIZE_MAX) Record(*slices[id], o, p);
  }
}

void AlertEngine::State::Record(SliceStats& sl, const Observation& o, const detail::Prepared& p) {
  Window& w = sl.open;
  const auto oi = static_cast<std::size_t>(o.outcome);
  ++w.agg.n;
  ++w.agg.out[oi];
  if (p.disagrees) ++w.agg.disagree;
  ++w.agg.latency[static_cast<std::size_t>(p.latency_bin)];
  for (std::size_t i = 0; i < p.score_bin.size(); ++i) {
    if (p.score_bin[i] >= 0) ++w.agg.score[i][static_cast<std::size_t>(p.score_bin[i])];
  }
  const auto keep = static_cast<std::size_t>(cfg.evidence_samples);
  if (w.samples.out[oi].size() < keep) w.samples.out[oi].emplace_back(o.evidence_id);
  if (p.disagrees && w.samples.disagree.size() < keep) w.samples.disagree.emplace_back(o.evidence_id);
  auto& slow = w.samples.slowest;
  if (slow.size() < keep) {
    slow.emplace_back(o.latency_ms, std::string(o.evidence_id));
  } else if (keep > 0) {
    auto mn = std::min_element(slow.begin(), slow.end());
    if (o.latency_ms > mn->first) *mn = {o.latency_ms, std::string(o.evidence_id)};
  }
  if (p.patterns == 0) return;
  for (std::size_t r = 0; r < cfg.rules.size(); ++r) {
    const int ord = pattern_ordinal[r];
    if (ord < 0 || !(p.patterns & (1u << ord))) continue;
    ++w.agg.pattern[static_cast<std::size_t>(ord)];
    auto& h = sl.hits[r];
    h.emplace_back(o.time_ms, std::string(o.evidence_id));
    if (h.size() > detail::kPatternKeep) h.pop_front();
  }
}

void AlertEngine::State::CloseWindow(std::int64_t next_window) {
  const std::int64_t closing_start = open_window * cfg.window_ms;
  const std::int64_t hour = FloorDiv(closing_start, kHourMs);
  // Dispersion blocks (engine_state.h): a whole number of windows, ending with this one or not.
  const std::int64_t block_ms = std::max(cfg.window_ms, detail::kDispersionBlockMs / cfg.window_ms * cfg.window_ms);
  const bool block_ends = (closing_start + cfg.window_ms) % block_ms == 0;
  for (auto& slp : slices) {
    SliceStats& sl = *slp;
    const auto slot = static_cast<std::size_t>(((hour % cfg.baseline_hours) + cfg.baseline_hours) % cfg.baseline_hours);
    if (sl.ring_hour[slot] != hour) sl.ring[slot] = Agg{}, sl.disp[slot] = detail::Disp{}, sl.ring_hour[slot] = hour;
    if (sl.open.agg.n > 0) sl.ring[slot].Add(sl.open.agg), sl.block.Add(sl.open.agg, detail::kCounts);
    if (block_ends) {
      if (sl.block.n > 0) {
        detail::Disp& d = sl.disp[slot];
        ++d.blocks;
        const auto n = static_cast<double>(sl.block.n);
        for (std::size_t i = 0; i < d.sq.size(); ++i) {
          const auto x = static_cast<double>(sl.block.DispCount(i));
          d.sq[i] += x * x / n;
        }
      }
      sl.block = Agg{};
    }
    sl.open.start = closing_start;
    sl.closed.push_back(std::move(sl.open));
    while (sl.closed.size() > keep_windows) sl.closed.pop_front();
    sl.open = Window{};
    sl.open.start = next_window * cfg.window_ms;
  }
  Evaluate(closing_start + cfg.window_ms);
}

void AlertEngine::State::Roll(std::int64_t time_ms) {
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

AlertEngine::AlertEngine(AlertsConfig cfg, Notify notify) : s_(std::make_unique<State>(std::move(cfg), std::move(notify))) {}
AlertEngine::~AlertEngine() = default;

void AlertEngine::Observe(const Observation& o) {
  std::lock_guard<std::mutex> lock(mu_);
  s_->Observe(o);
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
  // Histogram and pattern slots are by position: when the drift signals or pattern rules change,
  // the counts of the old ones would be read as the new ones', so the slices start afresh.
  std::vector<std::string> old_signals = s_->drift_signals;
  std::vector<std::string> old_patterns, new_patterns, new_signals;
  for (const auto& r : s_->cfg.rules) {
    if (r.type == RuleType::kPattern) old_patterns.push_back(r.regex);
  }
  for (const auto& r : cfg.rules) {
    if (r.type == RuleType::kPattern) new_patterns.push_back(r.regex);
    if (r.type == RuleType::kDrift && std::find(new_signals.begin(), new_signals.end(), r.signal) == new_signals.end()) {
      new_signals.push_back(r.signal);
    }
  }
  if (old_patterns != new_patterns || old_signals != new_signals) {
    s_ = std::make_unique<State>(std::move(cfg), std::move(s_->notify));
    return;
  }
  s_->cfg = std::move(cfg);
  s_->Compile();
}

}  // namespace vigil::alerts
