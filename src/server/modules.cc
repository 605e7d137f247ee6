// The server's modules in request-path order (see server/module.h). Each component that joins the
// server adds its line here.
#include "server/module.h"

#include "alerts/alert_module.h"
#include "drift/drift_module.h"

namespace vigil {

Result<std::vector<std::unique_ptr<ServerModule>>> BuildModules(const ModuleContext& ctx) {
  std::vector<std::unique_ptr<ServerModule>> modules;
  if (auto m = drift::DriftModule::Create(ctx); m.ok()) modules.push_back(std::move(*m)); else return m.error();
  if (auto m = alerts::AlertModule::Create(ctx); m.ok()) modules.push_back(std::move(*m)); else return m.error();
  return modules;
}

}  // namespace vigil
