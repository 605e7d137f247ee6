#include "drift/drift_module.h"

#include <simdjson.h>

#include <filesystem>

#include "auth/keys.h"
#include "core/file.h"
#include "core/log.h"
#include "drift/drift_metrics.h"
#include "server/responses.h"

namespace vigil::drift {
namespace {

std::string ReferencePath(const ModuleContext& ctx) { return ctx.data_dir + "/drift_reference.json"; }

}  // namespace

DriftModule::DriftModule(const ModuleContext& ctx, MonitorConfig cfg)
    : ctx_(ctx), monitor_(std::make_unique<DriftMonitor>(std::move(cfg))) {}

Result<std::unique_ptr<DriftModule>> DriftModule::Create(const ModuleContext& ctx) {
  auto cfg = LoadMonitorConfig(ctx.config_dir + "/drift.yaml");
  if (!cfg.ok()) return cfg.error();
  const auto mode = cfg->reference;
  std::unique_ptr<DriftModule> m(new DriftModule(ctx, std::move(*cfg)));
  const std::string path = ReferencePath(ctx);
  if (mode != MonitorConfig::Reference::kTrailing && std::filesystem::exists(path)) {
    auto body = ReadFile(path);
    if (!body.ok()) return body.error();
    if (Status s = m->monitor_->LoadFrozenJson(*body); !s.ok()) {
      Log(LogLevel::kWarn, "drift_reference_ignored").Str("error", s.error().ToString());
    }
  }
  if (ctx.metrics) {
    if (Status s = ExportDriftGauges(*ctx.metrics, m->monitor_.get()); !s.ok()) return s.error();
  }
  if (!(ctx.config && ctx.config->simulated_clock) && ctx.now_ms) {
    DriftMonitor* mon = m->monitor_.get();
    auto now = ctx.now_ms;
    m->ticker_ = std::make_unique<Ticker>(std::chrono::seconds(1), [mon, now] { mon->Advance(now()); });
  }
  return m;
}

DriftModule::~DriftModule() { Stop(); }

void DriftModule::Stop() {
  if (ticker_) ticker_->Stop();
}

void DriftModule::OnDecided(const DecisionEvent& event) { monitor_->Add(event.request, event.decision, event.time_ms); }

Status DriftModule::Reload() {
  auto cfg = LoadMonitorConfig(ctx_.config_dir + "/drift.yaml");
  if (!cfg.ok()) return cfg.error();
  monitor_->Reconfigure(std::move(*cfg));
  return Status::Ok();
}

Status DriftModule::Freeze(std::string label) {
  monitor_->Freeze(std::move(label), ctx_.now_ms ? ctx_.now_ms() : WallClockMs());
  return WriteFileAtomic(ReferencePath(ctx_), monitor_->FrozenJson());
}

void DriftModule::AddRoutes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/v1/monitor/drift", false, kScopeRead,
                    [this](HttpRequest& req, std::string_view, Responder& respond) {
                      respond(JsonResponse(http::status::ok, RenderDriftReport(monitor_->Snapshot()), req.version()));
                    }});
  routes.push_back({http::verb::post, "/v1/monitor/drift/reference", false, kScopeAdmin,
                    [this](HttpRequest& req, std::string_view, Responder& respond) {
                      std::string label = "manual";
                      if (!req.body().empty()) {
                        simdjson::dom::parser parser;
                        simdjson::dom::element root;
                        std::string_view l;
                        if (parser.parse(req.body()).get(root)) {
                          return respond(ProblemResponse({ProblemType::kMalformedJson, "body is not JSON", ""}, req.version()));
                        }
                        if (!root["label"].get(l)) label = std::string(l.substr(0, 128));
                      }
                      if (Status s = Freeze(label); !s.ok()) {
                        Log(LogLevel::kError, "drift_reference_store_failed").Str("error", s.error().ToString());
                        return respond(ProblemResponse({ProblemType::kInternal, "the reference could not be stored", ""}, req.version()));
                      }
                      Log(LogLevel::kInfo, "drift_reference_frozen").Str("label", label);
                      respond(JsonResponse(http::status::ok, RenderDriftReport(monitor_->Snapshot()), req.version()));
                    }});
  routes.push_back({http::verb::delete_, "/v1/monitor/drift/reference", false, kScopeAdmin,
                    [this](HttpRequest& req, std::string_view, Responder& respond) {
                      monitor_->Unfreeze();
                      std::error_code ec;
                      std::filesystem::remove(ReferencePath(ctx_), ec);
                      respond(JsonResponse(http::status::ok, RenderDriftReport(monitor_->Snapshot()), req.version()));
                    }});
}

}  // namespace vigil::drift
