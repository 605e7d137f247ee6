// A hosted model: an XGBoost model file plus the feature schema beside it that says which request
// field or analyzer output feeds each model column. Loading checks that the two agree (column
// count, names and order when the model stores names, objective) and refuses a mismatch with an
// error naming the schema file and the first difference.
//
// Schema file (JSON), e.g. config/models/fraud-demo.schema.json:
//   {"model": "fraud-demo.json",            model file, relative to the schema's folder
//    "model_version": "fraud-xgb-demo-1",   recorded with each score; must match the signal's
//                                           calibration file
//    "signal": "fraud_model",               the signal the score is sent to calibration as
//    "objective": "binary:logistic",        optional; checked against the model
//    "features": [{"name": "amount", "source": "context.amount"},
//                 {"name": "log_amount", "source": "context.amount", "transform": "log1p"},
//                 {"name": "is_wallet", "source": "context.payment_method", "equals": "wallet"},
//                 {"name": "vel_card_count_1h", "source": "analyzer.velocity.card.count_1h"}]}
// A context number is used as is, a boolean as 1/0, a string only through "equals" (1/0); an
// absent field, or one of another type, is missing (NaN), as is an analyzer output it could not
// compute (no geography, no session).
// Thread-safety: immutable after Load; shared by all requests.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/value.h"
#include "models/tree_ensemble.h"
#include "models/xgb_capi.h"

namespace vigil {

enum class Evaluator : std::uint8_t {
  kNative,  // tree_ensemble.h (flat arrays, no allocation); refused for formats it cannot take
  kCApi,    // XGBoost's C API
  kAuto,    // native when the model allows it, else the C API
};
std::optional<Evaluator> ParseEvaluator(std::string_view s);
std::string_view EvaluatorName(Evaluator e);

struct FeatureSpec {
  enum class Source : std::uint8_t { kContext, kAnalyzer };
  enum class Transform : std::uint8_t { kNone, kLog1p };
  std::string name;
  Source source = Source::kContext;
  std::string field;       // context field name (kContext)
  std::size_t analyzer = 0;  // index into the analyzer outputs (kAnalyzer)
  std::optional<std::string> equals;  // string comparison for a context string
  Transform transform = Transform::kNone;
};

struct FeatureSchema {
  std::string model_file;  // absolute or relative to the working directory, resolved at load
  std::string model_version;
  std::string signal;
  std::string objective;   // "" when the schema does not say
  std::vector<FeatureSpec> features;
};

// Parses a schema; `analyzer_outputs` are the names an "analyzer.<name>" source may take.
Result<FeatureSchema> ParseFeatureSchema(std::string_view text, const std::string& path,
                                         std::span<const std::string_view> analyzer_outputs);

class HostedModel {
 public:
  static Result<std::shared_ptr<const HostedModel>> Load(const std::string& schema_path, Evaluator evaluator,
                                                         std::span<const std::string_view> analyzer_outputs);

  std::size_t num_features() const { return schema_.features.size(); }
  // Fills `row` (num_features() floats) from the request context and the analyzer outputs
  // (indexed as the names given to Load; NaN where an analyzer had nothing).
  void BuildRow(const AttributeMap& context, std::span<const double> analyzer_outputs, float* row) const;
  // The model's score for a row with the evaluator in force.
  float Score(const float* row) const { return native_ ? native_->Predict(row) : capi_->Predict(row); }
  float ScoreNative(const float* row) const { return native_->Predict(row); }  // needs has_native()
  float ScoreCApi(const float* row) const { return capi_->Predict(row); }
  bool has_native() const { return native_ != nullptr; }

  const FeatureSchema& schema() const { return schema_; }
  Evaluator evaluator() const { return native_ ? Evaluator::kNative : Evaluator::kCApi; }
  const ModelInfo* native_info() const { return native_ ? &native_->info() : nullptr; }

 private:
  FeatureSchema schema_;
  std::unique_ptr<TreeEnsemble> native_;
  std::unique_ptr<XgbCApiModel> capi_;
};

}  // namespace vigil
