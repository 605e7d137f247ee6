#include "metrics/decision_recorder.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

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
  std::string name;
  HistogramCells cells;
};

// The entry in `v` named `name`, looked for first at `hint` (names come in the same order
// decision after decision).
[[gnu::always_inline]] inline const NamedHistogram* FindNamed(const std::vector<NamedHistogram>& v, std::size_t hint,
                                                              std::string_view name) {
  const NamedHistogram* begin = std::to_address(v.begin());
  const NamedHistogram* end = std::to_address(v.end());
  if (begin + hint < end && SameName(begin[hint].name, name)) return begin + hint;
  for (const NamedHistogram* n = begin; n != end; ++n) {
    if (SameName(n->name, name)) return n;
  }
  return nullptr;
}

}  // namespace

// Series that depend on the flow and model version only (9 of a decision's 14 histograms and
// counters in the benchmark), found by flow and model before the slice.
struct FlowSeries {
  std::string flow, model;
  HistogramCells latency, disagreement;
  std::vector<NamedHistogram> stages;
  std::vector<NamedHistogram> scores;  // per signal, and "fusion"
};

// One slice.
struct alignas(64) DecisionRecorder::Entry {
  struct Reason {
    ReasonCode code;
    ReasonCategory category;
    CounterCell reasons;
    CounterCell by_category;  // quality rejections or security events; invalid for other categories
  };
  static constexpr std::size_t kInlineReasons = 2;

  // What a decision of the slice reads, contiguous from the entry's first line: its counters,
  // the first reasons, the key's header and words (four lines for the benchmark's slices).
  CounterCell decisions, retries, reviews;
  bool versions_seen = false;  // both version gauges were found set (they are never unset)
  std::uint8_t inline_reasons = 0;
  Reason first_reasons[kInlineReasons];
  SliceKey key;
  std::string long_key;  // when key.has_long
  std::vector<Reason> more_reasons;  // past kInlineReasons, up to kMaxNamed in all

  const Reason* FindReason(ReasonCode code) const {
    for (std::uint8_t i = 0; i < inline_reasons; ++i) {
      if (first_reasons[i].code == code) return &first_reasons[i];
    }
    for (const auto& r : more_reasons) {
      if (r.code == code) return &r;
    }
    return nullptr;
  }
  void AddReason(const Reason& r) {
    if (inline_reasons < kInlineReasons) {
      first_reasons[inline_reasons++] = r;
    } else if (more_reasons.size() + kInlineReasons < kMaxNamed) {
      more_reasons.push_back(r);
    }
  }
  void ClearReasons() {
    inline_reasons = 0;
    more_reasons.clear();
  }
};

struct DecisionRecorder::Cache {
  // Two adjacent lines: the tags (the hash's high half) and the round-robin position, then the
  // entries. 8 ways, so that slices a hash happens to crowd into one set (256 slices over 256 sets
  // leave about one set with 5 or more) do not evict each other in turn.
  struct alignas(128) Set {
    std::uint32_t tag[kWays] = {};
    std::uint8_t next = 0;  // the way a new slice takes when all are in use (round robin)
    alignas(64) std::unique_ptr<Entry> entry[kWays];
  };
  Set sets[kSets];
  std::vector<std::unique_ptr<FlowSeries>> flows;  // at most kMaxNamed, replaced in turn past that
  std::size_t next_flow = 0;                       // the one replaced next
  FlowSeries* last_flow = nullptr;                 // the one used last
  std::shared_ptr<const DecisionEngine> engine;
  unsigned until_refresh = 0;
};

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
    if (fl->flow == flow && fl->model == model) found = fl.get();
  }
  if (found == nullptr) {
    auto fresh = std::make_unique<FlowSeries>();
    fresh->flow = flow;
    fresh->model = model;
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
  if (fs != nullptr && SameName(fs->flow, flow) && SameName(fs->model, model)) [[likely]] return *fs;
  return FindFlow(c, flow, model);
}

// The histograms of the flow: whole latency, stage latencies, signal and fused scores,
// disagreement (resolving the series `fs` does not hold yet, with their cells in this thread).
void ApplyFlow(const DecisionFamilies& f, FlowSeries& fs, const DecisionEvent& ev) {
  const Decision& d = ev.decision;
  const std::string_view flow = ev.request.flow_type;  // the labels, for the cold lambdas
  auto model = [&d] { return OrNone(d.model_version); };
  if (!fs.latency.valid()) Cold([&] { fs.latency = f.latency->Get({flow}).ThreadCells(); });
  fs.latency.Observe(Seconds(ev.latency_ms));
  // Observes `v` in the histogram named `name` in `cache`, resolved by `get` the first time.
  auto named = [](std::vector<NamedHistogram>& cache, std::size_t hint, std::string_view name, double v, auto get) {
    if (const NamedHistogram* n = FindNamed(cache, hint, name)) return n->cells.Observe(v);
    Histogram* h = Cold(get);
    HistogramCells cells = h->ThreadCells();
    if (cache.size() < kMaxNamed) cache.push_back({std::string(name), cells});
    cells.Observe(v);
  };
  std::size_t i = 0;
  for (const auto& t : ev.timings) {
    if (IsName(t.stage, "total")) continue;
    named(fs.stages, i++, t.stage, Seconds(t.ms), [&] { return &f.stage_latency->Get({flow, t.stage}); });
  }
  i = 0;
  for (const auto& sc : d.fusion.signals) {
    if (!sc.present) continue;
    named(fs.scores, i++, sc.name, sc.calibrated, [&] { return &f.scores->Get({flow, sc.name, model()}); });
  }
  if (d.fusion.has_score) {
    named(fs.scores, i, "fusion", d.fusion.score, [&] { return &f.scores->Get({flow, "fusion", model()}); });
  }
  if (d.fusion.signals.size() >= 2) {
    if (!fs.disagreement.valid()) {
      Cold([&] { fs.disagreement = f.disagreement->Get({flow, model()}).ThreadCells(); });
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

}  // namespace

void DecisionRecorder::Record(const DecisionEvent& ev, EventWriter* events) {
  Cache& c = ThreadCache();
  if (engine_fn_ && c.until_refresh-- == 0) {
    c.until_refresh = kCatalogueRefresh - 1;
    auto now = engine_fn_();
    if (now != c.engine) {
      c.engine = std::move(now);
      for (auto& set : c.sets) {
        for (auto& entry : set.entry) {
          if (entry) entry->ClearReasons();  // categories and names may have changed
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
  for (std::size_t w = 0; w < kWays; ++w) {
    if (set.tag[w] == tag && set.entry[w] && set.entry[w]->key.SameWords(key) &&
        (!key.has_long || LongKeyEquals(set.entry[w]->long_key, values))) {
      slot = set.entry[w].get();
      break;
    }
  }
  if (slot == nullptr) {
    std::size_t way = kWays;
    for (std::size_t w = 0; w < kWays && way == kWays; ++w) {
      if (!set.entry[w]) way = w;
    }
    if (way == kWays) {
      way = set.next;
      set.next = static_cast<std::uint8_t>((set.next + 1) % kWays);
    }
    if (set.entry[way]) {
      *set.entry[way] = Entry{};
    } else {
      set.entry[way] = std::make_unique<Entry>();
    }
    slot = set.entry[way].get();
    set.tag[way] = tag;
    slot->key = key;
    if (key.has_long) slot->long_key = LongKey(values);
    misses_.fetch_add(1, std::memory_order_relaxed);
  }
  ApplyFlow(f_, FlowOf(c, ev.request.flow_type, ev.decision.model_version), ev);
  const ReasonCatalogue* catalogue = c.engine ? &c.engine->catalogue() : nullptr;
  ApplySlice(f_, *slot, s, ev, catalogue);
  if (events != nullptr && events->enabled()) events->Push(BuildMonitoringEvent(ev, catalogue));
}

}  // namespace vigil
