// The exact tests of the alert rules (alerts/stat_tests.h) against SciPy's binom.sf and
// poisson.sf, computed now by tests/reference/alert_stats_ref.py. Tolerance: 1e-9 relative (both
// sides sum the same series in double precision; SciPy through the incomplete beta and gamma).
#include "alerts/stat_tests.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
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

// The incomplete beta, the quasi-binomial tail and Pearson's dispersion against SciPy / numpy.
// Tolerance: 1e-9 relative (the continued fraction converges to 1e-16; SciPy's betainc is Boost's).
TEST(AlertStats, QuasiBinomialAgainstSciPy) {
  struct Beta { double a, b, x; };
  const std::vector<Beta> betas = {{2.5, 100, 0.01}, {0.5, 0.5, 0.3}, {30, 70, 0.3}, {30, 70, 0.5},
                                   {1.5, 2000, 1e-4}, {7.3, 150.2, 0.2}, {200, 3000, 0.05}};
  struct Quasi { std::uint64_t x, n; double p, phi; };
  const std::vector<Quasi> quasi = {{33, 171, 0.101, 1.0},  {33, 171, 0.101, 1.6}, {20, 170, 0.05, 1.7},
                                    {5, 7, 0.0416, 2.2},    {3, 3, 2e-5, 1.3},     {1000, 20000, 0.04, 3.0},
                                    {12, 400, 0.04, 1.25}};
  // Blocks of clustered counts: people of 1 to 3 attempts that share one outcome (as retries do).
  std::mt19937_64 rng(5);
  std::string xs, ns;
  double sum_sq = 0, sum_x = 0, sum_n = 0, blocks = 0;
  for (int b = 0; b < 40; ++b) {
    int x = 0, n = 0;
    const int people = std::uniform_int_distribution<int>(5, 30)(rng);
    for (int i = 0; i < people; ++i) {
      const int attempts = std::uniform_int_distribution<int>(1, 3)(rng);
      const bool hit = std::bernoulli_distribution(0.1)(rng);
      n += attempts, x += hit ? attempts : 0;
    }
    xs += (b ? "," : "") + std::to_string(x), ns += (b ? "," : "") + std::to_string(n);
    sum_sq += static_cast<double>(x) * x / n, sum_x += x, sum_n += n, ++blocks;
  }
  std::string args;
  for (const auto& c : betas) {
    std::ostringstream a;
    a.precision(17);
    a << " i:" << c.a << ":" << c.b << ":" << c.x;
    args += a.str();
  }
  for (const auto& c : quasi) {
    std::ostringstream a;
    a.precision(17);
    a << " q:" << c.x << ":" << c.n << ":" << c.p << ":" << c.phi;
    args += a.str();
  }
  args += " d:" + xs + ":" + ns;
  auto [code, out] = vigil::testing::Run(vigil::testing::Python() + " " +
                                         vigil::testing::SourcePath("tests/reference/alert_stats_ref.py") + args);
  ASSERT_EQ(code, 0) << out;
  std::istringstream lines(out);
  double want = 0;
  for (const auto& c : betas) {
    ASSERT_TRUE(lines >> want);
    EXPECT_NEAR(BetaIncReg(c.a, c.b, c.x), want, 1e-9 * want + 1e-300) << c.a << " " << c.b << " " << c.x;
  }
  for (const auto& c : quasi) {
    ASSERT_TRUE(lines >> want);
    EXPECT_NEAR(QuasiBinomialSf(c.x, c.n, c.p, c.phi), want, 1e-9 * want + 1e-300) << c.x << " " << c.phi;
  }
  ASSERT_TRUE(lines >> want);
  const double phi = PearsonDispersion(sum_sq, sum_x, sum_n, blocks);
  EXPECT_NEAR(phi, want, 1e-9 * want);
  EXPECT_GT(phi, 1.4);  // clusters of 1-3 attempts with one outcome: the design effect is about 2.3
}

// A larger dispersion never makes the same counts more significant; phi = 1 is the binomial test.
TEST(AlertStats, QuasiBinomialProperties) {
  EXPECT_EQ(QuasiBinomialSf(33, 171, 0.101, 1.0), BinomialSf(33, 171, 0.101));
  EXPECT_EQ(QuasiBinomialSf(33, 171, 0.101, 0.7), BinomialSf(33, 171, 0.101));  // below 1: taken as 1
  // I_p(x, n - x + 1) at integer counts is the binomial tail.
  EXPECT_NEAR(BetaIncReg(33, 171 - 33 + 1, 0.101) / BinomialSf(33, 171, 0.101), 1.0, 1e-9);
  double last = 0;
  for (double phi : {1.0, 1.2, 1.5, 2.0, 3.0}) {
    const double p = QuasiBinomialSf(33, 171, 0.101, phi);
    EXPECT_GT(p, last);
    last = p;
  }
  EXPECT_TRUE(std::isnan(PearsonDispersion(1, 0, 10, 5)));   // p = 0
  EXPECT_TRUE(std::isnan(PearsonDispersion(1, 1, 10, 1)));   // one block
  // Independent Bernoulli decisions: about 1 (500 blocks: the estimate's sd is sqrt(2 / 499)).
  std::mt19937_64 rng(9);
  double sq = 0, sx = 0, sn = 0;
  for (int b = 0; b < 500; ++b) {
    int x = 0;
    for (int i = 0; i < 150; ++i) x += std::bernoulli_distribution(0.05)(rng);
    sq += x * x / 150.0, sx += x, sn += 150;
  }
  EXPECT_NEAR(PearsonDispersion(sq, sx, sn, 500), 1.0, 0.2);
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
