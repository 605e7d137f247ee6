// Feature schemas and hosted-model loading.
#include "models/hosted_model.h"

#include <cmath>
#include <filesystem>

#include "core/file.h"
#include "core/yaml_reader.h"

namespace vigil {

std::optional<Evaluator> ParseEvaluator(std::string_view s) {
  if (s == "native") return Evaluator::kNative;
  if (s == "c_api") return Evaluator::kCApi;
  if (s == "auto") return Evaluator::kAuto;
  return std::nullopt;
}

std::string_view EvaluatorName(Evaluator e) {
  switch (e) {
    case Evaluator::kNative: return "native";
    case Evaluator::kCApi: return "c_api";
    case Evaluator::kAuto: return "auto";
  }
  return "?";
}

Result<FeatureSchema> ParseFeatureSchema(std::string_view text, const std::string& path,
                                         std::span<const std::string_view> analyzer_outputs) {
  YamlReader r(text, path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (!root.IsMap()) return Error::Invalid("a feature schema is an object", path);
  r.OnlyKeys(root, "", {"model", "model_version", "signal", "objective", "features"});
  FeatureSchema s;
  auto model = r.String(root, "model", "", true);
  auto version = r.String(root, "model_version", "", true);
  auto signal = r.String(root, "signal", "", true);
  auto objective = r.String(root, "objective", "", false);
  if (model) s.model_file = *model;
  if (version) s.model_version = *version;
  if (signal) s.signal = *signal;
  if (objective) s.objective = *objective;
  const YAML::Node features = root["features"];
  if (!features || !features.IsSequence() || features.size() == 0) {
    r.Fail(features ? features : root, "features", "a non-empty list of {name, source} is required");
    return r.first_error();
  }
  for (std::size_t i = 0; i < features.size(); ++i) {
    const YAML::Node f = features[i];
    const std::string p = "features[" + std::to_string(i) + "]";
    if (!f.IsMap()) {
      r.Fail(f, p, "expected an object with name and source");
      continue;
    }
    r.OnlyKeys(f, p, {"name", "source", "transform", "equals"});
    FeatureSpec spec;
    auto name = r.String(f, "name", p, true);
    auto source = r.String(f, "source", p, true);
    auto transform = r.String(f, "transform", p, false);
    auto equals = r.String(f, "equals", p, false);
    if (!name || !source) continue;
    spec.name = *name;
    for (const auto& other : s.features) {
      if (other.name == spec.name) r.Fail(f["name"], JoinPath(p, "name"), "feature '" + spec.name + "' given twice");
    }
    std::string_view src = *source;
    if (src.starts_with("context.") && src.size() > 8) {
      spec.source = FeatureSpec::Source::kContext;
      spec.field = std::string(src.substr(8));
    } else if (src.starts_with("analyzer.")) {
      spec.source = FeatureSpec::Source::kAnalyzer;
      std::string_view out = src.substr(9);
      bool found = false;
      for (std::size_t k = 0; k < analyzer_outputs.size(); ++k) {
        if (analyzer_outputs[k] == out) spec.analyzer = k, found = true;
      }
      if (!found) {
        r.Fail(f["source"], JoinPath(p, "source"), "unknown analyzer output '" + std::string(out) + "'");
        continue;
      }
    } else {
      r.Fail(f["source"], JoinPath(p, "source"), "expected context.<field> or analyzer.<output>");
      continue;
    }
    if (transform) {
      if (*transform == "log1p") {
        spec.transform = FeatureSpec::Transform::kLog1p;
      } else if (*transform != "none") {
        r.Fail(f["transform"], JoinPath(p, "transform"), "expected none or log1p");
      }
    }
    if (equals) {
      if (spec.source != FeatureSpec::Source::kContext) {
        r.Fail(f["equals"], JoinPath(p, "equals"), "equals applies to context fields only");
      }
      spec.equals = *equals;
    }
    s.features.push_back(std::move(spec));
  }
  if (!r.ok()) return r.first_error();
  return s;
}

namespace {

// The schema against what the model file says about itself.
Status CheckAgainstModel(const FeatureSchema& s, std::size_t num_feature, const std::vector<std::string>& names,
                         std::string_view objective, const std::string& schema_path) {
  if (num_feature != s.features.size()) {
    return Error::Invalid("schema does not match the model: the schema lists " + std::to_string(s.features.size()) +
                              " features, the model '" + s.model_file + "' takes " + std::to_string(num_feature),
                          schema_path);
  }
  if (!names.empty()) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] != s.features[i].name) {
        return Error::Invalid("schema does not match the model: feature " + std::to_string(i) + " is '" +
                                  s.features[i].name + "' in the schema but '" + names[i] + "' in the model",
                              schema_path);
      }
    }
  }
  if (!s.objective.empty() && !objective.empty() && s.objective != objective) {
    return Error::Invalid("schema does not match the model: objective '" + s.objective + "' in the schema, '" +
                              std::string(objective) + "' in the model",
                          schema_path);
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<const HostedModel>> HostedModel::Load(const std::string& schema_path, Evaluator evaluator,
                                                             std::span<const std::string_view> analyzer_outputs) {
  auto text = ReadFile(schema_path);
  if (!text.ok()) return text.error();
  auto schema = ParseFeatureSchema(*text, schema_path, analyzer_outputs);
  if (!schema.ok()) return schema.error();
  auto m = std::make_shared<HostedModel>();
  m->schema_ = std::move(*schema);
  std::filesystem::path model_path(m->schema_.model_file);
  if (model_path.is_relative()) model_path = std::filesystem::path(schema_path).parent_path() / model_path;
  m->schema_.model_file = model_path.string();

  // The C API is the reference: it must load the file whichever evaluator serves.
  auto capi = XgbCApiModel::LoadFile(m->schema_.model_file);
  if (!capi.ok()) return capi.error();
  m->capi_ = std::move(*capi);
  std::string objective;
  if (evaluator != Evaluator::kCApi) {
    auto model_text = ReadFile(m->schema_.model_file);
    if (!model_text.ok()) return model_text.error();
    auto native = TreeEnsemble::Parse(*model_text, m->schema_.model_file);
    if (native.ok()) {
      objective = native->info().objective;
      m->native_ = std::make_unique<TreeEnsemble>(std::move(*native));
    } else if (evaluator == Evaluator::kNative) {
      return native.error();
    } else if (auto info = TreeEnsemble::ReadInfo(*model_text, m->schema_.model_file); info.ok()) {
      objective = info->objective;
    }
  }
  if (auto st = CheckAgainstModel(m->schema_, m->capi_->num_feature(), m->capi_->feature_names(), objective,
                                  schema_path);
      !st.ok()) {
    return st.error();
  }
  return std::shared_ptr<const HostedModel>(std::move(m));
}

void HostedModel::BuildRow(const AttributeMap& context, std::span<const double> analyzer_outputs, float* row) const {
  const std::size_t n = schema_.features.size();
  for (std::size_t i = 0; i < n; ++i) {
    const FeatureSpec& f = schema_.features[i];
    double v = std::nan("");
    if (f.source == FeatureSpec::Source::kAnalyzer) {
      if (f.analyzer < analyzer_outputs.size()) v = analyzer_outputs[f.analyzer];
    } else {
      Value cv = context.Get(f.field);
      if (f.equals) {
        if (cv.kind == Value::Kind::kString) v = cv.text == *f.equals ? 1.0 : 0.0;
      } else if (cv.kind == Value::Kind::kNumber) {
        v = cv.number;
      } else if (cv.kind == Value::Kind::kBool) {
        v = cv.boolean ? 1.0 : 0.0;
      }
    }
    if (f.transform == FeatureSpec::Transform::kLog1p) v = v > -1.0 ? std::log1p(v) : std::nan("");
    row[i] = static_cast<float>(v);
  }
}

}  // namespace vigil
