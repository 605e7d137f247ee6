// The alert engine's state (engine.h), shared by engine.cc (observing, windows, slices) and
// evaluate.cc (rules). Internal to vigil_alerts.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "alerts/engine.h"
#include "alerts/stat_tests.h"
#include "drift/cusum.h"

namespace vigil::alerts {
namespace detail {

inline constexpr std::int64_t kHourMs = 3600000;
inline constexpr int kLatencyBins = 160;  // edges 0.01 ms * 1.1^i: 0.01 ms to about 42 s, +-5%
inline constexpr double kLatencyBase = 0.01, kLatencyRatio = 1.1;
inline constexpr std::size_t kPatternKeep = 4096;  // matching decisions kept per rule and slice
inline constexpr std::size_t kResolvedKeep = 200;
inline constexpr std::size_t kMaxSlices = 512;     // beyond this, slices of slice_by rules are not created

inline std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline double Nan() { return std::numeric_limits<double>::quiet_NaN(); }

// Dispersion of the counts (rules.h, dispersion: estimated): counts are also summed in blocks of
// kDispersionBlockMs (longer than a retry's 15-60 s, so a person's attempts mostly share a block),
// and per hour the ring keeps, for each count, sum x_b^2 / n_b over the blocks that ended in it.
// Count index: the four outcomes, disagreements, then the pattern rules' matches.
inline constexpr std::int64_t kDispersionBlockMs = 300000;
inline constexpr std::size_t kDispCounts = 5 + static_cast<std::size_t>(kMaxPatternRules);
inline constexpr std::size_t kDisagreeIndex = 4;
inline constexpr std::size_t kPatternIndex = 5;
inline constexpr int kMinDispersionBlocks = 12;    // an hour of blocks before the estimate is used

struct Disp {
  std::uint32_t blocks = 0;                  // blocks with decisions
  std::array<double, kDispCounts> sq{};      // sum over them of x_b^2 / n_b
};

// Parts of an Agg to add up (the counts always).
enum AggParts : unsigned { kCounts = 0, kLatency = 1, kScores = 2, kAll = 3 };

struct Agg {
  std::uint64_t n = 0, disagree = 0;
  std::array<std::uint64_t, 4> out{};
  std::array<std::uint32_t, kMaxPatternRules> pattern{};  // matching decisions per pattern rule
  std::array<std::uint32_t, kLatencyBins> latency{};
  std::array<std::array<std::uint32_t, kScoreBins>, kMaxDriftSignals> score{};  // per drift signal
  void Add(const Agg& o, unsigned parts = kAll);
  double P95() const;
  double Value(Metric m) const;
  std::uint64_t Count(Metric m) const;  // decisions counted by a rate metric (n for decisions)
  std::uint64_t DispCount(std::size_t i) const;  // by dispersion count index
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
  std::size_t dim = 0;        // index into State::dims
  Window open;
  std::deque<Window> closed;  // most recent last
  std::vector<Agg> ring;      // hourly, baseline_hours slots
  std::vector<std::int64_t> ring_hour;
  std::vector<std::deque<std::pair<std::int64_t, std::string>>> hits;  // per rule (pattern rules)
  // The trailing baseline, recomputed when the hour changes.
  std::int64_t base_hour = std::numeric_limits<std::int64_t>::min();
  Agg base;
  int base_hours = 0;         // whole hours in it, the start hour left out
  std::uint64_t base_volume = 0;  // decisions in those hours
  // Dispersion (kDispersionBlockMs blocks): the block being filled, per hour the blocks' sums,
  // and the trailing baseline's estimate per count (NaN: not enough blocks or no such count).
  Agg block;
  std::vector<Disp> disp;           // beside ring, same slots
  std::array<double, kDispCounts> base_phi{};
};

struct RuleState {
  Alert alert;
  drift::Cusum cusum;  // with min_expected: on z against the trailing baseline (mu0 0, sigma0 1)
  int quiet = 0;      // cusum: windows since the last alarm
  Agg batch;          // cusum with min_expected: the windows pooled so far
  int applies = -1;   // whether the rule is evaluated on this slice (-1: not yet known)
};

// What one decision adds, worked out once for all its slices.
struct Prepared {
  bool disagrees = false;
  int latency_bin = 0;
  std::array<int, kMaxDriftSignals> score_bin{};  // -1: the signal is absent
  std::uint32_t patterns = 0;                     // bit i: pattern rule ordinal i matches
};

}  // namespace detail

struct AlertEngine::State {
  using Agg = detail::Agg;
  using Window = detail::Window;
  using SliceStats = detail::SliceStats;
  using RuleState = detail::RuleState;

  AlertsConfig cfg;
  Notify notify;
  std::vector<std::vector<bool>> pattern_codes;  // per rule: reason code value -> matches
  std::vector<int> pattern_ordinal;              // per rule: its pattern ordinal, or -1
  std::vector<std::string> drift_signals;        // signals of drift rules (histogram index)
  std::vector<int> signal_index;                 // per rule: index into drift_signals, or -1
  std::vector<std::vector<std::string>> dims;    // slice dimensions: {}, {flow_type}, {platform}, slice_by...
  std::vector<std::size_t> rule_dim;             // per rule: its dimension (slice_by), or SIZE_MAX
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> field_values;  // bounded per field
  std::vector<std::unique_ptr<SliceStats>> slices;
  std::map<std::string, std::size_t, std::less<>> slice_index;
  std::vector<std::vector<RuleState>> rule_states;  // [rule][slice]
  std::deque<Alert> resolved;
  std::int64_t open_window = std::numeric_limits<std::int64_t>::min();
  std::int64_t first_hour = std::numeric_limits<std::int64_t>::min();  // of the first window seen
  std::size_t keep_windows = 1;
  std::uint64_t evaluations = 0;
  std::string scratch_key;                      // Observe's slice key, reused
  std::vector<const Window*> scratch_windows;  // Evaluate's lookback windows, reused

  State(AlertsConfig c, Notify n) : cfg(std::move(c)), notify(std::move(n)) { Compile(); }

  // engine.cc
  void Compile();
  void AddSliceStates();
  std::size_t SliceFor(std::string_view key, std::size_t dim);
  std::string_view FieldValue(const Observation& o, const std::string& field);
  void Observe(const Observation& o);
  void Record(SliceStats& sl, const Observation& o, const detail::Prepared& p);
  void CloseWindow(std::int64_t next_window);
  void Roll(std::int64_t time_ms);

  // evaluate.cc
  double Dispersion(const AlertRule& rule, const SliceStats& base_of, std::size_t count_index) const;
  Agg Lookback(const SliceStats& sl, std::int64_t over_ms, unsigned parts, std::vector<const Window*>* windows) const;
  void RefreshBaseline(SliceStats& sl, std::int64_t now) const;
  double BaselinePerLookback(const SliceStats& sl, std::size_t windows) const;
  bool Applies(std::size_t r, const SliceStats& sl) const;
  // The baseline a young slice is compared with under the rule's fallback_baseline (all, parent).
  const SliceStats* Fallback(const AlertRule& rule, const SliceStats& sl, const SliceStats* all, std::int64_t now);
  std::vector<std::string> Evidence(Metric m, const std::vector<const Window*>& ws) const;
  void Evaluate(std::int64_t now);
  void Transition(const AlertRule& rule, RuleState& st, const SliceStats& sl, bool cond, std::int64_t now);
};

}  // namespace vigil::alerts
