// Calibration: maps a model's raw score to a probability, per signal and model version.
//   Platt (sigmoid) scaling: p = 1 / (1 + exp(A*f + B))  (Platt 1999), fitted by Newton's method
//   with backtracking on Platt's smoothed targets (Lin, Lin & Weng 2007).
//   Isotonic: pool-adjacent-violators fit, applied by linear interpolation between breakpoints
//   and clipped outside them, as scikit-learn's IsotonicRegression(out_of_bounds="clip").
// A Calibrator is immutable after construction and safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil {

enum class CalibrationMethod : std::uint8_t { kIdentity, kPlatt, kIsotonic };
std::string_view CalibrationMethodName(CalibrationMethod m);

struct PlattParams {
  double a = 0.0;
  double b = 0.0;
};

// Breakpoints of a non-decreasing piecewise-linear map; x strictly increasing.
struct IsotonicMap {
  std::vector<double> x;
  std::vector<double> y;
};

class Calibrator {
 public:
  static Calibrator Identity(std::string signal, std::string model_version);
  static Calibrator Platt(std::string signal, std::string model_version, PlattParams p);
  static Result<Calibrator> Isotonic(std::string signal, std::string model_version, IsotonicMap m);

  // Probability for a raw score. Identity clamps to [0, 1].
  double Apply(double raw) const;

  CalibrationMethod method() const { return method_; }
  const std::string& signal() const { return signal_; }
  const std::string& model_version() const { return model_version_; }
  const PlattParams& platt() const { return platt_; }
  const IsotonicMap& isotonic() const { return iso_; }

 private:
  CalibrationMethod method_ = CalibrationMethod::kIdentity;
  std::string signal_;
  std::string model_version_;
  PlattParams platt_;
  IsotonicMap iso_;
};

// Fits Platt's A and B. Labels are 0 or 1; at least one of each is required.
Result<PlattParams> FitPlatt(std::span<const double> scores, std::span<const int> labels);

// Fits an increasing isotonic map of y on x (y in any range, usually 0/1 labels), with optional
// positive sample weights (empty: all 1). Ties in x are pooled first, as scikit-learn does.
Result<IsotonicMap> FitIsotonic(std::span<const double> x, std::span<const double> y,
                                std::span<const double> weights = {});

// Calibration files (JSON or YAML):
//   {"signal": "passive", "model_version": "passive-ext-1.0", "method": "platt",
//    "platt": {"a": -6.1, "b": 3.0}}
//   {"signal": "fraud_model", "model_version": "xgb-1", "method": "isotonic",
//    "isotonic": {"x": [...], "y": [...]}}
//   {"signal": "active", "model_version": "active-1", "method": "identity"}
Result<Calibrator> ParseCalibration(std::string_view text, const std::string& source);
Result<Calibrator> LoadCalibrationFile(const std::string& path);
// JSON text of a calibrator, readable by ParseCalibration (numbers round-trip exactly).
std::string SerializeCalibration(const Calibrator& c);

// The calibrators in force, one per signal name. Immutable once built; safe to share.
class CalibrationSet {
 public:
  Status Add(Calibrator c);
  // Loads every *.json, *.yaml and *.yml file of a directory.
  static Result<CalibrationSet> LoadDirectory(const std::string& dir);
  const Calibrator* Find(std::string_view signal) const;
  const std::vector<Calibrator>& all() const { return items_; }

 private:
  std::vector<Calibrator> items_;
};

}  // namespace vigil
