// DriftMonitor: windowed histograms per slice and feature, and the reports built from them.
#include "drift/monitor.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/json_writer.h"

namespace vigil::drift {

namespace {
constexpr std::int64_t kHourMs = 3600000;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

// Counts over `width` cells: the open window, the last closed one, an hourly ring and the frozen
// reference.
struct Windowed {
  Windowed(int width, int hours)
      : open(static_cast<std::size_t>(width), 0), last(open.size(), 0),
        ring(static_cast<std::size_t>(width) * static_cast<std::size_t>(hours), 0),
        ring_hour(static_cast<std::size_t>(hours), -1) {}
  std::vector<std::uint32_t> open, last;
  std::vector<std::uint64_t> ring;
  std::vector<std::int64_t> ring_hour;
  std::vector<double> frozen;  // empty: not frozen

  std::size_t width() const { return open.size(); }
  void Close(std::int64_t hour) {
    const std::size_t slots = ring_hour.size(), w = width();
    const std::size_t slot = static_cast<std::size_t>(((hour % static_cast<std::int64_t>(slots)) + static_cast<std::int64_t>(slots)) %
                                                      static_cast<std::int64_t>(slots));
    if (ring_hour[slot] != hour) {
      std::fill(ring.begin() + static_cast<std::ptrdiff_t>(slot * w), ring.begin() + static_cast<std::ptrdiff_t>((slot + 1) * w), 0);
      ring_hour[slot] = hour;
    }
    for (std::size_t i = 0; i < w; ++i) ring[slot * w + i] += open[i];
    last = open;
    std::fill(open.begin(), open.end(), 0);
  }
  // Sum of the ring's hours in [from, to).
  std::vector<double> Sum(std::int64_t from, std::int64_t to) const {
    const std::size_t w = width();
    std::vector<double> out(w, 0.0);
    for (std::size_t s = 0; s < ring_hour.size(); ++s) {
      if (ring_hour[s] < from || ring_hour[s] >= to) continue;
      for (std::size_t i = 0; i < w; ++i) out[i] += static_cast<double>(ring[s * w + i]);
    }
    return out;
  }
};

struct Feature {
  bool quality = false;  // else a score (calibrated signal or "fusion")
  std::string name;
  double lo = 0.0, hi = 1.0;
};

struct Slice {
  std::string key;
  std::vector<std::unique_ptr<Windowed>> series;                       // by feature index
  std::vector<std::map<std::string, std::unique_ptr<Windowed>, std::less<>>> mix;  // by mix field
  // The decision path's lookup: per mix field, the window of each value index (State::mix_values);
  // filled from `mix` on a miss.
  std::vector<std::vector<Windowed*>> mix_fast;
};

constexpr std::size_t kFastCacheMax = 64;

// value -> a small index, one per mix field, shared by every slice (one scan per field and
// decision instead of one per slice); -1 once full (then the map lookup is used).
struct ValueIndex {
  std::vector<std::string> values;
  int Of(std::string_view v) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i] == v) return static_cast<int>(i);
    }
    if (values.size() >= kFastCacheMax) return -1;
    values.emplace_back(v);
    return static_cast<int>(values.size() - 1);
  }
};

// value -> slice index for one slice field, without building the "field=value" key.
struct SliceCache {
  std::vector<std::pair<std::string, int>> entries;
  int Find(std::string_view v) const {
    for (const auto& [k, id] : entries) {
      if (k == v) return id;
    }
    return -1;
  }
};

struct DriftMonitor::State {
  MonitorConfig cfg;
  std::vector<Feature> features;
  std::vector<Slice> slices;
  std::map<std::string, int, std::less<>> slice_index;
  std::map<std::string, int, std::less<>> field_values;  // "flow_type", "platform": values seen
  SliceCache flow_cache, platform_cache;
  std::vector<ValueIndex> mix_values;  // by mix field
  std::vector<int> signal_hint;  // feature index of the signal at each position last time
  std::int64_t open_window = std::numeric_limits<std::int64_t>::min();  // window index
  std::int64_t last_window = std::numeric_limits<std::int64_t>::min();
  std::uint64_t open_count = 0;
  bool frozen = false;
  std::string frozen_label;
  std::int64_t frozen_at = 0;

  explicit State(MonitorConfig c) : cfg(std::move(c)) {
    mix_values.resize(cfg.mix_fields.size());
    for (const auto& q : cfg.quality) features.push_back({true, q.name, q.lo, q.hi});
    SliceFor("all");
  }

  int SliceFor(std::string_view key) {
    if (auto it = slice_index.find(key); it != slice_index.end()) return it->second;
    Slice s;
    s.key = std::string(key);
    s.mix.resize(cfg.mix_fields.size());
    s.mix_fast.resize(cfg.mix_fields.size());
    slices.push_back(std::move(s));
    int idx = static_cast<int>(slices.size() - 1);
    slice_index.emplace(std::string(key), idx);
    return idx;
  }
  // "field=value", folding values beyond the bound into "other".
  int SliceOf(std::string_view field, std::string_view value) {
    if (value.empty()) value = "unknown";
    std::string key = std::string(field) + "=" + std::string(value);
    if (auto it = slice_index.find(key); it != slice_index.end()) return it->second;
    int& n = field_values[std::string(field)];
    if (n >= cfg.max_slice_values) return SliceFor(std::string(field) + "=other");
    ++n;
    return SliceFor(key);
  }
  int CachedSlice(SliceCache& c, std::string_view field, std::string_view value) {
    if (int id = c.Find(value); id >= 0) return id;
    const int id = SliceOf(field, value);
    if (c.entries.size() < kFastCacheMax) c.entries.emplace_back(std::string(value), id);
    return id;
  }
  int SignalFeature(std::size_t pos, std::string_view name) {
    if (pos < signal_hint.size()) {
      const int f = signal_hint[pos];
      if (f >= 0 && !features[static_cast<std::size_t>(f)].quality && features[static_cast<std::size_t>(f)].name == name) return f;
    } else {
      signal_hint.resize(pos + 1, -1);
    }
    return signal_hint[pos] = FeatureOf(false, name);
  }
  Windowed& CachedCategory(Slice& s, std::size_t field, int value_index, std::string_view value) {
    if (value_index < 0) return Category(s, field, value);
    auto& fast = s.mix_fast[field];
    const auto vi = static_cast<std::size_t>(value_index);
    if (fast.size() <= vi) fast.resize(vi + 1, nullptr);
    if (!fast[vi]) fast[vi] = &Category(s, field, value);
    return *fast[vi];
  }
  int FeatureOf(bool quality, std::string_view name) {
    for (std::size_t i = 0; i < features.size(); ++i) {
      if (features[i].quality == quality && features[i].name == name) return static_cast<int>(i);
    }
    if (static_cast<int>(features.size()) >= cfg.max_features) return -1;
    features.push_back({quality, std::string(name), 0.0, 1.0});
    return static_cast<int>(features.size() - 1);
  }
  Windowed& Series(Slice& s, int f) {
    if (s.series.size() <= static_cast<std::size_t>(f)) s.series.resize(static_cast<std::size_t>(f) + 1);
    auto& p = s.series[static_cast<std::size_t>(f)];
    if (!p) p = std::make_unique<Windowed>(cfg.bins, cfg.trailing_hours);
    return *p;
  }
  Windowed& Category(Slice& s, std::size_t field, std::string_view value) {
    auto& m = s.mix[field];
    if (value.empty()) value = "unknown";
    auto it = m.find(value);
    if (it == m.end()) {
      std::string key(value);
      if (static_cast<int>(m.size()) >= cfg.max_categories) key = "other";
      it = m.find(key);
      if (it == m.end()) it = m.emplace(key, std::make_unique<Windowed>(1, cfg.trailing_hours)).first;
    }
    return *it->second;
  }
  template <typename F>
  void ForEachWindowed(F&& f) {
    for (auto& s : slices) {
      for (auto& w : s.series) {
        if (w) f(*w);
      }
      for (auto& m : s.mix) {
        for (auto& [k, w] : m) f(*w);
      }
    }
  }
  void Roll(std::int64_t time_ms) {
    const std::int64_t w = FloorDiv(time_ms, cfg.window_ms);
    if (open_window == std::numeric_limits<std::int64_t>::min()) open_window = w;
    if (w <= open_window) return;  // same window, or late: counted in the open one
    const std::int64_t hour = FloorDiv(open_window * cfg.window_ms, kHourMs);
    ForEachWindowed([&](Windowed& x) { x.Close(hour); });
    last_window = open_window;
    open_window = w;
    open_count = 0;
  }
  void Bump(int slice_ids[3], int f, double v) {
    if (f < 0 || !std::isfinite(v)) return;
    const Feature& ft = features[static_cast<std::size_t>(f)];
    // Equal-width bins: the index by arithmetic (clamped in floating point first, so that huge
    // values cannot overflow the conversion).
    const double pos = std::clamp((v - ft.lo) / (ft.hi - ft.lo) * cfg.bins, 0.0, static_cast<double>(cfg.bins - 1));
    const auto bin = static_cast<std::size_t>(pos);
    for (int k = 0; k < 3; ++k) {
      Windowed& w = Series(slices[static_cast<std::size_t>(slice_ids[k])], f);
      ++w.open[bin];
    }
  }
  std::vector<double> Reference(const Windowed& w) const {
    if (frozen) return w.frozen.empty() ? std::vector<double>(w.width(), 0.0) : w.frozen;
    const std::int64_t h = FloorDiv(last_window * cfg.window_ms, kHourMs);
    return w.Sum(h - cfg.trailing_hours, h);
  }
};

DriftMonitor::DriftMonitor(MonitorConfig cfg) : s_(std::make_unique<State>(std::move(cfg))) {}
DriftMonitor::~DriftMonitor() = default;

void DriftMonitor::Add(const DecisionRequest& request, const Decision& decision, std::int64_t time_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = *s_;
  s.Roll(time_ms);
  ++s.open_count;
  int ids[3] = {0, s.CachedSlice(s.flow_cache, "flow_type", request.flow_type),
                s.CachedSlice(s.platform_cache, "platform", request.context.GetString("platform"))};
  std::size_t pos = 0;
  for (const auto& sig : decision.fusion.signals) {
    if (sig.present) s.Bump(ids, s.SignalFeature(pos++, sig.name), sig.calibrated);
  }
  if (decision.fusion.has_score) s.Bump(ids, s.SignalFeature(pos, "fusion"), decision.fusion.score);
  for (std::size_t q = 0; q < s.cfg.quality.size(); ++q) {
    s.Bump(ids, static_cast<int>(q), request.quality.GetNumber(s.cfg.quality[q].name));
  }
  for (std::size_t f = 0; f < s.cfg.mix_fields.size(); ++f) {
    std::string_view v = request.context.GetString(s.cfg.mix_fields[f]);
    const int vi = s.mix_values[f].Of(v);
    for (int id : ids) {
      Windowed& w = s.CachedCategory(s.slices[static_cast<std::size_t>(id)], f, vi, v);
      ++w.open[0];
    }
  }
}

void DriftMonitor::Advance(std::int64_t time_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  s_->Roll(time_ms);
}

DriftReport DriftMonitor::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  const State& s = *s_;
  DriftReport r;
  r.window_ms = s.cfg.window_ms;
  r.reference_mode = s.frozen ? "frozen" : "trailing_7d";
  r.frozen_label = s.frozen_label;
  r.frozen_at_ms = s.frozen_at;
  r.open_count = s.open_count;
  if (s.open_window != std::numeric_limits<std::int64_t>::min()) r.open_start_ms = s.open_window * s.cfg.window_ms;
  const bool have_last = s.last_window != std::numeric_limits<std::int64_t>::min();
  if (have_last) r.current_start_ms = s.last_window * s.cfg.window_ms;
  for (const auto& sl : s.slices) {
    for (std::size_t f = 0; f < sl.series.size(); ++f) {
      if (!sl.series[f]) continue;
      const Windowed& w = *sl.series[f];
      const Feature& ft = s.features[f];
      SeriesReport sr;
      sr.slice = sl.key;
      sr.feature = (ft.quality ? "quality." : "score.") + ft.name;
      std::vector<double> cur(w.last.begin(), w.last.end()), centres;
      for (int i = 0; i < s.cfg.bins; ++i) centres.push_back(ft.lo + (i + 0.5) * (ft.hi - ft.lo) / s.cfg.bins);
      auto ref = have_last || s.frozen ? s.Reference(w) : std::vector<double>(w.width(), 0.0);
      sr.drift = CompareHistograms(ref, cur, centres);
      sr.enough = sr.drift.n_reference >= s.cfg.min_samples && sr.drift.n_current >= s.cfg.min_samples;
      r.series.push_back(std::move(sr));
    }
    for (std::size_t f = 0; f < sl.mix.size(); ++f) {
      if (sl.mix[f].empty()) continue;
      std::map<std::string, double> ref, cur;
      for (const auto& [k, w] : sl.mix[f]) {
        auto rv = have_last || s.frozen ? s.Reference(*w) : std::vector<double>{0.0};
        if (rv[0] > 0) ref[k] = rv[0];
        if (w->last[0] > 0) cur[k] = w->last[0];
      }
      MixReport mr;
      mr.slice = sl.key;
      mr.field = s.cfg.mix_fields[f];
      mr.drift = CompareCategories(ref, cur);
      mr.enough = mr.drift.n_reference >= s.cfg.min_samples && mr.drift.n_current >= s.cfg.min_samples;
      r.mix.push_back(std::move(mr));
    }
  }
  return r;
}

void DriftMonitor::Freeze(std::string label, std::int64_t at_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  State& s = *s_;
  const std::int64_t h = s.open_window == std::numeric_limits<std::int64_t>::min()
                             ? 0 : FloorDiv(s.open_window * s.cfg.window_ms, kHourMs);
  s.ForEachWindowed([&](Windowed& w) {
    w.frozen = w.Sum(h - s.cfg.trailing_hours + 1, h + 1);
    for (std::size_t i = 0; i < w.width(); ++i) w.frozen[i] += w.open[i];
  });
  s.frozen = true;
  s.frozen_label = std::move(label);
  s.frozen_at = at_ms;
}

void DriftMonitor::Unfreeze() {
  std::lock_guard<std::mutex> lock(mu_);
  s_->frozen = false;
  s_->ForEachWindowed([](Windowed& w) { w.frozen.clear(); });
}

bool DriftMonitor::frozen() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_->frozen;
}

void DriftMonitor::Reconfigure(MonitorConfig cfg) {
  std::lock_guard<std::mutex> lock(mu_);
  const MonitorConfig& old = s_->cfg;
  bool same_shape = old.bins == cfg.bins && old.window_ms == cfg.window_ms && old.trailing_hours == cfg.trailing_hours &&
                    old.mix_fields == cfg.mix_fields && old.quality.size() == cfg.quality.size();
  for (std::size_t i = 0; same_shape && i < cfg.quality.size(); ++i) {
    same_shape = old.quality[i].name == cfg.quality[i].name && old.quality[i].lo == cfg.quality[i].lo &&
                 old.quality[i].hi == cfg.quality[i].hi;
  }
  if (same_shape) {
    s_->cfg = std::move(cfg);
    return;
  }
  s_ = std::make_unique<State>(std::move(cfg));
}

MonitorConfig DriftMonitor::config() const {
  std::lock_guard<std::mutex> lock(mu_);
  return s_->cfg;
}

// Frozen reference file: {"label","at_ms","bins","series":[{"slice","quality","feature","counts"}],
// "mix":[{"slice","field","counts":{category: n}}]}.
std::string DriftMonitor::FrozenJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  const State& s = *s_;
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("label", s.frozen_label).Field("at_ms", s.frozen_at).Field("bins", s.cfg.bins);
  w.Key("series").BeginArray();
  for (const auto& sl : s.slices) {
    for (std::size_t f = 0; f < sl.series.size(); ++f) {
      if (!sl.series[f] || sl.series[f]->frozen.empty()) continue;
      const Feature& ft = s.features[f];
      w.BeginObject().Field("slice", sl.key).Field("quality", ft.quality).Field("feature", ft.name).Key("counts").BeginArray();
      for (double c : sl.series[f]->frozen) w.Number(c);
      w.EndArray().EndObject();
    }
  }
  w.EndArray().Key("mix").BeginArray();
  for (const auto& sl : s.slices) {
    for (std::size_t f = 0; f < sl.mix.size(); ++f) {
      if (sl.mix[f].empty()) continue;
      w.BeginObject().Field("slice", sl.key).Field("field", s.cfg.mix_fields[f]).Key("counts").BeginObject();
      for (const auto& [k, win] : sl.mix[f]) {
        if (!win->frozen.empty()) w.Field(k, win->frozen[0]);
      }
      w.EndObject().EndObject();
    }
  }
  w.EndArray().EndObject();
  return out;
}

Status DriftMonitor::LoadFrozenJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size(), true).get(root)) return Error::Parse("frozen drift reference: not JSON");
  std::lock_guard<std::mutex> lock(mu_);
  State& s = *s_;
  std::int64_t bins = 0;
  if (root["bins"].get(bins) || bins != s.cfg.bins) return Error::Invalid("frozen drift reference: bins differ from config");
  std::string_view label;
  if (!root["label"].get(label)) s.frozen_label = std::string(label);
  std::int64_t at = 0;
  if (!root["at_ms"].get(at)) s.frozen_at = at;
  simdjson::dom::array series, mix;
  if (!root["series"].get(series)) {
    for (auto e : series) {
      std::string_view slice, feature;
      bool quality = false;
      simdjson::dom::array counts;
      if (e["slice"].get(slice) || e["feature"].get(feature) || e["quality"].get(quality) || e["counts"].get(counts)) continue;
      int f = s.FeatureOf(quality, feature);
      if (f < 0 || counts.size() != static_cast<std::size_t>(s.cfg.bins)) continue;
      Windowed& w = s.Series(s.slices[static_cast<std::size_t>(s.SliceFor(slice))], f);
      w.frozen.clear();
      for (auto c : counts) w.frozen.push_back(c.get_double().value_unsafe());
    }
  }
  if (!root["mix"].get(mix)) {
    for (auto e : mix) {
      std::string_view slice, field;
      simdjson::dom::object counts;
      if (e["slice"].get(slice) || e["field"].get(field) || e["counts"].get(counts)) continue;
      auto it = std::find(s.cfg.mix_fields.begin(), s.cfg.mix_fields.end(), field);
      if (it == s.cfg.mix_fields.end()) continue;
      auto fi = static_cast<std::size_t>(it - s.cfg.mix_fields.begin());
      Slice& sl = s.slices[static_cast<std::size_t>(s.SliceFor(slice))];
      for (auto [k, v] : counts) {
        double n = 0;
        if (v.get(n)) continue;
        s.Category(sl, fi, k).frozen = {n};
      }
    }
  }
  s.frozen = true;
  return Status::Ok();
}

}  // namespace vigil::drift
