// The transaction flow's analysis before the decision engine (SPEC.md 2.4): velocity, impossible
// travel, session trajectories and probes add findings with evidence, and the hosted fraud model
// scores a feature row built from the request context and the analyzers' outputs, adding the
// `fraud_model` signal. Each stage's time is recorded. Event time is the request's time_ms (the
// server sets it from the clock, or from timestamp_ms under simulated clocks).
//
// Signal precedence: when the client sends the model's signal too, `fraud_model.client_signal`
// decides: "hosted" (default) scores with the hosted model, whose version the signal's calibration
// file is for, and keeps the client's value as context.client_fraud_model in the audit record;
// "client" keeps the client's value and skips the model.
//
// Load checks that the parts fit: analyzers.yaml parses, the feature schema matches the model,
// and the signal's calibration in the engine is for the hosted model's version.
// Thread-safety: Run may be called concurrently; Reload swaps the configuration atomically (the
// analyzers' state carries over).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "analyzers/config.h"
#include "analyzers/markov.h"
#include "core/decision.h"
#include "core/result.h"
#include "models/hosted_model.h"

namespace vigil {

class CalibrationSet;
struct StageTiming;

class TransactionAnalysis {
 public:
  struct Loaded {
    analyzers::AnalyzersConfig config;
    std::shared_ptr<const HostedModel> model;             // null when disabled
    std::shared_ptr<const analyzers::MarkovModel> chain;  // null when no trajectory model
    std::string model_stamp;  // schema and model files' paths, sizes and times, and the evaluator
  };

  // Reads <config_dir>/analyzers.yaml and what it names. `calibrations` (may be null) is checked
  // for the model's signal version. With `previous`, a model whose schema and model files are
  // unchanged (path, size, modification time) is reused rather than loaded again, so a reload
  // that changes only the policy or keys stays fast.
  static Result<std::shared_ptr<const Loaded>> LoadConfig(const std::string& config_dir,
                                                          const CalibrationSet* calibrations,
                                                          const Loaded* previous = nullptr);

  explicit TransactionAnalysis(std::shared_ptr<const Loaded> loaded);

  void Swap(std::shared_ptr<const Loaded> loaded) { loaded_.store(std::move(loaded)); }
  std::shared_ptr<const Loaded> loaded() const { return loaded_.load(); }

  // Analyzes one transaction request in place: findings, signals, and (client_signal "hosted")
  // context.client_<signal>. Appends one StageTiming per stage to `timings` when not null.
  void Run(DecisionRequest& request, std::vector<StageTiming>* timings);

  // JSON: counters, state sizes and the model in force.
  std::string StatsJson() const;

  const analyzers::VelocityAnalyzer& velocity() const { return velocity_; }

 private:
  std::atomic<std::shared_ptr<const Loaded>> loaded_;
  analyzers::VelocityAnalyzer velocity_;
  analyzers::TravelAnalyzer travel_;
  analyzers::SessionAnalyzer session_;
  analyzers::ProbeAnalyzer probe_;
  std::atomic<std::uint64_t> scored_{0}, client_kept_{0}, client_replaced_{0}, score_errors_{0};
};

}  // namespace vigil
