// ServerModule: how a component of SPEC.md section 2 joins the server without the server knowing
// its insides. The request path is fixed and runs one way:
//
//   auth -> parse -> idempotency -> [Analyze: each module in order] -> engine.Decide
//        -> [Finish: each module] -> render -> audit write (durable) -> respond
//        -> [OnDecided: each module, after the record is durable]
//
// A module may add routes (its own endpoints), add signals, findings and quality measures to the
// request before the engine runs (sessions, media and quality gate, hosted models, analyzers),
// adjust what the response carries after the decision (a retry's next token), and observe each
// durable decision and each problem answered (metrics, monitoring events, drift, alerts, labels).
//
// Threading: every hook runs on the io threads, concurrently for different requests. Hooks on
// the decision path must not block on I/O and must not take a lock shared by all requests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/codec.h"
#include "api/problem.h"
#include "core/decision.h"
#include "core/result.h"
#include "server/config.h"
#include "server/http_server.h"

namespace vigil {

class AuditStore;
class DecisionEngine;
class MetricsRegistry;

// Time spent in one stage of one request, for metrics and the audit record.
struct StageTiming {
  std::string stage;  // "session", "quality", "velocity", "xgboost", "engine", "audit_write", ...
  double ms = 0.0;
};

// What the modules see of a decision request on its way in. Modules add to `request` (signals,
// findings, quality, security) and to `timings`; `scratch` carries state from a module's Analyze
// to its Finish for the same request (index = the module's position).
struct DecisionInput {
  std::string_view body;            // the raw JSON body (already validated by the parser)
  std::string_view key_id;          // the API key that sent it
  ParsedDecisionRequest* parsed;    // request + session token + timestamp flag
  FlowKind kind = FlowKind::kLiveness;
  std::vector<StageTiming> timings;
  std::vector<std::shared_ptr<void>> scratch;
  std::size_t slot = 0;             // the calling module's index in `scratch` (set by the server)
};

// A durable decision, as the observers see it.
struct DecisionEvent {
  const DecisionRequest& request;
  const Decision& decision;
  std::string_view evidence_id;
  std::string_view key_id;
  const std::vector<StageTiming>& timings;
  double latency_ms = 0.0;  // whole request, parse to durable
  std::int64_t time_ms = 0; // event time (simulated clocks: the request's)
};

// A route a module serves. `path` is exact, or a prefix when `prefix` is true (the rest of the
// path is passed as `tail`). Authorization runs before the handler with `scope` (0: none).
struct Route {
  http::verb method = http::verb::get;
  std::string path;
  bool prefix = false;
  std::uint8_t scope = 0;
  std::function<void(HttpRequest& req, std::string_view tail, Responder& respond)> handler;
};

// What a module is given when the server builds it.
struct ModuleContext {
  const ServerConfig* config = nullptr;
  std::string config_dir;           // policy.yaml, reasons.yaml, ... and the modules' own files
  std::string data_dir;
  std::string secret;               // the server secret (HMAC); never log it
  AuditStore* store = nullptr;
  std::function<std::shared_ptr<const DecisionEngine>()> engine;  // the engine in force
  std::function<std::int64_t()> now_ms;                           // wall or simulated clock
  // The server's metrics (src/metrics/metrics.h): register families once (in the module's
  // constructor), keep the returned pointers and update them from any hook. Lives as long as
  // the server; served at GET /metrics.
  MetricsRegistry* metrics = nullptr;
};

class ServerModule {
 public:
  virtual ~ServerModule() = default;
  virtual std::string_view name() const = 0;

  virtual void AddRoutes(std::vector<Route>& routes) { (void)routes; }

  // Before the engine. Returning a Problem rejects the request: nothing is written.
  virtual std::optional<Problem> Analyze(DecisionInput& in) {
    (void)in;
    return std::nullopt;
  }
  // After the engine, before rendering and the audit write: may fill `meta` (next_token) and must
  // not change the decision except to make it stricter.
  virtual void Finish(DecisionInput& in, Decision& decision, DecisionMeta& meta) {
    (void)in, (void)decision, (void)meta;
  }
  // After the record is durable and the response sent. Runs on the audit store's completion
  // thread, one call at a time: keep it to counters and histograms, and hand anything slower
  // (files, webhooks) to a thread of your own.
  virtual void OnDecided(const DecisionEvent& event) { (void)event; }
  // Each problem response the server sends (type, route path).
  virtual void OnProblem(ProblemType type, std::string_view route) { (void)type, (void)route; }
  // SIGHUP / POST /v1/admin/reload: re-read the module's own files. A bad file is refused and the
  // old state keeps serving.
  virtual Status Reload() { return Status::Ok(); }
  // /readyz: false keeps the server out of the load balancer (a model that failed to load).
  virtual bool Ready(std::string* why) const {
    (void)why;
    return true;
  }
  // Before the process exits: flush files, stop threads.
  virtual void Stop() {}
};

// The modules the server runs, in request-path order. server/modules.cc lists them; each module
// adds one line there.
Result<std::vector<std::unique_ptr<ServerModule>>> BuildModules(const ModuleContext& ctx);

}  // namespace vigil
