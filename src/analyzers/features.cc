#include "analyzers/features.h"

#include <string>

namespace vigil::analyzers {

const std::array<std::string_view, kOutputCount>& OutputNames() {
  static const auto* storage = [] {
    auto* s = new std::array<std::string, kOutputCount>();
    for (std::size_t e = 0; e < kEntityCount; ++e) {
      for (std::size_t w = 0; w < kWindowCount; ++w) {
        for (int a = 0; a < 2; ++a) {
          (*s)[(e * kWindowCount + w) * 2 + static_cast<std::size_t>(a)] = "velocity." + std::string(kEntityNames[e]) +
                                                                           (a ? ".amount_" : ".count_") +
                                                                           std::string(kWindowNames[w]);
        }
      }
    }
    (*s)[kTravelSpeedKmh] = "travel.speed_kmh";
    (*s)[kTravelDistanceKm] = "travel.distance_km";
    (*s)[kTravelHours] = "travel.hours";
    (*s)[kTrajectoryTransitionLogp] = "trajectory.transition_logp";
    (*s)[kTrajectoryRatePerMin] = "trajectory.rate_per_min";
    (*s)[kTrajectoryFingerprintChanges] = "trajectory.fingerprint_changes";
    (*s)[kTrajectoryIntervalCv] = "trajectory.interval_cv";
    (*s)[kTrajectoryEvents] = "trajectory.events";
    (*s)[kProbeCount] = "probe.count";
    return s;
  }();
  static const std::array<std::string_view, kOutputCount> views = [] {
    std::array<std::string_view, kOutputCount> v;
    for (std::size_t i = 0; i < kOutputCount; ++i) v[i] = (*storage)[i];
    return v;
  }();
  return views;
}

}  // namespace vigil::analyzers
