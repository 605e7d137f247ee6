// Impossible travel: the last position and time per account; the haversine (great-circle)
// distance to the new position over the time between the two events gives a speed, and a speed
// above `max_speed_kmh` (900 by default, an airliner's cruise) raises IMPOSSIBLE_TRAVEL with both
// points, the distance, the time and the speed as evidence.
//
// Edges: a request without geo (context.geo) neither judges nor moves the account's position; two
// positions closer than `min_distance_km` (IP geolocation is coarse; the same city) are never
// impossible; a time gap shorter than `min_gap_seconds` is counted as that floor so that two
// events in the same second do not divide by zero (a large jump within the floor is still judged:
// 6000 km in 0 s is flagged at 6000 km per floor); an event older than the stored one (out of
// order) is judged on the absolute gap and does not replace the newer position.
// Memory: at most `max_accounts` accounts (about 100 bytes each; one not seen lately evicted: CLOCK, see sharded_lru.h).
// Thread-safety: Observe may run concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "analyzers/sharded_lru.h"
#include "core/decision.h"
#include "core/value.h"

namespace vigil::analyzers {

struct TravelConfig {
  bool enabled = true;
  double max_speed_kmh = 900.0;
  double min_distance_km = 50.0;
  double min_gap_seconds = 60.0;
  std::size_t max_accounts = 262144;
};

// Great-circle distance in km on a sphere of the mean Earth radius (6371.0088 km), by the
// haversine formula (atan2 form: accurate for small distances and near antipodes alike).
double HaversineKm(double lat1, double lon1, double lat2, double lon2);

struct TravelCounters {
  std::atomic<std::uint64_t> events{0};
  std::atomic<std::uint64_t> without_geo{0};
  std::atomic<std::uint64_t> findings{0};
};

class TravelAnalyzer {
 public:
  explicit TravelAnalyzer(std::size_t max_accounts) : store_(max_accounts) {}

  // Judges one event. Writes travel.speed_kmh, travel.distance_km and travel.hours to `outputs`
  // when there is a previous position (else they stay NaN).
  void Observe(const TravelConfig& cfg, const AttributeMap& context, std::int64_t time_ms, double* outputs,
               std::vector<Finding>& findings);

  const TravelCounters& counters() const { return counters_; }
  std::size_t accounts() const { return store_.size(); }
  std::uint64_t evictions() const { return store_.evictions(); }

 private:
  struct State {
    bool has = false;
    double lat = 0, lon = 0;
    std::int64_t time_ms = 0;
  };
  ShardedLru<State> store_;
  TravelCounters counters_;
};

}  // namespace vigil::analyzers
