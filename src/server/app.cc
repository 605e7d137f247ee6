#include "server/app.h"

#include <sys/statvfs.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "api/codec.h"
#include "audit/audit.h"
#include "auth/secrets.h"
#include "core/crypto.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "server/responses.h"
#include "store/sqlite_audit_store.h"

#ifndef VIGIL_DEFAULT_CONFIG_DIR
#define VIGIL_DEFAULT_CONFIG_DIR "config"
#endif

namespace vigil {
namespace {

std::string_view PathOf(const HttpRequest& req) {
  std::string_view t(req.target().data(), req.target().size());
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

HttpResponse MethodNotAllowed(unsigned version, std::string_view allow, std::string_view path) {
  HttpResponse res = ProblemResponse({ProblemType::kMethodNotAllowed, "use " + std::string(allow), ""}, version, path);
  res.set(http::field::allow, std::string(allow));
  return res;
}

}  // namespace

VigilApp::VigilApp(ServerConfig cfg) : cfg_(std::move(cfg)) {}

VigilApp::~VigilApp() {
  if (store_) store_->Flush();
}

std::string VigilApp::ConfigDir() const {
  if (!cfg_.config_dir.empty()) return cfg_.config_dir;
  if (const char* env = std::getenv("VIGIL_CONFIG"); env && *env) return env;
  if (std::filesystem::exists("config/policy.yaml")) return "config";
  return VIGIL_DEFAULT_CONFIG_DIR;
}

Result<std::unique_ptr<VigilApp>> VigilApp::Create(const ServerConfig& cfg, std::string* new_admin_key) {
  std::unique_ptr<VigilApp> app(new VigilApp(cfg));
  auto secret = LoadOrCreateServerSecret(cfg.data_dir);
  if (!secret.ok()) return secret.error();
  app->secret_ = std::move(*secret);

  auto engine = DecisionEngine::Load(EngineFiles::Under(app->ConfigDir()));
  if (!engine.ok()) return engine.error();
  app->engine_.store(std::move(*engine));

  SqliteAuditOptions opt;
  opt.synchronous = cfg.audit_synchronous;
  opt.max_batch = cfg.audit_max_batch;
  opt.parallel_syncs = cfg.audit_parallel_fsyncs;
  opt.wal_pinned_max_bytes = cfg.audit_wal_pinned_max_bytes;
  opt.head_secret = app->secret_;
  app->metrics_ = std::make_unique<MetricsRegistry>();
  if (Status s = app->ObserveAuditDisk(opt); !s.ok()) return s.error();
  auto store = OpenSqliteAuditStore(cfg.data_dir, opt);
  if (!store.ok()) return store.error();
  app->store_ = std::move(*store);

  std::string keys_path = cfg.data_dir + "/keys.yaml";
  auto ring = KeyRing::LoadFile(keys_path);
  if (!ring.ok()) return ring.error();
  if ((*ring)->records().empty()) {
    auto key = AddKey(keys_path, kScopeAdmin, 1000.0, 2000.0, "first admin key, created at first start");
    if (!key.ok()) return key.error();
    if (new_admin_key) *new_admin_key = *key;
    ring = KeyRing::LoadFile(keys_path);
    if (!ring.ok()) return ring.error();
  }
  app->auth_ = std::make_unique<Authenticator>(std::move(*ring));

  if (Status s = app->RegisterAuditMetrics(); !s.ok()) return s.error();
  ModuleContext ctx;
  ctx.config = &app->cfg_;
  ctx.config_dir = app->ConfigDir();
  ctx.data_dir = cfg.data_dir;
  ctx.secret = app->secret_;
  ctx.store = app->store_.get();
  VigilApp* self = app.get();
  ctx.engine = [self] { return self->engine_.load(); };
  ctx.now_ms = [self] { return self->NowMs(); };
  ctx.metrics = app->metrics_.get();
  auto modules = BuildModules(ctx);
  if (!modules.ok()) return modules.error();
  app->modules_ = std::move(*modules);
  for (auto& m : app->modules_) m->AddRoutes(app->routes_);
  return app;
}

namespace {

// The server's own unlabelled series, registered one after another: each call gives the series'
// one cell (nullptr once a registration has failed), and status() the first failure, which the
// caller returns before using any cell.
class ServerSeries {
 public:
  explicit ServerSeries(MetricsRegistry& reg) : reg_(reg) {}
  Counter* AddCounter(std::string name, std::string help) { return Cell(reg_.AddCounter(std::move(name), std::move(help))); }
  Gauge* AddGauge(std::string name, std::string help) { return Cell(reg_.AddGauge(std::move(name), std::move(help))); }
  Histogram* AddHistogram(std::string name, std::string help, std::vector<double> buckets) {
    return Cell(reg_.AddHistogram(std::move(name), std::move(help), {}, std::move(buckets)));
  }
  const Status& status() const { return status_; }

 private:
  template <typename T>
  T* Cell(Result<Family<T>*> family) {
    if (!family.ok()) {
      if (status_.ok()) status_ = family.error();
      return nullptr;
    }
    return status_.ok() ? &(*family)->Get({}) : nullptr;
  }
  MetricsRegistry& reg_;
  Status status_ = Status::Ok();
};

}  // namespace

// How long the disk work behind each acknowledgement takes, as distributions: the mean fsync
// (vigil_audit_sync_seconds_total / vigil_audit_syncs_total) hides the flush tail that sets the
// decisions' p99 with `synchronous: full`, and a writer held up by a commit or a WAL restart holds
// up every decision queued behind it.
Status VigilApp::ObserveAuditDisk(SqliteAuditOptions& opt) {
  ServerSeries add(*metrics_);
  const std::vector<double> buckets = ExponentialBuckets(50e-6, 2, 16);  // 50 us .. 1.6 s
  Histogram* fsync = add.AddHistogram("vigil_audit_fsync_duration_seconds",
                                      "Each fdatasync of the audit log's WAL before acknowledging the groups it covers (synchronous: full).",
                                      buckets);
  Histogram* commit = add.AddHistogram("vigil_audit_commit_duration_seconds",
                                       "The audit writer's time on each group commit: its inserts, its commit, and the checkpoint that restarts the WAL when due.",
                                       buckets);
  if (!add.status().ok()) return add.status();
  opt.on_fsync = [fsync](double seconds) { fsync->Observe(seconds); };
  opt.on_commit = [commit](double seconds) { commit->Observe(seconds); };
  return Status::Ok();
}

// The audit log's own work, read from the store at each scrape: group commits, records, the
// fsyncs that precede acknowledgements and the time they take (a slow disk shows here first),
// WAL restarts and the queue in front of the writer.
Status VigilApp::RegisterAuditMetrics() {
  ServerSeries add(*metrics_);
  Counter* c_groups = add.AddCounter("vigil_audit_commit_groups_total", "Group commits of the audit log.");
  Counter* c_records = add.AddCounter("vigil_audit_records_total", "Records committed to the audit log.");
  Counter* c_syncs = add.AddCounter("vigil_audit_syncs_total", "Fsyncs of the audit log's WAL before acknowledging a group (synchronous: full).");
  Counter* c_sync_s = add.AddCounter("vigil_audit_sync_seconds_total", "Time spent in those fsyncs.");
  Counter* c_restarts = add.AddCounter("vigil_audit_wal_restarts_total", "Times the audit log's WAL was started again from its beginning after a checkpoint.");
  Counter* c_wal_bytes = add.AddCounter("vigil_audit_wal_bytes_total", "Bytes the audit log's commits appended to its WAL (pages and frame headers): its write volume before checkpoints.");
  Counter* c_failures = add.AddCounter("vigil_audit_commit_failures_total", "Group commits of the audit log that failed (disk full, I/O error, database locked); none of their decisions was acknowledged.");
  Gauge* g_queue = add.AddGauge("vigil_audit_queue_depth", "Records waiting for or in the writer's current group commit.");
  Gauge* g_writable = add.AddGauge("vigil_audit_writable", "1 while the audit log takes writes; 0 after a failed commit (until a write succeeds again) or a failed fsync (until restart). The server is not ready while it is 0.");
  Gauge* g_free = add.AddGauge("vigil_data_dir_free_bytes", "Bytes free for vigil on the data directory's filesystem (statvfs f_bavail).");
  Gauge* g_log = add.AddGauge("vigil_audit_log_bytes", "Size of the audit log's files on disk (audit.db and its WAL).");
  Gauge* g_index = add.AddGauge("vigil_audit_request_index_bytes", "Memory of the request-id index (11-23 bytes per record in the live log; rebuilt without archived records once they are a quarter of it)");
  if (!add.status().ok()) return add.status();
  AuditStore* store = store_.get();
  const std::string dir = cfg_.data_dir;
  metrics_->AddCollectHook([=] {
    const AuditStoreStats st = store->stats();
    c_groups->AdvanceTo(static_cast<double>(st.groups));
    c_records->AdvanceTo(static_cast<double>(st.records));
    c_syncs->AdvanceTo(static_cast<double>(st.syncs));
    c_sync_s->AdvanceTo(st.sync_seconds);
    c_restarts->AdvanceTo(static_cast<double>(st.wal_restarts));
    c_wal_bytes->AdvanceTo(static_cast<double>(st.wal_bytes));
    c_failures->AdvanceTo(static_cast<double>(st.commit_failures));
    g_queue->Set(static_cast<double>(store->queue_depth()));
    g_writable->Set(store->Healthy() ? 1 : 0);
    struct statvfs fs {};
    g_free->Set(::statvfs(dir.c_str(), &fs) == 0 ? static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize)
                                                  : std::nan(""));
    g_log->Set(static_cast<double>(st.log_bytes));
    g_index->Set(static_cast<double>(st.request_index_bytes));
  });
  return Status::Ok();
}

Status VigilApp::ObserveHttp(std::function<HttpServerStats()> read, int max_connections) {
  ServerSeries add(*metrics_);
  Gauge* g_conn = add.AddGauge("vigil_http_connections", "Open HTTP connections.");
  Gauge* g_limit = add.AddGauge("vigil_http_max_connections", "The connection limit (http.max_connections, lowered at start to what the file-descriptor limit allows).");
  Gauge* g_in_flight = add.AddGauge("vigil_http_requests_in_flight", "Requests being handled (bounded by http.max_in_flight; beyond it 503).");
  Counter* c_timeouts = add.AddCounter("vigil_http_read_timeouts_total", "Connections closed because a request did not arrive whole within http.read_timeout_ms.");
  Counter* c_accept = add.AddCounter("vigil_http_accept_errors_total", "Failed accepts of a new connection (out of file descriptors or memory, ...); accepting pauses 100 ms after one.");
  Counter* c_limit = add.AddCounter("vigil_http_connection_limit_reached_total", "Times accepting paused at http.max_connections until a connection closed.");
  Counter* c_idle = add.AddCounter("vigil_http_idle_connections_closed_total", "Idle keep-alive connections closed to make room at the connection limit or when out of file descriptors.");
  Gauge* g_body = add.AddGauge("vigil_http_request_body_bytes_held", "Bytes of request bodies being read or handled, counted at their Content-Length (bounded by http.max_buffered_body_bytes).");
  Counter* c_refused = add.AddCounter("vigil_http_bodies_refused_total", "Requests answered 503 before their body was read because http.max_buffered_body_bytes was reached.");
  if (!add.status().ok()) return add.status();
  g_limit->Set(max_connections);
  metrics_->AddCollectHook([=, read = std::move(read)] {
    const HttpServerStats st = read();
    g_conn->Set(st.connections);
    g_in_flight->Set(st.in_flight);
    c_timeouts->AdvanceTo(static_cast<double>(st.read_timeouts));
    c_accept->AdvanceTo(static_cast<double>(st.accept_errors));
    c_limit->AdvanceTo(static_cast<double>(st.connection_limit_reached));
    c_idle->AdvanceTo(static_cast<double>(st.idle_closed_for_room));
    g_body->Set(static_cast<double>(st.body_bytes_held));
    c_refused->AdvanceTo(static_cast<double>(st.bodies_refused));
  });
  return Status::Ok();
}

std::int64_t VigilApp::NowMs() const { return WallClockMs(); }

bool VigilApp::Ready() const {
  if (shutting_down_.load() || !store_->Healthy() || engine_.load() == nullptr) return false;
  for (const auto& m : modules_) {
    if (!m->Ready(nullptr)) return false;
  }
  return true;
}

void VigilApp::StopModules() {
  for (auto& m : modules_) m->Stop();
}

void VigilApp::FlushAudit() { store_->Flush(); }

Status VigilApp::Reload() {
  auto engine = DecisionEngine::Load(EngineFiles::Under(ConfigDir()));
  if (!engine.ok()) {
    Log(LogLevel::kError, "reload_refused").Str("error", engine.error().ToString());
    return engine.error();
  }
  auto ring = KeyRing::LoadFile(cfg_.data_dir + "/keys.yaml");
  if (!ring.ok()) {
    Log(LogLevel::kError, "reload_refused").Str("error", ring.error().ToString());
    return ring.error();
  }
  for (auto& m : modules_) {
    if (Status st = m->Reload(); !st.ok()) {
      Log(LogLevel::kError, "reload_refused").Str("module", m->name()).Str("error", st.error().ToString());
      return st;
    }
  }
  auto old = engine_.load();
  std::string fields;
  JsonWriter w(fields);
  w.BeginObject().Field("old_policy", old->policy().version()).Field("new_policy", (*engine)->policy().version());
  w.Key("fusion").BeginObject();
  for (const auto& m : (*engine)->fusion_models().all()) w.Field(m.name(), m.version());
  w.EndObject().Key("calibration").BeginObject();
  for (const auto& c : (*engine)->calibrations().all()) w.Field(c.signal(), c.model_version());
  w.EndObject().Field("keys", static_cast<std::int64_t>((*ring)->records().size())).EndObject();
  engine_.store(std::move(*engine));
  auth_->Reload(std::move(*ring));
  AppendRequest rec;
  rec.kind = "reload";
  rec.time_ms = NowMs();
  rec.payload = BuildEventPayload("reload", rec.time_ms, fields);
  store_->Append(std::move(rec), [](AppendResult r) {
    if (r.status != AppendResult::Status::kOk) Log(LogLevel::kError, "reload_audit_failed").Str("error", r.error);
  });
  Log(LogLevel::kInfo, "reloaded").Str("policy_version", engine_.load()->policy().version());
  return Status::Ok();
}

// Answered by the HTTP transport before any route saw the request; counted like every other
// problem (route "(transport)"), so that overload answered here shows in vigil_problems_total.
HttpResponse VigilApp::Problem(TransportProblem p, unsigned version) {
  ProblemType type = ProblemType::kMalformedJson;
  std::string detail = "malformed HTTP request";
  switch (p) {
    case TransportProblem::kBodyTooLarge:
      type = ProblemType::kBodyTooLarge;
      detail = "the body exceeds " + std::to_string(cfg_.http.max_body_bytes) + " bytes";
      break;
    case TransportProblem::kOverloaded:
      type = ProblemType::kOverloaded;
      detail = "too many requests in flight";
      break;
    case TransportProblem::kBodiesBuffered:
      type = ProblemType::kOverloaded;
      detail = "too many request bodies held at once";
      break;
    case TransportProblem::kMalformed:
      break;
  }
  for (auto& m : modules_) m->OnProblem(type, "(transport)");
  return ProblemResponse({type, std::move(detail), ""}, version);
}

bool VigilApp::Authorize(const HttpRequest& req, std::uint8_t scope, Responder& respond, std::string* key_id) {
  auto it = req.find(http::field::authorization);
  std::string_view header = it == req.end() ? std::string_view() : std::string_view(it->value().data(), it->value().size());
  auto check = auth_->Authorize(header, scope, NowMs());
  switch (check.outcome) {
    case Authenticator::Outcome::kOk:
      if (key_id) *key_id = check.key_id;
      return true;
    case Authenticator::Outcome::kMissing:
    case Authenticator::Outcome::kInvalid: {
      HttpResponse res = ProblemResponse({ProblemType::kUnauthorized, "send Authorization: Bearer <api key>", ""}, req.version());
      res.set(http::field::www_authenticate, "Bearer");
      respond(std::move(res));
      return false;
    }
    case Authenticator::Outcome::kForbidden:
      respond(ProblemResponse({ProblemType::kForbidden, "this key lacks the '" + ScopeNames(scope) + "' scope", ""}, req.version()));
      return false;
    case Authenticator::Outcome::kRateLimited:
      respond(ProblemResponse({ProblemType::kRateLimited, "slow down", ""}, req.version(), {}, check.retry_after_s));
      return false;
  }
  return false;
}

void VigilApp::Handle(HttpRequest&& req, Responder respond_raw) {
  std::string_view path = PathOf(req);
  const auto method = req.method();
  // Every problem answered is shown to the modules (metrics count them by type and route).
  Responder respond = [this, route = std::string(path.substr(0, 64)), r = std::move(respond_raw)](HttpResponse&& res) {
    if (res.result_int() >= 400 && !modules_.empty()) {
      constexpr std::string_view kUrn = "urn:vigil:problem:";
      std::string_view body = res.body();
      auto at = body.find(kUrn);
      if (at != std::string_view::npos) {
        auto start = at + kUrn.size();
        auto end = body.find('"', start);
        ProblemType type;
        if (end != std::string_view::npos && ProblemTypeFromSlug(body.substr(start, end - start), &type)) {
          for (auto& m : modules_) m->OnProblem(type, route);
        }
      }
    }
    r(std::move(res));
  };
  if (path == "/healthz") {
    if (method != http::verb::get && method != http::verb::head) return respond(MethodNotAllowed(req.version(), "GET", path));
    return respond(JsonResponse(http::status::ok, "{\"status\":\"ok\"}", req.version()));
  }
  if (path == "/readyz") {
    if (method != http::verb::get && method != http::verb::head) return respond(MethodNotAllowed(req.version(), "GET", path));
    std::string body;
    JsonWriter w(body);
    bool ready = Ready();
    w.BeginObject().Field("status", ready ? "ready" : "not ready").Key("checks").BeginObject()
        .Field("store", store_->Healthy()).Field("engine", engine_.load() != nullptr)
        .Field("accepting", !shutting_down_.load()).EndObject().EndObject();
    return respond(JsonResponse(ready ? http::status::ok : http::status::service_unavailable, body, req.version()));
  }
  if (path == "/v1/decisions") {
    if (method != http::verb::post) return respond(MethodNotAllowed(req.version(), "POST", path));
    return HandleDecision(req, respond);
  }
  constexpr std::string_view kDecisionPrefix = "/v1/decisions/";
  if (path.substr(0, kDecisionPrefix.size()) == kDecisionPrefix && path.size() > kDecisionPrefix.size()) {
    if (method != http::verb::get) return respond(MethodNotAllowed(req.version(), "GET", path));
    return HandleGetDecision(path.substr(kDecisionPrefix.size()), req, respond);
  }
  if (path == "/v1/admin/reload") {
    if (method != http::verb::post) return respond(MethodNotAllowed(req.version(), "POST", path));
    return HandleReload(req, respond);
  }
  if (HandleModuleRoute(req, path, respond)) return;
  respond(ProblemResponse({ProblemType::kNotFound, "no route for " + std::string(path.substr(0, 200)), ""}, req.version()));
}

bool VigilApp::HandleModuleRoute(HttpRequest& req, std::string_view path, Responder& respond) {
  std::string allow;
  for (const Route& r : routes_) {
    bool match = r.prefix ? (path.size() > r.path.size() && path.substr(0, r.path.size()) == r.path) : path == r.path;
    if (!match) continue;
    if (r.method != req.method()) {
      if (!allow.empty()) allow += ", ";
      allow += std::string(http::to_string(r.method));
      continue;
    }
    if (r.scope != 0 && !Authorize(req, r.scope, respond, nullptr)) return true;
    r.handler(req, r.prefix ? path.substr(r.path.size()) : std::string_view(), respond);
    return true;
  }
  if (allow.empty()) return false;
  respond(MethodNotAllowed(req.version(), allow, path));
  return true;
}

void VigilApp::HandleReload(HttpRequest& req, Responder& respond) {
  if (!Authorize(req, kScopeAdmin, respond, nullptr)) return;
  Status s = Reload();
  if (!s.ok()) {
    return respond(ProblemResponse({ProblemType::kInvalidValue, "reload refused: " + s.error().ToString(), ""}, req.version()));
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Field("status", "reloaded").Field("policy_version", engine_.load()->policy().version()).EndObject();
  respond(JsonResponse(http::status::ok, body, req.version()));
}

void VigilApp::HandleGetDecision(std::string_view request_id, HttpRequest& req, Responder& respond) {
  if (!Authorize(req, kScopeRead, respond, nullptr)) return;
  auto rec = store_->FindByRequestId(std::string(request_id));
  if (!rec.ok()) {
    return respond(ProblemResponse({ProblemType::kInternal, "audit store unavailable", ""}, req.version()));
  }
  if (!*rec) {
    return respond(ProblemResponse({ProblemType::kNotFound, "no decision with this request_id", "request_id"}, req.version()));
  }
  const AuditRecord& r = **rec;
  std::string body;
  body.reserve(r.payload.size() + r.response.size() + 256);
  JsonWriter w(body);
  w.BeginObject().Field("request_id", r.request_id).Field("evidence_id", r.hash)
      .Field("seq", r.seq).Field("prev", r.prev).Field("time", FormatRfc3339Ms(r.time_ms))
      .Key("record").Raw(r.payload).Key("response").Raw(r.response.empty() ? "null" : r.response).EndObject();
  respond(JsonResponse(http::status::ok, std::move(body), req.version()));
}

void VigilApp::HandleDecision(HttpRequest& req, Responder& respond) {
  const auto start = std::chrono::steady_clock::now();
  const unsigned version = req.version();
  std::string key_id;
  if (!Authorize(req, kScopeDecide, respond, &key_id)) return;
  if (!IsJsonRequest(req)) {
    return respond(ProblemResponse({ProblemType::kUnsupportedMediaType, "send Content-Type: application/json", ""}, version));
  }
  auto parsed = ParseDecisionRequest(req.body(), cfg_.request);
  if (!parsed.ok()) return respond(ProblemResponse(parsed.error(), version, "/v1/decisions"));
  DecisionRequest& dreq = parsed->request;
  std::string body_sha = Hex(Sha256(req.body()));

  // request_id is an idempotency key: the same id returns the stored decision.
  auto existing = store_->FindByRequestId(dreq.request_id);
  if (!existing.ok()) return respond(ProblemResponse({ProblemType::kOverloaded, "audit store unavailable", ""}, version));
  if (*existing) {
    if ((*existing)->body_sha256 != body_sha) {
      return respond(ProblemResponse({ProblemType::kIdempotencyConflict, "request_id was used with a different body", "request_id"}, version));
    }
    HttpResponse res = JsonResponse(http::status::ok, (*existing)->response, version);
    res.set("Idempotent-Replay", "true");
    return respond(std::move(res));
  }

  std::int64_t now = NowMs();
  if (!(cfg_.simulated_clock && parsed->has_timestamp)) dreq.time_ms = static_cast<double>(now);
  auto engine = engine_.load();
  // The flow's kind tells the modules which analysis applies; an unknown flow is the engine's
  // problem to report, so modules see it as a liveness flow and the engine refuses it.
  auto input = std::make_shared<DecisionInput>();
  input->body = req.body();
  input->key_id = key_id;
  input->parsed = &*parsed;
  if (const FlowPolicy* flow = engine->policy().FindFlow(dreq.flow_type)) input->kind = flow->kind;
  input->scratch.resize(modules_.size());
  input->timings.reserve(modules_.size() + 2);  // each module, the engine and the total
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    auto& m = modules_[i];
    input->slot = i;
    const auto t0 = std::chrono::steady_clock::now();
    if (auto problem = m->Analyze(*input)) return respond(ProblemResponse(*problem, version, "/v1/decisions"));
    input->timings.push_back({std::string(m->name()),
                              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()});
  }
  const auto t_engine = std::chrono::steady_clock::now();
  auto decision = engine->Decide(dreq);
  if (!decision.ok()) return respond(ProblemResponse(ProblemFromEngineError(decision.error()), version, "/v1/decisions"));
  DecisionMeta meta;
  for (std::size_t i = 0; i < modules_.size(); ++i) {
    input->slot = i;
    modules_[i]->Finish(*input, *decision, meta);
  }
  const auto t_done = std::chrono::steady_clock::now();
  input->timings.push_back({"engine", std::chrono::duration<double, std::milli>(t_done - t_engine).count()});
  const double decision_ms = std::chrono::duration<double, std::milli>(t_done - start).count();

  AuditContext ctx;
  ctx.key_id = key_id;
  ctx.time_ms = static_cast<std::int64_t>(dreq.time_ms);
  ctx.decision_latency_ms = decision_ms;
  for (const auto& s : decision->fusion.signals) ctx.calibration_versions.emplace_back(s.name, s.model_version);

  AppendRequest rec;
  rec.request_id = dreq.request_id;
  rec.body_sha256 = body_sha;
  rec.time_ms = ctx.time_ms;
  rec.payload = BuildDecisionPayload(dreq, *decision, ctx, engine->catalogue(), secret_);
  meta.latency_ms = decision_ms;
  meta.evidence_id = std::string(64, '0');  // filled in by the store once the record is chained
  rec.response = RenderDecision(dreq, *decision, engine->catalogue(), meta, &rec.evidence_offset);

  AuditStore* store = store_.get();
  auto owned = std::make_shared<ParsedDecisionRequest>(std::move(*parsed));
  input->parsed = owned.get();
  input->body = {};  // the HTTP request does not outlive this call
  // The client's answer is sent from `done`; the modules observe the decision in `then`, after
  // every answer of its commit group has gone out, so that they never delay another client.
  struct Answered {
    std::string evidence;
    double total_ms = -1;  // set once answered with the decision
    double audit_ms = 0;   // queued for the audit log until durable (group commit and fsync)
  };
  auto answered = std::make_shared<Answered>();
  if (!modules_.empty()) {
    rec.then = [this, answered, owned, input, decided = std::make_shared<Decision>(std::move(*decision)), key = key_id] {
      if (answered->total_ms < 0) return;
      input->timings.push_back({"audit", answered->audit_ms});
      input->timings.push_back({"total", answered->total_ms});
      DecisionEvent ev{owned->request, *decided, answered->evidence, key, input->timings, answered->total_ms,
                       static_cast<std::int64_t>(owned->request.time_ms)};
      for (auto& m : modules_) m->OnDecided(ev);
    };
  }
  const auto queued = std::chrono::steady_clock::now();
  store_->Append(std::move(rec), [respond = std::move(respond), version, body_sha, request_id = owned->request.request_id,
                                  store, start, queued, answered](AppendResult r) mutable {
    switch (r.status) {
      case AppendResult::Status::kOk: {
        const auto durable = std::chrono::steady_clock::now();
        answered->evidence = r.evidence_id;
        answered->total_ms = std::chrono::duration<double, std::milli>(durable - start).count();
        answered->audit_ms = std::chrono::duration<double, std::milli>(durable - queued).count();
        return respond(JsonResponse(http::status::ok, std::move(r.response), version));
      }
      case AppendResult::Status::kDuplicate: {
        // A concurrent request with the same id was written first: answer with its decision.
        auto stored = store->FindByRequestId(request_id);
        if (stored.ok() && *stored && (*stored)->body_sha256 == body_sha) {
          HttpResponse res = JsonResponse(http::status::ok, (*stored)->response, version);
          res.set("Idempotent-Replay", "true");
          return respond(std::move(res));
        }
        return respond(ProblemResponse({ProblemType::kIdempotencyConflict, "request_id was used with a different body", "request_id"}, version));
      }
      case AppendResult::Status::kError:
        Log(LogLevel::kError, "audit_append_failed").Str("error", r.error);
        return respond(ProblemResponse({ProblemType::kOverloaded, "the decision could not be made durable; retry", ""}, version));
    }
  });
}

}  // namespace vigil
