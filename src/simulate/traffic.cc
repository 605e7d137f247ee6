#include "simulate/traffic.h"

#include <cmath>
#include <cstdio>
#include <numbers>

#include "core/json_writer.h"
#include "simulate/event_fields.h"

namespace vigil::sim {
namespace {

// Traffic follows the day: a peak mid-afternoon, a trough before dawn (mean 1 over a day).
double Diurnal(double day) {
  double hour = (day - std::floor(day)) * 24.0;
  return 1.0 + 0.35 * std::sin(2.0 * std::numbers::pi * (hour - 9.0) / 24.0);
}

void WriteContext(JsonWriter& w, const SimEvent& e, bool for_session) {
  for (const auto& f : e.context) {
    switch (f.type) {
      case ContextField::Type::kString: w.Field(f.key, f.str); break;
      case ContextField::Type::kNumber: w.Field(f.key, f.num); break;
      case ContextField::Type::kBool: w.Field(f.key, f.num != 0.0); break;
      case ContextField::Type::kGeo:
        if (!for_session) w.Key("geo").BeginObject().Field("lat", f.num).Field("lon", f.lon).EndObject();
        break;
    }
  }
}

}  // namespace

std::string SimEvent::MediaCondition() const {
  if (truth.label == "attack") return truth.attack_type;
  return truth.quality.empty() ? std::string("good") : truth.quality;
}

std::string SimEvent::RequestBody(std::string_view session_token, const MediaLibrary* media,
                                  const std::vector<std::string>& steps) const {
  std::string out;
  out.reserve(512 + pad.size());
  JsonWriter w(out);
  w.BeginObject().Field("request_id", request_id).Field("flow_type", flow_type).Field("timestamp_ms", time_ms);
  if (!session_token.empty()) w.Field("session_token", session_token);
  w.Key("context").BeginObject();
  WriteContext(w, *this, false);
  if (!pad.empty()) w.Field("client_trace", pad);
  w.EndObject();
  w.Key("signals").BeginObject();
  for (const auto& [name, v] : signals) w.Field(name, v);
  w.EndObject();
  if (!security.empty()) {
    w.Key("security").BeginObject();
    for (const auto& [name, v] : security) w.Field(name, v);
    w.EndObject();
  }
  if (media && kind == EventKind::kLiveness) {
    w.Key("media").Raw(media->Media(MediaCondition(), seq * 7 + static_cast<std::uint64_t>(attempt), time_ms,
                                    ContextString("camera_label"), steps));
  }
  w.EndObject();
  return out;
}

std::string SimEvent::SessionBody() const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("flow_type", flow_type).Field("timestamp_ms", time_ms).Key("capture_context").BeginObject();
  for (const char* key : {"platform", "browser_family", "device_class", "sdk_version", "app_version", "os_version",
                          "camera_label", "country"}) {
    std::string v = ContextString(key);
    if (!v.empty()) w.Field(key, v);
  }
  w.EndObject().EndObject();
  return out;
}

std::string SimEvent::ContextString(std::string_view key) const {
  for (const auto& f : context) {
    if (f.key == key && f.type == ContextField::Type::kString) return f.str;
  }
  return {};
}

double SimEvent::ContextNumber(std::string_view key, double fallback) const {
  for (const auto& f : context) {
    if (f.key == key && f.type == ContextField::Type::kNumber) return f.num;
  }
  return fallback;
}

bool Matches(const Selector& where, const SimEvent& e) {
  for (const auto& [key, value] : where) {
    if (key == "kind") {
      if (value != (e.kind == EventKind::kLiveness ? "liveness" : "transaction")) return false;
    } else if (key == "flow_type") {
      if (value != e.flow_type) return false;
    } else if (e.ContextString(key) != value) {
      return false;
    }
  }
  return true;
}

TrafficGenerator::TrafficGenerator(Scenario scenario, TrafficOptions options)
    : scenario_(std::move(scenario)), options_(std::move(options)), rng_(options_.seed) {
  base_ms_per_event_ = options_.ms_per_event > 0 ? options_.ms_per_event : 86400000.0 / scenario_.events_per_day;
  next_base_ms_ = static_cast<double>(options_.start_ms);
}

TrafficGenerator::~TrafficGenerator() = default;

double TrafficGenerator::LoadFactor(std::int64_t time_ms) const {
  double f = 1.0;
  const double day = Day(time_ms);
  for (const auto& inc : scenario_.incidents) {
    if (inc.kind == IncidentKind::kLoadSurge) f *= 1.0 + (inc.multiplier - 1.0) * inc.Strength(day);
  }
  return f;
}

std::string TrafficGenerator::RequestId(std::uint64_t seq, int attempt) const {
  std::string id = options_.run_id + "-" + std::to_string(seq);
  if (attempt > 1) id += "-a" + std::to_string(attempt);
  return id;
}

SimEvent TrafficGenerator::Scripted(std::int64_t time_ms) {
  SimEvent e;
  e.seq = next_seq_++;
  e.time_ms = time_ms;
  e.request_id = RequestId(e.seq, 1);
  return e;
}

std::vector<const Incident*> TrafficGenerator::Affecting(SimEvent& e, SimRng& rng) const {
  std::vector<const Incident*> out;
  const double day = Day(e.time_ms);
  for (const auto& inc : scenario_.incidents) {
    const double s = inc.Strength(day);
    if (s <= 0.0 || !Matches(inc.where, e)) continue;
    // amount_drift acts gradually on everyone; the others reach a growing share of users.
    if (inc.kind != IncidentKind::kAmountDrift && !rng.Bernoulli(s)) continue;
    for (const auto& [k, v] : inc.set_context) SetString(e, k, v);
    out.push_back(&inc);
  }
  return out;
}

void TrafficGenerator::Label(SimEvent& e, SimRng& rng) const {
  e.truth.labelled = rng.Bernoulli(scenario_.label_share);
  e.truth.review_delay_ms = rng.LogNormal(scenario_.review_hours * 3600000.0, 0.7);
  e.truth.chargeback_delay_ms = rng.LogNormal(scenario_.chargeback_days * 86400000.0, 0.5);
}

SimEvent TrafficGenerator::Next() {
  if (!scripted_.empty() && static_cast<double>(scripted_.top().time_ms) <= next_base_ms_) {
    SimEvent e = scripted_.top();
    scripted_.pop();
    return e;
  }
  SimEvent e = Scripted(static_cast<std::int64_t>(next_base_ms_));
  SimRng rng = SimRng::Derive(options_.seed, e.seq);
  if (rng_.Bernoulli(scenario_.liveness_share)) {
    MakeLiveness(e, rng);
  } else {
    MakeTransaction(e, rng);
  }
  Label(e, rng);
  const double day = Day(e.time_ms);
  next_base_ms_ += rng_.Exponential(base_ms_per_event_ / (LoadFactor(e.time_ms) * Diurnal(day)));
  return e;
}

SimEvent TrafficGenerator::NextAttempt(const SimEvent& previous) const {
  SimEvent e = previous;
  e.attempt = previous.attempt + 1;
  e.request_id = RequestId(e.seq, e.attempt);
  SimRng rng = SimRng::Derive(options_.seed ^ 0xA77E3E7ull, e.seq * 16 + static_cast<std::uint64_t>(e.attempt));
  e.time_ms = previous.time_ms + static_cast<std::int64_t>(rng.Uniform(15000, 60000));
  LivenessAttempt(e, rng);
  return e;
}

}  // namespace vigil::sim
