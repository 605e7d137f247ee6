// JSON of alerts: GET /v1/monitor/alerts and webhook bodies.
#include <cmath>

#include "alerts/engine.h"
#include "core/json_writer.h"
#include "core/log.h"

namespace vigil::alerts {
namespace {

void Time(JsonWriter& w, std::string_view key, std::int64_t ms) {
  w.Key(key);
  if (ms > 0) w.String(FormatRfc3339Ms(ms));
  else w.Null();
}

void WriteAlert(JsonWriter& w, const Alert& a) {
  w.BeginObject()
      .Field("id", a.id)
      .Field("rule", a.rule)
      .Field("type", a.type)
      .Field("slice", a.slice)
      .Field("state", AlertStateName(a.state))
      .Field("severity", a.severity)
      .Field("metric", a.metric)
      .Field("value", a.value)        // NaN is written as null
      .Field("baseline", a.baseline)
      .Field("threshold", a.threshold)
      .Field("p_value", a.p_value)
      .Field("dispersion", a.dispersion)
      .Field("first_action", a.action);
  Time(w, "pending_since", a.pending_since_ms);
  Time(w, "fired_at", a.fired_at_ms);
  Time(w, "resolved_at", a.resolved_at_ms);
  w.Key("evidence_ids").BeginArray();
  for (const auto& id : a.evidence_ids) w.String(id);
  w.EndArray().EndObject();
}

}  // namespace

std::string RenderAlerts(const std::vector<Alert>& alerts, std::size_t firing) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("firing", static_cast<std::int64_t>(firing)).Key("alerts").BeginArray();
  for (const auto& a : alerts) WriteAlert(w, a);
  w.EndArray().EndObject();
  return out;
}

std::string RenderNotification(const Notification& n) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("source", "vigil").Field("event", n.alert.state == AlertState::kFiring ? "firing" : "resolved");
  w.Key("alert");
  WriteAlert(w, n.alert);
  w.EndObject();
  return out;
}

}  // namespace vigil::alerts
