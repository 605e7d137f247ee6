#include "reasons/catalogue.h"

#include "core/file.h"
#include "core/json_writer.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <sstream>

namespace vigil {
namespace {

constexpr std::array<std::string_view, kBuiltinReasonCount> kBuiltinNames = {
#define VIGIL_REASON_NAME(name, wire) wire,
    VIGIL_BUILTIN_REASON_CODES(VIGIL_REASON_NAME)
#undef VIGIL_REASON_NAME
};

constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "low", "medium", "high",
                                                             "critical"};
constexpr std::array<std::string_view, 8> kCategoryNames = {
    "quality", "security", "session", "liveness", "fraud", "behaviour", "model", "policy"};

std::string Where(std::string_view source, const YAML::Node& node) {
  std::ostringstream o;
  o << source;
  if (node.Mark().line >= 0) o << ":" << node.Mark().line + 1;
  return o.str();
}

template <std::size_t N>
int IndexOf(const std::array<std::string_view, N>& names, std::string_view v) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == v) return static_cast<int>(i);
  }
  return -1;
}

bool IsCodeName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string_view BuiltinReasonName(ReasonCode code) {
  auto i = static_cast<std::size_t>(code);
  return i < kBuiltinNames.size() ? kBuiltinNames[i] : std::string_view{};
}

std::string_view SeverityName(Severity s) { return kSeverityNames[static_cast<std::size_t>(s)]; }
std::string_view CategoryName(ReasonCategory c) {
  return kCategoryNames[static_cast<std::size_t>(c)];
}

Result<ReasonCatalogue> ReasonCatalogue::Parse(std::string_view yaml, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    return Error::Parse(e.msg, std::string(source) + ":" + std::to_string(e.mark.line + 1));
  }
  if (!root.IsMap()) return Error::Parse("expected a mapping with 'version' and 'reasons'", std::string(source));
  ReasonCatalogue cat;
  if (!root["version"] || !root["version"].IsScalar()) {
    return Error::Invalid("missing field 'version'", Where(source, root));
  }
  cat.version_ = root["version"].as<std::string>();
  const YAML::Node list = root["reasons"];
  if (!list || !list.IsSequence()) {
    return Error::Invalid("missing field 'reasons' (a list)", Where(source, root));
  }

  cat.infos_.resize(kBuiltinReasonCount);
  std::vector<bool> seen(kBuiltinReasonCount, false);
  std::vector<ReasonInfo> extra;
  for (const auto& item : list) {
    if (!item.IsMap()) return Error::Invalid("each reason must be a mapping", Where(source, item));
    ReasonInfo info;
    for (const char* field : {"code", "title", "severity", "category", "recommendation"}) {
      if (!item[field] || !item[field].IsScalar() || item[field].as<std::string>().empty()) {
        return Error::Invalid(std::string("missing field '") + field + "'", Where(source, item));
      }
    }
    info.name = item["code"].as<std::string>();
    if (!IsCodeName(info.name)) {
      return Error::Invalid("code '" + info.name + "' must be UPPER_SNAKE_CASE", Where(source, item["code"]));
    }
    info.title = item["title"].as<std::string>();
    info.recommendation = item["recommendation"].as<std::string>();
    if (item["guidance"]) info.guidance = item["guidance"].as<std::string>();
    int sev = IndexOf(kSeverityNames, item["severity"].as<std::string>());
    if (sev < 0) {
      return Error::Invalid("severity must be one of info, low, medium, high, critical",
                            Where(source, item["severity"]));
    }
    info.severity = static_cast<Severity>(sev);
    int cat_index = IndexOf(kCategoryNames, item["category"].as<std::string>());
    if (cat_index < 0) {
      return Error::Invalid(
          "category must be one of quality, security, session, liveness, fraud, behaviour, model, "
          "policy",
          Where(source, item["category"]));
    }
    info.category = static_cast<ReasonCategory>(cat_index);

    int builtin = IndexOf(kBuiltinNames, info.name);
    if (builtin >= 0) {
      if (seen[static_cast<std::size_t>(builtin)]) {
        return Error::Invalid("duplicate code '" + info.name + "'", Where(source, item));
      }
      seen[static_cast<std::size_t>(builtin)] = true;
      info.code = static_cast<ReasonCode>(builtin);
      cat.infos_[static_cast<std::size_t>(builtin)] = std::move(info);
    } else {
      for (const auto& e : extra) {
        if (e.name == info.name) return Error::Invalid("duplicate code '" + info.name + "'", Where(source, item));
      }
      extra.push_back(std::move(info));
    }
  }
  for (std::size_t i = 0; i < kBuiltinReasonCount; ++i) {
    if (!seen[i]) {
      return Error::Invalid("built-in code '" + std::string(kBuiltinNames[i]) + "' is not described",
                            std::string(source));
    }
  }
  for (auto& e : extra) {
    e.code = static_cast<ReasonCode>(cat.infos_.size());
    cat.infos_.push_back(std::move(e));
  }
  for (auto& info : cat.infos_) {
    std::string doc;
    JsonWriter w(doc);
    w.BeginObject().Field("code", info.name).Field("title", info.title).Field("severity", SeverityName(info.severity))
        .Field("category", CategoryName(info.category)).Field("recommendation", info.recommendation).EndObject();
    info.response_members = doc.substr(1, doc.size() - 2);
  }
  return cat;
}

Result<ReasonCatalogue> ReasonCatalogue::LoadFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return Parse(*text, path);
}

std::optional<ReasonCode> ReasonCatalogue::Find(std::string_view name) const {
  for (const auto& info : infos_) {
    if (info.name == name) return info.code;
  }
  return std::nullopt;
}

}  // namespace vigil
