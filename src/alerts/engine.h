// AlertEngine: evaluates the rules of config/alerts.yaml on event time (SPEC.md 2.13). Each
// decision is observed once (Observe); per slice ("all", "flow_type=<f>", "platform=<p>" and the
// value combinations of the rules' slice_by fields, such as "country=BR") it
// keeps tumbling windows (counts by outcome, a latency histogram, disagreement, evidence ids),
// an hourly ring of 7 days for baselines, and the recent decisions whose reason codes match a
// pattern rule. When event time passes a window's end the rules are evaluated for every slice:
// states go inactive -> pending -> firing -> resolved (-> pending ...), with for-durations,
// cooldowns and severities. Each change to firing or resolved becomes a Notification for the
// routes (delivered elsewhere, never on this thread).
//
// Thread-safety: every method may be called from any thread; one mutex guards the state (the
// server's observer calls Observe one decision at a time, so it is uncontended except while a
// report is read).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/rules.h"
#include "core/decision.h"

namespace vigil::alerts {

// What the engine needs of one decision.
struct Observation {
  std::int64_t time_ms = 0;
  std::string_view flow_type, platform;
  FlowKind kind = FlowKind::kLiveness;  // the slice field "kind": liveness or transaction
  Outcome outcome = Outcome::kPass;
  double latency_ms = 0.0;
  double disagreement = 0.0;           // FusionResult::disagreement
  std::string_view evidence_id;
  const std::vector<DecisionReason>* reasons = nullptr;
  // Slice fields other than flow_type and platform (browser_family, sdk_version, country, ...)
  // are read from the request's context; null: they are "unknown".
  const AttributeMap* context = nullptr;
  // The decision's calibrated signals (FusionResult::signals), for drift rules; null: none.
  const std::vector<SignalScore>* signals = nullptr;
};

enum class AlertState : std::uint8_t { kInactive, kPending, kFiring, kResolved };
std::string_view AlertStateName(AlertState s);

struct Alert {
  std::string id;            // rule + "/" + slice
  std::string rule, type, slice, severity, metric, action;
  AlertState state = AlertState::kInactive;
  double value = 0.0;        // the measure that was compared (NaN: not enough data)
  double baseline = 0.0;     // the trailing 7-day value of the same measure (NaN: none yet)
  double threshold = 0.0;    // what it was compared with
  double p_value = 0.0;      // the exact test's or KS p-value when the rule has one (NaN: none)
  double dispersion = 0.0;   // phi the test or CUSUM used (1: binomial; NaN: none; rules.h)
  std::int64_t pending_since_ms = 0, fired_at_ms = 0, resolved_at_ms = 0, updated_ms = 0;
  std::vector<std::string> evidence_ids;
  std::vector<std::string> routes;
};

struct Notification {
  Alert alert;               // state kFiring or kResolved
};

class AlertEngine {
 public:
  using Notify = std::function<void(const Notification&)>;
  // `notify` is called with the engine's lock held: it must only queue.
  AlertEngine(AlertsConfig cfg, Notify notify);
  ~AlertEngine();

  // One durable decision. Evaluates the rules first if its time closes the open window.
  void Observe(const Observation& o);
  // Closes windows up to `time_ms` (no traffic; a clock tick).
  void Advance(std::int64_t time_ms);

  // Pending, firing and recently resolved alerts (the last 200), most recent first.
  std::vector<Alert> Alerts() const;
  std::size_t firing() const;
  std::uint64_t evaluations() const;
  // Swaps the rules; slices' counts are kept, rule states are reset.
  void Reconfigure(AlertsConfig cfg);

 private:
  struct State;
  mutable std::mutex mu_;
  std::unique_ptr<State> s_;
};

// JSON of GET /v1/monitor/alerts and of a webhook notification.
std::string RenderAlerts(const std::vector<Alert>& alerts, std::size_t firing);
std::string RenderNotification(const Notification& n);

}  // namespace vigil::alerts
