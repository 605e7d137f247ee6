#include "core/yaml_reader.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace vigil {

YamlReader::YamlReader(std::string_view text, std::string source) : source_(std::move(source)) {
  try {
    root_ = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    errors_.push_back(Error::Parse(e.msg, source_ + ":" + std::to_string(e.mark.line + 1) + ":" +
                                              std::to_string(e.mark.column + 1)));
    root_ = YAML::Node();
  }
}

YamlReader YamlReader::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    YamlReader r("", path);
    r.errors_.push_back(Error::Io("cannot open file", path));
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return YamlReader(ss.str(), path);
}

std::string YamlReader::Where(const YAML::Node& node) const {
  if (!node.IsDefined() || node.Mark().line < 0) return source_;
  return source_ + ":" + std::to_string(node.Mark().line + 1) + ":" +
         std::to_string(node.Mark().column + 1);
}

void YamlReader::Fail(const YAML::Node& node, std::string_view field, std::string_view message) {
  FailAt(Where(node), field, message);
}

void YamlReader::FailAt(std::string where, std::string_view field, std::string_view message) {
  std::string msg;
  if (!field.empty()) msg = "field '" + std::string(field) + "': ";
  msg += message;
  errors_.push_back(Error::Invalid(std::move(msg), std::move(where)));
}

YAML::Node YamlReader::Field(const YAML::Node& map, const char* key, std::string_view path,
                             bool required) {
  if (!map.IsMap()) {
    Fail(map, path, "expected a mapping");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  YAML::Node n = map[key];
  if (!n.IsDefined() || n.IsNull()) {
    if (required) Fail(map, JoinPath(path, key), "is required");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return n;
}

std::optional<double> YamlReader::Number(const YAML::Node& map, const char* key,
                                         std::string_view path, bool required) {
  YAML::Node n = Field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  double d = 0;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, d) || !std::isfinite(d)) {
    Fail(n, JoinPath(path, key), "expected a finite number");
    return std::nullopt;
  }
  return d;
}

std::optional<std::string> YamlReader::String(const YAML::Node& map, const char* key,
                                              std::string_view path, bool required) {
  YAML::Node n = Field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  if (!n.IsScalar()) {
    Fail(n, JoinPath(path, key), "expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<bool> YamlReader::Bool(const YAML::Node& map, const char* key, std::string_view path,
                                     bool required) {
  YAML::Node n = Field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) {
    Fail(n, JoinPath(path, key), "expected true or false");
    return std::nullopt;
  }
  return b;
}

std::optional<std::vector<double>> YamlReader::NumberList(const YAML::Node& map, const char* key,
                                                          std::string_view path, bool required) {
  YAML::Node n = Field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  if (!n.IsSequence()) {
    Fail(n, JoinPath(path, key), "expected a list of numbers");
    return std::nullopt;
  }
  std::vector<double> out;
  out.reserve(n.size());
  for (std::size_t i = 0; i < n.size(); ++i) {
    double d = 0;
    if (!n[i].IsScalar() || !YAML::convert<double>::decode(n[i], d) || !std::isfinite(d)) {
      Fail(n[i], JoinPath(path, key) + "[" + std::to_string(i) + "]", "expected a finite number");
      return std::nullopt;
    }
    out.push_back(d);
  }
  return out;
}

std::optional<std::vector<std::string>> YamlReader::StringList(const YAML::Node& map,
                                                               const char* key,
                                                               std::string_view path,
                                                               bool required) {
  YAML::Node n = Field(map, key, path, required);
  if (!n.IsDefined()) return std::nullopt;
  if (!n.IsSequence()) {
    Fail(n, JoinPath(path, key), "expected a list of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) {
      Fail(n[i], JoinPath(path, key) + "[" + std::to_string(i) + "]", "expected a string");
      return std::nullopt;
    }
    out.push_back(n[i].Scalar());
  }
  return out;
}

void YamlReader::OnlyKeys(const YAML::Node& map, std::string_view path,
                          std::initializer_list<std::string_view> allowed) {
  if (!map.IsMap()) return;
  for (const auto& kv : map) {
    const std::string& k = kv.first.Scalar();
    bool known = false;
    for (auto a : allowed) known = known || a == k;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      Fail(kv.first, JoinPath(path, k), "unknown field (expected one of: " + list + ")");
    }
  }
}

std::string JoinPath(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return std::string(parent) + "." + std::string(child);
}

}  // namespace vigil
