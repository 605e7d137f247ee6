#include "feedback/live_performance.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "core/json_writer.h"
#include "core/log.h"
#include "feedback/performance_json.h"

namespace vigil {

bool ParseWindow(std::string_view text, std::int64_t* ms) {
  if (text == "all") {
    *ms = 0;
    return true;
  }
  if (text.size() < 2) return false;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || n <= 0 || n > 100000) return false;
  switch (text.back()) {
    case 's': *ms = n * 1000; return true;
    case 'm': *ms = n * 60 * 1000; return true;
    case 'h': *ms = n * 3600 * 1000; return true;
    case 'd': *ms = n * 86400 * 1000; return true;
    default: return false;
  }
}

std::uint32_t LivePerformance::Intern(const std::string& s) {
  auto it = string_ids_.find(s);
  if (it != string_ids_.end()) return it->second;
  auto id = static_cast<std::uint32_t>(strings_.size());
  strings_.push_back(s);
  string_ids_.emplace(s, id);
  return id;
}

void LivePerformance::SetLabel(const Label& l) {
  std::lock_guard lk(mu_);
  labels_[l.request_id] = LabelFacts{l.label, l.attack_type, l.labelled_at_ms};
}

Status LivePerformance::Refresh() {
  std::lock_guard refresh(refresh_mu_);
  std::int64_t from;
  {
    std::lock_guard lk(mu_);
    from = last_seq_ + 1;
  }
  std::vector<DecisionFacts> fresh;
  std::int64_t last = from - 1;
  Status st = store_->ForEach(from, [&](const AuditRecord& r) {
    last = r.seq;
    if (r.kind != "decision") return true;
    auto f = ParseDecisionRecord(r);
    if (!f.ok()) {
      Log(LogLevel::kWarn, "feedback_unreadable_record").Int("seq", r.seq).Str("error", f.error().ToString());
      return true;
    }
    f->signals.clear();
    fresh.push_back(std::move(*f));
    return true;
  });
  std::lock_guard lk(mu_);
  for (auto& f : fresh) {
    Row row;
    row.time_ms = f.time_ms;
    row.has_score = f.has_score;
    row.risk = f.has_score ? f.risk() : 0.0;
    row.flagged = f.flagged();
    row.kind = f.kind;
    row.outcome = Intern(f.outcome_name.empty() ? f.outcome : f.outcome_name);
    for (std::size_t i = 0; i < f.slices.size(); ++i) row.slices[i] = Intern(f.slices[i].empty() ? "unknown" : f.slices[i]);
    latest_ms_ = std::max(latest_ms_, f.time_ms);
    row_by_request_.emplace(f.request_id, static_cast<std::uint32_t>(rows_.size()));
    rows_.push_back(row);
  }
  last_seq_ = std::max(last_seq_, last);
  return st;
}

std::int64_t LivePerformance::latest_decision_ms() const {
  std::lock_guard lk(mu_);
  return latest_ms_;
}

LivePerformance::Totals LivePerformance::totals() const {
  std::lock_guard lk(mu_);
  Totals t;
  t.decisions = static_cast<std::int64_t>(rows_.size());
  for (const auto& [id, l] : labels_) t.labelled += row_by_request_.count(id) ? 1 : 0;
  return t;
}

namespace {

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return kUndefined;
  std::sort(v.begin(), v.end());
  // Linear interpolation between order statistics (numpy's default).
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

void WriteGroup(JsonWriter& w, const LiveGroup& g, bool liveness) {
  const auto labelled = static_cast<std::int64_t>(g.cases.size());
  w.BeginObject().Field("decisions", g.decisions).Field("labelled", labelled)
      .Field("label_coverage", g.decisions == 0 ? kUndefined : static_cast<double>(labelled) / static_cast<double>(g.decisions));
  w.Key("performance");
  if (g.cases.empty()) {
    w.Null();
  } else {
    WritePerformance(w, ComputePerformance(g.cases), liveness, &g.outcomes);
  }
  w.EndObject();
}

}  // namespace

double LiveSnapshot::DelayQuantile(double q) const { return Quantile(delays_s, q); }

LiveSnapshot LivePerformance::Compute(const PerformanceQuery& q) const {
  std::lock_guard lk(mu_);
  LiveSnapshot snap;
  const auto in_window = [&q](std::int64_t t) { return t >= q.from_ms && t < q.to_ms; };
  // (dimension, value id, kind) -> group
  std::map<std::tuple<std::size_t, std::uint32_t, int>, LiveGroup> slices;
  for (const Row& r : rows_) {
    if (!in_window(r.time_ms)) continue;
    const int k = static_cast<int>(r.kind);
    ++snap.overall[static_cast<std::size_t>(k)].decisions;
    for (std::size_t d = 0; d < r.slices.size(); ++d) ++slices[{d, r.slices[d], k}].decisions;
  }
  for (const auto& [id, l] : labels_) {
    auto it = row_by_request_.find(id);
    if (it == row_by_request_.end()) continue;
    const Row& r = rows_[it->second];
    if (!in_window(r.time_ms)) continue;
    LabelledCase c;
    c.positive = IsPositive(l.label);
    c.attack_type = c.positive ? l.attack_type : std::string();
    c.has_risk = r.has_score;
    c.risk = r.risk;
    c.flagged = r.flagged;
    c.outcome = strings_[r.outcome];
    c.decided_ms = r.time_ms;
    c.labelled_ms = l.labelled_at_ms;
    ++snap.labelled;
    snap.delays_s.push_back(static_cast<double>(l.labelled_at_ms - r.time_ms) / 1000.0);
    const int k = static_cast<int>(r.kind);
    const std::string label_name(LabelClassName(l.label));
    LiveGroup& g = snap.overall[static_cast<std::size_t>(k)];
    g.cases.push_back(c);
    ++g.outcomes[label_name][c.outcome];
    for (std::size_t d = 0; d < r.slices.size(); ++d) {
      LiveGroup& s = slices[{d, r.slices[d], k}];
      s.cases.push_back(c);
      ++s.outcomes[label_name][c.outcome];
    }
  }
  snap.decisions = snap.overall[0].decisions + snap.overall[1].decisions;
  for (std::size_t d = 0; d < kSliceDimensions.size(); ++d) {
    for (int k = 0; k < 2; ++k) {
      std::vector<std::pair<std::int64_t, std::uint32_t>> values;
      for (auto it = slices.lower_bound({d, 0, 0}); it != slices.end() && std::get<0>(it->first) == d; ++it) {
        if (std::get<2>(it->first) == k) values.emplace_back(it->second.decisions, std::get<1>(it->first));
      }
      std::stable_sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      if (values.size() > q.max_slice_values) values.resize(q.max_slice_values);
      for (const auto& [n, v] : values) {
        snap.slices.push_back({d, strings_[v], k, std::move(slices[{d, v, k}])});
      }
    }
  }
  return snap;
}

std::string LivePerformance::Report(const PerformanceQuery& q, std::int64_t labels_total, std::int64_t conflicts) {
  const LiveSnapshot snap = Compute(q);
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("window", q.window).Field("from", q.from_ms > 0 ? FormatRfc3339Ms(q.from_ms) : std::string())
      .Field("to", FormatRfc3339Ms(q.to_ms)).Field("decisions", snap.decisions).Field("labelled", snap.labelled)
      .Field("label_coverage",
             snap.decisions == 0 ? kUndefined : static_cast<double>(snap.labelled) / static_cast<double>(snap.decisions));
  double mean = kUndefined, max = kUndefined;
  if (!snap.delays_s.empty()) {
    mean = 0.0;
    for (double d : snap.delays_s) mean += d;
    mean /= static_cast<double>(snap.delays_s.size());
    max = *std::max_element(snap.delays_s.begin(), snap.delays_s.end());
  }
  w.Key("label_delay_s").BeginObject().Field("mean", mean).Field("p50", snap.DelayQuantile(0.5))
      .Field("p90", snap.DelayQuantile(0.9)).Field("max", max).EndObject();
  w.Field("labels_total", labels_total).Field("label_conflicts", conflicts);
  w.Key("conventions");
  WriteConventions(w);
  w.Key("liveness");
  WriteGroup(w, snap.overall[0], true);
  w.Key("transaction");
  WriteGroup(w, snap.overall[1], false);
  w.Key("slices").BeginArray();
  for (const auto& s : snap.slices) {
    w.BeginObject().Field("dimension", kSliceDimensions[s.dimension]).Field("value", s.value)
        .Field("kind", s.kind == 0 ? "liveness" : "transaction").Key("figures");
    WriteGroup(w, s.group, s.kind == 0);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

}  // namespace vigil
