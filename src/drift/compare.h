// Every drift measure between a reference and a current sample at once, for `vigil drift` and
// the monitor: numeric samples (scores, quality features) or categories (platform, device class,
// browser family). Conventions are those of drift/stats.h. Pure functions; thread-safe.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "drift/stats.h"

namespace vigil::drift {

struct NumericDrift {
  std::size_t n_reference = 0, n_current = 0;
  int bins = 0;
  double psi = 0.0;
  double ks_statistic = 0.0, ks_p_value = 1.0;
  bool ks_exact = false;
  double js_distance = 0.0;           // base 2, on the PSI bins
  double wasserstein = 0.0;           // Wasserstein-1
  double wasserstein_norm = 0.0;      // divided by the reference's standard deviation
  double reference_mean = 0.0, current_mean = 0.0, reference_std = 0.0;
};

// Raw samples: PSI and JS on `bins` equal-width bins over both samples' range; KS and
// Wasserstein exact on the samples.
NumericDrift CompareNumeric(std::span<const double> reference, std::span<const double> current, int bins = 10);

// Fixed-bin histograms (the monitor's windows): `centres` are the bins' representative values
// (for Wasserstein and the means); KS is the binned statistic with an asymptotic p-value.
NumericDrift CompareHistograms(std::span<const double> ref_counts, std::span<const double> cur_counts,
                               std::span<const double> centres);

struct CategoryShare {
  std::string category;
  double reference = 0.0, current = 0.0;  // shares
};
struct MixDrift {
  std::size_t n_reference = 0, n_current = 0;
  double psi = 0.0;            // over the union of categories, Evidently's empty-bin rule
  double js_distance = 0.0;    // base 2
  double total_variation = 0.0;  // half the L1 distance of the shares: the share of traffic that moved
  std::vector<CategoryShare> shares;  // sorted by category
};

MixDrift CompareCategories(const std::map<std::string, double>& reference,
                           const std::map<std::string, double>& current);
MixDrift CompareCategorySamples(std::span<const std::string> reference, std::span<const std::string> current);

// JSON objects (canonical key order), appended to `out`.
void AppendJson(std::string& out, const NumericDrift& d);
void AppendJson(std::string& out, const MixDrift& d);

}  // namespace vigil::drift
