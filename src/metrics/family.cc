// Families: label bounding, series lookup and rendering of one family.
#include <algorithm>
#include <charconv>

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

FamilyBase::Table::Table(std::size_t capacity)
    : mask(capacity - 1), slots(new std::atomic<const Node*>[capacity]) {
  for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
}

std::size_t FamilyBase::size() const { return count_.load(std::memory_order_relaxed); }

const FamilyBase::Node* FamilyBase::Find(std::uint64_t hash, std::string_view key) const {
  const Table* t = table_.load(std::memory_order_acquire);
  if (t == nullptr) return nullptr;
  for (std::size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
    const Node* n = t->slots[i].load(std::memory_order_acquire);
    if (n == nullptr) return nullptr;
    if (n->hash == hash && n->key == key) return n;
  }
}

void FamilyBase::Insert(std::unique_ptr<Node> node) {
  const std::size_t n = nodes_.size() + 1;
  Table* t = table_.load(std::memory_order_relaxed);
  auto place = [](Table& into, const Node* nd) {
    std::size_t i = nd->hash & into.mask;
    while (into.slots[i].load(std::memory_order_relaxed) != nullptr) i = (i + 1) & into.mask;
    into.slots[i].store(nd, std::memory_order_release);
  };
  if (t == nullptr || n * 2 > t->mask + 1) {
    std::size_t cap = t == nullptr ? 16 : (t->mask + 1) * 2;
    while (n * 2 > cap) cap *= 2;
    auto grown = std::make_unique<Table>(cap);
    for (const auto& old : nodes_) place(*grown, old.get());
    t = grown.get();
    tables_.push_back(std::move(grown));
    // Readers may still probe older tables: they stay (total size < twice the current one).
    table_.store(t, std::memory_order_release);
  }
  place(*t, node.get());
  nodes_.push_back(std::move(node));
  count_.store(nodes_.size(), std::memory_order_relaxed);
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

void* FamilyBase::Resolve(std::span<const std::string_view> values) {
  const std::size_t n = labels_.size();
  auto value_at = [&](std::size_t i) { return i < values.size() ? values[i] : std::string_view(); };
  // Fast path, no lock: when every value keeps its own series (the common case), the raw values
  // joined are the series key. A raw key can only match a key made of kept values (allow-lists
  // are fixed, top-K sets only grow; values with the separator or over max_len never appear in
  // keys).
  thread_local std::string key;
  key.clear();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) key.push_back(kSep);
    key.append(value_at(i));
  }
  if (const Node* hit = Find(HashBytes(key), key)) return hit->series;
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
      if (const Node* hit = Find(HashBytes(key), key)) {
        count_folds();
        return hit->series;
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
  if (const Node* hit = Find(HashBytes(key), key)) return hit->series;
  if (nodes_.size() >= max_series_ && n > 0) {
    key.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) key.push_back(kSep);
      key.append(kOtherLabelValue);
    }
    folded_.fetch_add(1, std::memory_order_relaxed);
    // Else: one series over the cap, then no more.
    if (const Node* hit = Find(HashBytes(key), key)) return hit->series;
  }
  auto node = std::make_unique<Node>();
  node->hash = HashBytes(key);
  node->key = key;
  std::vector<std::string_view> parts;
  SplitKey(node->key, n, parts);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) node->labels.push_back(',');
    node->labels.append(labels_[i].name).append("=\"");
    EscapeLabelValue(parts[i], node->labels);
    node->labels.push_back('"');
  }
  node->series = NewSeries();
  void* series = node->series;
  Insert(std::move(node));
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
  std::lock_guard render_lock(render_mu_);
  {
    std::shared_lock lock(mu_);
    const std::size_t had = sorted_.size();
    if (nodes_.size() > had) {
      for (std::size_t i = had; i < nodes_.size(); ++i) sorted_.push_back(nodes_[i].get());
      auto by_key = [](const Node* a, const Node* b) { return a->key < b->key; };
      std::sort(sorted_.begin() + static_cast<std::ptrdiff_t>(had), sorted_.end(), by_key);
      std::inplace_merge(sorted_.begin(), sorted_.begin() + static_cast<std::ptrdiff_t>(had), sorted_.end(),
                         by_key);
    }
  }
  // Nodes are immutable and live as long as the family: render without the family's lock.
  for (const Node* node : sorted_) RenderSeries(node->series, node->labels, out);
}

// ---- Family<T> ----

template <typename T>
Family<T>::Family(std::string name, std::string help, std::vector<LabelSpec> labels,
                  std::vector<double> buckets)
    : FamilyBase(std::move(name), std::move(help), std::move(labels)), buckets_(std::move(buckets)) {
  for (double b : buckets_.bounds()) {
    le_.emplace_back("le=\"");
    FormatSampleValue(b, le_.back());
    le_.back().append("\"} ");
  }
  le_.emplace_back("le=\"+Inf\"} ");
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

// name suffix{labels} value\n
void Sample(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
            double value) {
  out.append(name).append(suffix);
  if (!labels.empty()) out.append("{").append(labels).append("} ");
  else out.push_back(' ');
  FormatSampleValue(value, out);
  out.push_back('\n');
}

void AppendCount(std::uint64_t v, std::string& out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace

template <typename T>
void Family<T>::RenderSeries(const void* series, std::string_view labels, std::string& out) const {
  const T& s = *static_cast<const T*>(series);
  if constexpr (std::is_same_v<T, Histogram>) {
    std::uint64_t cumulative[Histogram::kMaxBuckets + 1];
    double sum = 0.0;
    const std::uint64_t count = s.CollectInto(cumulative, sum);
    for (std::size_t b = 0; b < le_.size(); ++b) {
      out.append(name_).append("_bucket{");
      if (!labels.empty()) out.append(labels).push_back(',');
      out.append(le_[b]);
      AppendCount(cumulative[b], out);
      out.push_back('\n');
    }
    Sample(out, name_, "_sum", labels, sum);
    out.append(name_).append("_count");
    if (!labels.empty()) out.append("{").append(labels).append("} ");
    else out.push_back(' ');
    AppendCount(count, out);
    out.push_back('\n');
  } else {
    Sample(out, name_, "", labels, s.Value());
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

}  // namespace vigil
