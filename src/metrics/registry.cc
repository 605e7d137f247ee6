// The registry, histograms and the text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "metrics/metrics.h"

namespace vigil {

// ---- Histogram ----

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // First bound >= v: the "le" bucket. NaN lands in +Inf.
  std::size_t b = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  if (std::isnan(v)) b = bounds_.size();
  counts_[b].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::uint64_t Histogram::CollectInto(std::uint64_t* cumulative, double& sum) const {
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = acc;
  }
  sum = sum_.load(std::memory_order_relaxed);
  return acc;
}

Histogram::Snapshot Histogram::Collect() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    acc += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = acc;
  }
  s.count = acc;
  s.sum = sum_.load(std::memory_order_relaxed);
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
