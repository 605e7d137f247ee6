// Families: label bounding, series lookup and rendering of one family.
#include <algorithm>

#include "metrics/metrics.h"

namespace vigil {
namespace {

// Joins bound label values in a series key. 0xFF never occurs in UTF-8 text.
constexpr char kSep = '\xff';

void SplitKey(std::string_view key, std::size_t n, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t start = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t end = key.find(kSep, start);
    if (end == std::string_view::npos) end = key.size();
    out.push_back(key.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<LabelSpec> labels)
    : name_(std::move(name)), help_(std::move(help)), labels_(std::move(labels)) {
  allow_.resize(labels_.size());
  admitted_.resize(labels_.size());
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    for (const auto& v : labels_[i].allow) allow_[i].insert(v);
  }
}

std::size_t FamilyBase::size() const {
  std::shared_lock lock(mu_);
  return index_.size();
}

bool FamilyBase::Bound(std::size_t i, std::string_view v, bool may_admit, std::string& key,
                       int& folds) {
  const LabelSpec& spec = labels_[i];
  bool keep = false;
  if (v.size() <= spec.max_len && v.find(kSep) == std::string_view::npos) {
    if (!spec.allow.empty()) {
      keep = allow_[i].count(v) > 0;
    } else if (admitted_[i].count(v) > 0) {
      keep = true;
    } else if (admitted_[i].size() < spec.top_k) {
      if (!may_admit) return false;
      admitted_[i].emplace(v);
      keep = true;
    }
  }
  if (!keep && v != kOtherLabelValue) ++folds;
  key.append(keep ? v : kOtherLabelValue);
  return true;
}

void* FamilyBase::Resolve(const std::vector<std::string_view>& values) {
  const std::size_t n = labels_.size();
  auto value_at = [&](std::size_t i) { return i < values.size() ? values[i] : std::string_view(); };
  // Fast path: when every value keeps its own series (the common case), the raw values joined are
  // the series key. A raw key can only match a key made of kept values (allow-lists are fixed,
  // top-K sets only grow; values with the separator or over max_len never appear in keys).
  thread_local std::string key;
  key.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) key.push_back(kSep);
    key.append(value_at(i));
  }
  {
    std::shared_lock lock(mu_);
    auto it = index_.find(key);
    if (it != index_.end()) return it->second;
  }
  key.clear();
  int folds = 0;
  auto count_folds = [&] {
    if (folds > 0) folded_.fetch_add(static_cast<std::uint64_t>(folds), std::memory_order_relaxed);
  };
  {
    std::shared_lock lock(mu_);
    bool complete = true;
    for (std::size_t i = 0; i < n && complete; ++i) {
      if (i > 0) key.push_back(kSep);
      complete = Bound(i, value_at(i), false, key, folds);
    }
    if (complete) {
      auto it = index_.find(key);
      if (it != index_.end()) {
        count_folds();
        return it->second;
      }
    }
  }
  std::unique_lock lock(mu_);
  key.clear();
  folds = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) key.push_back(kSep);
    (void)Bound(i, value_at(i), true, key, folds);
  }
  count_folds();
  auto it = index_.find(key);
  if (it != index_.end()) return it->second;
  if (index_.size() >= max_series_ && n > 0) {
    key.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) key.push_back(kSep);
      key.append(kOtherLabelValue);
    }
    folded_.fetch_add(1, std::memory_order_relaxed);
    it = index_.find(key);
    if (it != index_.end()) return it->second;  // else: one series over the cap, then no more
  }
  void* series = NewSeries();
  index_.emplace(key, series);
  return series;
}

void FamilyBase::Render(std::string& out) const {
  out.append("# HELP ").append(name_).push_back(' ');
  EscapeHelp(help_, out);
  out.append("\n# TYPE ").append(name_);
  switch (type()) {
    case MetricType::kCounter: out.append(" counter\n"); break;
    case MetricType::kGauge: out.append(" gauge\n"); break;
    case MetricType::kHistogram: out.append(" histogram\n"); break;
  }
  std::vector<std::pair<std::string_view, const void*>> rows;
  std::shared_lock lock(mu_);
  rows.reserve(index_.size());
  for (const auto& [key, series] : index_) rows.emplace_back(key, series);
  std::sort(rows.begin(), rows.end());
  std::string labels;
  std::vector<std::string_view> values;
  for (const auto& [key, series] : rows) {
    labels.clear();
    SplitKey(key, labels_.size(), values);
    for (std::size_t i = 0; i < labels_.size(); ++i) {
      if (i > 0) labels.push_back(',');
      labels.append(labels_[i].name).append("=\"");
      EscapeLabelValue(values[i], labels);
      labels.push_back('"');
    }
    RenderSeries(series, labels, out);
  }
}

// ---- Family<T> ----

template <typename T>
Family<T>::Family(std::string name, std::string help, std::vector<LabelSpec> labels,
                  std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), std::move(labels)), buckets_(std::move(buckets)) {
  for (double b : buckets_) {
    le_.emplace_back();
    FormatSampleValue(b, le_.back());
  }
}

template <>
MetricType Family<Counter>::type() const { return MetricType::kCounter; }
template <>
MetricType Family<Gauge>::type() const { return MetricType::kGauge; }
template <>
MetricType Family<Histogram>::type() const { return MetricType::kHistogram; }

template <typename T>
void* Family<T>::NewSeries() {
  if constexpr (std::is_same_v<T, Histogram>) {
    series_.push_back(std::make_unique<Histogram>(buckets_));
  } else {
    series_.push_back(std::make_unique<T>());
  }
  return series_.back().get();
}

namespace {

void Sample(std::string& out, std::string_view name, std::string_view suffix,
            const std::string& labels, double value) {
  out.append(name).append(suffix);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.push_back(' ');
  FormatSampleValue(value, out);
  out.push_back('\n');
}

}  // namespace

template <typename T>
void Family<T>::RenderSeries(const void* series, const std::string& labels, std::string& out) const {
  const T& s = *static_cast<const T*>(series);
  if constexpr (std::is_same_v<T, Histogram>) {
    Histogram::Snapshot snap = s.Collect();
    std::string le;
    for (std::size_t b = 0; b <= snap.bounds.size(); ++b) {
      le.assign(labels);
      if (!le.empty()) le.push_back(',');
      le.append("le=\"").append(b < le_.size() ? std::string_view(le_[b]) : std::string_view("+Inf"));
      le.push_back('"');
      Sample(out, name_, "_bucket", le, static_cast<double>(snap.cumulative[b]));
    }
    Sample(out, name_, "_sum", labels, snap.sum);
    Sample(out, name_, "_count", labels, static_cast<double>(snap.count));
  } else {
    Sample(out, name_, "", labels, s.Value());
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace vigil
