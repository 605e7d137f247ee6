// Session analysis over the events of one session (context.session_id):
//   IMPOSSIBLE_TRANSITION  the move from the previous action to this one has a probability below
//                          `min_transition_probability` in the fitted Markov chain (markov.h);
//                          an action the chain never saw is not judged (counted as unknown);
//   BEHAVIOR_SPIKE         the session's action rate over its last 16 events is above the
//                          baseline mean + `spike_sigmas` standard deviations, or this action's
//                          share of the session is above its stationary share n*pi by more than
//                          `spike_sigmas` binomial standard deviations;
//   FINGERPRINT_DRIFT      the device fingerprint (context.device_fingerprint, else device_id)
//                          changes inside the session;
//   AUTOMATION_SIGNATURE   the last intervals between events are too regular (coefficient of
//                          variation below `automation_max_cv`), as a script's timer is.
// A session idle for longer than `session_ttl_minutes` starts afresh. A one-event session gives
// no transition, rate or interval (those outputs stay NaN).
// Memory: at most `max_sessions` sessions (about 300 bytes each; one not seen lately evicted: CLOCK, see sharded_lru.h).
// Thread-safety: Observe may run concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "analyzers/markov.h"
#include "analyzers/sharded_lru.h"
#include "core/decision.h"
#include "core/value.h"

namespace vigil::analyzers {

struct SessionConfig {
  bool enabled = true;
  std::string model;  // trajectory model file (relative to the config directory)
  double min_transition_probability = 0.002;
  double spike_sigmas = 3.0;
  int min_events_for_rate = 5;
  int min_events_for_mix = 10;
  int automation_min_intervals = 6;
  double automation_max_cv = 0.05;
  double session_ttl_minutes = 60;
  std::size_t max_sessions = 131072;
};

struct SessionCounters {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> unknown_actions{0};
  std::atomic<std::uint64_t> findings{0};
};

class SessionAnalyzer {
 public:
  explicit SessionAnalyzer(std::size_t max_sessions) : store_(max_sessions) {}

  // `model` may be null (no fitted chain: transitions and spikes are not judged).
  void Observe(const SessionConfig& cfg, const MarkovModel* model, const AttributeMap& context, std::int64_t time_ms,
               double* outputs, std::vector<Finding>& findings);

  const SessionCounters& counters() const { return counters_; }
  std::size_t sessions() const { return store_.size(); }
  std::uint64_t evictions() const { return store_.evictions(); }

  static constexpr int kMaxActions = 32;  // per-action counts kept for the first 32 model actions
  static constexpr int kRecent = 16;
  static constexpr int kIntervals = 8;

 private:
  struct State {
    std::int64_t last_ms = 0;
    std::uint32_t events = 0;
    std::int16_t last_action = -1;  // -1: none or unknown
    std::uint16_t fingerprint_changes = 0;
    std::uint64_t fingerprint = 0;
    std::array<std::int64_t, kRecent> recent{};  // event times, ring
    std::array<double, kIntervals> intervals{};  // ms, ring
    std::uint32_t n_intervals = 0;
    std::array<std::uint16_t, kMaxActions> action_counts{};
  };
  ShardedLru<State> store_;
  SessionCounters counters_;
};

}  // namespace vigil::analyzers
