// TransactionModule: joins the transaction analysis (transaction_analysis.h) to the server. For
// transaction flows it runs the analyzers and the hosted model before the engine; liveness flows
// pass through untouched. A configuration that does not load (a feature schema that does not
// match its model, a calibration for another model version, a bad analyzers.yaml) keeps the
// server not ready (/readyz 503) with the error logged, until a reload fixes it.
// Route: GET /v1/transactions/stats (scope read): analyzer counters, state sizes, model in force.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "server/module.h"
#include "transaction/transaction_analysis.h"

namespace vigil {

class TransactionModule : public ServerModule {
 public:
  explicit TransactionModule(const ModuleContext& ctx);
  std::string_view name() const override { return "transaction"; }
  void AddRoutes(std::vector<Route>& routes) override;
  std::optional<Problem> Analyze(DecisionInput& in) override;
  Status Reload() override;
  bool Ready(std::string* why) const override;

 private:
  Result<std::shared_ptr<const TransactionAnalysis::Loaded>> Load() const;

  std::string config_dir_;
  std::unique_ptr<TransactionAnalysis> analysis_;  // null until a configuration loads
  mutable std::mutex mu_;                          // guards error_ and creation of analysis_
  std::string error_;                              // why not ready; "" when ready
  std::atomic<bool> ready_{false};
};

}  // namespace vigil
