#include "fusion/fusion.h"

#include <algorithm>
#include <cmath>

#include "core/file.h"
#include "core/yaml_reader.h"

namespace vigil {

std::string_view MissingHandlingName(MissingHandling m) {
  switch (m) {
    case MissingHandling::kRenormalise: return "renormalise";
    case MissingHandling::kImpute: return "impute";
    case MissingHandling::kUncertain: return "uncertain";
  }
  return "renormalise";
}

double ClippedLogit(double p) {
  constexpr double kEps = 1e-6;
  p = std::clamp(p, kEps, 1.0 - kEps);
  return std::log(p / (1.0 - p));
}

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  double e = std::exp(z);
  return e / (1.0 + e);
}

namespace {
bool ParseHandling(std::string_view s, MissingHandling& out) {
  if (s == "renormalise" || s == "renormalize") {
    out = MissingHandling::kRenormalise;
  } else if (s == "impute") {
    out = MissingHandling::kImpute;
  } else if (s == "uncertain") {
    out = MissingHandling::kUncertain;
  } else {
    return false;
  }
  return true;
}
}  // namespace

Result<LogisticFusion> LogisticFusion::Parse(std::string_view text, const std::string& source) {
  YamlReader r(text, source);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (!root.IsMap()) return Error::Parse("expected a fusion model object", source);
  r.OnlyKeys(root, "", {"name", "version", "feature", "bias", "missing", "inputs", "fitted"});
  LogisticFusion m;
  auto name = r.String(root, "name", "", true);
  auto version = r.String(root, "version", "", true);
  auto bias = r.Number(root, "bias", "", true);
  auto feature = r.String(root, "feature", "", false);
  auto missing = r.String(root, "missing", "", false);
  if (!r.ok()) return r.first_error();
  m.name_ = *name;
  m.version_ = *version;
  m.bias_ = *bias;
  if (feature && *feature != "logit" && *feature != "probability") {
    return Error::Invalid("field 'feature': expected logit or probability", r.Where(root["feature"]));
  }
  m.logit_features_ = !feature || *feature == "logit";
  MissingHandling model_default = MissingHandling::kRenormalise;
  if (missing && !ParseHandling(*missing, model_default)) {
    return Error::Invalid("field 'missing': expected renormalise, impute or uncertain",
                          r.Where(root["missing"]));
  }
  const YAML::Node inputs = root["inputs"];
  if (!inputs.IsSequence() || inputs.size() == 0) {
    return Error::Invalid("field 'inputs': expected a non-empty list", r.Where(inputs.IsDefined() ? inputs : root));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const YAML::Node in = inputs[i];
    std::string path = "inputs[" + std::to_string(i) + "]";
    r.OnlyKeys(in, path, {"signal", "weight", "missing", "impute"});
    FusionInput fi;
    auto sig = r.String(in, "signal", path, true);
    auto w = r.Number(in, "weight", path, true);
    auto h = r.String(in, "missing", path, false);
    auto imp = r.Number(in, "impute", path, false);
    if (!r.ok()) return r.first_error();
    fi.signal = *sig;
    fi.weight = *w;
    fi.missing = model_default;
    if (h && !ParseHandling(*h, fi.missing)) {
      return Error::Invalid("field '" + path + ".missing': expected renormalise, impute or uncertain",
                            r.Where(in["missing"]));
    }
    if (fi.missing == MissingHandling::kImpute) {
      if (!imp) {
        return Error::Invalid("field '" + path + ".impute': required when missing is impute", r.Where(in));
      }
      if (*imp < 0 || *imp > 1) {
        return Error::Invalid("field '" + path + ".impute': expected a probability in [0, 1]",
                              r.Where(in["impute"]));
      }
      fi.impute = *imp;
    }
    for (const auto& other : m.inputs_) {
      if (other.signal == fi.signal) {
        return Error::Invalid("field '" + path + ".signal': '" + fi.signal + "' appears twice", r.Where(in));
      }
    }
    m.total_abs_weight_ += std::fabs(fi.weight);
    m.inputs_.push_back(std::move(fi));
  }
  return m;
}

Result<LogisticFusion> LogisticFusion::LoadFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return Parse(*text, path);
}

void LogisticFusion::Fuse(FusionResult& out) const {
  out.version = version_;
  out.bias = bias_;
  out.force_uncertain = false;
  // Weight of the inputs that will be dropped, to renormalise the rest.
  double present_abs = 0.0;
  bool any_present = false;
  double lo = 1.0, hi = 0.0;
  int n_present = 0;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const SignalScore& s = out.signals[i];
    if (s.present || inputs_[i].missing == MissingHandling::kImpute) present_abs += std::fabs(inputs_[i].weight);
    if (s.present) {
      any_present = true;
      lo = std::min(lo, s.calibrated);
      hi = std::max(hi, s.calibrated);
      ++n_present;
    }
  }
  out.disagreement = n_present >= 2 ? hi - lo : 0.0;
  out.has_score = any_present;
  if (!any_present) {
    out.score = 0.0;
    out.logit = 0.0;
    for (auto& s : out.signals) s.weight = s.contribution = 0.0;
    out.force_uncertain = true;
    return;
  }
  const double scale = present_abs > 0 ? total_abs_weight_ / present_abs : 1.0;
  double z = bias_;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    SignalScore& s = out.signals[i];
    const FusionInput& in = inputs_[i];
    if (s.present) {
      s.weight = in.weight * scale;
      s.imputed = false;
    } else if (in.missing == MissingHandling::kImpute) {
      s.weight = in.weight * scale;
      s.imputed = true;
      s.calibrated = in.impute;
    } else {
      s.weight = 0.0;
      s.contribution = 0.0;
      if (in.missing == MissingHandling::kUncertain) out.force_uncertain = true;
      continue;
    }
    double x = logit_features_ ? ClippedLogit(s.calibrated) : s.calibrated;
    s.contribution = s.weight * x;
    z += s.contribution;
  }
  out.logit = z;
  out.score = Sigmoid(z);
}

Status FusionModelSet::Add(LogisticFusion m) {
  if (Find(m.name()) != nullptr) return Error::Invalid("two fusion models named '" + m.name() + "'");
  items_.push_back(std::move(m));
  return Status::Ok();
}

Result<FusionModelSet> FusionModelSet::LoadDirectory(const std::string& dir) {
  auto files = ListConfigFiles(dir);
  if (!files.ok()) return files.error();
  FusionModelSet set;
  for (const auto& f : *files) {
    auto item = LogisticFusion::LoadFile(f);
    if (!item.ok()) return item.error();
    Status s = set.Add(std::move(*item));
    if (!s.ok()) return Error::Invalid(s.error().message, f);
  }
  return set;
}

const LogisticFusion* FusionModelSet::Find(std::string_view name) const {
  for (const auto& m : items_) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

}  // namespace vigil
