// Decision responses: the fields of SPEC.md section 3 plus the explanation.
#include "api/codec.h"
#include "core/json_writer.h"

namespace vigil {

std::string RenderDecision(const DecisionRequest& req, const Decision& d,
                           const ReasonCatalogue& cat, const DecisionMeta& meta, std::size_t* evidence_at) {
  std::string out;
  out.reserve(1536);
  JsonWriter w(out);
  w.BeginObject()
      .Field("request_id", d.request_id)
      .Field("flow_type", d.flow_type)
      .Field("decision", d.outcome_name)
      .Field("decision_band", d.band_name);

  w.Key("scores").BeginObject();
  for (const auto& s : d.fusion.signals) {
    if (s.present || s.imputed) w.Field(s.name, s.calibrated);
  }
  if (d.fusion.has_score) w.Field("fusion", d.fusion.score);
  w.Field("disagreement", d.fusion.disagreement);
  w.EndObject();

  w.Key("quality").BeginObject();
  for (const auto& a : req.quality.items()) {
    w.Key(a.name);
    switch (a.kind) {
      case Value::Kind::kNumber: w.Number(a.number); break;
      case Value::Kind::kBool: w.Bool(a.boolean); break;
      case Value::Kind::kString: w.String(a.text); break;
      case Value::Kind::kMissing: w.Null(); break;
    }
  }
  w.EndObject();

  w.Key("reasons").BeginArray();
  for (const auto& r : d.reasons) {
    const ReasonInfo& info = cat.Info(r.code);
    w.BeginObject().RawMembers(info.response_members);
    if (!info.guidance.empty() && r.decisive) w.Field("guidance", info.guidance);
    w.Field("weight", r.weight).Field("decisive", r.decisive);
    if (!r.evidence.empty()) w.Key("evidence").Raw(r.evidence);
    w.EndObject();
  }
  w.EndArray();

  w.Field("attempt", d.attempt);
  if (d.max_attempts > 0) w.Field("max_attempts", d.max_attempts);
  if (!meta.next_token.empty()) w.Field("next_token", meta.next_token);
  w.Field("model_version", d.model_version)
      .Field("policy_version", d.policy_version)
      .Field("latency_ms", meta.latency_ms);
  if (!meta.evidence_id.empty()) {
    w.Field("evidence_id", meta.evidence_id);
    // An evidence id is hex: written as it is, it ends just before the closing quote.
    if (evidence_at != nullptr) *evidence_at = out.size() - 1 - meta.evidence_id.size();
  }

  const Explanation& ex = d.explanation;
  w.Key("explanation").BeginObject().Field("decided_by", DecidedByName(ex.decided_by));
  if (!ex.rule.empty()) w.Field("rule", ex.rule);
  w.Field("segment", ex.segment.empty() ? std::string_view("default") : std::string_view(ex.segment));
  w.Key("thresholds").BeginObject().Field("pass", ex.pass_threshold).Field("fail", ex.fail_threshold).EndObject();
  if (d.fusion.has_score) w.Field("score", ex.score);
  w.Field("fusion_bias", d.fusion.bias);
  w.Key("signals").BeginArray();
  for (const auto& s : d.fusion.signals) {
    w.BeginObject().Field("name", s.name).Field("model_version", s.model_version).Field("present", s.present);
    if (s.present) w.Field("raw", s.raw);
    if (s.present || s.imputed) w.Field("calibrated", s.calibrated);
    if (s.imputed) w.Field("imputed", true);
    w.Field("weight", s.weight).Field("contribution", s.contribution).EndObject();
  }
  w.EndArray().EndObject();
  w.EndObject();
  return out;
}

}  // namespace vigil
