#include "metrics/decision_recorder.h"

#include <cstring>

#include "metrics/monitoring_events.h"
#include "pipeline/engine.h"

namespace vigil {
namespace {

constexpr std::size_t kSlots = 1024;          // direct-mapped slice cache (power of two)
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

Slice SliceOf(const DecisionEvent& ev) {
  const Decision& d = ev.decision;
  Slice s{ev.request.flow_type, {}, {}, {}, {}, {}, OrNone(d.model_version), OrNone(d.policy_version),
          d.outcome_name, d.band_name};
  // One pass over the context (names are unique in an AttributeMap).
  for (const auto& a : ev.request.context.items()) {
    if (a.kind != Value::Kind::kString) continue;
    const std::string_view n = a.name;
    std::string_view* into = nullptr;
    switch (n.size()) {
      case 8: into = n == "platform" ? &s.platform : nullptr; break;
      case 11: into = n == "sdk_version" ? &s.sdk : n == "app_version" ? &s.app : nullptr; break;
      case 12: into = n == "device_class" ? &s.device : nullptr; break;
      case 14: into = n == "browser_family" ? &s.browser : nullptr; break;
      default: break;
    }
    if (into != nullptr) *into = a.text;
  }
  for (std::string_view* v : {&s.platform, &s.device, &s.browser, &s.sdk, &s.app}) *v = OrNone(*v);
  return s;
}

std::uint64_t Rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

// A word standing for a value: its length and its first and last 8 bytes (all of it up to 16
// bytes). Values that differ only in the middle share a word; the full comparison after the
// lookup tells them apart (they then take turns in one cache slot).
std::uint64_t ValueWord(std::string_view v) {
  const char* p = v.data();
  const std::size_t n = v.size();
  std::uint64_t a = 0, b = 0;
  if (n >= 8) {
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + n - 8, 8);
  } else if (n >= 4) {
    std::uint32_t x, y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    a = x;
    b = y;
  } else if (n > 0) {
    a = static_cast<unsigned char>(p[0]) | (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
        (static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
  }
  return a ^ Rotl(b, 29) ^ (static_cast<std::uint64_t>(n) * 0x9e3779b97f4a7c15ull);
}

// The slice's hash: one independent multiply per value (distinct odd constants by position).
std::uint64_t SliceHash(const Slice& s) {
  static constexpr std::uint64_t kMul[10] = {
      0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull, 0xd6e8feb86659fd93ull,
      0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull,
      0x1d8e4e27c47d124full, 0xc2b2ae3d27d4eb4full};
  const std::string_view v[10] = {s.flow, s.platform, s.device, s.browser, s.sdk,
                                  s.app,  s.model,    s.policy, s.outcome, s.band};
  std::uint64_t h = 0;
  for (int i = 0; i < 10; ++i) {
    const std::uint64_t w = ValueWord(v[i]);
    h += (w ^ (w >> 31)) * kMul[i];
  }
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

// Values with their lengths in front, so no two slices share a key whatever bytes they hold.
void SliceKey(const Slice& s, std::string& key) {
  key.clear();
  for (std::string_view v : {s.flow, s.platform, s.device, s.browser, s.sdk, s.app, s.model, s.policy,
                             s.outcome, s.band}) {
    const auto n = static_cast<std::uint32_t>(v.size());
    char len[sizeof n];
    std::memcpy(len, &n, sizeof n);
    key.append(len, sizeof n).append(v);
  }
}

// The same comparison without building the key.
bool SliceKeyEquals(std::string_view key, const Slice& s) {
  for (std::string_view v : {s.flow, s.platform, s.device, s.browser, s.sdk, s.app, s.model, s.policy,
                             s.outcome, s.band}) {
    std::uint32_t n;
    if (key.size() < sizeof n) return false;
    std::memcpy(&n, key.data(), sizeof n);
    key.remove_prefix(sizeof n);
    if (n != v.size() || key.size() < n || key.substr(0, n) != v) return false;
    key.remove_prefix(n);
  }
  return key.empty();
}

template <typename T>
struct Named {
  std::string name;
  T* series;
};

template <typename T>
T* FindNamed(const std::vector<Named<T>>& v, std::string_view name) {
  for (const auto& n : v) {
    if (n.name == name) return n.series;
  }
  return nullptr;
}

}  // namespace

// Series that depend on the flow and model version only, shared by the slices that have them.
struct FlowSeries {
  std::string flow, model;
  Histogram* latency = nullptr;
  Histogram* disagreement = nullptr;
  std::vector<Named<Histogram>> stages;
  std::vector<Named<Histogram>> scores;  // per signal, and "fusion"
};

struct DecisionRecorder::Entry {
  std::uint64_t hash = 0;
  std::string key;
  FlowSeries* fs = nullptr;             // shared (in the cache) or `own_fs`
  std::unique_ptr<FlowSeries> own_fs;  // when the cache holds too many flows
  Counter* decisions = nullptr;
  Counter* retries = nullptr;
  Counter* reviews = nullptr;
  Gauge* model_seen = nullptr;
  Gauge* policy_seen = nullptr;
  struct Reason {
    ReasonCode code;
    ReasonCategory category;
    Counter* reasons;
    Counter* by_category;  // quality rejections or security events; null for other categories
  };
  std::vector<Reason> reasons;
};

struct DecisionRecorder::Cache {
  std::unique_ptr<Entry> slots[kSlots];
  std::vector<std::unique_ptr<FlowSeries>> flows;  // at most kMaxNamed
  std::shared_ptr<const DecisionEngine> engine;
  unsigned until_refresh = 0;
};

DecisionRecorder::DecisionRecorder(const DecisionFamilies& families, EngineFn engine)
    : f_(families), engine_fn_(std::move(engine)), owned_(std::make_unique<Cache>()) {
  cache_.store(owned_.get(), std::memory_order_release);
}

DecisionRecorder::~DecisionRecorder() = default;

namespace {

// Everything one decision records, resolving the series `e` does not hold yet.
void Apply(const DecisionFamilies& f, DecisionRecorder::Entry& e, const Slice& s, const DecisionEvent& ev,
           const ReasonCatalogue* cat) {
  const DecisionRequest& req = ev.request;
  const Decision& d = ev.decision;
  if (e.decisions == nullptr) {
    e.decisions = &f.decisions->Get({s.flow, s.platform, s.device, s.browser, s.sdk, s.app, s.model, s.policy,
                                     s.outcome, s.band});
  }
  e.decisions->Inc();
  if (e.fs == nullptr) {
    e.own_fs = std::make_unique<FlowSeries>();
    e.fs = e.own_fs.get();
  }
  FlowSeries& fs = *e.fs;
  if (fs.latency == nullptr) fs.latency = &f.latency->Get({s.flow});
  fs.latency->Observe(Seconds(ev.latency_ms));
  auto named = [&](std::vector<Named<Histogram>>& cache, Family<Histogram>* fam,
                   std::initializer_list<std::string_view> labels, std::string_view name) -> Histogram* {
    if (Histogram* h = FindNamed(cache, name)) return h;
    Histogram* h = &fam->Get(labels);
    if (cache.size() < kMaxNamed) cache.push_back({std::string(name), h});
    return h;
  };
  for (const auto& t : ev.timings) {
    if (t.stage == "total") continue;
    named(fs.stages, f.stage_latency, {s.flow, t.stage}, t.stage)->Observe(Seconds(t.ms));
  }
  for (const auto& sc : d.fusion.signals) {
    if (sc.present) named(fs.scores, f.scores, {s.flow, sc.name, s.model}, sc.name)->Observe(sc.calibrated);
  }
  if (d.fusion.has_score) named(fs.scores, f.scores, {s.flow, "fusion", s.model}, "fusion")->Observe(d.fusion.score);
  if (d.fusion.signals.size() >= 2) {
    if (fs.disagreement == nullptr) fs.disagreement = &f.disagreement->Get({s.flow, s.model});
    fs.disagreement->Observe(d.fusion.disagreement);
  }

  bool security_reason = false;
  for (const auto& r : d.reasons) {
    const DecisionRecorder::Entry::Reason* hit = nullptr;
    for (const auto& c : e.reasons) {
      if (c.code == r.code) {
        hit = &c;
        break;
      }
    }
    DecisionRecorder::Entry::Reason fresh{};
    if (hit == nullptr) {
      std::string_view code = BuiltinReasonName(r.code);
      ReasonCategory category = BuiltinCategory(r.code);
      if (cat != nullptr && static_cast<std::size_t>(r.code) < cat->all().size()) {
        const ReasonInfo& info = cat->Info(r.code);
        if (code.empty()) code = info.name;
        category = info.category;
      }
      fresh = {r.code, category, &f.reasons->Get({s.flow, code, CategoryName(category)}), nullptr};
      if (category == ReasonCategory::kQuality) {
        fresh.by_category = &f.quality_rejections->Get({s.flow, s.platform, s.sdk, code});
      } else if (category == ReasonCategory::kSecurity) {
        fresh.by_category = &f.security_events->Get({s.flow, s.platform, code});
      }
      if (e.reasons.size() < kMaxNamed) e.reasons.push_back(fresh);
      hit = &fresh;
    }
    hit->reasons->Inc();
    if (hit->by_category != nullptr) hit->by_category->Inc();
    if (hit->category == ReasonCategory::kSecurity || r.code == ReasonCode::kScreenReplaySuspected ||
        r.code == ReasonCode::kChallengeFailed || r.code == ReasonCode::kLowLivenessScore ||
        r.code == ReasonCode::kHighFraudScore) {
      security_reason = true;
    }
  }
  bool security_flag = false;
  for (const auto& a : req.security.items()) {
    bool raised = a.kind == Value::Kind::kBool && a.boolean && a.name != "device_integrity";
    if (a.name == "device_integrity" && a.kind == Value::Kind::kBool && !a.boolean) raised = true;
    if (raised) {
      f.security_signals->Get({s.flow, a.name}).Inc();
      security_flag = true;
    }
  }
  if (d.outcome == Outcome::kRetry) {
    if (e.retries == nullptr) e.retries = &f.retries->Get({s.flow, s.platform, s.browser, s.sdk});
    e.retries->Inc();
  }
  if (d.outcome == Outcome::kReview) {
    if (e.reviews == nullptr) e.reviews = &f.reviews->Get({s.flow});
    e.reviews->Inc();
  }
  if (d.outcome == Outcome::kPass &&
      (security_reason || security_flag || (d.band != DecisionBand::kPass && d.band != DecisionBand::kNone))) {
    f.spoof_proxy->Get({s.flow, OrNone(req.context.GetString("country"))}).Inc();
  }
  const double now_s = static_cast<double>(ev.time_ms) / 1000.0;
  if (e.model_seen == nullptr) e.model_seen = &f.version_first_seen->Get({"model", s.model});
  if (e.policy_seen == nullptr) e.policy_seen = &f.version_first_seen->Get({"policy", s.policy});
  for (Gauge* g : {e.model_seen, e.policy_seen}) {
    if (g->Value() == 0.0) g->Set(now_s);
  }
}

}  // namespace

void DecisionRecorder::Record(const DecisionEvent& ev, EventWriter* events) {
  const Slice s = SliceOf(ev);
  const bool want_event = events != nullptr && events->enabled();
  std::shared_ptr<const DecisionEngine> engine;  // held only when needed past the cache
  Cache* c = cache_.exchange(nullptr, std::memory_order_acquire);
  if (c == nullptr) {
    // Another caller has the cache: resolve this decision's series directly.
    engine = engine_fn_ ? engine_fn_() : nullptr;
    Entry local;
    Apply(f_, local, s, ev, engine ? &engine->catalogue() : nullptr);
  } else {
    if (engine_fn_ && c->until_refresh-- == 0) {
      c->until_refresh = kCatalogueRefresh - 1;
      auto now = engine_fn_();
      if (now != c->engine) {
        c->engine = std::move(now);
        for (auto& slot : c->slots) {
          if (slot) slot->reasons.clear();  // categories and names may have changed
        }
      }
    }
    const std::uint64_t hash = SliceHash(s);
    std::unique_ptr<Entry>& slot = c->slots[hash & (kSlots - 1)];
    if (!slot || slot->hash != hash || !SliceKeyEquals(slot->key, s)) {
      if (slot) {
        *slot = Entry{};
      } else {
        slot = std::make_unique<Entry>();
      }
      slot->hash = hash;
      SliceKey(s, slot->key);
      for (const auto& fl : c->flows) {
        if (fl->flow == s.flow && fl->model == s.model) {
          slot->fs = fl.get();
          break;
        }
      }
      if (slot->fs == nullptr && c->flows.size() < kMaxNamed) {
        c->flows.push_back(std::make_unique<FlowSeries>());
        c->flows.back()->flow = s.flow;
        c->flows.back()->model = s.model;
        slot->fs = c->flows.back().get();
      }
      misses_.fetch_add(1, std::memory_order_relaxed);
    }
    Apply(f_, *slot, s, ev, c->engine ? &c->engine->catalogue() : nullptr);
    if (want_event) engine = c->engine;
    cache_.store(c, std::memory_order_release);
  }
  if (want_event) events->Push(BuildMonitoringEvent(ev, engine ? &engine->catalogue() : nullptr));
}

}  // namespace vigil
