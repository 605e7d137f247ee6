// Ground-truth labels for decisions (SPEC.md section 2.14): what a decision turned out to be,
// who said so and when. The positive class is always the bad one: an attack (liveness) or fraud
// (transaction). A label is joined to its decision by request id.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/decision.h"
#include "core/result.h"

namespace vigil {

enum class LabelClass : std::uint8_t { kGenuine, kAttack, kLegitimate, kFraud };

std::string_view LabelClassName(LabelClass c);
std::optional<LabelClass> ParseLabelClass(std::string_view s);
// Attack and fraud are the positive class.
inline bool IsPositive(LabelClass c) { return c == LabelClass::kAttack || c == LabelClass::kFraud; }
// The flow kind a label belongs to: genuine/attack to liveness, legitimate/fraud to transactions.
FlowKind LabelKind(LabelClass c);

// Presentation-attack instrument species (ISO/IEC 30107-3), for attack labels.
bool IsAttackType(std::string_view s);  // print, screen_replay, mask, injection, virtual_camera,
                                        // deepfake, other
// Fraud types, optional on fraud labels: card_testing, account_takeover, bot, other.
bool IsFraudType(std::string_view s);
// Where a label came from: manual_review, dispute, chargeback, red_team, customer_support.
bool IsLabelSource(std::string_view s);

struct Label {
  std::string request_id;
  LabelClass label = LabelClass::kGenuine;
  std::string attack_type;  // "" when none (required for attacks)
  std::string source;
  std::int64_t labelled_at_ms = 0;
  std::int64_t received_at_ms = 0;
  std::string key_id;  // the API key that sent it
  bool conflict = false;  // disagreed with the label in force when it arrived
  std::int64_t id = 0;    // position in the label store (arrival order)
};

// Parses RFC 3339 ("2026-11-30T10:00:00Z", "...T10:00:00.250+01:00") to ms since the epoch.
std::optional<std::int64_t> ParseRfc3339Ms(std::string_view s);

}  // namespace vigil
