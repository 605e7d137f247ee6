#include "feedback/decision_facts.h"

#include <simdjson.h>

namespace vigil {
namespace {

using simdjson::dom::element;

template <typename E>
std::string Str(E&& e, std::string_view key) {
  std::string_view v;
  if (e[key].get_string().get(v) == simdjson::SUCCESS) return std::string(v);
  return {};
}

// A context value as text: strings as they are, numbers and booleans in JSON form.
std::string ContextText(element ctx, std::string_view key) {
  element v;
  if (ctx[key].get(v) != simdjson::SUCCESS || v.is_null()) return {};
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(v);
}

}  // namespace

Result<DecisionFacts> ParseDecisionRecord(const AuditRecord& record) {
  if (record.kind != "decision") return Error::Invalid("not a decision record");
  thread_local simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(record.payload).get(doc); err != simdjson::SUCCESS) {
    return Error::Parse(std::string("audit payload: ") + simdjson::error_message(err), record.request_id);
  }
  DecisionFacts f;
  f.request_id = record.request_id;
  f.seq = record.seq;
  f.time_ms = record.time_ms;
  f.kind = Str(doc, "kind") == "transaction" ? FlowKind::kTransaction : FlowKind::kLiveness;
  f.outcome = Str(doc["decision"], "outcome");
  f.outcome_name = Str(doc["decision"], "outcome_name");
  element fusion;
  if (doc["scores"]["fusion"].get(fusion) == simdjson::SUCCESS) {
    bool has = false;
    double score = 0.0;
    if (fusion["has_score"].get_bool().get(has) == simdjson::SUCCESS && has &&
        fusion["score"].get_double().get(score) == simdjson::SUCCESS) {
      f.has_score = true;
      f.score = score;
    }
  }
  element ctx;
  const bool has_ctx = doc["request"]["context"].get(ctx) == simdjson::SUCCESS;
  for (std::size_t i = 0; i < kSliceDimensions.size(); ++i) {
    const std::string_view dim = kSliceDimensions[i];
    if (dim == "flow_type") {
      f.slices[i] = Str(doc, "flow_type");
    } else if (dim == "model_version") {
      f.slices[i] = Str(doc["versions"], "model");
    } else if (dim == "policy_version") {
      f.slices[i] = Str(doc["versions"], "policy");
    } else if (has_ctx) {
      f.slices[i] = ContextText(ctx, dim);
    }
  }
  simdjson::dom::array signals;
  if (doc["scores"]["signals"].get_array().get(signals) == simdjson::SUCCESS) {
    for (element s : signals) {
      DecisionFacts::SignalFacts sf;
      sf.name = Str(s, "name");
      sf.model_version = Str(s, "model_version");
      // Absent fields keep their defaults.
      if (s["present"].get_bool().get(sf.present) != simdjson::SUCCESS) sf.present = false;
      if (s["raw"].get_double().get(sf.raw) != simdjson::SUCCESS) sf.raw = 0.0;
      if (s["calibrated"].get_double().get(sf.calibrated) != simdjson::SUCCESS) sf.calibrated = 0.0;
      f.signals.push_back(std::move(sf));
    }
  }
  return f;
}

LabelledCase MakeCase(const DecisionFacts& d, const Label& label) {
  LabelledCase c;
  c.positive = IsPositive(label.label);
  c.attack_type = c.positive ? label.attack_type : std::string();
  c.has_risk = d.has_score;
  c.risk = d.has_score ? d.risk() : 0.0;
  c.flagged = d.flagged();
  c.outcome = d.outcome_name.empty() ? d.outcome : d.outcome_name;
  c.decided_ms = d.time_ms;
  c.labelled_ms = label.labelled_at_ms;
  return c;
}

}  // namespace vigil
