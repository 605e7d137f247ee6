#include "metrics/decision_recorder.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "metrics/monitoring_events.h"
#include "metrics/slice_key.h"
#include "pipeline/engine.h"

namespace vigil {
namespace {

using namespace metrics_detail;  // NOLINT: the slice key (metrics/slice_key.h)

constexpr std::size_t kSets = 256;            // slice cache: sets (power of two) ...
constexpr std::size_t kWays = 8;              // ... of 8 slices each: 2,048 slices
constexpr std::size_t kMaxNamed = 64;         // stage / signal / reason series cached per slice
constexpr unsigned kCatalogueRefresh = 256;   // decisions between reads of the engine in force

double Seconds(double ms) { return ms / 1000.0; }

// Categories of the built-in codes, for when no catalogue is at hand (config/reasons.yaml agrees).
ReasonCategory BuiltinCategory(ReasonCode c) {
  auto v = static_cast<int>(c);
  if (v >= static_cast<int>(ReasonCode::kNoFace) && v <= static_cast<int>(ReasonCode::kLowResolution)) {
    return ReasonCategory::kQuality;
  }
  if (v >= static_cast<int>(ReasonCode::kVirtualCamera) && v <= static_cast<int>(ReasonCode::kDeviceIntegrity)) {
    return ReasonCategory::kSecurity;
  }
  return ReasonCategory::kPolicy;
}


// A histogram found by name (stage, signal), with its cells in the cache's thread.
struct alignas(64) NamedHistogram {
  NameKey name;
  HistogramCells cells;
};

}  // namespace

// Series that depend on the flow and model version only (9 of a decision's 14 histograms and
// counters in the benchmark), found by flow and model before the slice.
struct FlowSeries {
  NameKey flow, model;
  HistogramCells latency, disagreement;
  std::vector<NamedHistogram> stages;
  std::vector<NamedHistogram> scores;  // per signal, and "fusion"
};

// One slice. What a decision of the slice reads is contiguous from the entry's first line: its
// first reason, decisions and retries counters (one line), then the key's header and words (two
// more lines for the benchmark's slices: 16 words). The reviews counter and further reasons follow.
struct alignas(64) DecisionRecorder::Entry {
  struct Reason {
    CounterCell reasons;
    CounterCell by_category;  // quality rejections or security events; invalid for other categories
    ReasonCode code;
    ReasonCategory category;
  };

  Reason first;  // when reason_count > 0
  CounterCell decisions, retries;
  std::uint8_t reason_count = 0;  // reasons kept: `first`, then `more_reasons`
  bool versions_seen = false;     // both version gauges were found set (they are never unset)
  SliceKey key;
  CounterCell reviews;
  std::string long_key;              // when key.has_long
  std::vector<Reason> more_reasons;  // past the first, up to kMaxNamed in all

  const Reason* FindReason(ReasonCode code) const {
    if (reason_count == 0) return nullptr;
    if (first.code == code) return &first;
    for (const auto& r : more_reasons) {
      if (r.code == code) return &r;
    }
    return nullptr;
  }
  void AddReason(const Reason& r) {
    if (reason_count == 0) {
      first = r;
      reason_count = 1;
    } else if (more_reasons.size() + 1 < kMaxNamed) {
      more_reasons.push_back(r);
    }
  }
  void ClearReasons() {
    reason_count = 0;
    more_reasons.clear();
  }
};
static_assert(offsetof(DecisionRecorder::Entry, key) + 16 == 64, "the key's words from the second line");

struct DecisionRecorder::Cache {
  // One line a set: the tags (the hash's high half) of its 8 slices, which ways hold one, the
  // round-robin position and the set's entries (allocated with its first slice; an entry's address
  // does not wait on another load). 8 ways, so that slices a hash happens to crowd into one set
  // (256 slices over 256 sets leave about one set with 5 or more) do not evict each other in turn.
  struct alignas(64) Set {
    std::uint32_t tag[kWays] = {};
    std::unique_ptr<Entry[]> entries;
    std::uint8_t used = 0;  // bit w: way w holds a slice
    std::uint8_t next = 0;  // the way a new slice takes when all are in use (round robin)
  };
  Set sets[kSets];
  std::vector<std::unique_ptr<FlowSeries>> flows;  // at most kMaxNamed, replaced in turn past that
  std::size_t next_flow = 0;                       // the one replaced next
  FlowSeries* last_flow = nullptr;                 // the one used last
  std::shared_ptr<const DecisionEngine> engine;
  unsigned until_refresh = 0;
};
static_assert(sizeof(DecisionRecorder::Cache::Set) == 64);

namespace {

std::atomic<std::uint64_t> g_recorder_ids{0};
std::atomic<std::uint64_t> g_test_hash{0};

// The calling thread's caches, by recorder id. Owned by the thread (freed when it exits); a
// recorder destroyed before leaves its cache here until the thread exits or the slot is reused.
struct ThreadCaches {
  static constexpr std::size_t kPerThread = 4;
  struct Item {
    std::uint64_t recorder = 0;
    std::unique_ptr<DecisionRecorder::Cache> cache;
  };
  Item items[kPerThread];
  std::size_t next = 0;  // the slot a new cache takes
};

thread_local ThreadCaches tls_caches;

// The cache the calling thread used last, checked before the 4 slots. Only the slow path replaces
// a slot (destroying its cache), and it always points this at the cache it returns, so this never
// names a destroyed cache (recorder ids are never reused).
struct LastCache {
  std::uint64_t recorder = 0;
  DecisionRecorder::Cache* cache = nullptr;
};
thread_local LastCache tls_last_cache;

}  // namespace

void SetSliceHashForTests(std::uint64_t hash) { g_test_hash.store(hash, std::memory_order_relaxed); }

DecisionRecorder::DecisionRecorder(const DecisionFamilies& families, EngineFn engine)
    : f_(families), engine_fn_(std::move(engine)), id_(g_recorder_ids.fetch_add(1, std::memory_order_relaxed) + 1) {}

DecisionRecorder::~DecisionRecorder() = default;

DecisionRecorder::Cache& DecisionRecorder::ThreadCache() const {
  LastCache& last = tls_last_cache;
  if (last.recorder == id_) [[likely]] return *last.cache;
  return FindThreadCache();
}

DecisionRecorder::Cache& DecisionRecorder::FindThreadCache() const {
  ThreadCaches& t = tls_caches;
  ThreadCaches::Item* found = nullptr;
  for (auto& item : t.items) {
    if (item.recorder == id_) found = &item;
  }
  if (found == nullptr) {
    found = &t.items[t.next];
    t.next = (t.next + 1) % ThreadCaches::kPerThread;
    found->recorder = id_;
    found->cache = std::make_unique<Cache>();
  }
  tls_last_cache = {id_, found->cache.get()};
  return *found->cache;
}

namespace {

// Runs `fn` out of line: series resolution is rare, and kept inline it would make every call set
// up the label arrays of all its Get calls.
template <typename Fn>
[[gnu::noinline, gnu::cold]] auto Cold(Fn fn) {
  return fn();
}

// The flow's series: the ones used last, else found by flow and model, else made (replacing the
// flows kept in turn once kMaxNamed are). Nothing else points at a FlowSeries.
[[gnu::noinline]] FlowSeries& FindFlow(DecisionRecorder::Cache& c, std::string_view flow, std::string_view model) {
  FlowSeries* found = nullptr;
  for (const auto& fl : c.flows) {
    if (fl->flow.Matches(flow) && fl->model.Matches(model)) found = fl.get();
  }
  if (found == nullptr) {
    auto fresh = std::make_unique<FlowSeries>();
    fresh->flow = NameKey(flow);
    fresh->model = NameKey(model);
    if (c.flows.size() < kMaxNamed) {
      c.flows.push_back(std::move(fresh));
      found = c.flows.back().get();
    } else {
      c.flows[c.next_flow] = std::move(fresh);
      found = c.flows[c.next_flow].get();
      c.next_flow = (c.next_flow + 1) % kMaxNamed;
    }
  }
  c.last_flow = found;
  return *found;
}

[[gnu::always_inline]] inline FlowSeries& FlowOf(DecisionRecorder::Cache& c, std::string_view flow,
                                                  std::string_view model) {
  FlowSeries* fs = c.last_flow;
  if (fs != nullptr && fs->flow.Matches(flow) && fs->model.Matches(model)) [[likely]] return *fs;
  return FindFlow(c, flow, model);
}

// Observes `v` in the histogram of `cache` named `name`, else in the series of `family` labelled
// `labels` (kept in `cache` from then on): a name seen for the first time, or out of the order of
// the last decision.
[[gnu::noinline, gnu::cold]] void ObserveNamedSlow(std::vector<NamedHistogram>& cache, Family<Histogram>* family,
                                                   std::span<const std::string_view> labels, std::string_view name,
                                                   double v) {
  for (const auto& n : cache) {
    if (n.name.Matches(name)) return n.cells.Observe(v);
  }
  const HistogramCells cells = family->Get(labels).ThreadCells();
  if (cache.size() < kMaxNamed) cache.push_back({NameKey(name), cells});
  cells.Observe(v);
}

// The histograms of the flow: whole latency, stage latencies, signal and fused scores,
// disagreement (resolving the series `fs` does not hold yet, with their cells in this thread).
// Names are looked for at the position they had in the last decision; the slow path (no closure
// built on the hot path) finds or resolves the others.
void ApplyFlow(const DecisionFamilies& f, FlowSeries& fs, const DecisionEvent& ev) {
  const Decision& d = ev.decision;
  const std::string_view flow = ev.request.flow_type;  // the labels, for the cold paths
  if (!fs.latency.valid()) Cold([&] { fs.latency = f.latency->Get({flow}).ThreadCells(); });
  fs.latency.Observe(Seconds(ev.latency_ms));
  std::size_t i = 0;
  for (const auto& t : ev.timings) {
    if (IsName(t.stage, "total")) continue;
    const double v = Seconds(t.ms);
    if (i < fs.stages.size() && fs.stages[i].name.Matches(t.stage)) [[likely]] {
      fs.stages[i].cells.Observe(v);
    } else {
      const std::string_view labels[] = {flow, t.stage};
      ObserveNamedSlow(fs.stages, f.stage_latency, labels, t.stage, v);
    }
    ++i;
  }
  i = 0;
  for (const auto& sc : d.fusion.signals) {
    if (!sc.present) continue;
    if (i < fs.scores.size() && fs.scores[i].name.Matches(sc.name)) [[likely]] {
      fs.scores[i].cells.Observe(sc.calibrated);
    } else {
      const std::string_view labels[] = {flow, sc.name, OrNone(d.model_version)};
      ObserveNamedSlow(fs.scores, f.scores, labels, sc.name, sc.calibrated);
    }
    ++i;
  }
  if (d.fusion.has_score) {
    if (i < fs.scores.size() && fs.scores[i].name.Matches("fusion")) [[likely]] {
      fs.scores[i].cells.Observe(d.fusion.score);
    } else {
      const std::string_view labels[] = {flow, "fusion", OrNone(d.model_version)};
      ObserveNamedSlow(fs.scores, f.scores, labels, "fusion", d.fusion.score);
    }
  }
  if (d.fusion.signals.size() >= 2) {
    if (!fs.disagreement.valid()) {
      Cold([&] { fs.disagreement = f.disagreement->Get({flow, OrNone(d.model_version)}).ThreadCells(); });
    }
    fs.disagreement.Observe(d.fusion.disagreement);
  }
}

// The counters of the slice: decisions, reasons (and quality rejections or security events),
// security signals, retries, reviews, the spoof-acceptance proxy, the version markers (resolving
// the series `e` does not hold yet).
void ApplySlice(const DecisionFamilies& f, DecisionRecorder::Entry& e, const Slice& raw, const DecisionEvent& ev,
                const ReasonCatalogue* cat) {
  const DecisionRequest& req = ev.request;
  const Decision& d = ev.decision;
  // The label values, worked out only when a series is resolved (in the cold lambdas: kept out of
  // the hot path, where an optional<Slice> cost a 168-byte `rep stos` per decision).
  auto L = [&raw]() { return Labelled(raw); };
  if (!e.decisions.valid()) {
    Cold([&] {
      e.decisions = f.decisions
                        ->Get({L().flow, L().platform, L().device, L().browser, L().sdk, L().app, L().model,
                               L().policy, L().outcome, L().band})
                        .ThreadCell();
    });
  }
  e.decisions.Inc();

  bool security_reason = false;
  for (const auto& r : d.reasons) {
    const DecisionRecorder::Entry::Reason* hit = e.FindReason(r.code);
    DecisionRecorder::Entry::Reason fresh;  // filled only on a miss (no zeroing on the hot path)
    if (hit == nullptr) {
      Cold([&] {
        std::string_view code = BuiltinReasonName(r.code);
        ReasonCategory category = BuiltinCategory(r.code);
        if (cat != nullptr && static_cast<std::size_t>(r.code) < cat->all().size()) {
          const ReasonInfo& info = cat->Info(r.code);
          if (code.empty()) code = info.name;
          category = info.category;
        }
        fresh.code = r.code;
        fresh.category = category;
        fresh.reasons = f.reasons->Get({L().flow, code, CategoryName(category)}).ThreadCell();
        if (category == ReasonCategory::kQuality) {
          fresh.by_category = f.quality_rejections->Get({L().flow, L().platform, L().sdk, code}).ThreadCell();
        } else if (category == ReasonCategory::kSecurity) {
          fresh.by_category = f.security_events->Get({L().flow, L().platform, code}).ThreadCell();
        }
        e.AddReason(fresh);
      });
      hit = &fresh;
    }
    hit->reasons.Inc();
    if (hit->by_category.valid()) hit->by_category.Inc();
    if (hit->category == ReasonCategory::kSecurity || r.code == ReasonCode::kScreenReplaySuspected ||
        r.code == ReasonCode::kChallengeFailed || r.code == ReasonCode::kLowLivenessScore ||
        r.code == ReasonCode::kHighFraudScore) {
      security_reason = true;
    }
  }
  bool security_flag = false;
  for (const auto& a : req.security.items()) {
    if (a.kind != Value::Kind::kBool) continue;
    const bool integrity = IsName(a.name, "device_integrity");
    if (a.boolean != integrity) {  // a raised signal, or device integrity false
      Cold([&] { f.security_signals->Get({L().flow, a.name}).Inc(); });
      security_flag = true;
    }
  }
  if (d.outcome == Outcome::kRetry) {
    if (!e.retries.valid()) {
      Cold([&] { e.retries = f.retries->Get({L().flow, L().platform, L().browser, L().sdk}).ThreadCell(); });
    }
    e.retries.Inc();
  }
  if (d.outcome == Outcome::kReview) {
    if (!e.reviews.valid()) Cold([&] { e.reviews = f.reviews->Get({L().flow}).ThreadCell(); });
    e.reviews.Inc();
  }
  if (d.outcome == Outcome::kPass &&
      (security_reason || security_flag || (d.band != DecisionBand::kPass && d.band != DecisionBand::kNone))) {
    Cold([&] { f.spoof_proxy->Get({L().flow, OrNone(req.context.GetString("country"))}).Inc(); });
  }
  // The first time each version is seen (the gauges are set once and never unset).
  if (!e.versions_seen) {
    Cold([&] {
      bool all_set = true;
      for (Gauge* g : {&f.version_first_seen->Get({"model", L().model}), &f.version_first_seen->Get({"policy", L().policy})}) {
        if (g->Value() == 0.0) g->Set(static_cast<double>(ev.time_ms) / 1000.0);
        all_set = all_set && g->Value() != 0.0;
      }
      e.versions_seen = all_set;
    });
  }
}

// Ways of `set` whose tag is `tag` (bit w for way w), in a few vector instructions.
[[gnu::always_inline]] inline unsigned MatchingWays(const DecisionRecorder::Cache::Set& set, std::uint32_t tag) {
#if defined(__SSE2__)
  const __m128i t = _mm_set1_epi32(static_cast<int>(tag));
  const __m128i lo = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(&set.tag[0])), t);
  const __m128i hi = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(&set.tag[4])), t);
  const __m128i bytes = _mm_packs_epi16(_mm_packs_epi32(lo, hi), _mm_setzero_si128());
  return static_cast<unsigned>(_mm_movemask_epi8(bytes));
#else
  unsigned m = 0;
  for (std::size_t w = 0; w < kWays; ++w) m |= static_cast<unsigned>(set.tag[w] == tag) << w;
  return m;
#endif
}

// A new slice's entry in `set`: a free way, else the next one in turn (its slice is forgotten).
DecisionRecorder::Entry& NewEntry(DecisionRecorder::Cache::Set& set, std::uint32_t tag, const SliceKey& key,
                                  const std::string_view (&values)[kValues]) {
  if (!set.entries) set.entries = std::make_unique<DecisionRecorder::Entry[]>(kWays);
  const unsigned free_ways = ~static_cast<unsigned>(set.used) & ((1u << kWays) - 1);
  std::size_t way = 0;
  if (free_ways != 0) {
    way = static_cast<std::size_t>(std::countr_zero(free_ways));
  } else {
    way = set.next;
    set.next = static_cast<std::uint8_t>((set.next + 1) % kWays);
  }
  DecisionRecorder::Entry& e = set.entries[way];
  e = DecisionRecorder::Entry{};
  e.key = key;
  if (key.has_long) e.long_key = LongKey(values);
  set.tag[way] = tag;
  set.used = static_cast<std::uint8_t>(set.used | (1u << way));
  return e;
}

}  // namespace

void DecisionRecorder::Record(const DecisionEvent& ev, EventWriter* events) {
  Cache& c = ThreadCache();
  if (engine_fn_ && c.until_refresh-- == 0) {
    c.until_refresh = kCatalogueRefresh - 1;
    auto now = engine_fn_();
    if (now != c.engine) {
      c.engine = std::move(now);
      for (auto& set : c.sets) {
        for (std::size_t w = 0; w < kWays; ++w) {
          if (set.used & (1u << w)) set.entries[w].ClearReasons();  // categories and names may have changed
        }
      }
    }
  }
  // The slice's entry first: its lookup waits on loads that are often cache misses (the request's
  // context, filled on another thread; the set and the entry). The flow's histograms do not depend
  // on it, so the core updates them while those loads are in flight; the slice's counters last.
  const Slice s = SliceOf(ev);
  const std::string_view values[kValues] = {s.flow, s.platform, s.device, s.browser, s.sdk,
                                            s.app,  s.model,    s.policy, s.outcome, s.band};
  SliceKey key;
  std::uint64_t hash = key.Build(values);
  if (const std::uint64_t forced = g_test_hash.load(std::memory_order_relaxed); forced != 0) [[unlikely]] {
    hash = forced;
  }
  Cache::Set& set = c.sets[hash & (kSets - 1)];
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  Entry* slot = nullptr;
  for (unsigned m = MatchingWays(set, tag) & set.used; m != 0; m &= m - 1) {
    Entry& e = set.entries[std::countr_zero(m)];
    if (e.key.SameWords(key) && (!key.has_long || LongKeyEquals(e.long_key, values))) [[likely]] {
      slot = &e;
      break;
    }
  }
  if (slot == nullptr) {
    slot = Cold([&] { return &NewEntry(set, tag, key, values); });
    misses_.fetch_add(1, std::memory_order_relaxed);
  }
  ApplyFlow(f_, FlowOf(c, ev.request.flow_type, ev.decision.model_version), ev);
  const ReasonCatalogue* catalogue = c.engine ? &c.engine->catalogue() : nullptr;
  ApplySlice(f_, *slot, s, ev, catalogue);
  if (events != nullptr && events->enabled()) events->Push(BuildMonitoringEvent(ev, catalogue));
}

}  // namespace vigil
