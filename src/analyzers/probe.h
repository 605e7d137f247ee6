// Probe patterns (card testing): bursts of tiny amounts or of declines on one card (or, without a
// card, one account). An event is a probe when its amount is at most `small_amount_max`, or the
// context says `declined: true`, or its action is "payment_declined". PROBE_PATTERN is raised when
// `min_events` probes (this one included) fall within the last `window_minutes` (one-minute
// buckets: the window covers the current minute and the window_minutes - 1 before it).
// Memory: at most `max_entities` cards or accounts (about 200 bytes each).
// Thread-safety: Observe may run concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "analyzers/sharded_lru.h"
#include "core/decision.h"
#include "core/value.h"

namespace vigil::analyzers {

struct ProbeConfig {
  bool enabled = true;
  double small_amount_max = 2.0;
  int window_minutes = 10;  // at most kMaxWindow
  int min_events = 5;
  std::size_t max_entities = 65536;
};

struct ProbeCounters {
  std::atomic<std::uint64_t> probes{0};
  std::atomic<std::uint64_t> findings{0};
};

class ProbeAnalyzer {
 public:
  static constexpr int kMaxWindow = 30;
  explicit ProbeAnalyzer(std::size_t max_entities) : store_(max_entities) {}

  void Observe(const ProbeConfig& cfg, const AttributeMap& context, std::int64_t time_ms, double* outputs,
               std::vector<Finding>& findings);
  const ProbeCounters& counters() const { return counters_; }

 private:
  struct State {
    std::int64_t head = 0;
    bool used = false;
    std::array<std::uint16_t, kMaxWindow> count{};
  };
  ShardedLru<State> store_;
  ProbeCounters counters_;
};

}  // namespace vigil::analyzers
