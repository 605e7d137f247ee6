// vigil's metrics library, shaped like prometheus-cpp: a MetricsRegistry owns families; a family
// plus a set of label values gives a Counter, Gauge or Histogram (a "series"). The registry
// renders every family in the Prometheus text exposition format 0.0.4.
//
// Hot path: updating a series is one or a few relaxed atomic operations, no lock. Finding the
// series for a label set whose values all keep their own series takes no lock and allocates
// nothing: one hash of the joined values and a probe of the family's lock-free index. A value
// that folds into "other" takes the family's own shared_mutex in shared mode (exclusive only the
// first time a label set is seen), never a lock shared by all families. Callers with a fixed label
// set resolve it once and keep the reference: series live as long as the registry.
//
// Bounded cardinality: every label has a LabelSpec. Either an allow-list (values outside it become
// "other") or a top-K (the first K distinct values seen keep their own series, later ones become
// "other"). Values longer than LabelSpec::max_len also become "other". So a client sending random
// versions cannot grow the number of series past the product of the bounds.
//
// Thread-safety: everything here is safe to call from any thread. Registration returns an error
// for a bad name or a name already registered with another type, help or labels; registering the
// same family twice returns the first one.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/result.h"
#include "metrics/cells.h"

namespace vigil {

inline constexpr std::string_view kOtherLabelValue = "other";

namespace metrics_detail {
// A histogram family's bucket bounds (sorted, finite) and how to find a value's "le" bucket (the
// first i with v <= bounds[i]; bounds.size() for larger values and NaN) in a step or two: when
// every bound is positive, a table indexed by a positive value's exponent and first 4 mantissa
// bits (its top 16 bits, which order positive doubles) gives the bucket when no bound falls
// inside that 1/16 of an octave, else the first bucket that can hold it and a scan finishes over
// the bounds within it. Otherwise (a one-entry table holding 0) the scan starts at the first bound.
class BucketFinder {
 public:
  explicit BucketFinder(std::vector<double> bounds);
  BucketFinder(const BucketFinder&) = delete;  // table_ points into table_store_
  BucketFinder& operator=(const BucketFinder&) = delete;
  const std::vector<double>& bounds() const { return bounds_; }

  // A value inside the table's range (the common case) reads its cell: a cell whose values all go
  // into one bucket (no bound strictly inside it) holds that bucket with kExact set, and nothing
  // is compared; a cell holding a bound gives the first bucket that can hold the value, and a scan
  // of the bounds in the cell finishes (one or two for the shipped buckets). Values outside the
  // range (negative, -0.0, NaN, infinities, beyond the bounds) take the scan: from the first
  // bound below the table, from the last cell's bucket above it (to bounds.size()).
  [[gnu::always_inline]] std::size_t Find(double v) const {
    const std::int64_t k = (std::bit_cast<std::int64_t>(v) >> kShift) - lo_;
    if (static_cast<std::uint64_t>(k) <= last_) [[likely]] {
      const std::uint8_t e = table_[k];
      if (e & kExact) [[likely]] return e & ~kExact;
      return Scan(v, e);
    }
    return Scan(v, k < 0 ? 0 : table_[last_] & ~kExact);
  }

 private:
  static constexpr std::uint8_t kExact = 0x80;  // table entry: the bucket, no comparison needed
  std::size_t Scan(double v, std::size_t b) const {
    while (b < n_ && !(v <= bounds_p_[b])) ++b;
    return b;
  }

  static constexpr int kShift = 48;  // sign, exponent and 4 mantissa bits
  std::vector<double> bounds_;
  const double* bounds_p_ = nullptr;  // bounds_.data()
  std::size_t n_ = 0;                 // bounds_.size()
  std::int64_t lo_ = 0;               // the key of bounds_[0] (0 without a table)
  std::uint64_t last_ = 0;            // the table's last index (0 without a table)
  const std::uint8_t* table_ = nullptr;   // table_store_
  // Per key from lo_: bounds below the key's smallest value, with kExact when that is the bucket of
  // every value of the key.
  std::vector<std::uint8_t> table_store_;
};
}  // namespace metrics_detail

// A counter's cell in the calling thread (Counter::ThreadCell), for a caller that updates the same
// series many times from one thread: the thread's cell is found once instead of at every update.
// Valid only on the thread that resolved it (metrics_detail::ThreadCellBlock()->serial names it)
// and while the series lives.
class CounterCell {
 public:
  bool valid() const { return bits_ != 0; }
  void Inc() const {
    auto* cell = reinterpret_cast<std::atomic<double>*>(bits_ & ~kShared);
    if ((bits_ & kShared) == 0) {
      metrics_detail::AddToCell(*cell, 1.0);
    } else {
      cell->fetch_add(1.0, std::memory_order_relaxed);
    }
  }

 private:
  friend class Counter;
  // The cell's address, its low bit set for the series' shared fallback (no cells were left).
  static constexpr std::uintptr_t kShared = 1;
  std::uintptr_t bits_ = 0;
};

// A monotonically increasing value. Inc with a negative amount is ignored. Each thread adds to
// its own cell (metrics/cells.h): no lock prefix, no shared cache line; Value() adds them up.
class Counter {
 public:
  Counter();
  ~Counter();
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;
  void Inc(double v = 1.0) {
    if (!(v >= 0.0)) return;
    if (cell_ != metrics_detail::kNoCells) {
      metrics_detail::AddToCell(metrics_detail::Cell(cell_), v);
    } else {
      fallback_.fetch_add(v, std::memory_order_relaxed);
    }
  }
  double Value() const;
  // For a counter that mirrors a total kept elsewhere (process CPU, the audit store's counts),
  // read at scrape time: adds what the total has grown by since the last call.
  void AdvanceTo(double total) {
    const double now = Value();
    if (total > now) Inc(total - now);
  }
  // This series' cell in the calling thread (see CounterCell).
  CounterCell ThreadCell();

 private:
  std::uint32_t cell_;
  std::atomic<double> fallback_{0.0};  // when no cells were left
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram;

// A histogram's cells in the calling thread (Histogram::ThreadCells); like CounterCell.
class HistogramCells {
 public:
  bool valid() const { return cells_ != nullptr; }
  [[gnu::always_inline]] void Observe(double v) const {
    const std::size_t b = buckets_->Find(v);
    if (!shared_) {
      metrics_detail::AddToCell(cells_[b], 1.0);
      metrics_detail::AddToCell(*sum_, v);
    } else {
      cells_[b].fetch_add(1.0, std::memory_order_relaxed);
      sum_->fetch_add(v, std::memory_order_relaxed);
    }
  }

 private:
  friend class Histogram;
  const metrics_detail::BucketFinder* buckets_ = nullptr;
  std::atomic<double>* cells_ = nullptr;  // the bucket counts (bounds + 1)
  std::atomic<double>* sum_ = nullptr;    // the sum, after them
  bool shared_ = false;
};

// Observations counted into buckets with upper bounds `bounds` (sorted, finite; +Inf is implied).
// An observation v goes into the first bucket with v <= bound (Prometheus "le" semantics).
// Per-thread cells like Counter: bucket counts, then the sum.
class Histogram {
 public:
  explicit Histogram(const metrics_detail::BucketFinder& buckets);
  ~Histogram();
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;
  void Observe(double v);
  // This series' cells in the calling thread (see HistogramCells).
  HistogramCells ThreadCells();

  struct Snapshot {
    std::vector<double> bounds;               // finite upper bounds
    std::vector<std::uint64_t> cumulative;    // bounds.size() + 1 entries; last = +Inf = count
    double sum = 0.0;
    std::uint64_t count = 0;
  };
  // Cumulative counts as exposed; count always equals the +Inf bucket.
  Snapshot Collect() const;
  // The same without allocating: fills cumulative[0..bounds.size()] and sum, returns the count.
  std::uint64_t CollectInto(std::uint64_t* cumulative, double& sum) const;
  // Most finite buckets a histogram family accepts.
  static constexpr std::size_t kMaxBuckets = 64;

 private:
  const metrics_detail::BucketFinder& buckets_;  // owned by the family
  const std::vector<double>& bounds_;
  std::uint32_t cells_;                // bounds.size() + 1 bucket counts, then the sum
  std::unique_ptr<std::atomic<double>[]> fallback_;  // when no cells were left
};

// Bucket helpers (prometheus-cpp's Histogram::BucketBoundaries).
std::vector<double> LinearBuckets(double start, double width, int count);
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// Seconds, 0.5 ms .. 10 s: request and stage latencies.
std::vector<double> LatencyBuckets();
// 0.05 .. 1.0 in steps of 0.05: scores in [0, 1].
std::vector<double> ScoreBuckets();

// How one label's values are bounded.
struct LabelSpec {
  std::string name;
  std::vector<std::string> allow;  // non-empty: allow-list; anything else folds into "other"
  std::size_t top_k = 20;          // used when `allow` is empty: first K distinct values kept
  std::size_t max_len = 64;        // longer values fold into "other"

  static LabelSpec Allow(std::string name, std::vector<std::string> values) {
    return LabelSpec{std::move(name), std::move(values), 0, 64};
  }
  static LabelSpec TopK(std::string name, std::size_t k) {
    return LabelSpec{std::move(name), {}, k, 64};
  }
};

// Hash for heterogeneous lookup (find by string_view without building a string).
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

enum class MetricType : std::uint8_t { kCounter, kGauge, kHistogram };

// The parts all families share: name, help, labels and the text rendering.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<LabelSpec> labels);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<LabelSpec>& labels() const { return labels_; }
  virtual MetricType type() const = 0;
  // Number of series (label sets) in the family.
  std::size_t size() const;
  // A hard cap on the number of series: once reached, a new label set is counted under the
  // series whose labels are all "other". Default 10,000. Set before use.
  void set_max_series(std::size_t n) { max_series_ = n; }
  // Label values that were folded into "other" so far.
  std::uint64_t folded() const { return folded_.load(std::memory_order_relaxed); }
  // Appends "# HELP", "# TYPE" and every series, sorted by label values.
  void Render(std::string& out) const;

 protected:
  // Returns the series for raw label values, creating it if new. Missing values count as "",
  // extra ones are ignored.
  void* Resolve(std::span<const std::string_view> values);
  virtual void* NewSeries() = 0;  // creates and owns one series (under the exclusive lock)
  // `labels` is the rendered label list without braces ("a=\"x\",b=\"y\"") or "".
  virtual void RenderSeries(const void* series, std::string_view labels, std::string& out) const = 0;

  std::string name_;
  std::string help_;
  std::vector<LabelSpec> labels_;

 private:
  // Appends the bounded value of label i to `key`. Returns false when a top-K label still has
  // room for the value but `may_admit` is false (the caller retries under the exclusive lock).
  // `folds` counts values folded into "other".
  bool Bound(std::size_t i, std::string_view v, bool may_admit, std::string& key, int& folds);

  // One series: its key (bound values joined by 0xFF), the rendered label list and the series.
  // Immutable once published in the index.
  struct Node {
    std::uint64_t hash = 0;
    std::string key;
    std::string labels;
    void* series = nullptr;
  };
  // Open addressing, linear probing, never more than half full. Readers probe without a lock;
  // the writer (exclusive lock) publishes a slot with a release store, or a grown table.
  struct Table {
    explicit Table(std::size_t capacity);
    std::size_t mask;
    std::unique_ptr<std::atomic<const Node*>[]> slots;
  };
  const Node* Find(std::uint64_t hash, std::string_view key) const;  // lock-free
  void Insert(std::unique_ptr<Node> node);                           // exclusive lock held

  mutable std::shared_mutex mu_;
  std::vector<StringSet> allow_;     // per label (allow-list labels)
  std::vector<StringSet> admitted_;  // per label (top-K labels)
  std::atomic<Table*> table_{nullptr};
  std::vector<std::unique_ptr<Table>> tables_;  // the current one last; older ones stay for readers
  std::vector<std::unique_ptr<Node>> nodes_;    // in creation order
  std::atomic<std::size_t> count_{0};
  std::atomic<std::uint64_t> folded_{0};
  std::size_t max_series_ = 10000;
  // Render's order (sorted by key), extended when series were added since the last render.
  mutable std::mutex render_mu_;
  mutable std::vector<const Node*> sorted_;
};

// A family of series of one type. Get returns a reference valid for the registry's lifetime.
template <typename T>
class Family final : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<LabelSpec> labels,
         std::vector<double> buckets = {});
  MetricType type() const override;
  T& Get(std::span<const std::string_view> values) { return *static_cast<T*>(Resolve(values)); }
  T& Get(const std::vector<std::string_view>& values) {
    return Get(std::span<const std::string_view>(values.data(), values.size()));
  }
  T& Get(std::initializer_list<std::string_view> values) {
    return Get(std::span<const std::string_view>(values.begin(), values.size()));
  }
  const std::vector<double>& buckets() const { return buckets_.bounds(); }

 private:
  void* NewSeries() override;
  void RenderSeries(const void* series, std::string_view labels, std::string& out) const override;

  metrics_detail::BucketFinder buckets_;
  std::vector<std::string> le_;  // ",le=\"<bound>\"} " per bucket, +Inf last
  std::vector<std::unique_ptr<T>> series_;  // guarded by FamilyBase's lock; addresses stable
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Result<Family<Counter>*> AddCounter(std::string name, std::string help,
                                      std::vector<LabelSpec> labels = {});
  Result<Family<Gauge>*> AddGauge(std::string name, std::string help,
                                  std::vector<LabelSpec> labels = {});
  Result<Family<Histogram>*> AddHistogram(std::string name, std::string help,
                                          std::vector<LabelSpec> labels, std::vector<double> buckets);

  // Called at the start of every Expose (uptime, process gauges). Must not call Expose.
  void AddCollectHook(std::function<void()> hook);

  // The whole registry in text format 0.0.4, families sorted by name.
  std::string Expose() const;
  // Number of series over all families.
  std::size_t SeriesCount() const;

 private:
  template <typename T>
  Result<Family<T>*> Add(std::string name, std::string help, std::vector<LabelSpec> labels,
                         std::vector<double> buckets);

  mutable std::mutex mu_;  // registration and Expose only; never the update path
  std::map<std::string, std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> hooks_;
  mutable std::size_t last_size_ = 0;  // size of the last exposition (guarded by mu_)
};

inline constexpr std::string_view kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Text-format helpers (exposed for tests and for other renderers).
bool ValidMetricName(std::string_view name);
bool ValidLabelName(std::string_view name);
// Label values: backslash, double quote and line feed escaped.
void EscapeLabelValue(std::string_view v, std::string& out);
// HELP text: backslash and line feed escaped.
void EscapeHelp(std::string_view v, std::string& out);
// Sample values: shortest round-trip form, "+Inf", "-Inf", "NaN".
void FormatSampleValue(double v, std::string& out);
// 64-bit hash of a byte string (8 bytes a step); not for untrusted-collision resistance beyond
// a hash table's needs.
std::uint64_t HashBytes(std::string_view s);

}  // namespace vigil
