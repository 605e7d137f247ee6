// The decision core along the request path: calibration -> fusion -> policy. No I/O beyond
// loading its files, no HTTP. An engine is an immutable snapshot of one policy version and one
// model set; hot reload builds a new engine and swaps the pointer, so a request in flight
// finishes on the version it started with. Safe for concurrent use from any number of threads.
#pragma once

#include <memory>
#include <string>

#include "calibration/calibration.h"
#include "core/decision.h"
#include "core/result.h"
#include "fusion/fusion.h"
#include "policy/policy.h"
#include "reasons/catalogue.h"

namespace vigil {

// Where an engine's files live. Defaults match the layout of config/.
struct EngineFiles {
  std::string reasons = "config/reasons.yaml";
  std::string policy = "config/policy.yaml";
  std::string calibration_dir = "config/calibration";
  std::string fusion_dir = "config/fusion";

  // The layout under one configuration directory.
  static EngineFiles Under(const std::string& dir);
};

class DecisionEngine {
 public:
  // Checks that the parts fit together: every flow's fusion model exists and every fusion input
  // has a calibration.
  static Result<std::shared_ptr<const DecisionEngine>> Create(
      std::shared_ptr<const ReasonCatalogue> catalogue, std::shared_ptr<const Policy> policy,
      std::shared_ptr<const CalibrationSet> calibrations, std::shared_ptr<const FusionModelSet> fusion);
  static Result<std::shared_ptr<const DecisionEngine>> Load(const EngineFiles& files);

  // Calibrates, fuses and applies the policy. Errors (Error::where names the field):
  //   kNotFound        the flow type is not in the policy;
  //   kInvalidArgument a signal has no calibration (unknown signal name).
  Result<Decision> Decide(const DecisionRequest& request) const;

  const ReasonCatalogue& catalogue() const { return *catalogue_; }
  const Policy& policy() const { return *policy_; }
  const CalibrationSet& calibrations() const { return *calibrations_; }
  const FusionModelSet& fusion_models() const { return *fusion_; }

 private:
  std::shared_ptr<const ReasonCatalogue> catalogue_;
  std::shared_ptr<const Policy> policy_;
  std::shared_ptr<const CalibrationSet> calibrations_;
  std::shared_ptr<const FusionModelSet> fusion_;
};

}  // namespace vigil
