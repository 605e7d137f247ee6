#include "drift/cusum.h"

#include <algorithm>
#include <cmath>

namespace vigil::drift {

void Cusum::SetBaseline(double mu0, double sigma0) {
  mu_ = mu0;
  sigma_ = std::max(sigma0, p_.min_sigma);
  fixed_ = true;
  Reset();
}

void Cusum::Reset() { s_hi_ = s_lo_ = 0.0; }

CusumSignal Cusum::Add(double x) {
  if (!std::isfinite(x)) return CusumSignal::kNone;
  if (!has_baseline()) {
    ++n_;
    const double d = x - mu_;
    mu_ += d / n_;
    m2_ += d * (x - mu_);
    // Sample standard deviation (n - 1) of the baseline window.
    sigma_ = std::max(n_ > 1 ? std::sqrt(m2_ / (n_ - 1)) : 0.0, p_.min_sigma);
    return CusumSignal::kNone;
  }
  const double z = (x - mu_) / sigma_;
  s_hi_ = std::max(0.0, s_hi_ + z - p_.k);
  s_lo_ = std::max(0.0, s_lo_ - z - p_.k);
  CusumSignal s = CusumSignal::kNone;
  if (s_hi_ > p_.h) s = CusumSignal::kUp;
  else if (s_lo_ > p_.h) s = CusumSignal::kDown;
  if (s != CusumSignal::kNone) {
    ++alarms_;
    Reset();
  }
  return s;
}

}  // namespace vigil::drift
