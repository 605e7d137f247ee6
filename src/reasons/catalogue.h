// The reason-code catalogue: title, severity, category and recommended action per code, loaded
// from a YAML data file. Immutable once loaded; safe for concurrent reads from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "reasons/reason_code.h"

namespace vigil {

enum class Severity : std::uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);

// The categories a reason belongs to; they group reasons in dashboards and keep quality problems
// apart from spoof suspicion.
enum class ReasonCategory : std::uint8_t {
  kQuality, kSecurity, kSession, kLiveness, kFraud, kBehaviour, kModel, kPolicy
};
std::string_view CategoryName(ReasonCategory c);

struct ReasonInfo {
  ReasonCode code{};
  std::string name;            // wire code, e.g. "BLURRY"
  std::string title;           // short, for people
  Severity severity = Severity::kInfo;
  ReasonCategory category = ReasonCategory::kPolicy;
  std::string recommendation;  // first action for an operator
  std::string guidance;        // what to tell the end user on a retry ("" when not user-facing)
  // The members a decision response gives every reason with this code, serialised once when the
  // catalogue is loaded: "code":..,"title":..,"severity":..,"category":..,"recommendation":..
  std::string response_members;
};

class ReasonCatalogue {
 public:
  // Parses catalogue YAML. Every built-in code must be described; extra codes are appended.
  // `source` names the file in error messages ("config/reasons.yaml:12: ...").
  static Result<ReasonCatalogue> Parse(std::string_view yaml, std::string_view source);
  static Result<ReasonCatalogue> LoadFile(const std::string& path);

  const ReasonInfo& Info(ReasonCode code) const { return infos_[static_cast<std::size_t>(code)]; }
  std::optional<ReasonCode> Find(std::string_view name) const;
  const std::vector<ReasonInfo>& all() const { return infos_; }
  const std::string& version() const { return version_; }

 private:
  std::string version_;
  std::vector<ReasonInfo> infos_;  // indexed by ReasonCode value
};

}  // namespace vigil
