#include "session/session_module.h"

#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "auth/keys.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "metrics/metrics.h"
#include "pipeline/engine.h"
#include "server/responses.h"
#include "core/thread_name.h"

namespace vigil {
namespace {

constexpr std::size_t kMaxCaptureFields = 32;
constexpr std::int64_t kSimulatedSweepLagMs = 10 * 60 * 1000;
constexpr std::size_t kMaxCaptureString = 256;

int RefusalIndex(ReasonCode c) {
  switch (c) {
    case ReasonCode::kTokenWrongKey: return 1;
    case ReasonCode::kTokenExpired: return 2;
    case ReasonCode::kTokenReplayed: return 3;
    default: return 0;
  }
}

// The token check of one request, from Analyze to Finish.
struct Scratch {
  TokenCheck check;
};

struct OpenRequest {
  std::string flow_type;
  std::int64_t timestamp_ms = 0;
  bool has_timestamp = false;
};

// {"flow_type": "...", "capture_context": {...}, "timestamp_ms": n}. The capture context is
// checked (flat, bounded) but not kept: the session record stays small and holds no client data.
Result<OpenRequest, Problem> ParseOpen(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return Problem{ProblemType::kMalformedJson, "the body is not valid JSON", ""};
  }
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return Problem{ProblemType::kWrongType, "the body must be a JSON object", ""};
  }
  OpenRequest out;
  bool has_flow = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    if (key == "flow_type") {
      std::string_view s;
      if (field.value.get_string().get(s) != simdjson::SUCCESS) {
        return Problem{ProblemType::kWrongType, "expected a string", "flow_type"};
      }
      if (s.empty() || s.size() > 31) return Problem{ProblemType::kInvalidValue, "1 to 31 characters", "flow_type"};
      out.flow_type = std::string(s);
      has_flow = true;
    } else if (key == "capture_context") {
      simdjson::dom::object ctx;
      if (field.value.get_object().get(ctx) != simdjson::SUCCESS) {
        return Problem{ProblemType::kWrongType, "expected an object", "capture_context"};
      }
      std::size_t n = 0;
      for (auto f : ctx) {
        std::string path = "capture_context." + std::string(f.key.substr(0, 64));
        if (++n > kMaxCaptureFields) return Problem{ProblemType::kInvalidValue, "too many fields", "capture_context"};
        switch (f.value.type()) {
          case simdjson::dom::element_type::STRING:
            if (std::string_view(f.value).size() > kMaxCaptureString) {
              return Problem{ProblemType::kInvalidValue, "string too long", path};
            }
            break;
          case simdjson::dom::element_type::INT64:
          case simdjson::dom::element_type::UINT64:
          case simdjson::dom::element_type::DOUBLE:
          case simdjson::dom::element_type::BOOL:
            break;
          default:
            return Problem{ProblemType::kWrongType, "expected a string, number or boolean", path};
        }
      }
    } else if (key == "timestamp_ms") {
      double t;
      if (field.value.get_double().get(t) != simdjson::SUCCESS) {
        return Problem{ProblemType::kWrongType, "expected a number", "timestamp_ms"};
      }
      if (!(t >= 0 && t < 1e15)) return Problem{ProblemType::kInvalidNumber, "out of range", "timestamp_ms"};
      out.timestamp_ms = static_cast<std::int64_t>(t);
      out.has_timestamp = true;
    } else {
      return Problem{ProblemType::kUnknownField, "unknown field", std::string(key.substr(0, 64))};
    }
  }
  if (!has_flow) return Problem{ProblemType::kMissingField, "flow_type is required", "flow_type"};
  return out;
}

class SessionModule final : public ServerModule {
 public:
  SessionModule(const ModuleContext& ctx, std::shared_ptr<SessionStore> store)
      : ctx_(ctx), service_(std::move(store), ctx.secret) {
    if (ctx.metrics) RegisterMetrics(*ctx.metrics);
    sweeper_ = std::thread([this] {
      NameThisThread("session-sweep");
      SweepLoop();
    });
  }
  ~SessionModule() override { Stop(); }

  std::string_view name() const override { return "session"; }

  void AddRoutes(std::vector<Route>& routes) override {
    routes.push_back(Route{http::verb::post, "/v1/sessions", false, kScopeDecide,
                           [this](HttpRequest& req, std::string_view, Responder& respond) { Open(req, respond); }});
  }

  std::optional<Problem> Analyze(DecisionInput& in) override {
    if (in.kind != FlowKind::kLiveness) return std::nullopt;
    auto engine = ctx_.engine();
    DecisionRequest& req = in.parsed->request;
    if (engine->policy().FindFlow(req.flow_type) == nullptr) return std::nullopt;  // the engine says unknown flow
    if (in.parsed->session_token.empty()) {
      return Problem{ProblemType::kMissingField, "a liveness decision needs the session_token from POST /v1/sessions",
                     "session_token"};
    }
    const std::int64_t now = static_cast<std::int64_t>(req.time_ms);
    NoteTime(now);
    auto scratch = std::make_shared<Scratch>();
    scratch->check = service_.CheckAndConsume(in.parsed->session_token, in.key_id, req.flow_type, now);
    const TokenCheck& c = scratch->check;
    if (c.valid) {
      req.attempt = c.attempt;  // the token's count, not the client's
      in.challenge_steps = c.steps;  // for the liveness module's challenge check
    } else {
      counters_.refused[RefusalIndex(c.reason)].fetch_add(1, std::memory_order_relaxed);
      if (m_refused_) m_refused_->Get({BuiltinReasonName(c.reason)}).Inc();
      req.findings.push_back(Finding{c.reason, 1.0, "session", {}});
      if (c.attempt > 0) req.attempt = c.attempt;
      Log(LogLevel::kWarn, "session_token_refused")
          .Str("reason", BuiltinReasonName(c.reason))
          .Str("request_id", req.request_id)
          .Str("key_id", std::string(in.key_id));
    }
    in.scratch[in.slot] = scratch;
    return std::nullopt;
  }

  void Finish(DecisionInput& in, Decision& decision, DecisionMeta& meta) override {
    auto* s = static_cast<Scratch*>(in.scratch[in.slot].get());
    if (s == nullptr) return;
    const TokenCheck& c = s->check;
    if (!c.valid) {
      // A refused token never passes, whatever the policy says.
      if (decision.outcome == Outcome::kPass) {
        decision.outcome = Outcome::kFail;
        decision.outcome_name = "fail";
        if (const FlowPolicy* flow = ctx_.engine()->policy().FindFlow(decision.flow_type)) {
          decision.outcome_name = flow->OutcomeName(Outcome::kFail);
        }
        decision.reasons.insert(decision.reasons.begin(), DecisionReason{c.reason, 1.0, true, {}});
        decision.explanation.decided_by = DecidedBy::kHardRule;
        decision.explanation.rule = "session_token_guard";
      }
      return;
    }
    if (decision.outcome == Outcome::kRetry) {
      counters_.retries.fetch_add(1, std::memory_order_relaxed);
      if (m_retries_) m_retries_->Get({decision.flow_type}).Inc();
      meta.next_token = service_.NextToken(c, in.key_id, static_cast<std::int64_t>(in.parsed->request.time_ms));
    } else {
      counters_.completed.fetch_add(1, std::memory_order_relaxed);
      if (m_completed_) m_completed_->Get({decision.flow_type, decision.outcome_name}).Inc();
      service_.Finish(c);
    }
  }

  void Stop() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (sweeper_.joinable()) sweeper_.join();
  }

  const SessionCounters& counters() const { return counters_; }

 private:
  void Open(HttpRequest& req, Responder& respond) {
    const unsigned version = req.version();
    auto parsed = ParseOpen(req.body());
    if (!parsed.ok()) return respond(ProblemResponse(parsed.error(), version, "/v1/sessions"));
    auto engine = ctx_.engine();
    const FlowPolicy* flow = engine->policy().FindFlow(parsed->flow_type);
    if (flow == nullptr) {
      return respond(ProblemResponse({ProblemType::kUnknownFlow, "no flow '" + parsed->flow_type + "' in the policy",
                                      "flow_type"}, version, "/v1/sessions"));
    }
    if (flow->kind != FlowKind::kLiveness) {
      return respond(ProblemResponse({ProblemType::kInvalidValue, "sessions are for liveness flows", "flow_type"},
                                     version, "/v1/sessions"));
    }
    auto key_header = req.find(http::field::authorization);
    std::string key_id = KeyIdFromAuthorization(
        key_header == req.end() ? std::string_view() : std::string_view(key_header->value().data(), key_header->value().size()));
    std::int64_t now = (ctx_.config && ctx_.config->simulated_clock && parsed->has_timestamp) ? parsed->timestamp_ms
                                                                                               : ctx_.now_ms();
    NoteTime(now);
    auto session = service_.Open(parsed->flow_type, key_id, flow->session_ttl_seconds, now);
    if (!session.ok()) {
      return respond(ProblemResponse({ProblemType::kOverloaded, "no room for another open session", ""}, version));
    }
    counters_.started.fetch_add(1, std::memory_order_relaxed);
    if (m_started_) m_started_->Get({parsed->flow_type}).Inc();
    std::string body;
    JsonWriter w(body);
    w.BeginObject()
        .Field("session_id", session->session_id)
        .Field("flow_type", parsed->flow_type)
        .Key("challenge").BeginObject().Field("nonce", session->nonce).Key("steps").BeginArray();
    for (const auto& s : session->steps) w.String(s);
    w.EndArray().EndObject()
        .Field("session_token", session->token)
        .Field("expires_at", FormatRfc3339Ms(session->expires_ms))
        .Field("expires_at_ms", session->expires_ms)
        .Field("max_attempts", static_cast<std::int64_t>(flow->max_attempts))
        .EndObject();
    respond(JsonResponse(http::status::created, std::move(body), version));
  }

  void RegisterMetrics(MetricsRegistry& reg) {
    auto flows = LabelSpec::TopK("flow_type", 32);
    auto set = [](auto r, auto*& out) {
      if (r.ok()) out = *r;
    };
    set(reg.AddCounter("vigil_sessions_started_total", "Liveness sessions opened (POST /v1/sessions).", {flows}), m_started_);
    set(reg.AddCounter("vigil_sessions_completed_total", "Sessions closed by a final outcome, by outcome.",
                       {flows, LabelSpec::TopK("outcome", 8)}), m_completed_);
    set(reg.AddCounter("vigil_session_retries_total", "Liveness attempts answered with retry (a next token issued).", {flows}),
        m_retries_);
    set(reg.AddCounter("vigil_sessions_abandoned_total", "Sessions that expired without a final outcome.", {flows}),
        m_abandoned_);
    set(reg.AddCounter("vigil_session_token_refusals_total", "Session tokens refused, by reason.",
                       {LabelSpec::Allow("reason", {"TOKEN_INVALID", "TOKEN_WRONG_KEY", "TOKEN_EXPIRED", "TOKEN_REPLAYED"})}),
        m_refused_);
    auto open = reg.AddGauge("vigil_sessions_open", "Sessions held in the session store.");
    if (open.ok()) {
      Gauge* g = &(*open)->Get(std::vector<std::string_view>{});
      reg.AddCollectHook([this, g] { g->Set(static_cast<double>(service_.store().size())); });
    }
  }

  // The clock the sweeper uses: wall time, or under a simulated clock the latest event time seen.
  void NoteTime(std::int64_t t) {
    std::int64_t cur = latest_ms_.load(std::memory_order_relaxed);
    while (t > cur && !latest_ms_.compare_exchange_weak(cur, t, std::memory_order_relaxed)) {
    }
  }

  void SweepLoop() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::chrono::milliseconds(500));
      if (stopping_) break;
      lock.unlock();
      const bool simulated = ctx_.config && ctx_.config->simulated_clock;
      // Under a simulated clock, requests in flight carry event times that straddle each other
      // (a traffic generator compresses days into minutes), so the sweep lags the latest event
      // time by 10 simulated minutes. Sweeping only frees memory and counts abandonment: a token
      // past its expiry is refused by its own expiry, whether or not its session is still here.
      std::int64_t now = simulated ? latest_ms_.load(std::memory_order_relaxed) - kSimulatedSweepLagMs : ctx_.now_ms();
      service_.Sweep(now, [this](std::string_view flow) {
        counters_.abandoned.fetch_add(1, std::memory_order_relaxed);
        if (m_abandoned_) m_abandoned_->Get({flow}).Inc();
      });
      lock.lock();
    }
  }

  ModuleContext ctx_;
  SessionService service_;
  SessionCounters counters_;
  std::atomic<std::int64_t> latest_ms_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread sweeper_;
  Family<Counter>* m_started_ = nullptr;
  Family<Counter>* m_completed_ = nullptr;
  Family<Counter>* m_retries_ = nullptr;
  Family<Counter>* m_abandoned_ = nullptr;
  Family<Counter>* m_refused_ = nullptr;
};

}  // namespace

std::unique_ptr<ServerModule> NewSessionModule(const ModuleContext& ctx, std::shared_ptr<SessionStore> store) {
  return std::make_unique<SessionModule>(ctx, std::move(store));
}

}  // namespace vigil
