#include "analyzers/travel.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "analyzers/features.h"
#include "core/json_writer.h"

namespace vigil::analyzers {

double HaversineKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kEarthRadiusKm = 6371.0088;
  constexpr double kRad = std::numbers::pi / 180.0;
  const double dlat = (lat2 - lat1) * kRad;
  const double dlon = (lon2 - lon1) * kRad;
  const double s1 = std::sin(dlat / 2), s2 = std::sin(dlon / 2);
  double a = s1 * s1 + std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * s2 * s2;
  a = std::clamp(a, 0.0, 1.0);
  // atan2 rather than asin: well conditioned near antipodes too, where sqrt(a) is close to 1.
  return 2.0 * kEarthRadiusKm * std::atan2(std::sqrt(a), std::sqrt(1.0 - a));
}

void TravelAnalyzer::Observe(const TravelConfig& cfg, const AttributeMap& context, std::int64_t time_ms,
                             double* outputs, std::vector<Finding>& findings) {
  counters_.events.fetch_add(1, std::memory_order_relaxed);
  std::string_view account = context.GetString("account_id");
  const double lat = context.GetNumber("geo.lat"), lon = context.GetNumber("geo.lon");
  if (account.empty()) return;
  if (!std::isfinite(lat) || !std::isfinite(lon)) {
    counters_.without_geo.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  State prev;
  store_.Update(KeyOf(100, account), [&](State& s, bool) {
    prev = s;
    if (!s.has || time_ms >= s.time_ms) s = State{true, lat, lon, time_ms};
  });
  if (!prev.has) return;
  const double km = HaversineKm(prev.lat, prev.lon, lat, lon);
  const double gap_s = std::abs(static_cast<double>(time_ms - prev.time_ms)) / 1000.0;
  const double hours = std::max(gap_s, cfg.min_gap_seconds) / 3600.0;
  const double speed = km / hours;
  outputs[kTravelDistanceKm] = km;
  outputs[kTravelHours] = gap_s / 3600.0;
  outputs[kTravelSpeedKmh] = speed;
  if (km < cfg.min_distance_km || speed <= cfg.max_speed_kmh) return;
  std::string ev;
  JsonWriter w(ev);
  w.BeginObject()
      .Key("from").BeginObject().Field("lat", prev.lat).Field("lon", prev.lon).Field("time_ms", prev.time_ms).EndObject()
      .Key("to").BeginObject().Field("lat", lat).Field("lon", lon).Field("time_ms", time_ms).EndObject()
      .Field("distance_km", km)
      .Field("hours", gap_s / 3600.0)
      .Field("speed_kmh", speed)
      .Field("max_speed_kmh", cfg.max_speed_kmh)
      .EndObject();
  counters_.findings.fetch_add(1, std::memory_order_relaxed);
  findings.push_back({ReasonCode::kImpossibleTravel, std::min(1.0, speed / (2.0 * cfg.max_speed_kmh)), "travel",
                      std::move(ev)});
}

}  // namespace vigil::analyzers
