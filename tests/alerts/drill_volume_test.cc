// The alert drill (issue 8) at higher volumes and over more seeds. At the scenarios' own volume
// (50,000 events a day, drill_test.cc) the attack campaign and the two staged rollouts are not
// statistically detectable within 5 minutes (bench/RESULTS.md, "The drill's limits"); here the
// same scenarios, the same incidents and the same shipped rules at the volume where they are:
//   - attack_campaign at 10x (500,000 events a day; CI);
//   - sdk_breakage at 100x and browser_release at 1000x (label soak: millions of events), after
//     a shorter warm-up (the rules that see them compare a new version with its parent's or the
//     fleet's baseline, which needs an hour);
//   - ten seeds of the three at the drill's volume and four more clean weeks (label soak).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "alerts/drill.h"

namespace vigil::drill {
namespace {

bool Long() { return std::getenv("VIGIL_DRILL_LONG") != nullptr; }

// 10x: login from BR has about 8 liveness sessions a minute; the campaign fails a third of them.
TEST(DrillVolume, AttackCampaignAtTenTimesTheVolume) {
  auto d = Detect("attack_campaign", 10.0 / 1440, {.events_per_day = 500000, .list = false});
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, kFiveMin);  // 4 min (the 5-minute lookback of the rule)
  EXPECT_EQ(d.first.rule, "spoof_suspicion_by_flow_and_country");
  EXPECT_EQ(d.first.slice, "flow_type=login,country=BR");
}

// 100x (5M events a day): about 5.8 sessions on android-3.1.0 by minute 5, 3.5 of them broken.
TEST(DrillVolume, SdkBreakageAtHundredTimesTheVolume) {
  if (!Long()) GTEST_SKIP() << "set VIGIL_DRILL_LONG=1 (ctest -L soak)";
  auto d = Detect("sdk_breakage", 10.0 / 1440, {.warmup = 2.0 / 24, .events_per_day = 5e6, .list = false});
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, kFiveMin);
  EXPECT_EQ(d.first.rule, "capture_failures_by_sdk_version");
  EXPECT_EQ(d.first.slice, "sdk_version=android-3.1.0");
}

// 1000x (50M events a day): about 32 sessions on Chrome 132 by minute 5.
TEST(DrillVolume, BrowserReleaseAtThousandTimesTheVolume) {
  if (!Long()) GTEST_SKIP() << "set VIGIL_DRILL_LONG=1 (ctest -L soak)";
  auto d = Detect("browser_release", 8.0 / 1440, {.warmup = 1.5 / 24, .events_per_day = 5e7, .list = false});
  ASSERT_TRUE(d.found);
  EXPECT_LE(d.delay_ms, kFiveMin);
  EXPECT_EQ(d.first.rule, "retry_rate_by_browser_version");
}

// Seeds 11-20 at the drill's volume: a single seed says little about a detection time. Reports
// (bench/RESULTS.md has the table); asserts each incident is found by the rule that watches it.
TEST(DrillVolume, TenSeeds) {
  if (!Long()) GTEST_SKIP() << "set VIGIL_DRILL_LONG=1 (ctest -L soak)";
  for (std::uint64_t seed = 11; seed <= 20; ++seed) {
    auto a = Detect("attack_campaign", 0.1, {.seed = seed, .list = false});
    auto s = Detect("sdk_breakage", 0.2, {.seed = seed, .list = false});
    auto b = Detect("browser_release", 0.6, {.seed = seed, .list = false});
    EXPECT_TRUE(a.found && s.found && b.found) << "seed " << seed;
  }
}

// More clean weeks (drill_test.cc runs seed 11; its long form seed 12).
TEST(DrillVolume, CleanWeeksSeeds13To16) {
  if (!Long()) GTEST_SKIP() << "set VIGIL_DRILL_LONG=1 (ctest -L soak)";
  auto s = sim::FindScenario("clean", vigil::testing::SourcePath("config"));
  ASSERT_TRUE(s.ok());
  for (std::uint64_t seed = 13; seed <= 16; ++seed) {
    Drill d;
    DrillRun r = d.Run(*s, 7.0, seed);
    std::printf("drill clean week, seed %llu: %zu alerts\n", static_cast<unsigned long long>(seed), r.fired.size());
    for (const auto& f : r.fired) {
      std::printf("    %.1f h %s on %s: value %.4g baseline %.4g p %.3g dispersion %.3g\n", (f.at_ms - r.start_ms) / 3.6e6,
                  f.rule.c_str(), f.slice.c_str(), f.value, f.baseline, f.p_value, f.dispersion);
    }
    EXPECT_LE(r.fired.size(), 1u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace vigil::drill
