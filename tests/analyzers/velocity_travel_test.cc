// Velocity windows and impossible travel on hand-computed cases, edges included: bucket and
// window boundaries, out-of-order events, the antimeridian and the poles, missing geography, the
// same place and tiny time gaps.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "analyzers/features.h"
#include "analyzers/travel.h"
#include "analyzers/velocity.h"

namespace vigil::analyzers {
namespace {

using State = VelocityAnalyzer::State;

std::array<double, kWindowCount> Counts(const State& s) {
  std::array<double, kWindowCount> c{}, a{};
  VelocityAnalyzer::Totals(s, c, a);
  return c;
}
std::array<double, kWindowCount> Sums(const State& s) {
  std::array<double, kWindowCount> c{}, a{};
  VelocityAnalyzer::Totals(s, c, a);
  return a;
}

TEST(Velocity, OneMinuteWindowSlidesInFiveSecondBuckets) {
  State s;
  VelocityAnalyzer::Add(s, 0, 10);
  VelocityAnalyzer::Add(s, 1000, 20);
  VelocityAnalyzer::Add(s, 4999, 30);  // still bucket 0
  EXPECT_EQ(Counts(s)[0], 3);
  EXPECT_EQ(Sums(s)[0], 60);
  VelocityAnalyzer::Add(s, 59'999, 1);  // bucket 11: the window is buckets 0..11
  EXPECT_EQ(Counts(s)[0], 4);
  VelocityAnalyzer::Add(s, 60'000, 2);  // bucket 12: bucket 0 leaves the window
  EXPECT_EQ(Counts(s)[0], 2);
  EXPECT_EQ(Sums(s)[0], 3);
  EXPECT_EQ(Counts(s)[1], 5);  // the hour keeps all of them
  EXPECT_EQ(Sums(s)[1], 63);
  // Out of order: older than the minute window, counted in the hour only.
  VelocityAnalyzer::Add(s, 2'000, 100);
  EXPECT_EQ(Counts(s)[0], 2);
  EXPECT_EQ(Counts(s)[1], 6);
  // Out of order but inside the window: counted.
  VelocityAnalyzer::Add(s, 58'000, 5);
  EXPECT_EQ(Counts(s)[0], 3);
}

TEST(Velocity, HourAndDayWindowsAndLongGaps) {
  State s;
  VelocityAnalyzer::Add(s, 0, 1);
  VelocityAnalyzer::Add(s, 3'599'999, 1);  // 5-min bucket 11
  EXPECT_EQ(Counts(s)[1], 2);
  VelocityAnalyzer::Add(s, 3'600'000, 1);  // bucket 12: the first event leaves the hour
  EXPECT_EQ(Counts(s)[1], 2);
  EXPECT_EQ(Counts(s)[2], 3);
  VelocityAnalyzer::Add(s, 86'399'999, 1);  // hour bucket 23
  EXPECT_EQ(Counts(s)[2], 4);
  VelocityAnalyzer::Add(s, 86'400'000, 1);  // hour bucket 24: bucket 0 (t=0 and t=3,599,999) leaves
  EXPECT_EQ(Counts(s)[2], 3);
  // A gap longer than every window clears all buckets (at most 48 touched).
  VelocityAnalyzer::Add(s, 10LL * 86'400'000, 7);
  EXPECT_EQ(Counts(s)[0], 1);
  EXPECT_EQ(Counts(s)[1], 1);
  EXPECT_EQ(Counts(s)[2], 1);
  EXPECT_EQ(Sums(s)[2], 7);
}

VelocityConfig CardLimit() {
  VelocityConfig c;
  c.limits[static_cast<std::size_t>(Entity::kCard)].count[0] = 3;
  c.limits[static_cast<std::size_t>(Entity::kAccount)].amount[2] = 1000;
  return c;
}

TEST(Velocity, ObserveWritesOutputsAndRaisesAnomalyWithEvidence) {
  VelocityAnalyzer v(1024);
  VelocityConfig cfg = CardLimit();
  AttributeMap ctx;
  ctx.SetString("account_id", "acct_1");
  ctx.SetString("card_id", "card_1");
  ctx.SetNumber("amount", 400);
  std::vector<Finding> f;
  std::array<double, kOutputCount> out;
  for (int i = 0; i < 3; ++i) {
    out.fill(std::nan(""));
    f.clear();
    v.Observe(cfg, ctx, 1'000'000 + i * 1000, out.data(), f);
  }
  // Third event: card count 3 (not above 3), account amount 1200 > 1000.
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(out[VelocityOutput(Entity::kCard, 0, false)], 3);
  EXPECT_EQ(out[VelocityOutput(Entity::kAccount, 2, true)], 1200);
  EXPECT_TRUE(std::isnan(out[VelocityOutput(Entity::kDevice, 0, false)]));  // no device id
  auto ev = nlohmann::json::parse(f[0].evidence);
  ASSERT_EQ(ev["exceeded"].size(), 1u);
  EXPECT_EQ(ev["exceeded"][0]["entity"], "account");
  EXPECT_EQ(ev["exceeded"][0]["window"], "24h");
  EXPECT_EQ(ev["exceeded"][0]["measure"], "amount");
  EXPECT_EQ(ev["exceeded"][0]["value"], 1200);
  f.clear();
  v.Observe(cfg, ctx, 1'004'000, out.data(), f);  // fourth: card count 4 > 3 too
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].code, ReasonCode::kVelocityAnomaly);
  EXPECT_EQ(nlohmann::json::parse(f[0].evidence)["exceeded"].size(), 2u);
  EXPECT_EQ(v.counters().findings.load(), 2u);
}

TEST(Velocity, MemoryIsBoundedAndThreadsAgree) {
  VelocityAnalyzer v(64 * 8);  // 8 entities per shard: the account, touched every event, stays
  VelocityConfig cfg;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::array<double, kOutputCount> out;
      std::vector<Finding> f;
      for (int i = 0; i < 5000; ++i) {
        AttributeMap ctx;
        ctx.SetString("ip", "10.0." + std::to_string(t) + "." + std::to_string(i % 700));
        ctx.SetString("account_id", "shared");
        v.Observe(cfg, ctx, 1000 + i, out.data(), f);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(v.entities(), v.capacity());
  EXPECT_GT(v.evictions(), 0u);
  // The shared account saw every event exactly once (20,000 within its 24 h window).
  std::array<double, kOutputCount> out;
  std::vector<Finding> f;
  AttributeMap ctx;
  ctx.SetString("account_id", "shared");
  v.Observe(cfg, ctx, 6000, out.data(), f);
  EXPECT_EQ(out[VelocityOutput(Entity::kAccount, 2, false)], 20001);
}

TEST(Haversine, KnownDistancesAntimeridianAndPoles) {
  EXPECT_NEAR(HaversineKm(48.1374, 11.5755, 52.52, 13.405), 504.2863652346621, 1e-9);  // Munich-Berlin
  EXPECT_NEAR(HaversineKm(0, 179.5, 0, -179.5), 111.19508023353322, 1e-9);  // across the antimeridian
  EXPECT_NEAR(HaversineKm(89.5, 0, 89.5, 180), 111.19508023353242, 1e-9);   // over the pole
  EXPECT_NEAR(HaversineKm(90, 0, 90, 123), 0.0, 1e-9);                       // the pole, any longitude
  EXPECT_NEAR(HaversineKm(90, 0, -90, 0), 20015.114442035923, 1e-6);         // pole to pole
  // Antipodes: haversine in doubles loses about 0.1 m there (a is within 1e-16 of 1).
  EXPECT_NEAR(HaversineKm(10, 20, -10, -160), 20015.114442035923, 1e-3);
  EXPECT_EQ(HaversineKm(48.1, 11.6, 48.1, 11.6), 0.0);
}

AttributeMap At(const char* account, double lat, double lon) {
  AttributeMap c;
  c.SetString("account_id", account);
  if (!std::isnan(lat)) {
    c.SetNumber("geo.lat", lat);
    c.SetNumber("geo.lon", lon);
  }
  return c;
}

struct Travel {
  TravelAnalyzer a{1024};
  TravelConfig cfg;
  std::vector<Finding> f;
  std::array<double, kOutputCount> out{};
  void Event(const char* account, double lat, double lon, std::int64_t t) {
    f.clear();
    out.fill(std::nan(""));
    a.Observe(cfg, At(account, lat, lon), t, out.data(), f);
  }
};

TEST(ImpossibleTravel, MunichToNewYorkInAnHourIsFlaggedWithBothPoints) {
  Travel t;
  t.Event("a1", 48.1374, 11.5755, 1'000'000);
  EXPECT_TRUE(t.f.empty());
  EXPECT_TRUE(std::isnan(t.out[kTravelSpeedKmh]));
  t.Event("a1", 40.7128, -74.006, 1'000'000 + 3'600'000);
  ASSERT_EQ(t.f.size(), 1u);
  EXPECT_EQ(t.f[0].code, ReasonCode::kImpossibleTravel);
  auto ev = nlohmann::json::parse(t.f[0].evidence);
  EXPECT_EQ(ev["from"]["lat"], 48.1374);
  EXPECT_EQ(ev["from"]["time_ms"], 1'000'000);
  EXPECT_EQ(ev["to"]["lon"], -74.006);
  EXPECT_NEAR(ev["distance_km"].get<double>(), 6488.111931566627, 1e-6);
  EXPECT_NEAR(ev["speed_kmh"].get<double>(), 6488.111931566627, 1e-6);
  EXPECT_EQ(ev["hours"], 1.0);
  EXPECT_EQ(ev["max_speed_kmh"], 900);
}

TEST(ImpossibleTravel, PlausibleTripsAndTheEdges) {
  Travel t;
  // Munich -> Berlin in 1 h: 504 km/h, an airliner could.
  t.Event("a", 48.1374, 11.5755, 0);
  t.Event("a", 52.52, 13.405, 3'600'000);
  EXPECT_TRUE(t.f.empty());
  EXPECT_NEAR(t.out[kTravelSpeedKmh], 504.2863652346621, 1e-9);
  // Same place a second later: distance 0, never impossible, no division by zero.
  t.Event("a", 52.52, 13.405, 3'601'000);
  EXPECT_TRUE(t.f.empty());
  EXPECT_EQ(t.out[kTravelDistanceKm], 0.0);
  // 40 km in the same millisecond: below min_distance_km (IP geolocation is coarse).
  t.Event("a", 52.88, 13.405, 3'601'000);
  EXPECT_TRUE(t.f.empty());
  EXPECT_TRUE(std::isfinite(t.out[kTravelSpeedKmh]));
  // No geography: nothing judged, position kept.
  t.Event("a", std::nan(""), 0, 3'700'000);
  EXPECT_TRUE(std::isnan(t.out[kTravelSpeedKmh]));
  EXPECT_EQ(t.a.counters().without_geo.load(), 1u);
  // Across the antimeridian, 111 km in 1 h is fine; in 0 s it is judged at the 60 s floor.
  t.Event("b", 0, 179.5, 0);
  t.Event("b", 0, -179.5, 3'600'000);
  EXPECT_TRUE(t.f.empty());
  t.Event("b", 0, 179.5, 3'600'000);
  ASSERT_EQ(t.f.size(), 1u);
  EXPECT_NEAR(t.out[kTravelSpeedKmh], 111.19508023353322 * 60, 1e-6);
  EXPECT_EQ(t.out[kTravelHours], 0.0);
  // Out of order: judged on the absolute gap; the newer position is kept.
  t.Event("c", 48.1374, 11.5755, 10'000'000);
  t.Event("c", 40.7128, -74.006, 9'000'000);  // 6488 km, 1000 s earlier
  ASSERT_EQ(t.f.size(), 1u);
  t.Event("c", 48.1374, 11.5755, 10'060'000);  // back at the stored (newer) point
  EXPECT_EQ(t.out[kTravelDistanceKm], 0.0);
  // The limit is configurable.
  t.cfg.max_speed_kmh = 400;
  t.Event("d", 48.1374, 11.5755, 0);
  t.Event("d", 52.52, 13.405, 3'600'000);
  EXPECT_EQ(t.f.size(), 1u);
}

}  // namespace
}  // namespace vigil::analyzers
