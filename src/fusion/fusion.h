// Fusion: a logistic meta-model over calibrated signals.
//   logit(p) = bias + sum_i w_i * x_i,  x_i = logit(clip(p_i)) or p_i (the file's "feature")
// A missing signal is handled as the model file declares, per input or for the whole model:
//   renormalise  drop it and scale the present weights so that sum |w| is unchanged;
//   impute       use the input's declared "impute" probability in its place;
//   uncertain    as renormalise, and the decision is forced into the uncertain band.
// Disagreement is the range (max - min) of the present calibrated signals.
// A LogisticFusion is immutable after loading; safe for concurrent use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/decision.h"
#include "core/result.h"

namespace vigil {

enum class MissingHandling : std::uint8_t { kRenormalise, kImpute, kUncertain };
std::string_view MissingHandlingName(MissingHandling m);

struct FusionInput {
  std::string signal;
  double weight = 0.0;
  MissingHandling missing = MissingHandling::kRenormalise;
  double impute = 0.5;  // probability used when missing and handling is impute
};

class LogisticFusion {
 public:
  // File format (JSON or YAML):
  //   {"name": "liveness", "version": "fusion-0.6.4", "feature": "logit", "bias": -0.2,
  //    "missing": "renormalise",
  //    "inputs": [{"signal": "passive", "weight": 1.8},
  //               {"signal": "active", "weight": 1.1, "missing": "impute", "impute": 0.5}]}
  static Result<LogisticFusion> Parse(std::string_view text, const std::string& source);
  static Result<LogisticFusion> LoadFile(const std::string& path);

  // Fuses `out.signals`, which the caller fills with one entry per input, in inputs() order,
  // with name, raw, calibrated and present set. Sets the weights, contributions and the result.
  void Fuse(FusionResult& out) const;

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::vector<FusionInput>& inputs() const { return inputs_; }
  double bias() const { return bias_; }
  bool logit_features() const { return logit_features_; }

 private:
  std::string name_;
  std::string version_;
  bool logit_features_ = true;
  double bias_ = 0.0;
  double total_abs_weight_ = 0.0;
  std::vector<FusionInput> inputs_;
};

// log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6], so a calibrated 0 or 1 stays finite.
double ClippedLogit(double p);
double Sigmoid(double z);

// The fusion models in force, by name. Immutable once built; safe to share.
class FusionModelSet {
 public:
  Status Add(LogisticFusion m);
  // Loads every *.json, *.yaml and *.yml file of a directory.
  static Result<FusionModelSet> LoadDirectory(const std::string& dir);
  const LogisticFusion* Find(std::string_view name) const;
  const std::vector<LogisticFusion>& all() const { return items_; }

 private:
  std::vector<LogisticFusion> items_;
};

}  // namespace vigil
