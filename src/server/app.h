// VigilApp: the HTTP face of vigil. It wires the components along the request path (keys ->
// request parsing -> decision engine -> audit store -> response) and holds no decision logic.
// Thread-safe: requests run concurrently on the io threads; Reload() swaps the engine atomically
// so a request in flight finishes on the version it started with.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "auth/keys.h"
#include "metrics/metrics.h"
#include "pipeline/engine.h"
#include "server/config.h"
#include "server/http_server.h"
#include "server/module.h"
#include "store/audit_store.h"
#include "store/sqlite_audit_store.h"

namespace vigil {

class VigilApp : public HttpHandler {
 public:
  // Loads the engine from the config directory, opens the store in the data directory and the
  // key file. When no key exists yet, creates an admin key and returns it in `new_admin_key`
  // (print it once; only its hash is stored).
  static Result<std::unique_ptr<VigilApp>> Create(const ServerConfig& cfg, std::string* new_admin_key);
  ~VigilApp() override;

  void Handle(HttpRequest&& request, Responder respond) override;
  HttpResponse Problem(TransportProblem p, unsigned http_version) override;

  // Reloads policy, calibrations, fusion models and keys. A bad file is refused (the old version
  // keeps serving) and the error returned; a good one is swapped in and audited.
  Status Reload();
  // /readyz: the store commits and an engine is loaded, and we are not shutting down.
  bool Ready() const;
  // Stops readiness (load balancers drain) before the HTTP server stops accepting.
  void BeginShutdown() { shutting_down_.store(true); }
  // Blocks until every audit record queued so far is committed.
  void FlushAudit();

  // Exports the HTTP transport's figures (connections, requests in flight, read timeouts, accept
  // errors, the connection limit) as metrics. Call once, before serving.
  Status ObserveHttp(std::function<HttpServerStats()> read, int max_connections);

  std::shared_ptr<const DecisionEngine> engine() const { return engine_.load(); }
  // Stops the modules (flushes their files and threads); call after the HTTP server has drained.
  void StopModules();

 private:
  explicit VigilApp(ServerConfig cfg);
  std::string ConfigDir() const;

  void HandleDecision(HttpRequest& req, Responder& respond);
  void HandleGetDecision(std::string_view request_id, HttpRequest& req, Responder& respond);
  void HandleReload(HttpRequest& req, Responder& respond);
  // Module routes: true when one matched the path (and answered).
  bool HandleModuleRoute(HttpRequest& req, std::string_view path, Responder& respond);
  // Checks the key and scope; on failure responds and returns false.
  bool Authorize(const HttpRequest& req, std::uint8_t scope, Responder& respond, std::string* key_id);
  std::int64_t NowMs() const;
  Status ObserveAuditDisk(SqliteAuditOptions& opt);
  Status RegisterAuditMetrics();

  ServerConfig cfg_;
  std::string secret_;
  std::unique_ptr<MetricsRegistry> metrics_;  // before store_ and modules_: outlives them (both observe into it)
  std::unique_ptr<AuditStore> store_;
  std::unique_ptr<Authenticator> auth_;
  std::atomic<std::shared_ptr<const DecisionEngine>> engine_;
  std::atomic<bool> shutting_down_{false};
  std::vector<std::unique_ptr<ServerModule>> modules_;
  std::vector<Route> routes_;
};

}  // namespace vigil
