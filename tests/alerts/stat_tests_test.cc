// The exact tests of the alert rules (alerts/stat_tests.h) against SciPy's binom.sf and
// poisson.sf, computed now by tests/reference/alert_stats_ref.py. Tolerance: 1e-9 relative (both
// sides sum the same series in double precision; SciPy through the incomplete beta and gamma).
#include "alerts/stat_tests.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace vigil::alerts {
namespace {

struct Tail {
  bool binomial;
  std::uint64_t x, n;
  double p;  // binomial: the rate; Poisson: the mean (n unused)
};

TEST(AlertStats, TailsAgainstSciPy) {
  const std::vector<Tail> cases = {
      {true, 4, 15, 0.045},  {true, 5, 7, 0.0416},  {true, 1, 10, 0.1},    {true, 30, 100, 0.2},
      {true, 10, 100, 0.2},  {true, 3, 4, 2e-5},    {true, 60, 400, 0.1},  {true, 1000, 20000, 0.04},
      {true, 7, 7, 0.5},     {true, 900, 20000, 0.04},
      {false, 5, 0, 1.0},    {false, 1, 0, 2.0},    {false, 40, 0, 20.0},  {false, 15, 0, 20.0},
      {false, 400, 0, 325.0}, {false, 3, 0, 1e-4},
  };
  std::string args;
  for (const auto& c : cases) {
    std::ostringstream a;
    a.precision(17);
    if (c.binomial) a << " b:" << c.x << ":" << c.n << ":" << c.p;
    else a << " p:" << c.x << ":" << c.p;
    args += a.str();
  }
  auto [code, out] = vigil::testing::Run(vigil::testing::Python() + " " +
                                         vigil::testing::SourcePath("tests/reference/alert_stats_ref.py") + args);
  ASSERT_EQ(code, 0) << out;
  std::istringstream lines(out);
  for (const auto& c : cases) {
    double want = 0;
    ASSERT_TRUE(lines >> want);
    const double got = c.binomial ? BinomialSf(c.x, c.n, c.p) : PoissonSf(c.x, c.p);
    EXPECT_NEAR(got, want, 1e-9 * std::max(want, 1e-300) + 1e-300) << (c.binomial ? "binomial " : "poisson ") << c.x;
  }
}

TEST(AlertStats, EdgeCases) {
  EXPECT_EQ(BinomialSf(0, 10, 0.3), 1.0);
  EXPECT_EQ(BinomialSf(11, 10, 0.3), 0.0);
  EXPECT_EQ(BinomialSf(1, 10, 0.0), 0.0);
  EXPECT_EQ(BinomialSf(3, 10, 1.0), 1.0);
  EXPECT_EQ(PoissonSf(0, 3.0), 1.0);
  EXPECT_EQ(PoissonSf(1, 0.0), 0.0);
}

TEST(AlertStats, ScoreBinsInLogOdds) {
  EXPECT_EQ(ScoreBin(0.5), kScoreBins / 2);          // log-odds 0: the upper middle bin's edge
  EXPECT_EQ(ScoreBin(0.0), 0);                       // outer bins are open
  EXPECT_EQ(ScoreBin(1.0), kScoreBins - 1);
  EXPECT_EQ(ScoreBin(0.04), 4);                      // log-odds -3.18: (2.82 / 12) * 20 = 4.7
  EXPECT_LT(ScoreBin(0.04), ScoreBin(0.06));         // 0.04 and 0.06 are told apart
  EXPECT_NEAR(ScoreBinCentre(0), -5.7, 1e-12);
  EXPECT_NEAR(ScoreBinCentre(kScoreBins - 1), 5.7, 1e-12);
}

}  // namespace
}  // namespace vigil::alerts
