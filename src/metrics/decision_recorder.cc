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
  const AttributeMap& cx = ev.request.context;
  const Decision& d = ev.decision;
  return {ev.request.flow_type,
          OrNone(cx.GetString("platform")),
          OrNone(cx.GetString("device_class")),
          OrNone(cx.GetString("browser_family")),
          OrNone(cx.GetString("sdk_version")),
          OrNone(cx.GetString("app_version")),
          OrNone(d.model_version),
          OrNone(d.policy_version),
          d.outcome_name,
          d.band_name};
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

struct DecisionRecorder::Entry {
  std::uint64_t hash = 0;
  std::string key;
  Counter* decisions = nullptr;
  Histogram* latency = nullptr;
  Histogram* disagreement = nullptr;
  Counter* retries = nullptr;
  Counter* reviews = nullptr;
  Gauge* model_seen = nullptr;
  Gauge* policy_seen = nullptr;
  std::vector<Named<Histogram>> stages;
  std::vector<Named<Histogram>> scores;  // per signal, and "fusion"
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
  std::string key;  // scratch
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
  if (e.latency == nullptr) e.latency = &f.latency->Get({s.flow});
  e.latency->Observe(Seconds(ev.latency_ms));
  auto named = [&](std::vector<Named<Histogram>>& cache, Family<Histogram>* fam,
                   std::initializer_list<std::string_view> labels, std::string_view name) -> Histogram* {
    if (Histogram* h = FindNamed(cache, name)) return h;
    Histogram* h = &fam->Get(labels);
    if (cache.size() < kMaxNamed) cache.push_back({std::string(name), h});
    return h;
  };
  for (const auto& t : ev.timings) {
    if (t.stage == "total") continue;
    named(e.stages, f.stage_latency, {s.flow, t.stage}, t.stage)->Observe(Seconds(t.ms));
  }
  for (const auto& sc : d.fusion.signals) {
    if (sc.present) named(e.scores, f.scores, {s.flow, sc.name, s.model}, sc.name)->Observe(sc.calibrated);
  }
  if (d.fusion.has_score) named(e.scores, f.scores, {s.flow, "fusion", s.model}, "fusion")->Observe(d.fusion.score);
  if (d.fusion.signals.size() >= 2) {
    if (e.disagreement == nullptr) e.disagreement = &f.disagreement->Get({s.flow, s.model});
    e.disagreement->Observe(d.fusion.disagreement);
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
    SliceKey(s, c->key);
    const std::uint64_t hash = HashBytes(c->key);
    std::unique_ptr<Entry>& slot = c->slots[hash & (kSlots - 1)];
    if (!slot || slot->hash != hash || slot->key != c->key) {
      if (slot) {
        *slot = Entry{};
      } else {
        slot = std::make_unique<Entry>();
      }
      slot->hash = hash;
      slot->key = c->key;
      misses_.fetch_add(1, std::memory_order_relaxed);
    }
    Apply(f_, *slot, s, ev, c->engine ? &c->engine->catalogue() : nullptr);
    if (want_event) engine = c->engine;
    cache_.store(c, std::memory_order_release);
  }
  if (want_event) events->Push(BuildMonitoringEvent(ev, engine ? &engine->catalogue() : nullptr));
}

}  // namespace vigil
