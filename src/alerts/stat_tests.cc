#include "alerts/stat_tests.h"

#include <algorithm>
#include <cmath>

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

int ScoreBin(double probability) {
  const double p = std::clamp(probability, 1e-9, 1.0 - 1e-9);
  const double logit = std::log(p / (1.0 - p));
  const int bin = static_cast<int>(std::floor((logit + 6.0) / 12.0 * kScoreBins));
  return std::clamp(bin, 0, kScoreBins - 1);
}

double ScoreBinCentre(int bin) { return -6.0 + (bin + 0.5) * 12.0 / kScoreBins; }

}  // namespace vigil::alerts
