// The server's modules in request-path order (see server/module.h). Each component that joins the
// server adds its line here.
#include "liveness/liveness_module.h"
#include "metrics/metrics_module.h"
#include "server/module.h"
#include "session/session_module.h"
#include "transaction/transaction_module.h"

#include "alerts/alert_module.h"
#include "drift/drift_module.h"
#include "feedback/feedback_module.h"

namespace vigil {

Result<std::vector<std::unique_ptr<ServerModule>>> BuildModules(const ModuleContext& ctx) {
  std::vector<std::unique_ptr<ServerModule>> modules;
  // Media first: corrupt or oversized media is refused before a session token's nonce is spent.
  auto liveness = liveness::LivenessModule::Create(ctx);
  if (!liveness.ok()) return liveness.error();
  modules.push_back((*liveness)->NewMediaGate());
  // Sessions next: a refused token is a finding every later stage and the policy can see.
  modules.push_back(NewSessionModule(ctx, NewMemorySessionStore(ctx.config ? ctx.config->sessions_max_open : 1'000'000)));
  modules.push_back(std::move(*liveness));
  modules.push_back(std::make_unique<TransactionModule>(ctx));
  if (auto m = drift::DriftModule::Create(ctx); m.ok()) modules.push_back(std::move(*m)); else return m.error();
  if (auto m = alerts::AlertModule::Create(ctx); m.ok()) modules.push_back(std::move(*m)); else return m.error();
  if (auto m = MakeFeedbackModule(ctx); m.ok()) modules.push_back(std::move(*m)); else return m.error();
  // Metrics last: it observes every decision and problem the others produced (GET /metrics).
  if (auto m = MetricsModule::Create(ctx); m.ok()) modules.push_back(std::move(*m)); else return m.error();
  return modules;
}

}  // namespace vigil
