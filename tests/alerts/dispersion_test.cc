// Clustered decisions and the trailing CUSUM baseline (issue 8's clean week), on a simulated clock:
//   - `dispersion: estimated`: the engine's Pearson dispersion over 5-minute blocks of the
//     trailing baseline, its chi-square gate, and the quasi-binomial test it feeds, checked
//     against SciPy / numpy (tests/reference/alert_stats_ref.py; tolerances stated per check);
//   - pooled CUSUM (min_expected) standardised against the trailing 7 days: no learning window,
//     quiet under a daily cycle of volume, an alarm exactly when the standardised pools say so.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <sstream>

#include "alerts/engine.h"
#include "alerts/stat_tests.h"
#include "test_util.h"

namespace vigil::alerts {
namespace {

constexpr std::int64_t kMin = 60000;
constexpr std::int64_t kT0 = 1800000000000;  // a whole hour (and a whole 5-minute block)

struct Engine {
  explicit Engine(std::vector<AlertRule> rules) {
    AlertsConfig cfg;
    cfg.rules = std::move(rules);
    engine = std::make_unique<AlertEngine>(cfg, [this](const Notification& n) {
      if (n.alert.state == AlertState::kFiring) fired.push_back(n.alert);
    });
  }
  // `n` decisions spread over minute `minute`; `make(i)` gives the i-th one's outcome and whether
  // its signals disagree.
  template <typename Make>
  void Minute(std::int64_t minute, int n, Make make) {
    std::vector<DecisionReason> none;
    for (int i = 0; i < n; ++i) {
      const auto [outcome, disagrees] = make(i);
      Observation o;
      o.time_ms = kT0 + minute * kMin + i * (kMin / n);
      o.flow_type = "login";
      o.outcome = outcome;
      o.disagreement = disagrees ? 0.5 : 0.0;
      o.latency_ms = 50;
      o.evidence_id = "ev";
      o.reasons = &none;
      engine->Observe(o);
    }
  }
  // The rule's alert as evaluated at `at_ms` (pending or firing then), or null.
  std::optional<Alert> At(const std::string& rule, std::int64_t at_ms) const {
    for (const auto& a : engine->Alerts()) {
      if (a.rule == rule && a.updated_ms == at_ms && a.state == AlertState::kFiring) return a;
    }
    return std::nullopt;
  }
  std::unique_ptr<AlertEngine> engine;
  std::vector<Alert> fired;
};

AlertRule Disagreement(std::string name, bool estimated, double max_p) {
  AlertRule r;
  r.name = std::move(name);
  r.type = RuleType::kBaseline;
  r.metric = Metric::kDisagreementRate;
  r.increase = 0.5;
  r.max_p = max_p;
  r.over_ms = 5 * kMin;
  r.min_decisions = 50;
  r.dispersion_estimated = estimated;
  r.cooldown_ms = 0;
  r.slices = {"all"};
  return r;
}

// Six hours of 5-minute blocks of 100 decisions whose disagreements alternate 2 and 18 (a rate
// of 0.1 that comes in clumps), then 25 of 100 in the next five minutes. The binomial test calls
// that significant (about 1e-5); with the dispersion the blocks show (Pearson: 72 * 64 / 9 / 71 =
// 7.21) it is not.
TEST(Dispersion, ClumpedDisagreementsAreNotSignificant) {
  Engine e({Disagreement("binomial", false, 1e-3), Disagreement("estimated", true, 1e-3),
            Disagreement("estimated_any", true, 1.0)});
  for (std::int64_t m = 0; m < 360; ++m) {
    const int x = (m / 5) % 2 ? 18 : 2;  // the block's disagreements, in its first minutes
    const int before = static_cast<int>(m % 5) * 20;
    e.Minute(m, 20, [&](int i) { return std::pair{Outcome::kPass, before + i < x}; });
  }
  for (std::int64_t m = 360; m < 365; ++m) {
    const int before = static_cast<int>(m - 360) * 20;
    e.Minute(m, 20, [&](int i) { return std::pair{Outcome::kPass, before + i < 25}; });
  }
  const std::int64_t now = kT0 + 365 * kMin;
  e.engine->Advance(now);

  const auto binomial = e.At("binomial", now);
  ASSERT_TRUE(binomial);
  EXPECT_EQ(binomial->dispersion, 1.0);
  EXPECT_FALSE(e.At("estimated", now));
  const auto any = e.At("estimated_any", now);
  ASSERT_TRUE(any);

  // The reference: numpy's Pearson statistic on the same 72 blocks, SciPy's tails.
  std::string xs, ns;
  for (int b = 0; b < 72; ++b) xs += (b ? "," : "") + std::to_string(b % 2 ? 18 : 2), ns += (b ? ",100" : "100");
  const double p0 = (720 + 0.5) / (7200 + 1.0);  // the baseline's rate, smoothed (rules.h)
  std::ostringstream args;
  args.precision(17);
  args << " d:" << xs << ":" << ns << " b:25:100:" << p0 << " c:71:" << kOverdispersionZ;
  auto [code, out] = vigil::testing::Run(vigil::testing::Python() + " " +
                                         vigil::testing::SourcePath("tests/reference/alert_stats_ref.py") + args.str());
  ASSERT_EQ(code, 0) << out;
  std::istringstream lines(out);
  double phi = 0, binomial_p = 0, chi2_999 = 0;
  ASSERT_TRUE(lines >> phi >> binomial_p >> chi2_999);
  EXPECT_NEAR(phi, 72.0 * 64.0 / 9.0 / 71.0, 1e-9);
  EXPECT_NEAR(any->dispersion, phi, 1e-9 * phi);              // the engine's running sums
  EXPECT_NEAR(binomial->p_value, binomial_p, 1e-9 * binomial_p);
  EXPECT_GT(phi * 71, chi2_999);                              // the gate lets it through
  // The quasi-binomial tail with that phi, against SciPy's betainc (1e-9 relative).
  std::ostringstream q;
  q.precision(17);
  q << " q:25:100:" << p0 << ":" << any->dispersion;
  auto [code2, out2] = vigil::testing::Run(vigil::testing::Python() + " " +
                                           vigil::testing::SourcePath("tests/reference/alert_stats_ref.py") + q.str());
  ASSERT_EQ(code2, 0) << out2;
  const double quasi = std::stod(out2);
  EXPECT_NEAR(any->p_value, quasi, 1e-9 * quasi);
  EXPECT_GT(quasi, 1e-3);
}

// The gate: independent decisions give a Pearson statistic within chi-square's spread, so the
// dispersion stays 1 and the test is the binomial one (what the rule did before).
TEST(Dispersion, IndependentDecisionsKeepTheBinomialTest) {
  Engine e({Disagreement("estimated_any", true, 1.0)});
  std::mt19937_64 rng(21);
  std::bernoulli_distribution disagree(0.1);
  for (std::int64_t m = 0; m < 360; ++m) e.Minute(m, 20, [&](int) { return std::pair{Outcome::kPass, disagree(rng)}; });
  for (std::int64_t m = 360; m < 365; ++m) e.Minute(m, 20, [&](int i) { return std::pair{Outcome::kPass, i < 5}; });
  e.engine->Advance(kT0 + 365 * kMin);
  const auto a = e.At("estimated_any", kT0 + 365 * kMin);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->dispersion, 1.0);
  const double k = std::round(a->baseline * 7200);  // the baseline's disagreements of 7200
  EXPECT_NEAR(a->p_value, BinomialSf(25, 100, (k + 0.5) / 7201.0), 1e-12);
}

// The Wilson-Hilferty quantile of the gate against SciPy's chi2.isf: within 0.6% at 11 degrees
// of freedom (the fewest the engine uses: 12 blocks), 0.1% from 50 on.
TEST(Dispersion, ChiSquareQuantileAgainstSciPy) {
  const std::vector<double> dfs = {11, 50, 239, 2015};
  std::ostringstream args;
  args.precision(17);
  for (double df : dfs) args << " c:" << df << ":" << kOverdispersionZ;
  auto [code, out] = vigil::testing::Run(vigil::testing::Python() + " " +
                                         vigil::testing::SourcePath("tests/reference/alert_stats_ref.py") + args.str());
  ASSERT_EQ(code, 0) << out;
  std::istringstream lines(out);
  for (double df : dfs) {
    double want = 0;
    ASSERT_TRUE(lines >> want);
    EXPECT_NEAR(ChiSquareQuantileWH(df, kOverdispersionZ), want, (df < 50 ? 6e-3 : 1e-3) * want) << df;
  }
  EXPECT_EQ(DispersionToUse(1.05, 2016), 1.0);       // within noise: sd of phi about sqrt(2 / 2015)
  EXPECT_EQ(DispersionToUse(1.3, 2016), 1.3);        // the clean week's disagreement on "all"
  EXPECT_EQ(DispersionToUse(1.3, 100), 1.0);         // the same, from 100 blocks: not yet evidence
  EXPECT_EQ(DispersionToUse(std::nan(""), 100), 1.0);
}

AlertRule PooledCusum(double h) {
  AlertRule r;
  r.name = "fail_change";
  r.type = RuleType::kCusum;
  r.metric = Metric::kFailRate;
  r.k = 0.5;
  r.h = h;
  r.min_expected = 10;
  r.min_decisions = 1;
  r.direction = AlertRule::Direction::kUp;
  r.slices = {"all"};
  return r;
}

// Exactly one fail in 20 decisions a minute for six hours, then two. The pools (10 minutes: 200
// decisions expect 10.01 fails at the baseline's rate) start once the baseline holds a whole
// hour (minute 120), so a pool ends at minute 360 and the first shifted one at 370:
// z = (20 - 200 p0) / sqrt(200 p0 (1 - p0) (1 + 200 / 7200)) = 3.10 with p0 = 360.5 / 7201, and
// S+ = n (z - k) passes h = 5 on the second shifted pool (minute 380), not the first.
TEST(TrailingCusum, AlarmWhenTheStandardisedPoolsSaySo) {
  Engine e({PooledCusum(5)});
  for (std::int64_t m = 0; m < 360; ++m) e.Minute(m, 20, [](int i) { return std::pair{i == 0 ? Outcome::kFail : Outcome::kPass, false}; });
  EXPECT_TRUE(e.fired.empty());
  for (std::int64_t m = 360; m < 400; ++m) e.Minute(m, 20, [](int i) { return std::pair{i < 2 ? Outcome::kFail : Outcome::kPass, false}; });
  ASSERT_FALSE(e.fired.empty());
  const double p0 = 360.5 / 7201.0, n = 200;
  const double z = (20 - n * p0) / std::sqrt(n * p0 * (1 - p0) * (1 + n / 7200.0));
  ASSERT_LT(z - 0.5, 5.0);
  ASSERT_GT(2 * (z - 0.5), 5.0);
  EXPECT_EQ(e.fired[0].fired_at_ms, kT0 + 380 * kMin);
  EXPECT_NEAR(e.fired[0].value, 0.1, 1e-12);     // the pool's rate
  EXPECT_NEAR(e.fired[0].baseline, p0, 1e-12);   // the trailing baseline's, not a learnt mu0
  EXPECT_EQ(e.fired[0].dispersion, 1.0);
}

// Volume with a daily cycle (0.65 to 1.35 of the mean) and a constant 5% fail rate, clustered
// as retries are (a person's 1 to 3 attempts share the outcome): three days without an alarm at
// h = 8 (the pools' z use the trailing rate and the dispersion the blocks show, whatever hours
// the first pools came from), then a doubled rate found within three hours (the clusters make
// the dispersion about 2.3, so a pool's z is about 2.9 rather than 4.5).
TEST(TrailingCusum, DailyCycleQuietShiftFound) {
  AlertRule r = PooledCusum(8);
  r.min_expected = 20;
  r.dispersion_estimated = true;
  Engine e({r});
  std::mt19937_64 rng(7);
  auto day = [&](std::int64_t from, std::int64_t to, double rate) {
    int pending = 0;
    bool fail = false;
    for (std::int64_t m = from; m < to; ++m) {
      const double hour = static_cast<double>(m % 1440) / 60.0;
      const int n = static_cast<int>(std::lround(30 * (1 + 0.35 * std::sin(2 * M_PI * (hour - 9) / 24))));
      e.Minute(m, n, [&](int) {
        if (pending == 0) pending = std::uniform_int_distribution<int>(1, 3)(rng), fail = std::bernoulli_distribution(rate)(rng);
        --pending;
        return std::pair{fail ? Outcome::kFail : Outcome::kPass, false};
      });
    }
  };
  day(0, 3 * 1440, 0.05);
  EXPECT_TRUE(e.fired.empty()) << e.fired[0].fired_at_ms;
  day(3 * 1440, 3 * 1440 + 180, 0.10);
  ASSERT_FALSE(e.fired.empty());
  EXPECT_GE(e.fired[0].fired_at_ms, kT0 + 3 * 1440 * kMin);
  std::printf("trailing CUSUM: doubled rate found after %.0f min\n", (e.fired[0].fired_at_ms - kT0) / 60000.0 - 3 * 1440);
  EXPECT_GT(e.fired[0].dispersion, 1.0);  // clusters of 1-3: the blocks show it
}

}  // namespace
}  // namespace vigil::alerts
