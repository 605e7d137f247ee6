#include "transaction/transaction_module.h"

#include "auth/keys.h"
#include "core/log.h"
#include "pipeline/engine.h"
#include "server/responses.h"

namespace vigil {

TransactionModule::TransactionModule(const ModuleContext& ctx) : config_dir_(ctx.config_dir) {
  auto loaded = Load();
  if (!loaded.ok()) {
    error_ = loaded.error().ToString();
    Log(LogLevel::kError, "transaction_config_refused").Str("error", error_);
    return;
  }
  analysis_ = std::make_unique<TransactionAnalysis>(std::move(*loaded));
  ready_.store(true);
  const auto l = analysis_->loaded();
  Log(LogLevel::kInfo, "transaction_analysis_loaded")
      .Str("model_version", l->model ? std::string_view(l->model->schema().model_version) : "none")
      .Str("evaluator", l->model ? EvaluatorName(l->model->evaluator()) : "none")
      .Str("trajectory_model", l->chain ? std::string_view(l->chain->version) : "none");
}

Result<std::shared_ptr<const TransactionAnalysis::Loaded>> TransactionModule::Load() const {
  // The calibrations as they are on disk, which is what the engine will hold after this reload
  // (modules reload before the engine is swapped).
  auto calibrations = CalibrationSet::LoadDirectory(EngineFiles::Under(config_dir_).calibration_dir);
  if (!calibrations.ok()) return calibrations.error();
  std::shared_ptr<const TransactionAnalysis::Loaded> previous;
  if (ready_.load()) previous = analysis_->loaded();
  return TransactionAnalysis::LoadConfig(config_dir_, &*calibrations, previous.get());
}

void TransactionModule::AddRoutes(std::vector<Route>& routes) {
  Route r;
  r.method = http::verb::get;
  r.path = "/v1/transactions/stats";
  r.scope = kScopeRead;
  r.handler = [this](HttpRequest& req, std::string_view, Responder& respond) {
    std::string body;
    if (ready_.load()) {
      body = analysis_->StatsJson();
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      body = R"({"ready":false})";
    }
    respond(JsonResponse(http::status::ok, std::move(body), req.version()));
  };
  routes.push_back(std::move(r));
}

std::optional<Problem> TransactionModule::Analyze(DecisionInput& in) {
  if (in.kind != FlowKind::kTransaction) return std::nullopt;
  if (!ready_.load(std::memory_order_acquire)) {
    // Deciding a payment without its configured model and analyzers would be silently weaker.
    std::lock_guard<std::mutex> lock(mu_);
    return Problem{ProblemType::kNotReady, "transaction analysis not loaded: " + error_, ""};
  }
  analysis_->Run(in.parsed->request, &in.timings);
  return std::nullopt;
}

Status TransactionModule::Reload() {
  auto loaded = Load();
  if (!loaded.ok()) return loaded.error();  // the old configuration keeps serving
  std::lock_guard<std::mutex> lock(mu_);
  if (analysis_) {
    analysis_->Swap(std::move(*loaded));
  } else {
    analysis_ = std::make_unique<TransactionAnalysis>(std::move(*loaded));
  }
  error_.clear();
  ready_.store(true, std::memory_order_release);
  return Status::Ok();
}

bool TransactionModule::Ready(std::string* why) const {
  if (ready_.load()) return true;
  if (why) {
    std::lock_guard<std::mutex> lock(mu_);
    *why = "transaction: " + error_;
  }
  return false;
}

}  // namespace vigil
