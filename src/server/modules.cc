// The server's modules in request-path order (see server/module.h). Each component that joins the
// server adds its line here.
#include "server/module.h"
#include "transaction/transaction_module.h"

namespace vigil {

Result<std::vector<std::unique_ptr<ServerModule>>> BuildModules(const ModuleContext& ctx) {
  std::vector<std::unique_ptr<ServerModule>> modules;
  modules.push_back(std::make_unique<TransactionModule>(ctx));
  return modules;
}

}  // namespace vigil
