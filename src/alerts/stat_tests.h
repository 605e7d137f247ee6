// The significance tests and score bins of the alert rules (rules.h: max_p, drift rules).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>

namespace vigil::alerts {

// P(X >= x) for X ~ Binomial(n, p): the one-sided exact test of "x of n decisions" against a
// baseline rate p. Summed from the probability mass function in log space (terms below 1e-17 of
// the sum are dropped), so it stays exact for small counts where the normal approximation is not.
double BinomialSf(std::uint64_t x, std::uint64_t n, double p);
// P(X >= x) for X ~ Poisson(mu): decisions in a lookback against the baseline's mean.
double PoissonSf(std::uint64_t x, double mu);

// The regularized incomplete beta function I_x(a, b) (a, b > 0, 0 <= x <= 1), by its continued
// fraction (modified Lentz; Numerical Recipes 6.4), the tail that converges fast computed
// directly, so a small I_x stays accurate in relative terms (not 1 - a rounded complement).
double BetaIncReg(double a, double b, double x);

// The one-sided test of x of n decisions against a rate p when decisions come in clusters (a
// liveness retry repeats the person and the capture): a quasi-binomial test (Rao and Scott 1992,
// "first-order correction") that divides both counts by the dispersion phi (the variance over
// the binomial one) and takes the binomial tail of the effective counts, extended to real values
// through P(X >= x | Binomial(n, p)) = I_p(x, n - x + 1). phi <= 1: the exact binomial tail
// (BinomialSf; a dispersion below 1 is taken as 1, never as more evidence).
double QuasiBinomialSf(std::uint64_t x, std::uint64_t n, double p, double phi);

// Pearson's dispersion of counts x_b of n_b in B blocks under one rate p = sum x / sum n:
//   phi = sum_b (x_b - n_b p)^2 / (n_b p (1 - p)) / (B - 1) = (sum x_b^2 / n_b - p sum x) / (p (1 - p) (B - 1))
// from the running sums (sum_sq = sum x_b^2 / n_b over blocks with n_b > 0). 1 for binomial
// counts; above 1 when they cluster. NaN with fewer than 2 blocks or p of 0 or 1.
double PearsonDispersion(double sum_sq, double sum_x, double sum_n, double blocks);

// Whether an estimated dispersion is evidence of clustering: under independent decisions
// (B - 1) phi is about chi-square with B - 1 degrees of freedom, so phi is taken only when
// (B - 1) phi exceeds that distribution's upper 0.001 quantile (Wilson-Hilferty's approximation,
// ChiSquareQuantileWH); otherwise the binomial test stands (phi 1). Keeps the estimate's noise
// (sd about sqrt(2 / B)) from blunting tests on slices whose counts are binomial.
inline constexpr double kOverdispersionZ = 3.090232306167813;  // the standard normal's 0.999 quantile
double ChiSquareQuantileWH(double df, double z);
double DispersionToUse(double phi, double blocks);

// Score bins of drift rules: kScoreBins equal bins in log-odds from -6 to 6 (probabilities about
// 0.0025 to 0.9975; the outer bins are open). Log-odds, not [0, 1]: most scores sit near 0 or 1
// (a fraud model's good customers score about 0.04), where equal-width bins on [0, 1] would put
// nearly everything in one bin and hide a shift.
inline constexpr int kScoreBins = 20;
int ScoreBin(double probability);
// The bins' centres, in log-odds (the Wasserstein distance and means of drift/compare.h).
double ScoreBinCentre(int bin);

}  // namespace vigil::alerts
