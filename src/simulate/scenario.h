// Scenario: what traffic the simulator makes and which incidents it scripts on simulated time,
// read from config/scenarios/NAME.yaml (docs/simulate.md lists every field). Errors name
// file:line:column. Values, safe to share between threads once loaded.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil::sim {

// Which events an incident applies to: every listed context field must equal its value
// (flow_type, platform, browser_family, sdk_version, device_class, country, kind).
using Selector = std::map<std::string, std::string>;

enum class IncidentKind {
  kScoreShift,        // genuine/legitimate scores move (a browser release, a feature drift)
  kAttackSurge,       // the share of attacks or fraud is multiplied where the selector matches
  kCaptureFailure,    // a share of captures fail on the client (an SDK version that breaks)
  kLoadSurge,         // more traffic per unit of time and heavier bodies (a latency regression)
  kModelRelease,      // a share of traffic is scored by a new, badly calibrated model
  kAmountDrift,       // amounts grow and new payment methods appear (seed 004)
};

struct Incident {
  IncidentKind kind = IncidentKind::kScoreShift;
  std::string where_text;   // "file:line:col" of the incident, for messages
  double from_day = 0.0;
  double until_day = std::numeric_limits<double>::infinity();
  double ramp_days = 0.0;   // strength grows linearly from 0 to 1 over this long
  Selector where;
  std::map<std::string, std::string> set_context;  // fields set on matching events (browser_version)
  double genuine_shift = 0.0;   // score_shift: logit shift of genuine liveness scores
  double attack_shift = 0.0;    // score_shift: logit shift of attack liveness scores
  double legit_fraud_shift = 0.0;  // score_shift/amount_drift: logit shift of fraud_model on legitimate
  double multiplier = 1.0;      // attack_surge: attack share; load_surge: event rate
  std::string attack_type;      // attack_surge: the attack type that surges ("" = the usual mix)
  double failure_share = 0.0;   // capture_failure
  double payload_pad_bytes = 0; // load_surge: extra context bytes per request
  double share = 1.0;           // model_release: share of matching traffic on the new model
  double score_scale = 1.0;     // model_release: raw' = sigmoid(scale * logit(raw) + offset)
  double score_offset = 0.0;
  std::string model_version;    // model_release: sent as context.passive_model_version
  double amount_factor = 1.0;   // amount_drift: amounts multiplied by this at full strength
  std::map<std::string, double> payment_methods;  // amount_drift: extra share per new method

  // 0 before from_day, ramping to 1, 1 until until_day, then 0.
  double Strength(double day) const {
    if (day < from_day || day >= until_day) return 0.0;
    if (ramp_days <= 0.0) return 1.0;
    double s = (day - from_day) / ramp_days;
    return s >= 1.0 ? 1.0 : s;
  }
};

// Bounds a run of this scenario must meet (checked by `vigil demo --check` and the tests).
struct Expectation {
  std::string rate;   // pass | retry | fail | review | allow | challenge | deny | answered
  double min = 0.0;
  double max = 1.0;
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;             // the file it came from
  double days = 7.0;              // simulated days a run covers (unless --days)
  double events_per_day = 50000;  // sets simulated time per event when no budget is given
  double liveness_share = 0.55;   // of events; the rest are transactions
  double attack_share = 0.04;     // of liveness sessions
  double fraud_share = 0.02;      // of transactions
  double quality_trouble_share = 0.18;  // of genuine liveness captures
  double label_share = 0.3;       // of events that get a ground-truth label at all
  double review_hours = 6.0;      // median delay of a manual review label
  double chargeback_days = 5.0;   // median delay of a chargeback label
  std::vector<Incident> incidents;
  std::vector<Expectation> expect;
};

// Loads and checks one scenario file.
Result<Scenario> LoadScenario(const std::string& path);
// Finds NAME (or a path) under `config_dir`/scenarios and loads it.
Result<Scenario> FindScenario(const std::string& name_or_path, const std::string& config_dir);
// The scenario names under `config_dir`/scenarios, sorted.
std::vector<std::string> ListScenarios(const std::string& config_dir);

const char* IncidentKindName(IncidentKind k);

}  // namespace vigil::sim
