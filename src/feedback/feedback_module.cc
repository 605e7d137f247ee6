#include "feedback/feedback_module.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>

#include "audit/audit.h"
#include "auth/keys.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "feedback/feedback_metrics.h"
#include "feedback/label_store.h"
#include "feedback/live_performance.h"
#include "server/responses.h"
#include "store/audit_store.h"

namespace vigil {
namespace {


HttpResponse ProblemOf(ProblemType type, std::string detail, std::string field, unsigned version,
                       std::string_view instance = "/v1/labels") {
  return ProblemResponse({type, std::move(detail), std::move(field)}, version, instance);
}

void WriteLabel(JsonWriter& w, const Label& l) {
  w.BeginObject().Field("label", LabelClassName(l.label));
  if (l.attack_type.empty()) {
    w.Key("attack_type").Null();
  } else {
    w.Field("attack_type", l.attack_type);
  }
  w.Field("source", l.source).Field("labelled_at", FormatRfc3339Ms(l.labelled_at_ms))
      .Field("received_at", FormatRfc3339Ms(l.received_at_ms)).Field("conflict", l.conflict).EndObject();
}

// A label request's fields, checked. The problem names the offending field.
std::optional<Problem> ParseLabelBody(std::string_view body, std::int64_t now_ms, Label& out) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err != simdjson::SUCCESS) {
    return Problem{ProblemType::kMalformedJson, simdjson::error_message(err), ""};
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return Problem{ProblemType::kWrongType, "the body must be a JSON object", ""};
  std::string_view label_text, labelled_at;
  bool have_label = false, have_source = false;
  for (auto [key, value] : obj) {
    std::string_view text;
    const bool is_string = value.get_string().get(text) == simdjson::SUCCESS;
    if (key == "attack_type" && value.is_null()) continue;
    if (key != "request_id" && key != "label" && key != "attack_type" && key != "source" && key != "labelled_at") {
      return Problem{ProblemType::kUnknownField, "unknown field", std::string(key.substr(0, 64))};
    }
    if (!is_string) return Problem{ProblemType::kWrongType, "must be a string", std::string(key)};
    if (key == "request_id") out.request_id = std::string(text);
    if (key == "label") label_text = text, have_label = true;
    if (key == "attack_type") out.attack_type = std::string(text);
    if (key == "source") out.source = std::string(text), have_source = true;
    if (key == "labelled_at") labelled_at = text;
  }
  if (out.request_id.empty()) return Problem{ProblemType::kMissingField, "request_id is required", "request_id"};
  if (out.request_id.size() > 128) return Problem{ProblemType::kInvalidValue, "request_id is longer than 128 characters", "request_id"};
  if (!have_label) return Problem{ProblemType::kMissingField, "label is required", "label"};
  auto cls = ParseLabelClass(label_text);
  if (!cls) return Problem{ProblemType::kInvalidValue, "label must be genuine, attack, legitimate or fraud", "label"};
  out.label = *cls;
  if (!have_source) return Problem{ProblemType::kMissingField, "source is required", "source"};
  if (!IsLabelSource(out.source)) {
    return Problem{ProblemType::kInvalidValue,
                   "source must be manual_review, dispute, chargeback, red_team or customer_support", "source"};
  }
  if (out.label == LabelClass::kAttack) {
    if (out.attack_type.empty()) return Problem{ProblemType::kMissingField, "an attack label needs its attack_type", "attack_type"};
    if (!IsAttackType(out.attack_type)) {
      return Problem{ProblemType::kInvalidValue,
                     "attack_type must be print, screen_replay, mask, injection, virtual_camera, deepfake or other", "attack_type"};
    }
  } else if (out.label == LabelClass::kFraud) {
    if (!out.attack_type.empty() && !IsFraudType(out.attack_type)) {
      return Problem{ProblemType::kInvalidValue, "attack_type of fraud must be card_testing, account_takeover, bot or other",
                     "attack_type"};
    }
  } else if (!out.attack_type.empty()) {
    return Problem{ProblemType::kInvalidValue, "attack_type is only for attack and fraud labels", "attack_type"};
  }
  out.received_at_ms = now_ms;
  out.labelled_at_ms = now_ms;
  if (!labelled_at.empty()) {
    auto t = ParseRfc3339Ms(labelled_at);
    if (!t) return Problem{ProblemType::kInvalidValue, "labelled_at must be an RFC 3339 time", "labelled_at"};
    out.labelled_at_ms = *t;
  }
  return std::nullopt;
}

class FeedbackModule final : public ServerModule {
 public:
  FeedbackModule(const ModuleContext& ctx, std::unique_ptr<LabelStore> labels)
      : ctx_(ctx), labels_(std::move(labels)), live_(ctx.store) {}

  Status Load() {
    metrics_ = FeedbackMetrics::Register(ctx_.metrics, &live_, [this] { return WindowEnd(); });
    return labels_->ForEachInForce([this](const Label& l) { live_.SetLabel(l); });
  }

  std::string_view name() const override { return "feedback"; }

  void AddRoutes(std::vector<Route>& routes) override {
    routes.push_back({http::verb::post, "/v1/labels", false, kScopeLabel,
                      [this](HttpRequest& req, std::string_view, Responder& respond) { PostLabel(req, respond); }});
    routes.push_back({http::verb::get, "/v1/labels/", true, kScopeRead,
                      [this](HttpRequest& req, std::string_view tail, Responder& respond) { GetLabels(req, tail, respond); }});
    routes.push_back({http::verb::get, "/v1/monitor/performance", false, kScopeRead,
                      [this](HttpRequest& req, std::string_view, Responder& respond) { GetPerformance(req, respond); }});
  }

 private:
  void PostLabel(HttpRequest& req, Responder& respond) {
    const unsigned version = req.version();
    if (!IsJsonRequest(req)) {
      return respond(ProblemOf(ProblemType::kUnsupportedMediaType, "send Content-Type: application/json", "", version));
    }
    Label label;
    if (auto p = ParseLabelBody(req.body(), ctx_.now_ms(), label)) {
      return respond(ProblemOf(p->type, p->detail, p->field, version));
    }
    auto rec = ctx_.store->FindByRequestId(label.request_id);
    if (!rec.ok()) return respond(ProblemOf(ProblemType::kOverloaded, "audit store unavailable", "", version));
    if (!*rec) return respond(ProblemOf(ProblemType::kNotFound, "no decision with this request_id", "request_id", version));
    auto facts = ParseDecisionRecord(**rec);
    if (!facts.ok()) return respond(ProblemOf(ProblemType::kInternal, "the decision record is unreadable", "", version));
    if (facts->kind != LabelKind(label.label)) {
      return respond(ProblemOf(ProblemType::kInvalidValue,
                               facts->kind == FlowKind::kLiveness ? "a liveness decision takes genuine or attack"
                                                                  : "a transaction decision takes legitimate or fraud",
                               "label", version));
    }
    auto put = labels_->Put(label);
    if (!put.ok()) {
      Log(LogLevel::kError, "label_store_failed").Str("error", put.error().ToString());
      return respond(ProblemOf(ProblemType::kOverloaded, "the label could not be stored; retry", "", version));
    }
    live_.SetLabel(put->in_force);
    metrics_->OnLabel(put->stored, put->duplicate);
    std::string body;
    JsonWriter w(body);
    w.BeginObject().Field("request_id", label.request_id).Field("evidence_id", (*rec)->hash)
        .Field("status", put->duplicate ? "duplicate" : (put->stored.conflict ? "conflict" : "stored"))
        .Key("label");
    WriteLabel(w, put->stored);
    w.Key("in_force");
    WriteLabel(w, put->in_force);
    w.Field("history", put->history).EndObject();
    if (put->duplicate) {
      HttpResponse res = JsonResponse(http::status::ok, std::move(body), version);
      res.set("Idempotent-Replay", "true");
      return respond(std::move(res));
    }
    // The label is durable in labels.db; write it to the audit log too and answer once that is
    // durable (a failure there is logged: the label itself is kept).
    std::string fields;
    JsonWriter f(fields);
    f.BeginObject().Field("request_id", label.request_id).Field("decision_evidence_id", (*rec)->hash)
        .Field("label", LabelClassName(label.label)).Field("attack_type", label.attack_type)
        .Field("source", label.source).Field("labelled_at_ms", label.labelled_at_ms)
        .Field("conflict", put->stored.conflict).Field("label_id", put->stored.id).EndObject();
    AppendRequest event;
    event.kind = "label";
    event.time_ms = label.received_at_ms;
    event.payload = BuildEventPayload("label", label.received_at_ms, fields);
    ctx_.store->Append(std::move(event), [respond = std::move(respond), body = std::move(body), version](AppendResult r) mutable {
      if (r.status != AppendResult::Status::kOk) Log(LogLevel::kError, "label_audit_failed").Str("error", r.error);
      respond(JsonResponse(http::status::created, std::move(body), version));
    });
  }

  void GetLabels(HttpRequest& req, std::string_view request_id, Responder& respond) {
    auto history = labels_->History(std::string(request_id));
    if (!history.ok()) return respond(ProblemOf(ProblemType::kOverloaded, "label store unavailable", "", req.version()));
    if (history->empty()) {
      return respond(ProblemOf(ProblemType::kNotFound, "no label for this request_id", "request_id", req.version(), "/v1/labels"));
    }
    const Label* in_force = &history->front();
    for (const auto& l : *history) {
      if (l.labelled_at_ms > in_force->labelled_at_ms || (l.labelled_at_ms == in_force->labelled_at_ms && l.id > in_force->id)) {
        in_force = &l;
      }
    }
    std::string body;
    JsonWriter w(body);
    w.BeginObject().Field("request_id", std::string(request_id)).Key("in_force");
    WriteLabel(w, *in_force);
    w.Key("history").BeginArray();
    for (const auto& l : *history) WriteLabel(w, l);
    w.EndArray().EndObject();
    respond(JsonResponse(http::status::ok, std::move(body), req.version()));
  }

  void GetPerformance(HttpRequest& req, Responder& respond) {
    std::string_view target(req.target().data(), req.target().size());
    PerformanceQuery q;
    std::string window(QueryParam(target, "window"));
    if (!window.empty()) q.window = window;
    std::int64_t span = 0;
    if (!ParseWindow(q.window, &span)) {
      return respond(ProblemOf(ProblemType::kInvalidValue, "window must be like 30m, 1h, 24h, 7d or all", "window",
                               req.version(), "/v1/monitor/performance"));
    }
    if (Status st = live_.Refresh(); !st.ok()) {
      return respond(ProblemOf(ProblemType::kOverloaded, "audit store unavailable", "", req.version(), "/v1/monitor/performance"));
    }
    q.to_ms = WindowEnd() + 1;
    q.from_ms = span == 0 ? std::numeric_limits<std::int64_t>::min() : q.to_ms - span;
    respond(JsonResponse(http::status::ok, live_.Report(q, labels_->count(), labels_->conflicts()), req.version()));
  }

  // Where windows end: now, or on a simulated clock (decisions timed by their requests) the
  // latest decision time when that is later.
  std::int64_t WindowEnd() const {
    const std::int64_t now = ctx_.now_ms();
    if (ctx_.config && ctx_.config->simulated_clock) return std::max(now, live_.latest_decision_ms());
    return now;
  }

  ModuleContext ctx_;
  std::unique_ptr<LabelStore> labels_;
  LivePerformance live_;
  std::unique_ptr<FeedbackMetrics> metrics_;
};

}  // namespace

Result<std::unique_ptr<ServerModule>> MakeFeedbackModule(const ModuleContext& ctx) {
  const std::string sync = ctx.config ? ctx.config->audit_synchronous : std::string("full");
  auto store = LabelStore::Open(ctx.data_dir, sync);
  if (!store.ok()) return store.error();
  auto m = std::make_unique<FeedbackModule>(ctx, std::move(*store));
  if (Status st = m->Load(); !st.ok()) return st.error();
  return std::unique_ptr<ServerModule>(std::move(m));
}

}  // namespace vigil
