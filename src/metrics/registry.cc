// The registry, histograms and the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "metrics/metrics.h"

namespace vigil {

// ---- Counter ----

Counter::Counter() : cell_(metrics_detail::AllocateCells(1)) {}

Counter::~Counter() { metrics_detail::FreeCells(cell_, 1); }

double Counter::Value() const {
  if (cell_ == metrics_detail::kNoCells) return fallback_.load(std::memory_order_relaxed);
  double v = 0.0;
  metrics_detail::SumCells(cell_, 1, &v);
  return v;
}

CounterCell Counter::ThreadCell() {
  CounterCell c;
  if (cell_ == metrics_detail::kNoCells) {
    c.bits_ = reinterpret_cast<std::uintptr_t>(&fallback_) | CounterCell::kShared;
  } else {
    c.bits_ = reinterpret_cast<std::uintptr_t>(&metrics_detail::Cell(cell_));
  }
  return c;
}

// ---- Histogram ----

namespace metrics_detail {

BucketFinder::BucketFinder(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  constexpr std::size_t kMaxTable = 4096;
  bounds_p_ = bounds_.data();
  n_ = bounds_.size();
  table_store_.assign(1, 0);  // no table: every value scans from the first bound
  table_ = table_store_.data();
  if (bounds_.empty() || !(bounds_.front() > 0.0) || !std::isfinite(bounds_.back()) ||
      !std::is_sorted(bounds_.begin(), bounds_.end()) || bounds_.size() >= kExact) {
    return;
  }
  const std::uint64_t lo = std::bit_cast<std::uint64_t>(bounds_.front()) >> kShift;
  const std::uint64_t hi = std::bit_cast<std::uint64_t>(bounds_.back()) >> kShift;
  if (hi - lo + 1 > kMaxTable) return;
  table_store_.resize(hi - lo + 1);
  // Bounds below x: the bucket of a value x (the first bound >= x).
  auto below = [this](double x) {
    return static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), x) - bounds_.begin());
  };
  for (std::uint64_t k = 0; k < table_store_.size(); ++k) {
    const double smallest = std::bit_cast<double>((lo + k) << kShift);
    const double largest = std::bit_cast<double>(((lo + k + 1) << kShift) - 1);  // same top 16 bits
    const std::size_t b = below(smallest);
    // The bucket is monotone in the value: one bucket for the whole key when both ends share it.
    const bool exact = below(largest) == b;
    table_store_[k] = static_cast<std::uint8_t>(b | (exact ? kExact : 0));
  }
  lo_ = static_cast<std::int64_t>(lo);
  last_ = table_store_.size() - 1;
  table_ = table_store_.data();
}

}  // namespace metrics_detail

Histogram::Histogram(const metrics_detail::BucketFinder& buckets)
    : buckets_(buckets),
      bounds_(buckets.bounds()),
      cells_(metrics_detail::AllocateCells(static_cast<std::uint32_t>(bounds_.size() + 2))) {
  if (cells_ == metrics_detail::kNoCells) {
    fallback_.reset(new std::atomic<double>[bounds_.size() + 2]);
    for (std::size_t i = 0; i < bounds_.size() + 2; ++i) fallback_[i].store(0.0, std::memory_order_relaxed);
  }
}

Histogram::~Histogram() { metrics_detail::FreeCells(cells_, static_cast<std::uint32_t>(bounds_.size() + 2)); }

void Histogram::Observe(double v) {
  // First bound >= v: the "le" bucket. NaN lands in +Inf.
  const std::size_t n = bounds_.size();
  const std::size_t b = buckets_.Find(v);
  if (cells_ != metrics_detail::kNoCells) {
    // A range never straddles chunks: the bucket and the sum share one chunk lookup.
    std::atomic<double>& first = metrics_detail::Cell(cells_);
    metrics_detail::AddToCell((&first)[b], 1.0);
    metrics_detail::AddToCell((&first)[n + 1], v);
  } else {
    fallback_[b].fetch_add(1.0, std::memory_order_relaxed);
    fallback_[n + 1].fetch_add(v, std::memory_order_relaxed);
  }
}

HistogramCells Histogram::ThreadCells() {
  HistogramCells h;
  h.buckets_ = &buckets_;
  h.shared_ = cells_ == metrics_detail::kNoCells;
  h.cells_ = h.shared_ ? fallback_.get() : &metrics_detail::Cell(cells_);
  h.sum_ = h.cells_ + bounds_.size() + 1;
  return h;
}

std::uint64_t Histogram::CollectInto(std::uint64_t* cumulative, double& sum) const {
  const std::size_t n = bounds_.size();
  double raw[kMaxBuckets + 2];
  if (cells_ != metrics_detail::kNoCells) {
    metrics_detail::SumCells(cells_, static_cast<std::uint32_t>(n + 2), raw);
  } else {
    for (std::size_t i = 0; i < n + 2; ++i) raw[i] = fallback_[i].load(std::memory_order_relaxed);
  }
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= n; ++i) {
    acc += static_cast<std::uint64_t>(raw[i]);
    cumulative[i] = acc;
  }
  sum = raw[n + 1];
  return acc;
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  s.count = CollectInto(s.cumulative.data(), s.sum);
  return s;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(start + width * i);
  return b;
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0};
}

std::vector<double> ScoreBuckets() {
  std::vector<double> b;
  for (int i = 1; i <= 20; ++i) b.push_back(i / 20.0);
  return b;
}

// ---- Registry ----

template <typename T>
Result<Family<T>*> MetricsRegistry::Add(std::string name, std::string help,
                                        std::vector<LabelSpec> labels, std::vector<double> buckets) {
  if (!ValidMetricName(name)) return Error::Invalid("bad metric name", name);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& l = labels[i];
    if (!ValidLabelName(l.name) || (std::is_same_v<T, Histogram> && l.name == "le")) {
      return Error::Invalid("bad label name '" + l.name + "'", name);
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].name == l.name) return Error::Invalid("label '" + l.name + "' twice", name);
    }
  }
  if constexpr (std::is_same_v<T, Histogram>) {
    if (buckets.empty() || !std::is_sorted(buckets.begin(), buckets.end()) ||
        std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end() ||
        !std::isfinite(buckets.back()) || buckets.size() > Histogram::kMaxBuckets) {
      return Error::Invalid("histogram buckets must be finite and strictly increasing (64 at most)", name);
    }
  }
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* existing = dynamic_cast<Family<T>*>(it->second.get());
    bool same = existing != nullptr && existing->help() == help &&
                existing->labels().size() == labels.size() && existing->buckets() == buckets;
    for (std::size_t i = 0; same && i < labels.size(); ++i) {
      same = existing->labels()[i].name == labels[i].name;
    }
    if (!same) return Error{Error::Kind::kConflict, "metric registered twice, differently", name};
    return existing;
  }
  auto family = std::make_unique<Family<T>>(name, std::move(help), std::move(labels), std::move(buckets));
  Family<T>* raw = family.get();
  families_.emplace(std::move(name), std::move(family));
  return raw;
}

Result<Family<Counter>*> MetricsRegistry::AddCounter(std::string name, std::string help,
                                                     std::vector<LabelSpec> labels) {
  return Add<Counter>(std::move(name), std::move(help), std::move(labels), {});
}

Result<Family<Gauge>*> MetricsRegistry::AddGauge(std::string name, std::string help,
                                                 std::vector<LabelSpec> labels) {
  return Add<Gauge>(std::move(name), std::move(help), std::move(labels), {});
}

Result<Family<Histogram>*> MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                         std::vector<LabelSpec> labels,
                                                         std::vector<double> buckets) {
  return Add<Histogram>(std::move(name), std::move(help), std::move(labels), std::move(buckets));
}

void MetricsRegistry::AddCollectHook(std::function<void()> hook) {
  std::lock_guard lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string MetricsRegistry::Expose() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(mu_);
    hooks = hooks_;
  }
  for (const auto& h : hooks) h();
  std::string out;
  std::lock_guard lock(mu_);
  out.reserve(std::max(families_.size() * 256, last_size_ + last_size_ / 8));
  for (const auto& [name, family] : families_) family->Render(out);
  last_size_ = out.size();
  return out;
}

std::size_t MetricsRegistry::SeriesCount() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [name, family] : families_) n += family->size();
  return n;
}

// ---- Text format ----

namespace {
bool NameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }
}  // namespace

bool ValidMetricName(std::string_view name) {
  if (name.empty() || !(NameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return NameChar(c) || c == ':'; });
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || !NameStart(name[0]) || name.substr(0, 2) == "__") return false;
  return std::all_of(name.begin(), name.end(), NameChar);
}

void EscapeLabelValue(std::string_view v, std::string& out) {
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '"': out.append("\\\""); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

void EscapeHelp(std::string_view v, std::string& out) {
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

void FormatSampleValue(double v, std::string& out) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    // Whole numbers (counts, most counters) print as integers: the same text, faster.
    constexpr double kExact = 9007199254740992.0;  // 2^53
    const auto whole = static_cast<std::int64_t>(v);
    auto res = (v > -kExact && v < kExact && static_cast<double>(whole) == v && !(v == 0 && std::signbit(v)))
                   ? std::to_chars(buf, buf + sizeof buf, whole)
                   : std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
  }
}

std::uint64_t HashBytes(std::string_view s) {
  constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
  std::uint64_t h = 0x6a09e667f3bcc909ull ^ (s.size() * kMul);
  const char* p = s.data();
  std::size_t n = s.size();
  auto mix = [&](std::uint64_t w) {
    h ^= w;
    h *= kMul;
    h ^= h >> 32;
  };
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    mix(w);
  }
  if (n > 0) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    mix(w ^ (static_cast<std::uint64_t>(n) << 56));
  }
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

}  // namespace vigil
