#include "audit/audit.h"

#include <algorithm>

#include "core/crypto.h"
#include "core/json_writer.h"

namespace vigil {

std::string ChainHash(std::string_view prev_hash, std::int64_t seq, std::string_view payload) {
  std::string seq_text = std::to_string(seq);
  return Hex(Sha256({prev_hash, "\n", seq_text, "\n", payload}));
}

bool IsSubjectField(std::string_view k) {
  static constexpr std::string_view kFields[] = {
      "account_id", "card_id", "device_id", "ip", "session_id", "subject_id", "user_id",
      "email", "phone", "device_fingerprint", "customer_id"};
  return std::find(std::begin(kFields), std::end(kFields), k) != std::end(kFields);
}

std::string SubjectRef(std::string_view secret, std::string_view value) {
  Digest d = HmacSha256(secret, value);
  return "ps_" + HexEncode(d.data(), 12);
}

namespace {

// Attributes in name order, so the payload does not depend on the client's field order.
void WriteAttributes(JsonWriter& w, const AttributeMap& m, std::string_view secret, bool pseudonymise) {
  std::vector<const Attribute*> items;
  for (const auto& a : m.items()) items.push_back(&a);
  std::sort(items.begin(), items.end(), [](const Attribute* a, const Attribute* b) { return a->name < b->name; });
  w.BeginObject();
  for (const Attribute* a : items) {
    w.Key(a->name);
    switch (a->kind) {
      case Value::Kind::kString:
        if (pseudonymise && IsSubjectField(a->name)) {
          w.String(SubjectRef(secret, a->text));
        } else {
          w.String(a->text);
        }
        break;
      case Value::Kind::kNumber: w.Number(a->number); break;
      case Value::Kind::kBool: w.Bool(a->boolean); break;
      case Value::Kind::kMissing: w.Null(); break;
    }
  }
  w.EndObject();
}

std::string_view OutcomeKey(Outcome o) {
  switch (o) {
    case Outcome::kPass: return "pass";
    case Outcome::kRetry: return "retry";
    case Outcome::kFail: return "fail";
    case Outcome::kReview: return "review";
  }
  return "fail";
}

}  // namespace

std::string BuildDecisionPayload(const DecisionRequest& req, const Decision& d, const AuditContext& ctx,
                                 const ReasonCatalogue& cat, std::string_view secret) {
  std::string out;
  out.reserve(4096);  // a transaction decision is about 2-3.5 KB
  JsonWriter w(out);
  w.BeginObject().Field("type", "decision").Field("request_id", req.request_id);
  w.Field("time_ms", static_cast<std::int64_t>(ctx.time_ms)).Field("key_id", ctx.key_id);
  w.Field("flow_type", d.flow_type).Field("kind", FlowKindName(d.kind));

  w.Key("request").BeginObject();
  w.Key("context");
  WriteAttributes(w, req.context, secret, true);
  w.Key("signals").BeginObject();
  for (const auto& s : req.signals) w.Field(s.name, s.raw);
  w.EndObject();
  w.Key("security");
  WriteAttributes(w, req.security, secret, false);
  w.Key("quality");
  WriteAttributes(w, req.quality, secret, false);
  w.Field("attempt", req.attempt);
  if (!ctx.session_ref.empty()) w.Field("session", ctx.session_ref);
  w.Key("media").BeginArray();
  for (const auto& m : ctx.media_sha256) w.String(m);
  w.EndArray();
  w.Key("findings").BeginArray();
  for (const auto& f : req.findings) {
    w.BeginObject().Field("code", cat.Info(f.code).name).Field("weight", f.weight).Field("source", f.source);
    if (!f.evidence.empty()) w.Key("evidence").Raw(f.evidence);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();

  const FusionResult& fu = d.fusion;
  w.Key("scores").BeginObject().Key("signals").BeginArray();
  for (const auto& s : fu.signals) {
    w.BeginObject().Field("name", s.name).Field("model_version", s.model_version).Field("present", s.present)
        .Field("raw", s.raw).Field("calibrated", s.calibrated).Field("imputed", s.imputed)
        .Field("weight", s.weight).Field("contribution", s.contribution).EndObject();
  }
  w.EndArray();
  w.Key("fusion").BeginObject().Field("version", fu.version).Field("has_score", fu.has_score)
      .Field("score", fu.score).Field("logit", fu.logit).Field("bias", fu.bias)
      .Field("disagreement", fu.disagreement).Field("force_uncertain", fu.force_uncertain).EndObject();
  w.EndObject();

  w.Key("decision").BeginObject().Field("outcome", OutcomeKey(d.outcome)).Field("outcome_name", d.outcome_name)
      .Field("band_name", d.band_name).Field("attempt", d.attempt).Field("max_attempts", d.max_attempts);
  w.Key("reasons").BeginArray();
  for (const auto& r : d.reasons) {
    w.BeginObject().Field("code", cat.Info(r.code).name).Field("weight", r.weight).Field("decisive", r.decisive).EndObject();
  }
  w.EndArray();
  const Explanation& ex = d.explanation;
  w.Key("explanation").BeginObject().Field("decided_by", DecidedByName(ex.decided_by)).Field("rule", ex.rule)
      .Field("segment", ex.segment).Field("pass_threshold", ex.pass_threshold)
      .Field("fail_threshold", ex.fail_threshold).Field("score", ex.score).EndObject();
  w.EndObject();

  w.Key("versions").BeginObject().Field("policy", d.policy_version).Field("model", d.model_version);
  w.Key("calibration").BeginObject();
  for (const auto& [sig, ver] : ctx.calibration_versions) w.Field(sig, ver);
  w.EndObject().EndObject();

  w.Key("latency_ms").BeginObject().Field("decision", ctx.decision_latency_ms);
  for (const auto& [stage, ms] : ctx.stage_ms) w.Field(stage, ms);
  w.EndObject();
  w.EndObject();
  return out;
}

std::string BuildEventPayload(std::string_view type, std::int64_t time_ms, std::string_view fields_json) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("type", type).Field("time_ms", time_ms).Key("fields").Raw(fields_json).EndObject();
  return out;
}

bool ChainVerifier::Add(const AuditRecord& r) {
  auto fail = [&](std::string problem) {
    report_.ok = false;
    report_.bad_seq = r.seq;
    report_.bad_request_id = r.request_id;
    report_.problem = std::move(problem);
    return false;
  };
  if (r.seq != expected_seq_) {
    if (r.seq > expected_seq_) {
      return fail("records " + std::to_string(expected_seq_) + " to " + std::to_string(r.seq - 1) +
                  " are missing (deleted)");
    }
    return fail("sequence number out of order (expected " + std::to_string(expected_seq_) + ")");
  }
  if (r.prev != prev_) {
    return fail("does not follow the record before it (a record was deleted, inserted or reordered)");
  }
  if (ChainHash(r.prev, r.seq, r.payload) != r.hash) {
    return fail("content does not match its hash (the record was changed)");
  }
  prev_ = r.hash;
  ++expected_seq_;
  ++report_.records;
  return true;
}

VerifyReport ChainVerifier::Finish() {
  if (report_.ok && head_) {
    std::int64_t last = expected_seq_ - 1;
    if (head_->seq > last) {
      report_.ok = false;
      report_.bad_seq = last + 1;
      report_.problem = "the log ends at record " + std::to_string(last) + " but its signed head says " +
                        std::to_string(head_->seq) + " (the tail was truncated)";
    } else if (head_->seq > 0 && head_->seq == last && head_->hash != prev_) {
      report_.ok = false;
      report_.bad_seq = last;
      report_.problem = "the last record does not match the signed head (the tail was rewritten)";
    }
  }
  return report_;
}

}  // namespace vigil
