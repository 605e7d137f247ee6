// DriftMonitor's decision-path lookups (cached slice, feature and category indexes): counts land
// in the right slice, feature, bin and category, including past the caches' sizes, where values
// fold into "other" exactly as the uncached path does.
#include "drift/monitor.h"

#include <gtest/gtest.h>

#include <map>

namespace vigil::drift {
namespace {

constexpr std::int64_t kT0 = 1800000000000;

const SeriesReport* Series(const DriftReport& r, const std::string& slice,
                           const std::string& feature) {
  for (const auto& s : r.series) {
    if (s.slice == slice && s.feature == feature) return &s;
  }
  return nullptr;
}
const MixReport* Mix(const DriftReport& r, const std::string& slice, const std::string& field) {
  for (const auto& m : r.mix) {
    if (m.slice == slice && m.field == field) return &m;
  }
  return nullptr;
}

TEST(DriftMonitor, CachedLookupsCountWhereTheyShould) {
  MonitorConfig cfg;
  cfg.max_categories = 40;
  cfg.max_slice_values = 5;
  DriftMonitor m(cfg);
  std::map<std::string, int> browsers;
  int web = 0;
  // 100 distinct browsers (past the 64-entry cache and the 40-category bound), 8 flows (past
  // the 5 slice values), signals in varying order and presence.
  auto feed = [&](std::int64_t t0) {
    web = 0;
    for (int i = 0; i < 1000; ++i) {
      DecisionRequest r;
      r.flow_type = "flow" + std::to_string(i % 8);
      r.context.SetString("platform", i % 3 ? "web" : "ios");
      web += i % 3 ? 1 : 0;
      r.context.SetString("browser_family", "b" + std::to_string(i % 100));
      r.quality.SetNumber("blur_score", (i % 10) / 10.0 + 0.05);
      Decision d;
      for (const char* name : (i % 2 ? std::vector<const char*>{"passive", "active"}
                                     : std::vector<const char*>{"active", "passive"})) {
        SignalScore s;
        s.name = name;
        s.present = true;
        s.calibrated = std::string(name) == "passive" ? 0.975 : 0.025;  // last bin / first bin
        d.fusion.signals.push_back(s);
      }
      d.fusion.has_score = true;
      d.fusion.score = 2.0;  // above the range: clamped into the last bin
      m.Add(r, d, t0 + i);
    }
  };
  // The same traffic in two windows, the first frozen as the reference (the means need both sides).
  feed(kT0);
  m.Freeze("w0", kT0 + 1000);
  feed(kT0 + 60000);
  m.Advance(kT0 + 120000);  // closes the second window
  DriftReport rep = m.Snapshot();
  const auto* passive = Series(rep, "all", "score.passive");
  ASSERT_NE(passive, nullptr);
  EXPECT_EQ(passive->drift.n_current, 1000u);
  EXPECT_NEAR(passive->drift.current_mean, 0.975, 1e-12);  // every value in the last bin's centre
  const auto* active = Series(rep, "all", "score.active");
  ASSERT_NE(active, nullptr);
  EXPECT_NEAR(active->drift.current_mean, 0.025, 1e-12);
  const auto* fusion = Series(rep, "all", "score.fusion");
  ASSERT_NE(fusion, nullptr);
  EXPECT_NEAR(fusion->drift.current_mean, 0.975, 1e-12);
  const auto* blur = Series(rep, "all", "quality.blur_score");
  ASSERT_NE(blur, nullptr);
  EXPECT_NEAR(blur->drift.current_mean, 0.525, 1e-9);  // 0.05 .. 0.95 in equal shares: bin centres
  // Five flow slices of their own, the other three folded into "flow_type=other".
  ASSERT_NE(Series(rep, "flow_type=flow4", "score.passive"), nullptr);
  const auto* other = Series(rep, "flow_type=other", "score.passive");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->drift.n_current, 375u);
  EXPECT_EQ(Series(rep, "flow_type=flow5", "score.passive"), nullptr);
  EXPECT_EQ(Series(rep, "platform=web", "score.passive")->drift.n_current,
            static_cast<std::size_t>(web));
  EXPECT_NEAR(passive->drift.psi, 0.0, 1e-12);
  // Browsers: 40 of their own, then "other" for the other 60.
  const auto* mix = Mix(rep, "all", "browser_family");
  ASSERT_NE(mix, nullptr);
  EXPECT_EQ(mix->drift.n_current, 1000u);
  ASSERT_EQ(mix->drift.shares.size(), 41u);
  double other_share = 0;
  for (const auto& s : mix->drift.shares) {
    if (s.category == "other") other_share = s.current;
  }
  EXPECT_NEAR(other_share, 60 * 10 / 1000.0, 1e-12);
  const auto* pmix = Mix(rep, "platform=ios", "platform");
  ASSERT_NE(pmix, nullptr);
  EXPECT_EQ(pmix->drift.n_current, static_cast<std::size_t>(1000 - web));
}

}  // namespace
}  // namespace vigil::drift
