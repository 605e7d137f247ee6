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

// Score bins of drift rules: kScoreBins equal bins in log-odds from -6 to 6 (probabilities about
// 0.0025 to 0.9975; the outer bins are open). Log-odds, not [0, 1]: most scores sit near 0 or 1
// (a fraud model's good customers score about 0.04), where equal-width bins on [0, 1] would put
// nearly everything in one bin and hide a shift.
inline constexpr int kScoreBins = 20;
int ScoreBin(double probability);
// The bins' centres, in log-odds (the Wasserstein distance and means of drift/compare.h).
double ScoreBinCentre(int bin);

}  // namespace vigil::alerts
