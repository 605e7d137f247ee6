// Two-sided tabular CUSUM (Page 1954; Montgomery, "Introduction to Statistical Quality Control",
// 9.1): on standardised values z = (x - mu0) / sigma0,
//   S+ = max(0, S+ + z - k),  S- = max(0, S- - z - k),  alarm when S+ > h or S- > h,
// then both sums reset to 0. With k = 0.5 and h = 5 the in-control average run length is about
// 465 samples and a 1-sigma shift is found after about 10.4 (tests/drift/cusum_test.cc checks
// both by Monte Carlo). mu0 and sigma0 come from a baseline window: the first `baseline`
// values seen (or set explicitly); no alarm is raised while the baseline is being learnt.
// A value type; not thread-safe.
#pragma once

#include <cstdint>

namespace vigil::drift {

struct CusumParams {
  double k = 0.5;         // allowance, in standard deviations
  double h = 5.0;         // decision interval, in standard deviations
  int baseline = 30;      // values that set mu0 and sigma0 when they are not given
  double min_sigma = 1e-9;  // a constant baseline would otherwise divide by zero
};

enum class CusumSignal : std::uint8_t { kNone, kUp, kDown };

class Cusum {
 public:
  explicit Cusum(CusumParams p = {}) : p_(p) {}

  // Fixes the in-control mean and standard deviation (no baseline learning).
  void SetBaseline(double mu0, double sigma0);
  // Adds one observation; returns the alarm it raised, if any (the sums are then reset).
  CusumSignal Add(double x);
  void Reset();  // clears the sums (keeps the baseline)

  bool has_baseline() const { return n_ >= p_.baseline || fixed_; }
  double upper() const { return s_hi_; }
  double lower() const { return s_lo_; }
  double mean() const { return mu_; }
  double sigma() const { return sigma_; }
  std::int64_t alarms() const { return alarms_; }
  const CusumParams& params() const { return p_; }

 private:
  CusumParams p_;
  bool fixed_ = false;
  int n_ = 0;
  double mu_ = 0.0, m2_ = 0.0, sigma_ = 1.0;  // Welford over the baseline window
  double s_hi_ = 0.0, s_lo_ = 0.0;
  std::int64_t alarms_ = 0;
};

}  // namespace vigil::drift
