// DecisionRecorder: what MetricsModule records for each durable decision, with the series
// resolved once per slice and kept.
//
// A decision's slice is its raw label values (flow type, platform, device class, browser family,
// SDK and app versions, model and policy versions, outcome, band). The first decision of a slice
// resolves its series in the families (lock-free lookups; the family's own lock the first time a
// label set is seen) and keeps, in the slice's entry, handles on the series' cells in the calling
// thread (Counter::ThreadCell, Histogram::ThreadCells); the next ones find the entry in an 8-way
// set-associative cache of 2,048 slices keyed by a hash of the values read as exact 64-bit words
// (metrics/slice_key.h), compare those words, and only update cells (a plain load and store
// each). The flow's histograms (latency, stages, scores, disagreement) hang off a per-flow-and-model
// record found by those two names, stage and signal histograms in it by name (in the order they
// came last time); reasons hang off the slice entry. The cache is bounded whatever clients send:
// a slice arriving in a full set replaces one of its 8 slices in turn.
//
// Threading: Record may be called from any thread. Each thread has its own cache (thread-local,
// no lock, no atomic read-modify-write), whose handles point at the series' cells in that thread
// (metrics/cells.h), so an update is a plain load and store. A thread keeps the caches of its last
// 4 recorders. The reason catalogue (categories, names of configured codes) is the engine's,
// re-read every 256 decisions by each cache, so after a reload the old categories serve at most
// 256 decisions a thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "metrics/metrics.h"
#include "server/module.h"

namespace vigil {

class EventWriter;
class ReasonCatalogue;

struct DecisionFamilies {
  Family<Counter>* decisions = nullptr;
  Family<Histogram>* latency = nullptr;
  Family<Histogram>* stage_latency = nullptr;
  Family<Histogram>* scores = nullptr;
  Family<Histogram>* disagreement = nullptr;
  Family<Counter>* reasons = nullptr;
  Family<Counter>* quality_rejections = nullptr;
  Family<Counter>* security_events = nullptr;
  Family<Counter>* security_signals = nullptr;
  Family<Counter>* retries = nullptr;
  Family<Counter>* reviews = nullptr;
  Family<Counter>* spoof_proxy = nullptr;
  Family<Counter>* problems = nullptr;
  Family<Gauge>* version_first_seen = nullptr;
  Counter* events_written = nullptr;
  Counter* events_dropped = nullptr;
};

// Tests only: when non-zero, every slice hashes to `hash` (one cache set, one hash word), so only
// the comparison of the values tells slices apart. 0 (the default) restores the real hash.
void SetSliceHashForTests(std::uint64_t hash);

class DecisionRecorder {
 public:
  using EngineFn = std::function<std::shared_ptr<const DecisionEngine>()>;
  // `families` must outlive the recorder; `engine` may be empty (built-in reason categories).
  DecisionRecorder(const DecisionFamilies& families, EngineFn engine);
  ~DecisionRecorder();
  DecisionRecorder(const DecisionRecorder&) = delete;
  DecisionRecorder& operator=(const DecisionRecorder&) = delete;

  // Updates every series of one decision; queues its monitoring event on `events` when that is
  // non-null and enabled.
  void Record(const DecisionEvent& ev, EventWriter* events);

  // Slices resolved so far (cache misses), for tests.
  std::uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

  struct Entry;
  struct Cache;

 private:
  Cache& ThreadCache() const;      // the last one used by this thread, else FindThreadCache
  [[gnu::noinline]] Cache& FindThreadCache() const;

  const DecisionFamilies& f_;
  EngineFn engine_fn_;
  const std::uint64_t id_;  // unique in the process: names this recorder's thread caches
  std::atomic<std::uint64_t> misses_{0};
};

}  // namespace vigil
