#include "alerts/stat_tests.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::alerts {
namespace {

// Sums terms t(k), k = from, from + step, ... while they matter; `next` gives t(k + step) / t(k).
template <typename Ratio>
double SumTerms(double first, std::int64_t from, std::int64_t last, int step, Ratio ratio) {
  double sum = 0.0, t = first;
  for (std::int64_t k = from; step > 0 ? k <= last : k >= last; k += step) {
    sum += t;
    if (t < 1e-17 * sum) break;
    t *= ratio(k);
  }
  return sum;
}

}  // namespace

double BinomialSf(std::uint64_t x, std::uint64_t n, double p) {
  if (x == 0) return 1.0;
  if (x > n || p <= 0.0) return 0.0;
  if (p >= 1.0) return 1.0;
  const double dn = static_cast<double>(n), q = 1.0 - p;
  auto log_pmf = [&](double k) {
    return std::lgamma(dn + 1) - std::lgamma(k + 1) - std::lgamma(dn - k + 1) + k * std::log(p) + (dn - k) * std::log(q);
  };
  const auto xi = static_cast<std::int64_t>(x), ni = static_cast<std::int64_t>(n);
  if (static_cast<double>(x) > dn * p) {
    // Upper tail from x up: terms fall geometrically above the mean.
    return std::min(1.0, SumTerms(std::exp(log_pmf(static_cast<double>(x))), xi, ni, 1, [&](std::int64_t k) {
      return (dn - static_cast<double>(k)) / (static_cast<double>(k) + 1) * p / q;
    }));
  }
  // At or below the mean: 1 - P(X <= x - 1), the lower tail summed from x - 1 down.
  const double lower = SumTerms(std::exp(log_pmf(static_cast<double>(x - 1))), xi - 1, 0, -1, [&](std::int64_t k) {
    return static_cast<double>(k) / (dn - static_cast<double>(k) + 1) * q / p;
  });
  return std::clamp(1.0 - lower, 0.0, 1.0);
}

double PoissonSf(std::uint64_t x, double mu) {
  if (x == 0) return 1.0;
  if (mu <= 0.0) return 0.0;
  const auto xi = static_cast<std::int64_t>(x);
  auto log_pmf = [&](double k) { return k * std::log(mu) - mu - std::lgamma(k + 1); };
  if (static_cast<double>(x) > mu) {
    return std::min(1.0, SumTerms(std::exp(log_pmf(static_cast<double>(x))), xi, std::int64_t{1} << 40, 1,
                                  [&](std::int64_t k) { return mu / (static_cast<double>(k) + 1); }));
  }
  const double lower = SumTerms(std::exp(log_pmf(static_cast<double>(x - 1))), xi - 1, 0, -1,
                                [&](std::int64_t k) { return static_cast<double>(k) / mu; });
  return std::clamp(1.0 - lower, 0.0, 1.0);
}

namespace {

// The continued fraction of I_x(a, b) (Numerical Recipes 6.4, betacf), modified Lentz.
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300, kEps = 1e-16;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0, d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 10000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEps) break;
  }
  return h;
}

}  // namespace

double BetaIncReg(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0.0) return 0.0;
  if (x == 1.0) return 1.0;
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - std::exp(log_front) * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

double QuasiBinomialSf(std::uint64_t x, std::uint64_t n, double p, double phi) {
  if (!(phi > 1.0)) return BinomialSf(x, n, p);
  if (x == 0) return 1.0;
  if (x > n || p <= 0.0) return 0.0;
  if (p >= 1.0) return 1.0;
  const double xe = static_cast<double>(x) / phi, ne = static_cast<double>(n) / phi;
  return std::clamp(BetaIncReg(xe, ne - xe + 1.0, p), 0.0, 1.0);
}

double PearsonDispersion(double sum_sq, double sum_x, double sum_n, double blocks) {
  if (blocks < 2 || !(sum_n > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double p = sum_x / sum_n;
  if (p <= 0.0 || p >= 1.0) return std::numeric_limits<double>::quiet_NaN();
  return std::max(0.0, sum_sq - p * sum_x) / (p * (1.0 - p) * (blocks - 1.0));
}

double ChiSquareQuantileWH(double df, double z) {
  const double c = 2.0 / (9.0 * df);
  const double q = 1.0 - c + z * std::sqrt(c);
  return df * q * q * q;
}

double DispersionToUse(double phi, double blocks) {
  if (!std::isfinite(phi) || blocks < 2) return 1.0;
  const double df = blocks - 1.0;
  return phi * df > ChiSquareQuantileWH(df, kOverdispersionZ) ? phi : 1.0;
}

int ScoreBin(double probability) {
  const double p = std::clamp(probability, 1e-9, 1.0 - 1e-9);
  const double logit = std::log(p / (1.0 - p));
  const int bin = static_cast<int>(std::floor((logit + 6.0) / 12.0 * kScoreBins));
  return std::clamp(bin, 0, kScoreBins - 1);
}

double ScoreBinCentre(int bin) { return -6.0 + (bin + 0.5) * 12.0 / kScoreBins; }

}  // namespace vigil::alerts
