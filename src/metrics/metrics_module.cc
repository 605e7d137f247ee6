#include "metrics/metrics_module.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include "audit/audit.h"
#include "metrics/decision_recorder.h"
#include "core/log.h"
#include "pipeline/engine.h"

#ifndef VIGIL_VERSION_STRING
#define VIGIL_VERSION_STRING "dev"
#endif

namespace vigil {

namespace {

template <typename T>
Status Take(Result<Family<T>*> r, Family<T>*& out) {
  if (!r.ok()) return r.error();
  out = *r;
  return Status::Ok();
}

double ProcessCpuSeconds() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  // Fields after the command: state is field 3; utime 14, stime 15 (1-based, proc(5)).
  std::size_t pos = close + 2;
  int field = 3;
  double utime = 0, stime = 0;
  while (pos < line.size() && field <= 15) {
    std::size_t end = line.find(' ', pos);
    if (end == std::string::npos) end = line.size();
    if (field == 14) utime = std::strtod(line.c_str() + pos, nullptr);
    if (field == 15) stime = std::strtod(line.c_str() + pos, nullptr);
    pos = end + 1;
    ++field;
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessResidentBytes() {
  std::ifstream in("/proc/self/statm");
  double size = 0, resident = 0;
  if (!(in >> size >> resident)) return 0;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE));
}

// The memory limit of the process's cgroup (a container's limit; cgroup v2, then v1), or NaN when
// there is none. The kernel kills the process when its memory reaches it.
double CgroupMemoryLimitBytes() {
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(path);
    std::string text;
    if (!(in >> text)) continue;
    if (text == "max") return std::nan("");
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || v <= 0) continue;
    return v >= 0x1p60 ? std::nan("") : v;  // v1 writes a huge number for "no limit"
  }
  return std::nan("");
}

}  // namespace

std::string NormaliseRoute(std::string_view path) {
  constexpr std::string_view kDecisions = "/v1/decisions/";
  if (path.size() > kDecisions.size() && path.substr(0, kDecisions.size()) == kDecisions) {
    return "/v1/decisions/{request_id}";
  }
  return std::string(path);
}

Result<std::unique_ptr<MetricsModule>> MetricsModule::Create(const ModuleContext& ctx) {
  auto cfg = LoadMetricsConfig(ctx.config_dir);
  if (!cfg.ok()) return cfg.error();
  std::unique_ptr<MetricsModule> m(new MetricsModule(ctx, std::move(*cfg)));
  MetricsRegistry& reg = *m->registry_;
  DecisionFamilies& f = *m->f_;
  const MetricsConfig& c = m->cfg_;
  auto L = [&](const char* n) { return c.Label(n); };
  auto K = [](const char* n, std::size_t k) { return LabelSpec::TopK(n, k); };
  Status s;
  auto step = [&](Status st) {
    if (s.ok() && !st.ok()) s = st;
  };
  step(Take(reg.AddCounter("vigil_decisions_total",
                           "Durable decisions by slice (flow, platform, device class, browser, SDK and "
                           "app versions, model and policy versions), outcome and decision band.",
                           {L("flow_type"), L("platform"), L("device_class"), L("browser_family"),
                            L("sdk_version"), L("app_version"), L("model_version"),
                            L("policy_version"), K("outcome", 12), K("band", 8)}),
            f.decisions));
  step(Take(reg.AddHistogram("vigil_decision_latency_seconds",
                             "Whole decision request, parse to durable audit record.",
                             {L("flow_type")}, LatencyBuckets()),
            f.latency));
  step(Take(reg.AddHistogram("vigil_stage_latency_seconds",
                             "Time spent in each stage of a decision request (quality, analyzers, "
                             "engine; audit: queued for the audit log until durable).",
                             {L("flow_type"), K("stage", 32)}, LatencyBuckets()),
            f.stage_latency));
  step(Take(reg.AddHistogram("vigil_signal_score",
                             "Calibrated score per signal, and the fused score (signal=\"fusion\").",
                             {L("flow_type"), K("signal", 32), L("model_version")}, ScoreBuckets()),
            f.scores));
  step(Take(reg.AddHistogram("vigil_model_disagreement",
                             "Spread (max - min) of the calibrated signals of one decision, for "
                             "decisions with two signals or more.",
                             {L("flow_type"), L("model_version")}, ScoreBuckets()),
            f.disagreement));
  step(Take(reg.AddCounter("vigil_decision_reasons_total",
                           "Reason codes attached to durable decisions, by code and category.",
                           {L("flow_type"), K("reason", 128), K("category", 12)}),
            f.reasons));
  step(Take(reg.AddCounter("vigil_quality_rejections_total",
                           "Decisions with a capture-quality reason (camera or capture failures), "
                           "by client version.",
                           {L("flow_type"), L("platform"), L("sdk_version"), K("reason", 64)}),
            f.quality_rejections));
  step(Take(reg.AddCounter("vigil_security_events_total",
                           "Decisions with a security reason (virtual camera, injection, replay, ...).",
                           {L("flow_type"), L("platform"), K("reason", 64)}),
            f.security_events));
  step(Take(reg.AddCounter("vigil_security_signals_total",
                           "Security flags reported true in a decision request's security block.",
                           {L("flow_type"), K("signal", 32)}),
            f.security_signals));
  step(Take(reg.AddCounter("vigil_retries_total", "Decisions that asked the user to retry.",
                           {L("flow_type"), L("platform"), L("browser_family"), L("sdk_version")}),
            f.retries));
  step(Take(reg.AddCounter("vigil_manual_reviews_total", "Decisions sent to manual review.",
                           {L("flow_type")}),
            f.reviews));
  step(Take(reg.AddCounter("vigil_spoof_acceptance_proxy_total",
                           "Passed decisions that carried a security or attack reason, a true security "
                           "flag, or a score outside the pass band: a proxy for accepted spoofs.",
                           {L("flow_type"), L("country")}),
            f.spoof_proxy));
  step(Take(reg.AddCounter("vigil_problems_total",
                           "Problem responses (application/problem+json) by type and route.",
                           {K("type", 64), K("route", 32)}),
            f.problems));
  step(Take(reg.AddGauge("vigil_version_first_seen_timestamp_seconds",
                         "When a model or policy version decided for the first time in this process "
                         "(Unix seconds): the release marker for post-release alerts.",
                         {K("kind", 4), K("version", 32)}),
            f.version_first_seen));
  Family<Counter>* written = nullptr;
  Family<Counter>* dropped = nullptr;
  step(Take(reg.AddCounter("vigil_monitoring_events_total", "Monitoring events written."), written));
  step(Take(reg.AddCounter("vigil_monitoring_events_dropped_total",
                           "Monitoring events dropped because the writer's queue was full."),
            dropped));
  Family<Gauge>* build = nullptr;
  Family<Gauge>* start = nullptr;
  Family<Gauge>* uptime = nullptr;
  Family<Gauge>* series = nullptr;
  Family<Counter>* cpu = nullptr;
  Family<Gauge>* rss = nullptr;
  step(Take(reg.AddGauge("vigil_build_info", "Always 1; the labels name the build.",
                         {K("version", 4), K("compiler", 4)}),
            build));
  step(Take(reg.AddGauge("vigil_process_start_time_seconds", "Process start, Unix seconds."), start));
  step(Take(reg.AddGauge("vigil_uptime_seconds", "Seconds since the process started."), uptime));
  step(Take(reg.AddGauge("vigil_metrics_series", "Series in this registry (cardinality guard)."), series));
  step(Take(reg.AddCounter("process_cpu_seconds_total", "User and system CPU time of the process."), cpu));
  step(Take(reg.AddGauge("process_resident_memory_bytes", "Resident memory of the process."), rss));
  Family<Gauge>* mem_limit = nullptr;
  step(Take(reg.AddGauge("vigil_memory_limit_bytes",
                         "The memory limit of the process's cgroup (its container), read at start; NaN when there is none."),
            mem_limit));
  if (!s.ok()) return s.error();
  for (Family<Counter>* fam : {f.decisions, f.reasons, f.quality_rejections, f.security_events,
                               f.security_signals, f.retries, f.reviews, f.spoof_proxy, f.problems}) {
    fam->set_max_series(c.max_series_per_family);
  }
  for (Family<Histogram>* fam : {f.latency, f.stage_latency, f.scores, f.disagreement}) {
    fam->set_max_series(c.max_series_per_family);
  }
  f.events_written = &written->Get({});
  f.events_dropped = &dropped->Get({});

#ifdef __VERSION__
  build->Get({VIGIL_VERSION_STRING, "gcc-compatible " __VERSION__}).Set(1);
#else
  build->Get({VIGIL_VERSION_STRING, "unknown"}).Set(1);
#endif
  const auto started = std::chrono::steady_clock::now();
  const double start_s = std::chrono::duration<double>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  start->Get({}).Set(start_s);
  Gauge* up = &uptime->Get({});
  Gauge* n_series = &series->Get({});
  Counter* cpu_s = &cpu->Get({});
  Gauge* rss_g = &rss->Get({});
  mem_limit->Get({}).Set(CgroupMemoryLimitBytes());
  MetricsRegistry* regp = &reg;
  reg.AddCollectHook([=] {
    up->Set(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    n_series->Set(static_cast<double>(regp->SeriesCount()));
    cpu_s->AdvanceTo(ProcessCpuSeconds());
    rss_g->Set(ProcessResidentBytes());
  });
  m->recorder_ = std::make_unique<DecisionRecorder>(*m->f_, ctx.engine);
  m->StartEvents();
  return m;
}

MetricsModule::MetricsModule(const ModuleContext& ctx, MetricsConfig cfg)
    : ctx_(ctx), cfg_(std::move(cfg)), f_(std::make_unique<DecisionFamilies>()) {
  if (ctx_.metrics == nullptr) {
    owned_registry_ = std::make_unique<MetricsRegistry>();
    registry_ = owned_registry_.get();
  } else {
    registry_ = ctx_.metrics;
  }
}

MetricsModule::~MetricsModule() { Stop(); }

void MetricsModule::StartEvents() {
  std::string path = cfg_.events.path;
  if (!path.empty() && path.front() != '/') path = ctx_.data_dir + "/" + path;
  auto writer = std::make_shared<EventWriter>(cfg_.events, path, f_->events_written,
                                              f_->events_dropped);
  std::shared_ptr<EventWriter> old;
  {
    std::lock_guard lock(events_mu_);
    old = std::move(events_);
    events_ = std::move(writer);
    events_now_.store(events_.get(), std::memory_order_release);
    // A decision may still hold the old writer's address: it stays (stopped) until the module
    // goes; a line pushed to it is dropped and counted.
    if (old) retired_events_.push_back(old);
  }
  if (old) old->Stop();
}

void MetricsModule::AddRoutes(std::vector<Route>& routes) {
  Route r;
  r.method = http::verb::get;
  r.path = "/metrics";
  r.scope = 0;
  MetricsRegistry* reg = registry_;
  r.handler = [reg](HttpRequest& req, std::string_view, Responder& respond) {
    HttpResponse res{http::status::ok, req.version()};
    res.set(http::field::content_type, std::string(kExpositionContentType));
    res.set(http::field::cache_control, "no-store");
    res.body() = reg->Expose();
    res.prepare_payload();
    respond(std::move(res));
  };
  routes.push_back(std::move(r));
}

void MetricsModule::OnDecided(const DecisionEvent& ev) {
  recorder_->Record(ev, events_now_.load(std::memory_order_acquire));
}

void MetricsModule::OnProblem(ProblemType type, std::string_view route) {
  f_->problems->Get({ProblemSlug(type), NormaliseRoute(route)}).Inc();
}

Status MetricsModule::Reload() {
  auto cfg = LoadMetricsConfig(ctx_.config_dir);
  if (!cfg.ok()) return cfg.error();
  cfg_.events = cfg->events;  // label bounds are fixed at start (families already exist)
  StartEvents();
  return Status::Ok();
}

void MetricsModule::FlushEvents() {
  std::shared_ptr<EventWriter> events;
  {
    std::lock_guard lock(events_mu_);
    events = events_;
  }
  if (events) events->Flush();
}

void MetricsModule::Stop() {
  std::shared_ptr<EventWriter> events;
  {
    std::lock_guard lock(events_mu_);
    events = events_;
  }
  if (events) events->Stop();
}

}  // namespace vigil
