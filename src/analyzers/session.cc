#include "analyzers/session.h"

#include <algorithm>
#include <cmath>

#include "analyzers/features.h"
#include "core/json_writer.h"

namespace vigil::analyzers {
namespace {

std::string Hex8(std::uint64_t h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(8, '0');
  for (int i = 7; i >= 0; --i, h >>= 4) s[static_cast<std::size_t>(i)] = kHex[h & 15];
  return s;
}

}  // namespace

void SessionAnalyzer::Observe(const SessionConfig& cfg, const MarkovModel* model, const AttributeMap& context,
                              std::int64_t time_ms, double* outputs, std::vector<Finding>& findings) {
  std::string_view session = context.GetString("session_id");
  if (session.empty()) return;
  counters_.events.fetch_add(1, std::memory_order_relaxed);
  std::string_view action = context.GetString("action");
  std::string_view fp = context.GetString("device_fingerprint");
  if (fp.empty()) fp = context.GetString("device_id");
  const std::uint64_t fp_hash = fp.empty() ? 0 : KeyOf(300, fp);

  int action_index = -1;
  if (model && !action.empty()) {
    if (auto i = model->Find(action)) {
      action_index = static_cast<int>(*i);
    } else {
      counters_.unknown_actions.fetch_add(1, std::memory_order_relaxed);
    }
  }
  const auto ttl_ms = static_cast<std::int64_t>(cfg.session_ttl_minutes * 60000.0);

  State before, after;
  store_.Update(KeyOf(200, session), [&](State& s, bool) {
    if (s.events > 0 && time_ms - s.last_ms > ttl_ms) s = State{};
    before = s;
    if (s.events > 0) {
      const double gap = static_cast<double>(std::max<std::int64_t>(0, time_ms - s.last_ms));
      s.intervals[s.n_intervals % kIntervals] = gap;
      ++s.n_intervals;
    }
    s.recent[s.events % kRecent] = time_ms;
    ++s.events;
    s.last_ms = std::max(s.last_ms, time_ms);
    if (fp_hash != 0) {
      if (s.fingerprint != 0 && s.fingerprint != fp_hash) ++s.fingerprint_changes;
      s.fingerprint = fp_hash;
    }
    if (action_index >= 0 && action_index < kMaxActions) {
      auto& c = s.action_counts[static_cast<std::size_t>(action_index)];
      if (c < 0xffff) ++c;
    }
    s.last_action = static_cast<std::int16_t>(action_index);
    after = s;
  });

  outputs[kTrajectoryEvents] = after.events;
  outputs[kTrajectoryFingerprintChanges] = after.fingerprint_changes;
  const std::size_t before_findings = findings.size();

  // Transition.
  if (model && before.events > 0 && before.last_action >= 0 && action_index >= 0) {
    const double p = model->P(static_cast<std::size_t>(before.last_action), static_cast<std::size_t>(action_index));
    outputs[kTrajectoryTransitionLogp] = std::log(p);
    if (p < cfg.min_transition_probability) {
      std::string ev;
      JsonWriter(ev)
          .BeginObject()
          .Field("from", model->actions[static_cast<std::size_t>(before.last_action)])
          .Field("to", action)
          .Field("probability", p)
          .Field("min_probability", cfg.min_transition_probability)
          .Field("model_version", model->version)
          .EndObject();
      findings.push_back({ReasonCode::kImpossibleTransition, 1.0, "trajectory", std::move(ev)});
    }
  }

  // Rate over the last events, and this action's share against the stationary distribution.
  const std::uint32_t k = std::min<std::uint32_t>(after.events, kRecent);
  if (k >= 2) {
    std::int64_t oldest = after.recent[0], newest = after.recent[0];
    for (std::uint32_t i = 0; i < k; ++i) {
      oldest = std::min(oldest, after.recent[i]);
      newest = std::max(newest, after.recent[i]);
    }
    const double minutes = static_cast<double>(std::max<std::int64_t>(newest - oldest, 1000)) / 60000.0;
    const double rate = static_cast<double>(k - 1) / minutes;
    outputs[kTrajectoryRatePerMin] = rate;
    std::string ev;
    JsonWriter w(ev);
    if (model && static_cast<int>(after.events) >= cfg.min_events_for_rate && model->rate_mean > 0) {
      const double threshold = model->rate_mean + cfg.spike_sigmas * model->rate_std;
      if (rate > threshold) {
        w.BeginObject()
            .Field("rate_per_min", rate)
            .Field("baseline_mean", model->rate_mean)
            .Field("baseline_std", model->rate_std)
            .Field("threshold", threshold)
            .Field("events", static_cast<std::int64_t>(k));
      }
    }
    if (model && static_cast<int>(after.events) >= cfg.min_events_for_mix && action_index >= 0 &&
        action_index < kMaxActions) {
      const double n = after.events, pi = model->stationary[static_cast<std::size_t>(action_index)];
      const double count = after.action_counts[static_cast<std::size_t>(action_index)];
      const double threshold = n * pi + cfg.spike_sigmas * std::sqrt(n * pi * (1 - pi));
      if (count > threshold) {
        if (ev.empty()) w.BeginObject();
        w.Key("action_share")
            .BeginObject()
            .Field("action", action)
            .Field("count", count)
            .Field("events", n)
            .Field("stationary", pi)
            .Field("threshold", threshold)
            .EndObject();
      }
    }
    if (!ev.empty()) {
      w.EndObject();
      findings.push_back({ReasonCode::kBehaviorSpike, 0.8, "trajectory", std::move(ev)});
    }
  }

  // Fingerprint drift.
  if (before.fingerprint != 0 && fp_hash != 0 && before.fingerprint != fp_hash) {
    std::string ev;
    JsonWriter(ev)
        .BeginObject()
        .Field("previous", Hex8(before.fingerprint))
        .Field("current", Hex8(fp_hash))
        .Field("changes", static_cast<std::int64_t>(after.fingerprint_changes))
        .Field("session_events", static_cast<std::int64_t>(after.events))
        .EndObject();
    findings.push_back({ReasonCode::kFingerprintDrift, 0.9, "trajectory", std::move(ev)});
  }

  // Automation: regular intervals.
  const std::uint32_t ni = std::min<std::uint32_t>(after.n_intervals, kIntervals);
  if (ni >= 2) {
    double mean = 0;
    for (std::uint32_t i = 0; i < ni; ++i) mean += after.intervals[i];
    mean /= ni;
    double var = 0;
    for (std::uint32_t i = 0; i < ni; ++i) var += (after.intervals[i] - mean) * (after.intervals[i] - mean);
    const double sd = std::sqrt(var / ni);
    const double cv = mean > 0 ? sd / mean : 0.0;
    outputs[kTrajectoryIntervalCv] = cv;
    if (static_cast<int>(ni) >= cfg.automation_min_intervals && cv < cfg.automation_max_cv) {
      std::string ev;
      JsonWriter(ev)
          .BeginObject()
          .Field("intervals", static_cast<std::int64_t>(ni))
          .Field("mean_interval_ms", mean)
          .Field("cv", cv)
          .Field("max_cv", cfg.automation_max_cv)
          .EndObject();
      findings.push_back({ReasonCode::kAutomationSignature, 0.9, "trajectory", std::move(ev)});
    }
  }
  if (findings.size() > before_findings) {
    counters_.findings.fetch_add(findings.size() - before_findings, std::memory_order_relaxed);
  }
}

}  // namespace vigil::analyzers
