// CUSUM (Page 1954): hand-worked sums, reset after an alarm, and a Monte Carlo check of the
// average run length against the published values for k = 0.5, h = 5, two-sided (Montgomery,
// Table 9.3 / Hawkins 1993): about 465 in control and 10.4 for a 1-sigma shift, within 10%.
#include "drift/cusum.h"

#include <gtest/gtest.h>

#include <random>

namespace vigil::drift {
namespace {

TEST(Cusum, HandWorkedSumsAndReset) {
  Cusum c;
  c.SetBaseline(10.0, 2.0);
  EXPECT_EQ(c.Add(12.0), CusumSignal::kNone);  // z = 1: S+ = 0.5
  EXPECT_DOUBLE_EQ(c.upper(), 0.5);
  EXPECT_EQ(c.Add(8.0), CusumSignal::kNone);   // z = -1: S+ = 0, S- = 0.5
  EXPECT_DOUBLE_EQ(c.upper(), 0.0);
  EXPECT_DOUBLE_EQ(c.lower(), 0.5);
  // z = 3 each: S+ = 2.5, 5.0, 7.5 -> alarm on the third (5.0 is not > h)
  EXPECT_EQ(c.Add(16.0), CusumSignal::kNone);
  EXPECT_EQ(c.Add(16.0), CusumSignal::kNone);
  EXPECT_DOUBLE_EQ(c.upper(), 5.0);
  EXPECT_EQ(c.Add(16.0), CusumSignal::kUp);
  EXPECT_DOUBLE_EQ(c.upper(), 0.0);  // reset after the alarm
  EXPECT_DOUBLE_EQ(c.lower(), 0.0);
  EXPECT_EQ(c.Add(2.0), CusumSignal::kNone);  // z = -4: S- = 3.5
  EXPECT_EQ(c.Add(2.0), CusumSignal::kDown);  // S- = 7 > 5
  EXPECT_EQ(c.alarms(), 2);
}

TEST(Cusum, DownwardShiftAndLearntBaseline) {
  CusumParams p;
  p.baseline = 4;
  Cusum c(p);
  for (double x : {1.0, 2.0, 3.0, 2.0}) EXPECT_EQ(c.Add(x), CusumSignal::kNone);
  EXPECT_TRUE(c.has_baseline());
  EXPECT_DOUBLE_EQ(c.mean(), 2.0);
  EXPECT_NEAR(c.sigma(), std::sqrt(2.0 / 3.0), 1e-15);  // sample sd of 1,2,3,2
  CusumSignal s = CusumSignal::kNone;
  int n = 0;
  while (s == CusumSignal::kNone && n < 100) s = c.Add(0.0), ++n;
  EXPECT_EQ(s, CusumSignal::kDown);
}

// Average run length by simulation: `runs` runs of N(shift, 1) until the first alarm.
double AverageRunLength(double shift, int runs, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  double total = 0;
  for (int r = 0; r < runs; ++r) {
    Cusum c;
    c.SetBaseline(0.0, 1.0);
    long n = 0;
    while (true) {
      ++n;
      if (c.Add(z(rng) + shift) != CusumSignal::kNone) break;
    }
    total += static_cast<double>(n);
  }
  return total / runs;
}

TEST(CusumMonteCarlo, InControlRunLengthAbout465) {
  // Run lengths are roughly geometric (sd ~ mean): 3000 runs give a standard error of ~1.8%.
  double arl = AverageRunLength(0.0, 3000, 20260101);
  EXPECT_NEAR(arl, 465.0, 46.5) << arl;
}

TEST(CusumMonteCarlo, OneSigmaShiftFoundAfterAbout10Point4) {
  double arl = AverageRunLength(1.0, 20000, 7);
  EXPECT_NEAR(arl, 10.4, 1.04) << arl;
}

}  // namespace
}  // namespace vigil::drift
