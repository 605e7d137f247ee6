// An XGBoost model scored through XGBoost's C API (Debian's libxgboost-dev): the reference
// evaluator, and the one for model formats the native evaluator (tree_ensemble.h) does not take.
// One row costs about 27 microseconds, mostly call overhead (DEPENDENCIES.md); see bench/.
// Thread-safety: in-place prediction (XGBoosterPredictFromDense) is thread-safe in XGBoost 1.7
// (its result buffer is per thread); the booster is configured once at load with nthread=1 so a
// request never fans out to an OpenMP pool. tests/models/xgb_capi_test.cc checks concurrent use.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil {

class XgbCApiModel {
 public:
  static Result<std::unique_ptr<XgbCApiModel>> LoadFile(const std::string& path);
  ~XgbCApiModel();
  XgbCApiModel(const XgbCApiModel&) = delete;
  XgbCApiModel& operator=(const XgbCApiModel&) = delete;

  // The transformed prediction for one row of num_feature() floats (NaN = missing), or NaN when
  // the C API reports an error (logged once).
  float Predict(const float* row) const;
  // Rows in row-major order; out gets one prediction per row. False on a C API error.
  bool PredictBatch(const float* rows, std::size_t n_rows, float* out) const;

  std::size_t num_feature() const { return num_feature_; }
  const std::vector<std::string>& feature_names() const { return feature_names_; }

 private:
  XgbCApiModel() = default;
  void* booster_ = nullptr;  // BoosterHandle
  std::size_t num_feature_ = 0;
  std::vector<std::string> feature_names_;
};

}  // namespace vigil
