// The drift measures against SciPy (Debian's python3-scipy), computed now on the same samples by
// tests/reference/drift_ref.py. Tolerances: 1e-9 where both sides are exact (KS statistic, exact
// KS p-value, PSI, Jensen-Shannon, Wasserstein); the asymptotic KS p-value as stated per case.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <random>

#include "drift/compare.h"
#include "drift/psi_ks.h"
#include "drift/stats.h"
#include "test_util.h"

namespace vigil::drift {
namespace {

using vigil::testing::Python;
using vigil::testing::Run;
using vigil::testing::SourcePath;

std::string TempFile(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-drift-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string WriteNumbers(const std::string& name, const std::vector<double>& x) {
  std::string path = TempFile(name);
  FILE* f = std::fopen(path.c_str(), "w");
  for (double v : x) std::fprintf(f, "%.17g\n", v);
  std::fclose(f);
  return path;
}

std::vector<double> Normal(std::size_t n, double mu, double sigma, std::uint64_t seed, double round_to = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mu, sigma);
  std::vector<double> x(n);
  for (auto& v : x) {
    v = d(rng);
    if (round_to > 0) v = std::round(v / round_to) * round_to;
  }
  return x;
}

nlohmann::json Reference(const std::string& args) {
  auto [code, out] = Run(Python() + " " + SourcePath("tests/reference/drift_ref.py") + " " + args);
  EXPECT_EQ(code, 0) << "reference script failed: " << args;
  return nlohmann::json::parse(out);
}

struct Case {
  std::string name;
  std::size_t n1, n2;
  double shift, scale, round_to;
  int bins;
  double ks_p_tol;  // absolute, on the p-value
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // exact KS (max n <= 10000): unequal sizes (lattice paths) and equal sizes (Hodges' square)
      Case{"exact_unequal", 800, 1200, 0.15, 1.0, 0, 10, 1e-9},
      Case{"exact_equal", 1000, 1000, 0.1, 1.1, 0, 20, 1e-9},
      Case{"exact_small", 37, 53, 0.5, 1.0, 0, 10, 1e-9},
      Case{"exact_ties", 3000, 2000, 0.05, 1.0, 0.1, 15, 1e-9},
      Case{"exact_same", 5000, 4000, 0.0, 1.0, 0, 10, 1e-9},
      // asymptotic KS: kstwo.sf in the Smirnov regime (small p) and the Pelz-Good regime
      Case{"asymp_shift", 20000, 15000, 0.05, 1.0, 0, 10, 1e-9},
      Case{"asymp_large_n", 150000, 120000, 0.01, 1.0, 0, 30, 1e-6},
      // PSI's smallest-share rule: 30 bins over a long tail leave shares <= 0.0001 and empty bins
      Case{"psi_tail", 12000, 12000, 0.0, 3.0, 0, 30, 1e-6}};
  return cases;
}

std::pair<std::vector<double>, std::vector<double>> Samples(const Case& c) {
  return {Normal(c.n1, 0.0, 1.0, 11, c.round_to), Normal(c.n2, c.shift, c.scale, 29, c.round_to)};
}

class NumericVsScipy : public ::testing::TestWithParam<Case> {};

TEST_P(NumericVsScipy, AllMeasures) {
  const Case& c = GetParam();
  auto [a, b] = Samples(c);
  // One SciPy run per case: CTest runs each case in its own process.
  auto ref = Reference("numeric " + WriteNumbers(c.name + "_a", a) + " " + WriteNumbers(c.name + "_b", b) + " " +
                       std::to_string(c.bins));
  NumericDrift d = CompareNumeric(a, b, c.bins);
  auto edges = EqualWidthEdges(a, b, c.bins);
  auto redges = ref["edges"].get<std::vector<double>>();
  ASSERT_EQ(edges.size(), redges.size());
  for (std::size_t i = 0; i < edges.size(); ++i) EXPECT_DOUBLE_EQ(edges[i], redges[i]) << i;
  EXPECT_EQ(Histogram(a, edges), ref["ref_counts"].get<std::vector<double>>());
  EXPECT_EQ(Histogram(b, edges), ref["cur_counts"].get<std::vector<double>>());
  EXPECT_NEAR(d.ks_statistic, ref["ks_statistic"].get<double>(), 1e-12);
  EXPECT_NEAR(d.ks_p_value, ref["ks_p_value"].get<double>(), c.ks_p_tol) << (d.ks_exact ? "exact" : "asymptotic");
  EXPECT_NEAR(d.psi, ref["psi"].get<double>(), 1e-9);
  EXPECT_NEAR(d.js_distance, ref["js_distance"].get<double>(), 1e-9);
  EXPECT_NEAR(d.wasserstein, ref["wasserstein"].get<double>(), 1e-9);
  EXPECT_NEAR(d.reference_std, ref["reference_std"].get<double>(), 1e-9);
  EXPECT_EQ(d.ks_exact, std::max(c.n1, c.n2) <= 10000);
  // The fast path (radix sort, one merge pass): the same bins, counts and statistic exactly,
  // PSI to 1e-9, the p-value to the case's tolerance.
  PsiKsResult f = PsiKs(a, b, c.bins);
  ASSERT_EQ(f.edges.size(), redges.size());
  for (std::size_t i = 0; i < f.edges.size(); ++i) EXPECT_DOUBLE_EQ(f.edges[i], redges[i]) << i;
  EXPECT_EQ(f.ref_counts, ref["ref_counts"].get<std::vector<double>>());
  EXPECT_EQ(f.cur_counts, ref["cur_counts"].get<std::vector<double>>());
  EXPECT_NEAR(f.ks.statistic, ref["ks_statistic"].get<double>(), 1e-12);
  EXPECT_EQ(f.ks.statistic, d.ks_statistic);
  EXPECT_NEAR(f.ks.p_value, ref["ks_p_value"].get<double>(), c.ks_p_tol);
  EXPECT_NEAR(f.psi, ref["psi"].get<double>(), 1e-9);
}

// The radix sort orders every kind of double (negative, zeros of both signs, subnormals,
// infinities) as std::sort does, and the key map round-trips.
TEST(DriftReference, RadixSortMatchesStdSort) {
  std::mt19937_64 rng(3);
  std::vector<double> x = Normal(100000, 0.0, 1e3, 7, 0);
  for (double v : {0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, HUGE_VAL, -HUGE_VAL, 1.0, 1.0, -1.0}) x.push_back(v);
  std::shuffle(x.begin(), x.end(), rng);
  std::vector<std::uint64_t> keys, scratch;
  for (double v : x) keys.push_back(OrderedKey(v));
  RadixSortKeys(keys, scratch);
  std::vector<double> want = x;
  std::sort(want.begin(), want.end());
  ASSERT_EQ(keys.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(FromOrderedKey(keys[i]), want[i]) << i;  // -0.0 == 0.0 as doubles
  }
  // Ties across both samples and a zero of each sign: the statistic of the slow path.
  std::vector<double> a = {-0.0, 0.0, 1, 1, 2, 3}, b = {0.0, 1, 2, 2, 2};
  EXPECT_EQ(PsiKs(a, b, 3).ks.statistic, KsTwoSample(a, b).statistic);
  EXPECT_EQ(PsiKs(a, b, 3).ref_counts, Histogram(a, EqualWidthEdges(a, b, 3)));
}

INSTANTIATE_TEST_SUITE_P(Drift, NumericVsScipy, ::testing::ValuesIn(Cases()),
                         [](const auto& p) { return p.param.name; });

TEST(DriftReference, WeightedHistogramsAsTheMonitorUsesThem) {
  std::vector<double> wa = {5, 40, 120, 300, 220, 90, 20, 0, 4, 1};
  std::vector<double> wb = {0, 30, 100, 250, 260, 130, 40, 10, 2, 0};
  std::vector<double> centres;
  for (int i = 0; i < 10; ++i) centres.push_back(0.05 + 0.1 * i);
  auto ref = Reference("weighted " + WriteNumbers("wa", wa) + " " + WriteNumbers("wb", wb) + " " +
                       WriteNumbers("centres", centres));
  NumericDrift d = CompareHistograms(wa, wb, centres);
  EXPECT_NEAR(d.wasserstein, ref["wasserstein"].get<double>(), 1e-9);
  EXPECT_NEAR(d.js_distance, ref["js_distance"].get<double>(), 1e-9);
  EXPECT_NEAR(d.psi, ref["psi"].get<double>(), 1e-9);
}

TEST(DriftReference, CategoricalMix) {
  std::vector<std::string> r, c;
  const char* cats[] = {"android", "ios", "web", "desktop"};
  std::mt19937_64 rng(5);
  std::discrete_distribution<int> dr({50, 30, 19.99, 0.01}), dc({40, 30, 30, 0});
  for (int i = 0; i < 20000; ++i) r.emplace_back(cats[dr(rng)]);
  for (int i = 0; i < 8000; ++i) c.emplace_back(cats[dc(rng)]);
  std::string rp = TempFile("cat_r"), cp = TempFile("cat_c");
  {
    std::ofstream fr(rp), fc(cp);
    for (auto& s : r) fr << s << "\n";
    for (auto& s : c) fc << s << "\n";
  }
  auto ref = Reference("categorical " + rp + " " + cp);
  MixDrift m = CompareCategorySamples(r, c);
  EXPECT_NEAR(m.psi, ref["psi"].get<double>(), 1e-9);
  EXPECT_NEAR(m.js_distance, ref["js_distance"].get<double>(), 1e-9);
  EXPECT_GT(m.total_variation, 0.05);
}

TEST(DriftReference, KolmogorovSfRegimes) {
  // (n, x) across kstwo.sf's regimes: Ruben-Gambino ends, Smirnov (n x^2 >= 2.2), Pelz-Good.
  std::vector<std::pair<int, double>> pts = {{5000, 0.0001}, {5000, 0.03}, {20000, 0.012}, {60000, 0.004},
                                             {200000, 0.001}, {200000, 0.004}, {500000, 0.0015}, {8000, 0.9}};
  std::string args = "kstwo";
  for (auto& [n, x] : pts) args += " " + std::to_string(n) + " " + std::to_string(x);
  auto ref = Reference(args)["sf"].get<std::vector<double>>();
  for (std::size_t i = 0; i < pts.size(); ++i) {
    auto [n, x] = pts[i];
    double ours = KolmogorovSf(n, std::stod(std::to_string(x)));
    // Durbin-matrix regime of SciPy (n <= 1e5, n x^1.5 <= 1.4) is approximated by Pelz-Good.
    bool dmtw = n <= 100000 && n * std::pow(x, 1.5) <= 1.4;
    EXPECT_NEAR(ours, ref[i], dmtw ? 1e-4 : 1e-9) << "n=" << n << " x=" << x;
  }
}

TEST(Psi, EvidentlyEmptyBinRule) {
  // Smallest non-zero share 0.25 > 0.0001: empty bins become 0.0001.
  auto f = FillEmptyBins(std::vector<double>{0.25, 0.0, 0.75});
  EXPECT_DOUBLE_EQ(f[1], 0.0001);
  // Smallest non-zero share 5e-5 <= 0.0001: empty bins become 5e-5 / 1e6.
  auto g = FillEmptyBins(std::vector<double>{0.99995, 0.0, 0.00005});
  EXPECT_DOUBLE_EQ(g[1], 5e-11);
  // Identical distributions: PSI 0.
  EXPECT_DOUBLE_EQ(Psi(std::vector<double>{0.2, 0.8}, std::vector<double>{0.2, 0.8}), 0.0);
  // Hand computed: (0.6-0.5) ln(0.6/0.5) + (0.4-0.5) ln(0.4/0.5).
  EXPECT_NEAR(Psi(std::vector<double>{0.5, 0.5}, std::vector<double>{0.6, 0.4}),
              0.1 * std::log(1.2) - 0.1 * std::log(0.8), 1e-15);
}

}  // namespace
}  // namespace vigil::drift
