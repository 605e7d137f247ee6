// XGBoost C API wrapper.
#include "models/xgb_capi.h"

#include <xgboost/c_api.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "core/log.h"

namespace vigil {
namespace {

// Prediction config for XGBoosterPredictFromDense; 1.7 needs cache_id (DEPENDENCIES.md).
constexpr const char* kPredictConfig =
    R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,"strict_shape":false,"missing":NaN,"cache_id":0})";

std::atomic<bool> g_error_logged{false};

}  // namespace

Result<std::unique_ptr<XgbCApiModel>> XgbCApiModel::LoadFile(const std::string& path) {
  std::unique_ptr<XgbCApiModel> m(new XgbCApiModel());
  BoosterHandle h = nullptr;
  if (XGBoosterCreate(nullptr, 0, &h) != 0) return Error::Invalid(XGBGetLastError(), path);
  m->booster_ = h;
  if (XGBoosterLoadModel(h, path.c_str()) != 0) {
    return Error::Invalid(std::string("XGBoost could not load the model: ") + XGBGetLastError(), path);
  }
  if (XGBoosterSetParam(h, "nthread", "1") != 0) return Error::Invalid(XGBGetLastError(), path);
  bst_ulong nf = 0;
  if (XGBoosterGetNumFeature(h, &nf) != 0) return Error::Invalid(XGBGetLastError(), path);
  m->num_feature_ = static_cast<std::size_t>(nf);
  bst_ulong len = 0;
  const char** names = nullptr;
  if (XGBoosterGetStrFeatureInfo(h, "feature_name", &len, &names) == 0) {
    for (bst_ulong i = 0; i < len; ++i) m->feature_names_.emplace_back(names[i]);
  }
  // The first prediction configures the learner; do it here, on one thread, not under load.
  std::vector<float> probe(m->num_feature_, std::nanf(""));
  float out = 0;
  if (!m->PredictBatch(probe.data(), 1, &out)) {
    return Error::Invalid(std::string("XGBoost could not score a row: ") + XGBGetLastError(), path);
  }
  return m;
}

XgbCApiModel::~XgbCApiModel() {
  if (booster_) XGBoosterFree(static_cast<BoosterHandle>(booster_));
}

bool XgbCApiModel::PredictBatch(const float* rows, std::size_t n_rows, float* out) const {
  char iface[160];
  std::snprintf(iface, sizeof iface, R"({"data":[%llu,true],"shape":[%zu,%zu],"typestr":"<f4","version":3})",
                static_cast<unsigned long long>(reinterpret_cast<std::uintptr_t>(rows)), n_rows, num_feature_);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(static_cast<BoosterHandle>(booster_), iface, kPredictConfig, nullptr, &shape, &dim,
                                &result) != 0) {
    if (!g_error_logged.exchange(true)) Log(LogLevel::kError, "xgboost_predict_failed").Str("error", XGBGetLastError());
    return false;
  }
  for (std::size_t i = 0; i < n_rows; ++i) out[i] = result[i];
  return true;
}

float XgbCApiModel::Predict(const float* row) const {
  float out = std::nanf("");
  if (!PredictBatch(row, 1, &out)) return std::nanf("");
  return out;
}

}  // namespace vigil
