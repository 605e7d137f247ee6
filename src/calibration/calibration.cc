#include "calibration/calibration.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/file.h"
#include "core/yaml_reader.h"

namespace vigil {

std::string_view CalibrationMethodName(CalibrationMethod m) {
  switch (m) {
    case CalibrationMethod::kIdentity: return "identity";
    case CalibrationMethod::kPlatt: return "platt";
    case CalibrationMethod::kIsotonic: return "isotonic";
  }
  return "identity";
}

Calibrator Calibrator::Identity(std::string signal, std::string model_version) {
  Calibrator c;
  c.signal_ = std::move(signal);
  c.model_version_ = std::move(model_version);
  return c;
}

Calibrator Calibrator::Platt(std::string signal, std::string model_version, PlattParams p) {
  Calibrator c = Identity(std::move(signal), std::move(model_version));
  c.method_ = CalibrationMethod::kPlatt;
  c.platt_ = p;
  return c;
}

Result<Calibrator> Calibrator::Isotonic(std::string signal, std::string model_version,
                                        IsotonicMap m) {
  if (m.x.empty() || m.x.size() != m.y.size()) {
    return Error::Invalid("isotonic map needs equal, non-empty x and y");
  }
  for (std::size_t i = 0; i < m.x.size(); ++i) {
    if (!std::isfinite(m.x[i]) || !std::isfinite(m.y[i])) {
      return Error::Invalid("isotonic breakpoint " + std::to_string(i) + " is not finite");
    }
    if (i > 0 && !(m.x[i] > m.x[i - 1])) {
      return Error::Invalid("isotonic x must be strictly increasing (at index " + std::to_string(i) + ")");
    }
    if (i > 0 && m.y[i] < m.y[i - 1]) {
      return Error::Invalid("isotonic y must be non-decreasing (at index " + std::to_string(i) + ")");
    }
  }
  Calibrator c = Identity(std::move(signal), std::move(model_version));
  c.method_ = CalibrationMethod::kIsotonic;
  c.iso_ = std::move(m);
  return c;
}

double Calibrator::Apply(double raw) const {
  switch (method_) {
    case CalibrationMethod::kIdentity:
      return std::clamp(raw, 0.0, 1.0);
    case CalibrationMethod::kPlatt: {
      double fab = platt_.a * raw + platt_.b;
      // 1/(1+exp(fab)) without overflow for large |fab|.
      if (fab >= 0) {
        double e = std::exp(-fab);
        return e / (1.0 + e);
      }
      return 1.0 / (1.0 + std::exp(fab));
    }
    case CalibrationMethod::kIsotonic: {
      const auto& x = iso_.x;
      const auto& y = iso_.y;
      if (x.size() == 1) return y[0];
      double v = std::clamp(raw, x.front(), x.back());
      // scipy.interpolate.interp1d: the interval whose right end is the first x >= v.
      auto it = std::lower_bound(x.begin(), x.end(), v);
      std::size_t hi = std::clamp<std::size_t>(static_cast<std::size_t>(it - x.begin()), 1, x.size() - 1);
      std::size_t lo = hi - 1;
      double slope = (y[hi] - y[lo]) / (x[hi] - x[lo]);
      return slope * (v - x[lo]) + y[lo];
    }
  }
  return raw;
}

Result<Calibrator> ParseCalibration(std::string_view text, const std::string& source) {
  YamlReader r(text, source);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (!root.IsMap()) return Error::Parse("expected a calibration object", source);
  r.OnlyKeys(root, "", {"signal", "model_version", "method", "platt", "isotonic", "fitted"});
  auto signal = r.String(root, "signal", "", true);
  auto version = r.String(root, "model_version", "", true);
  auto method = r.String(root, "method", "", true);
  if (!r.ok()) return r.first_error();
  if (*method == "identity") return Calibrator::Identity(*signal, *version);
  if (*method == "platt") {
    auto a = r.Number(root["platt"], "a", "platt", true);
    auto b = r.Number(root["platt"], "b", "platt", true);
    if (!r.ok()) return r.first_error();
    return Calibrator::Platt(*signal, *version, {*a, *b});
  }
  if (*method == "isotonic") {
    auto xs = r.NumberList(root["isotonic"], "x", "isotonic", true);
    auto ys = r.NumberList(root["isotonic"], "y", "isotonic", true);
    if (!r.ok()) return r.first_error();
    auto c = Calibrator::Isotonic(*signal, *version, {std::move(*xs), std::move(*ys)});
    if (!c.ok()) return Error::Invalid("field 'isotonic': " + c.error().message, r.Where(root["isotonic"]));
    return c;
  }
  return Error::Invalid("field 'method': expected identity, platt or isotonic", r.Where(root["method"]));
}

Result<Calibrator> LoadCalibrationFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return ParseCalibration(*text, path);
}

namespace {
std::string NumberList(const std::vector<double>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += fmt::format("{}", v[i]);
  }
  return out + "]";
}
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
}  // namespace

std::string SerializeCalibration(const Calibrator& c) {
  std::string out = "{\"signal\": " + Quote(c.signal()) + ", \"model_version\": " +
                    Quote(c.model_version()) + ", \"method\": \"" +
                    std::string(CalibrationMethodName(c.method())) + "\"";
  if (c.method() == CalibrationMethod::kPlatt) {
    out += fmt::format(", \"platt\": {{\"a\": {}, \"b\": {}}}", c.platt().a, c.platt().b);
  } else if (c.method() == CalibrationMethod::kIsotonic) {
    out += ", \"isotonic\": {\"x\": " + NumberList(c.isotonic().x) +
           ", \"y\": " + NumberList(c.isotonic().y) + "}";
  }
  return out + "}\n";
}

Status CalibrationSet::Add(Calibrator c) {
  if (Find(c.signal()) != nullptr) {
    return Error::Invalid("two calibrations for signal '" + c.signal() + "'");
  }
  items_.push_back(std::move(c));
  return Status::Ok();
}

Result<CalibrationSet> CalibrationSet::LoadDirectory(const std::string& dir) {
  auto files = ListConfigFiles(dir);
  if (!files.ok()) return files.error();
  CalibrationSet set;
  for (const auto& f : *files) {
    auto item = LoadCalibrationFile(f);
    if (!item.ok()) return item.error();
    Status s = set.Add(std::move(*item));
    if (!s.ok()) return Error::Invalid(s.error().message, f);
  }
  return set;
}

const Calibrator* CalibrationSet::Find(std::string_view signal) const {
  for (const auto& c : items_) {
    if (c.signal() == signal) return &c;
  }
  return nullptr;
}

}  // namespace vigil
