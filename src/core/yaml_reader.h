// Reading configuration and model files (YAML, or JSON, which is YAML's flow style) with errors
// that name the file, the line and the field. A reader collects every error it meets so that
// `vigil policy check` can report them all at once. Not thread-safe; one reader per file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil {

class YamlReader {
 public:
  // Parses `text`; a syntax error is recorded and root() is null.
  YamlReader(std::string_view text, std::string source);
  // Reads the file at `path`; an unreadable file or a syntax error is recorded.
  static YamlReader FromFile(const std::string& path);

  const YAML::Node& root() const { return root_; }
  const std::string& source() const { return source_; }
  bool ok() const { return errors_.empty(); }
  const std::vector<Error>& errors() const { return errors_; }
  // The first error, for callers that stop at one.
  Error first_error() const { return errors_.empty() ? Error{} : errors_.front(); }

  // "source:line:column" of a node (1-based), or the source alone for a null node.
  std::string Where(const YAML::Node& node) const;
  // Records an error at `node` about `field` (a dotted path such as "flows.login.thresholds").
  void Fail(const YAML::Node& node, std::string_view field, std::string_view message);
  // Records an error at an explicit place ("file:line:column").
  void FailAt(std::string where, std::string_view field, std::string_view message);

  // Typed field access on a mapping. A missing required field or a value of the wrong type is
  // recorded as an error and gives nullopt; a missing optional field gives nullopt silently.
  std::optional<double> Number(const YAML::Node& map, const char* key, std::string_view path,
                               bool required);
  std::optional<std::string> String(const YAML::Node& map, const char* key, std::string_view path,
                                    bool required);
  std::optional<bool> Bool(const YAML::Node& map, const char* key, std::string_view path,
                           bool required);
  std::optional<std::vector<double>> NumberList(const YAML::Node& map, const char* key,
                                                std::string_view path, bool required);
  std::optional<std::vector<std::string>> StringList(const YAML::Node& map, const char* key,
                                                     std::string_view path, bool required);
  // Records an error for every key of `map` not in `allowed` (catches typos such as "treshold").
  void OnlyKeys(const YAML::Node& map, std::string_view path,
                std::initializer_list<std::string_view> allowed);

 private:
  YAML::Node Field(const YAML::Node& map, const char* key, std::string_view path, bool required);
  std::string source_;
  YAML::Node root_;
  std::vector<Error> errors_;
};

// Joins a dotted field path: Join("flows.login", "thresholds") == "flows.login.thresholds".
std::string JoinPath(std::string_view parent, std::string_view child);

}  // namespace vigil
