// TrafficGenerator: the stream of simulated events, each with its hidden ground truth. Liveness
// sessions (genuine users, some with capture trouble; attacks) and transactions (customers with
// tenure and habits; card testing, account takeover with impossible travel, bots), on simulated
// time, with the scenario's incidents applied where and when they are scripted.
// Deterministic: one seed and one scenario give one stream. Not thread-safe (the driver pulls
// events under its own lock); a SimEvent is a value.
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "simulate/media_library.h"
#include "simulate/random.h"
#include "simulate/scenario.h"

namespace vigil::sim {

enum class EventKind : std::uint8_t { kLiveness, kTransaction };

// One context field of a request.
struct ContextField {
  enum class Type : std::uint8_t { kString, kNumber, kBool, kGeo } type = Type::kString;
  std::string key;
  std::string str;
  double num = 0.0;
  double lon = 0.0;  // kGeo: num is the latitude
};

// What really happened; never sent with the decision request.
struct Truth {
  std::string label;        // genuine | attack (liveness); legitimate | fraud (transaction)
  std::string attack_type;  // print, screen_replay, mask, injection, virtual_camera, card_testing,
                            // account_takeover, bot; "" for genuine and legitimate
  std::string quality;      // liveness genuine: "" (good), low_light, blur, backlight,
                            // second_face, capture_failure
  bool labelled = false;    // whether a label ever arrives
  double review_delay_ms = 0;      // when people review it
  double chargeback_delay_ms = 0;  // when a fraud that went through comes back as a chargeback
};

// Hidden state of the person or attacker behind an event, kept so that a retry is the same
// person in the same situation.
struct Latent {
  double genuine_shift = 0.0;   // logit shift of genuine liveness scores (score_shift incidents)
  double attack_shift = 0.0;
  bool new_model = false;       // model_release: passive scored by the new model
  double score_scale = 1.0;
  double score_offset = 0.0;
  bool capture_broken = false;  // capture_failure: the SDK fails on this device
};

struct SimEvent {
  std::uint64_t seq = 0;       // position in the stream (retries share their first attempt's)
  int attempt = 1;
  std::string request_id;
  std::int64_t time_ms = 0;    // simulated event time
  EventKind kind = EventKind::kLiveness;
  std::string flow_type;
  std::vector<ContextField> context;
  std::vector<std::pair<std::string, double>> signals;
  std::vector<std::pair<std::string, bool>> security;
  Truth truth;
  Latent latent;
  std::string pad;             // load_surge: filler bytes in context.client_trace

  // The decision request body; with a session token when one is given, and with camera frames
  // of the attempt's condition (MediaCondition()) when `media` is given.
  // With the session's challenge `steps`, the frames follow the challenge when the person can.
  std::string RequestBody(std::string_view session_token = {}, const MediaLibrary* media = nullptr,
                          const std::vector<std::string>& steps = {}) const;
  // What the camera sees in a liveness attempt: "good", the genuine user's capture trouble or
  // the attack type.
  std::string MediaCondition() const;
  // The POST /v1/sessions body for a liveness event.
  std::string SessionBody() const;
  // A context string field, or "".
  std::string ContextString(std::string_view key) const;
  double ContextNumber(std::string_view key, double fallback = 0.0) const;
};

struct TrafficOptions {
  std::uint64_t seed = 1;
  std::string run_id = "sim";      // request ids are RUN_ID-SEQ[-aN]
  std::int64_t start_ms = 1798761600000;  // 2027-01-01T00:00:00Z; simulated time of the first event
  double ms_per_event = 0;          // mean simulated time between events; 0: from events_per_day
};

class TrafficGenerator {
 public:
  TrafficGenerator(Scenario scenario, TrafficOptions options);
  ~TrafficGenerator();

  // The next event in simulated-time order.
  SimEvent Next();
  // The next attempt of a liveness session that was answered `retry`: the same person (or
  // attacker) tries again 15-60 simulated seconds later; a genuine user with capture trouble
  // often fixes it after the guidance. Deterministic in (seed, event, attempt).
  SimEvent NextAttempt(const SimEvent& previous) const;

  // Simulated day (from the start) of a time.
  double Day(std::int64_t time_ms) const { return static_cast<double>(time_ms - options_.start_ms) / 86400000.0; }
  // The traffic multiplier of load_surge incidents at simulated time t (1 when none).
  double LoadFactor(std::int64_t time_ms) const;
  const Scenario& scenario() const { return scenario_; }
  const TrafficOptions& options() const { return options_; }

 private:
  struct Later {
    bool operator()(const SimEvent& a, const SimEvent& b) const {
      return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.seq > b.seq;
    }
  };
  void MakeLiveness(SimEvent& e, SimRng& rng) const;
  void LivenessAttempt(SimEvent& e, SimRng& rng) const;
  void MakeTransaction(SimEvent& e, SimRng& rng);
  SimEvent Scripted(std::int64_t time_ms);
  // The incidents that affect this event (each matching incident affects it with probability
  // equal to its strength at the event's time: a rollout reaching more users); sets their
  // set_context fields on it.
  std::vector<const Incident*> Affecting(SimEvent& e, SimRng& rng) const;
  void Label(SimEvent& e, SimRng& rng) const;
  std::string RequestId(std::uint64_t seq, int attempt) const;

  Scenario scenario_;
  TrafficOptions options_;
  SimRng rng_;
  double base_ms_per_event_;
  double next_base_ms_;
  std::uint64_t next_seq_ = 0;
  std::priority_queue<SimEvent, std::vector<SimEvent>, Later> scripted_;  // bursts, follow-ups
};

// Does the event match every field of the selector?
bool Matches(const Selector& where, const SimEvent& e);

}  // namespace vigil::sim
