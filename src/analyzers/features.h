// The analyzers' numeric outputs, by index: what a hosted model's feature schema may name as
// "analyzer.<name>" (models/hosted_model.h). An output an analyzer could not compute for a request
// (no geography, no session, an entity id absent) stays NaN, which the model reads as missing.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace vigil::analyzers {

enum class Entity : std::uint8_t { kAccount, kCard, kDevice, kIp };
inline constexpr std::size_t kEntityCount = 4;
inline constexpr std::array<std::string_view, kEntityCount> kEntityNames = {"account", "card", "device", "ip"};
// The request context field that names each entity.
inline constexpr std::array<std::string_view, kEntityCount> kEntityFields = {"account_id", "card_id", "device_id", "ip"};

inline constexpr std::size_t kWindowCount = 3;
inline constexpr std::array<std::string_view, kWindowCount> kWindowNames = {"1m", "1h", "24h"};

// Velocity outputs come first: index = (entity * kWindowCount + window) * 2 + (0 count, 1 amount).
inline constexpr std::size_t kVelocityOutputs = kEntityCount * kWindowCount * 2;
constexpr std::size_t VelocityOutput(Entity e, std::size_t window, bool amount) {
  return (static_cast<std::size_t>(e) * kWindowCount + window) * 2 + (amount ? 1 : 0);
}

enum Output : std::size_t {
  kTravelSpeedKmh = kVelocityOutputs,
  kTravelDistanceKm,
  kTravelHours,
  kTrajectoryTransitionLogp,   // natural log of the last transition's probability
  kTrajectoryRatePerMin,       // events per minute over the session's recent events
  kTrajectoryFingerprintChanges,
  kTrajectoryIntervalCv,       // coefficient of variation of inter-event intervals
  kTrajectoryEvents,           // events seen in the session, this one included
  kProbeCount,                 // probe events (small amounts, declines) in the probe window
  kOutputCount
};

// "velocity.card.count_1h", "travel.speed_kmh", ... in index order.
const std::array<std::string_view, kOutputCount>& OutputNames();

}  // namespace vigil::analyzers
