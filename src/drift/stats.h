// Distribution-shift measures between a reference and a current sample (SPEC.md 2.12): PSI,
// two-sample Kolmogorov-Smirnov (statistic and p-value), Jensen-Shannon distance and
// Wasserstein-1, on raw samples or on shares of fixed bins; mix drift of categorical shares.
// Every function is pure and thread-safe. Conventions, chosen to match the tools operators know:
//   - PSI = sum (cur - ref) * ln(cur / ref) over bins (natural log). Empty bins are replaced as
//     Evidently does: by 0.0001, or by (smallest non-zero share of that side) / 1e6 when that
//     share is itself <= 0.0001.
//   - Jensen-Shannon distance = sqrt(JS divergence) with log base 2, so it lies in [0, 1]
//     (scipy.spatial.distance.jensenshannon(p, q, base=2)).
//   - Wasserstein-1 as scipy.stats.wasserstein_distance; "normalised" divides it by the
//     reference's population standard deviation (ddof = 0), as Evidently does.
//   - KS as scipy.stats.ks_2samp(method="auto"), two-sided: exact p-value when both samples have
//     at most 10000 values, otherwise the asymptotic kstwo.sf(D, round(n*m/(n+m))).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vigil::drift {

// Shares (summing to 1) from counts; all zero when the total is zero.
std::vector<double> Shares(std::span<const double> counts);

// Evidently's empty-bin replacement applied to one side's shares.
std::vector<double> FillEmptyBins(std::span<const double> shares);

// PSI between two share vectors of the same bins (replacement applied to each side).
double Psi(std::span<const double> ref_shares, std::span<const double> cur_shares);

// Jensen-Shannon distance, base 2, between two (not necessarily normalised) weight vectors.
double JensenShannon(std::span<const double> p, std::span<const double> q);

// Wasserstein-1 between two weighted samples (weights may be empty: equal weights).
double Wasserstein(std::span<const double> u, std::span<const double> v,
                   std::span<const double> u_weights = {}, std::span<const double> v_weights = {});

struct KsResult {
  double statistic = 0.0;
  double p_value = 1.0;
  bool exact = false;  // the exact distribution was used (both n <= 10000)
};
// Two-sample, two-sided KS on raw samples (copied and sorted here).
KsResult KsTwoSample(std::span<const double> a, std::span<const double> b);
// The p-value of a statistic `d` already computed on raw samples of sizes n1 and n2, as
// KsTwoSampleSorted gives it (exact when both are at most 10000, then `d` is rounded to the lattice).
KsResult KsFromStatistic(std::int64_t n1, std::int64_t n2, double d);
// The same on already sorted samples.
KsResult KsTwoSampleSorted(std::span<const double> a, std::span<const double> b);
// KS from two count vectors over the same ordered bins (the statistic is the largest gap of the
// binned CDFs, a lower bound of the raw one); p-value asymptotic with the sample sizes.
KsResult KsFromCounts(std::span<const double> ref_counts, std::span<const double> cur_counts);
// Survival function of the two-sided one-sample Kolmogorov statistic for n samples
// (scipy.stats.kstwo.sf; see ks.cc for the regimes).
double KolmogorovSf(double n, double x);
// P(D >= d) for the two-sample statistic, exact (Hodges 1958 lattice paths).
double KsExactPValue(std::int64_t n1, std::int64_t n2, double d, double* rounded_d);

// Bin edges for numeric PSI/JS: `bins` equal-width bins over [min, max] of both samples together
// (numpy.histogram_bin_edges on the concatenation). Values equal to the top edge fall in the
// last bin, as numpy.histogram does.
std::vector<double> EqualWidthEdges(std::span<const double> a, std::span<const double> b, int bins);
std::vector<double> Histogram(std::span<const double> x, std::span<const double> edges);

double Mean(std::span<const double> x);
double StdDev(std::span<const double> x);  // population (ddof = 0)

}  // namespace vigil::drift
