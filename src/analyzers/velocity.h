// Velocity: how many events and how much money each entity (account, card, device, IP) moved in
// the last minute, hour and day, and VELOCITY_ANOMALY when a configured limit is exceeded.
//
// Windows slide in buckets: 1 min = 12 buckets of 5 s, 1 h = 12 of 5 min, 24 h = 24 of 1 h. An
// event at time t falls in bucket floor(t / width); a window counts the bucket of the newest event
// seen for the entity and the n-1 before it, so "1 min" covers between 55 and 60 seconds. Each
// event costs O(1): at most 48 bucket updates, no allocation once an entity exists. An event
// older than its window (out of order) is not counted.
// Memory: at most `max_entities` entities over all four kinds (one not seen lately evicted first: CLOCK, see sharded_lru.h);
// about 650 bytes each, so the default 65,536 is about 43 MB.
// Event time is the request's (time_ms), so simulated clocks replay exactly.
// Thread-safety: Observe may run concurrently (sharded locks, see sharded_lru.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "analyzers/features.h"
#include "analyzers/sharded_lru.h"
#include "core/decision.h"
#include "core/value.h"

namespace vigil::analyzers {

struct VelocityLimits {
  // 0 = no limit. Indexed [window]: counts include the current event; amounts are sums of
  // context.amount.
  std::array<double, kWindowCount> count{};
  std::array<double, kWindowCount> amount{};
};

struct VelocityConfig {
  bool enabled = true;
  std::size_t max_entities = 65536;
  std::array<VelocityLimits, kEntityCount> limits{};
};

struct VelocityCounters {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> findings{0};
};

class VelocityAnalyzer {
 public:
  explicit VelocityAnalyzer(std::size_t max_entities) : store_(max_entities) {}

  // Records one event at `time_ms` (amount NaN counts as 0) for every entity the context names,
  // writes the windows' counts and sums (this event included) to `outputs` (features.h indices;
  // entities absent from the context stay NaN) and appends a VELOCITY_ANOMALY finding when a
  // limit of `cfg` is exceeded.
  void Observe(const VelocityConfig& cfg, const AttributeMap& context, std::int64_t time_ms, double* outputs,
               std::vector<Finding>& findings);

  const VelocityCounters& counters() const { return counters_; }
  std::size_t entities() const { return store_.size(); }
  std::uint64_t evictions() const { return store_.evictions(); }
  std::size_t capacity() const { return store_.capacity(); }

  struct Window {
    std::int64_t width_ms;
    int buckets;
    int offset;
  };
  static constexpr std::array<Window, kWindowCount> kWindows = {{{5'000, 12, 0}, {300'000, 12, 12}, {3'600'000, 24, 24}}};
  static constexpr int kBuckets = 48;

  struct State {
    std::array<std::int64_t, kWindowCount> head{};  // newest bucket index per window
    bool used = false;
    std::array<std::uint32_t, kBuckets> count{};
    std::array<double, kBuckets> sum{};
  };
  // One event into a state, then the windows' totals (exposed for tests).
  static void Add(State& s, std::int64_t time_ms, double amount);
  static void Totals(const State& s, std::array<double, kWindowCount>& count, std::array<double, kWindowCount>& sum);

 private:
  ShardedLru<State> store_;
  VelocityCounters counters_;
};

}  // namespace vigil::analyzers
