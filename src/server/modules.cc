// The server's modules in request-path order (see server/module.h). Each component that joins the
// server adds its line here.
#include "server/module.h"

namespace vigil {

Result<std::vector<std::unique_ptr<ServerModule>>> BuildModules(const ModuleContext& ctx) {
  (void)ctx;
  std::vector<std::unique_ptr<ServerModule>> modules;
  return modules;
}

}  // namespace vigil
