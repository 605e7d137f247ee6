#include "metrics/decision_recorder.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

#include "metrics/monitoring_events.h"
#include "pipeline/engine.h"

namespace vigil {
namespace {

constexpr std::size_t kSets = 256;            // slice cache: sets (power of two) ...
constexpr std::size_t kWays = 4;              // ... of 4 slices each: 1,024 slices
constexpr std::size_t kMaxNamed = 64;         // stage / signal / reason series cached per slice
constexpr unsigned kCatalogueRefresh = 256;   // decisions between reads of the engine in force

double Seconds(double ms) { return ms / 1000.0; }

std::string_view OrNone(std::string_view v) { return v.empty() ? std::string_view("none") : v; }

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

// The raw label values of one decision (views into the event).
struct Slice {
  std::string_view flow, platform, device, browser, sdk, app, model, policy, outcome, band;
};

// Whether `n` is the name `lit` (a literal: the comparison is a load or two).
template <std::size_t N>
bool IsName(std::string_view n, const char (&lit)[N]) {
  return n.size() == N - 1 && std::memcmp(n.data(), lit, N - 1) == 0;
}

// The raw values (missing ones empty): what the slice cache is keyed by.
Slice SliceOf(const DecisionEvent& ev) {
  const Decision& d = ev.decision;
  Slice s{ev.request.flow_type, {}, {}, {}, {}, {}, d.model_version, d.policy_version, d.outcome_name, d.band_name};
  // One pass over the context (names are unique in an AttributeMap), until the 5 are found.
  int found = 0;
  for (const auto& a : ev.request.context.items()) {
    if (a.kind != Value::Kind::kString) continue;
    const std::string_view n = a.name;
    std::string_view* into = nullptr;
    switch (n.size()) {
      case 8: into = IsName(n, "platform") ? &s.platform : nullptr; break;
      case 11: into = IsName(n, "sdk_version") ? &s.sdk : IsName(n, "app_version") ? &s.app : nullptr; break;
      case 12: into = IsName(n, "device_class") ? &s.device : nullptr; break;
      case 14: into = IsName(n, "browser_family") ? &s.browser : nullptr; break;
      default: break;
    }
    if (into != nullptr) {
      *into = a.text;
      if (++found == 5) break;
    }
  }
  return s;
}

// The label values: missing ones are "none".
Slice Labelled(const Slice& raw) {
  Slice s = raw;
  for (std::string_view* v : {&s.platform, &s.device, &s.browser, &s.sdk, &s.app, &s.model, &s.policy}) *v = OrNone(*v);
  return s;
}

// Whether the n bytes at a and b are equal (both at least n long): overlapping word loads cover
// values of up to 32 bytes without a call.
[[gnu::always_inline]] inline bool SameBytes(const char* a, const char* b, std::size_t n) {
  auto load8 = [](const char* p) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    return x;
  };
  if (n >= 8) {
    if (n > 32) return std::memcmp(a, b, n) == 0;
    std::uint64_t diff = (load8(a) ^ load8(b)) | (load8(a + n - 8) ^ load8(b + n - 8));
    if (n > 16) diff |= (load8(a + 8) ^ load8(b + 8)) | (load8(a + n - 16) ^ load8(b + n - 16));
    return diff == 0;
  }
  if (n >= 4) {
    std::uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, a, 4);
    std::memcpy(&y0, b, 4);
    std::memcpy(&x1, a + n - 4, 4);
    std::memcpy(&y1, b + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

[[gnu::always_inline]] inline bool SameName(const std::string& name, std::string_view v) {
  return name.size() == v.size() && SameBytes(name.data(), v.data(), v.size());
}

// A slice's values as 64-bit words that encode them exactly given their lengths: a value of 1 to 3
// bytes is its first, middle and last bytes; of 4 to 8 bytes, two overlapping 4-byte loads; of 9
// to 16, two overlapping 8-byte loads; of 17 to 24, three. One to three loads a value, compared
// word by word (with the lengths); the slice hash is taken from the same words. A value over 24
// bytes (rare: it folds into "other" past a label's max_len anyway) gives its first 16 and last 8
// bytes as words, and the key is also kept whole (`long_key`, each value after its 4-byte length)
// and compared byte by byte.
constexpr std::size_t kValues = 10;
constexpr std::size_t kKeyWords = 3 * kValues;

struct SliceKey {
  std::uint32_t len[kValues];
  std::uint32_t words = 0;
  bool has_long = false;  // some value is over 24 bytes: `long_key` decides
  std::uint64_t w[kKeyWords];

  // Fills the key from `v` and returns the slice hash: one independent multiply per value (of its
  // words folded into one and its length; distinct odd constants by position), then a final mix.
  [[gnu::always_inline]] inline std::uint64_t Build(const std::string_view (&v)[kValues]) {
    static constexpr std::uint64_t kMul[kValues] = {
        0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull, 0xd6e8feb86659fd93ull,
        0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull,
        0x1d8e4e27c47d124full, 0xc2b2ae3d27d4eb4full};
    auto load8 = [](const char* p) {
      std::uint64_t x;
      std::memcpy(&x, p, 8);
      return x;
    };
    auto load4 = [](const char* p) {
      std::uint32_t x;
      std::memcpy(&x, p, 4);
      return std::uint64_t{x};
    };
    std::uint32_t k = 0;
    std::uint64_t h = 0;
    bool long_value = false;
#pragma GCC unroll 10
    for (std::size_t i = 0; i < kValues; ++i) {
      const std::size_t n = v[i].size();
      const char* p = v[i].data();
      len[i] = static_cast<std::uint32_t>(std::min<std::size_t>(n, 0xffffffffu));
      std::uint64_t x = 0;
      if (n > 8) {
        std::uint64_t a = load8(p);
        const std::uint64_t b = load8(p + n - 8);
        w[k++] = a;
        if (n > 16) {
          const std::uint64_t m = load8(p + 8);
          w[k++] = m;
          a ^= std::rotl(m, 21);
          long_value |= n > 24;
        }
        w[k++] = b;
        x = a ^ std::rotl(b, 32);
      } else if (n >= 4) {
        x = load4(p) | (load4(p + n - 4) << 32);
        w[k++] = x;
      } else if (n > 0) {
        const auto* u = reinterpret_cast<const unsigned char*>(p);
        x = std::uint64_t{u[0]} | (std::uint64_t{u[n / 2]} << 8) | (std::uint64_t{u[n - 1]} << 16);
        w[k++] = x;
      }
      h += (x + n) * kMul[i];
    }
    words = k;
    has_long = long_value;
    h ^= h >> 29;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
  }

  // Same lengths and words (the long key, when there is one, is compared by the caller).
  [[gnu::always_inline]] inline bool SameWords(const SliceKey& o) const {
    std::uint64_t d = 0;
    for (std::size_t i = 0; i < kValues; i += 2) {
      std::uint64_t a, b;
      std::memcpy(&a, &len[i], 8);
      std::memcpy(&b, &o.len[i], 8);
      d |= a ^ b;
    }
    if (d != 0) return false;  // equal lengths: the same number of words
#pragma GCC unroll 4
    for (std::uint32_t i = 0; i < words; ++i) d |= w[i] ^ o.w[i];
    return d == 0;
  }
};

// The whole values, for keys with a value over 24 bytes: each after its 4-byte length.
std::string LongKey(const std::string_view (&v)[kValues]) {
  std::string key;
  for (const auto& x : v) {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(x.size(), 0xffffffffu));
    char b[sizeof n];
    std::memcpy(b, &n, sizeof n);
    key.append(b, sizeof n).append(x);
  }
  return key;
}

[[gnu::noinline]] bool LongKeyEquals(std::string_view key, const std::string_view (&v)[kValues]) {
  for (const auto& x : v) {
    std::uint32_t n;
    if (key.size() < sizeof n) return false;
    std::memcpy(&n, key.data(), sizeof n);
    key.remove_prefix(sizeof n);
    if (n != x.size() || key.size() < n || key.substr(0, n) != x) return false;
    key.remove_prefix(n);
  }
  return key.empty();
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

// Series that depend on the flow and model version only, shared by the slices that have them.
struct FlowSeries {
  std::string flow, model;
  HistogramCells latency, disagreement;
  std::vector<NamedHistogram> stages;
  std::vector<NamedHistogram> scores;  // per signal, and "fusion"
};

// One slice. What every decision of the slice reads comes first (two cache lines with the
// lengths and the first reasons), then the values.
struct DecisionRecorder::Entry {
  struct Reason {
    ReasonCode code;
    ReasonCategory category;
    CounterCell reasons;
    CounterCell by_category;  // quality rejections or security events; invalid for other categories
  };
  static constexpr std::size_t kInlineReasons = 2;

  std::uint64_t hash = 0;
  CounterCell decisions, retries, reviews;
  FlowSeries* fs = nullptr;  // shared (in the cache) or `own_fs`
  bool versions_seen = false;  // both version gauges were found set (they are never unset)
  std::uint8_t inline_reasons = 0;
  Reason first_reasons[kInlineReasons];
  SliceKey key;
  std::string long_key;  // when key.has_long
  std::vector<Reason> more_reasons;  // past kInlineReasons, up to kMaxNamed in all
  std::unique_ptr<FlowSeries> own_fs;  // when the cache holds too many flows

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
  // A set's hashes sit together (one cache line), so a lookup reads one line before the entry.
  struct Set {
    std::uint64_t hash[kWays] = {};
    std::unique_ptr<Entry> entry[kWays];
    std::uint8_t next = 0;  // the way a new slice takes when all are in use (round robin)
  };
  Set sets[kSets];
  std::vector<std::unique_ptr<FlowSeries>> flows;  // at most kMaxNamed
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

// Everything one decision records, resolving the series `e` does not hold yet (with their cells
// in the calling thread).
void Apply(const DecisionFamilies& f, DecisionRecorder::Entry& e, const Slice& raw, const DecisionEvent& ev,
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
  if (e.fs == nullptr) {
    e.own_fs = std::make_unique<FlowSeries>();
    e.fs = e.own_fs.get();
  }
  FlowSeries& fs = *e.fs;
  if (!fs.latency.valid()) Cold([&] { fs.latency = f.latency->Get({L().flow}).ThreadCells(); });
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
    named(fs.stages, i++, t.stage, Seconds(t.ms), [&] { return &f.stage_latency->Get({L().flow, t.stage}); });
  }
  i = 0;
  for (const auto& sc : d.fusion.signals) {
    if (!sc.present) continue;
    named(fs.scores, i++, sc.name, sc.calibrated, [&] { return &f.scores->Get({L().flow, sc.name, L().model}); });
  }
  if (d.fusion.has_score) {
    named(fs.scores, i, "fusion", d.fusion.score, [&] { return &f.scores->Get({L().flow, "fusion", L().model}); });
  }
  if (d.fusion.signals.size() >= 2) {
    if (!fs.disagreement.valid()) {
      Cold([&] { fs.disagreement = f.disagreement->Get({L().flow, L().model}).ThreadCells(); });
    }
    fs.disagreement.Observe(d.fusion.disagreement);
  }

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
  const Slice s = SliceOf(ev);
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
  const std::string_view values[kValues] = {s.flow, s.platform, s.device, s.browser, s.sdk,
                                            s.app,  s.model,    s.policy, s.outcome, s.band};
  SliceKey key;
  std::uint64_t hash = key.Build(values);
  if (const std::uint64_t forced = g_test_hash.load(std::memory_order_relaxed); forced != 0) [[unlikely]] {
    hash = forced;
  }
  Cache::Set& set = c.sets[hash & (kSets - 1)];
  Entry* slot = nullptr;
  for (std::size_t w = 0; w < kWays; ++w) {
    if (set.hash[w] == hash && set.entry[w] && set.entry[w]->key.SameWords(key) &&
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
    set.hash[way] = hash;
    slot->hash = hash;
    slot->key = key;
    if (key.has_long) slot->long_key = LongKey(values);
    for (const auto& fl : c.flows) {
      if (fl->flow == s.flow && fl->model == s.model) {
        slot->fs = fl.get();
        break;
      }
    }
    if (slot->fs == nullptr && c.flows.size() < kMaxNamed) {
      c.flows.push_back(std::make_unique<FlowSeries>());
      c.flows.back()->flow = s.flow;
      c.flows.back()->model = s.model;
      slot->fs = c.flows.back().get();
    }
    misses_.fetch_add(1, std::memory_order_relaxed);
  }
  const ReasonCatalogue* catalogue = c.engine ? &c.engine->catalogue() : nullptr;
  Apply(f_, *slot, s, ev, catalogue);
  if (events != nullptr && events->enabled()) events->Push(BuildMonitoringEvent(ev, catalogue));
}

}  // namespace vigil
