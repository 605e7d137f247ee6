#include "alerts/alert_module.h"

#include "alerts/alert_metrics.h"
#include "auth/keys.h"
#include "core/log.h"
#include "server/responses.h"

namespace vigil::alerts {

AlertModule::AlertModule(const ModuleContext& ctx, AlertsConfig cfg) : ctx_(ctx) {
  notifier_ = std::make_shared<Notifier>(cfg.routes);
  engine_ = std::make_unique<AlertEngine>(std::move(cfg), [this](const Notification& n) {
    std::lock_guard<std::mutex> lock(notifier_mu_);
    if (notifier_) notifier_->Send(n);
  });
}

AlertModule::~AlertModule() { Stop(); }

Result<std::unique_ptr<AlertModule>> AlertModule::Create(const ModuleContext& ctx) {
  auto cfg = LoadAlertsConfig(ctx.config_dir + "/alerts.yaml");
  if (!cfg.ok()) return cfg.error();
  std::unique_ptr<AlertModule> m(new AlertModule(ctx, std::move(*cfg)));
  if (ctx.metrics) {
    AlertModule* self = m.get();
    auto routes = [self] {
      std::lock_guard<std::mutex> lock(self->notifier_mu_);
      return self->notifier_ ? self->notifier_->stats() : std::vector<RouteStats>{};
    };
    if (Status s = ExportAlertGauges(*ctx.metrics, m->engine_.get(), routes); !s.ok()) return s.error();
  }
  if (!(ctx.config && ctx.config->simulated_clock) && ctx.now_ms) {
    AlertEngine* e = m->engine_.get();
    auto now = ctx.now_ms;
    m->ticker_ = std::make_unique<Ticker>(std::chrono::seconds(1), [e, now] { e->Advance(now()); });
  }
  return m;
}

void AlertModule::OnDecided(const DecisionEvent& event) {
  Observation o;
  o.time_ms = event.time_ms;
  o.flow_type = event.request.flow_type;
  o.platform = event.request.context.GetString("platform");
  o.kind = event.decision.kind;
  o.outcome = event.decision.outcome;
  o.latency_ms = event.latency_ms;
  o.disagreement = event.decision.fusion.disagreement;
  o.evidence_id = event.evidence_id;
  o.reasons = &event.decision.reasons;
  o.context = &event.request.context;
  o.signals = &event.decision.fusion.signals;
  engine_->Observe(o);
}

Status AlertModule::Reload() {
  auto cfg = LoadAlertsConfig(ctx_.config_dir + "/alerts.yaml");
  if (!cfg.ok()) return cfg.error();
  auto fresh = std::make_shared<Notifier>(cfg->routes);
  std::shared_ptr<Notifier> old;
  {
    std::lock_guard<std::mutex> lock(notifier_mu_);
    old = std::exchange(notifier_, fresh);
  }
  engine_->Reconfigure(std::move(*cfg));
  if (old) {
    old->Drain(std::chrono::seconds(2));
    old->Stop();
  }
  return Status::Ok();
}

void AlertModule::Stop() {
  if (ticker_) ticker_->Stop();
  std::shared_ptr<Notifier> n;
  {
    std::lock_guard<std::mutex> lock(notifier_mu_);
    n = std::move(notifier_);
  }
  if (n) {
    n->Drain(std::chrono::seconds(2));
    n->Stop();
  }
}

void AlertModule::AddRoutes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/v1/monitor/alerts", false, kScopeRead,
                    [this](HttpRequest& req, std::string_view, Responder& respond) {
                      std::string_view target(req.target().data(), req.target().size());
                      std::string_view state = QueryParam(target, "state");
                      auto alerts = engine_->Alerts();
                      if (!state.empty()) {
                        std::erase_if(alerts, [&](const Alert& a) { return AlertStateName(a.state) != state; });
                      }
                      respond(JsonResponse(http::status::ok, RenderAlerts(alerts, engine_->firing()), req.version()));
                    }});
}

}  // namespace vigil::alerts
