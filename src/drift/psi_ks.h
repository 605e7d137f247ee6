// PSI and two-sample KS together on raw samples, fast: both samples are sorted once by an LSD
// radix sort on the bit patterns of the doubles (order-preserving map to unsigned keys), then one
// merge pass gives the KS statistic and both histograms over the PSI bins. Same conventions and
// results as EqualWidthEdges + Histogram + Psi and KsTwoSample (drift/stats.h): the bins are
// numpy's (equal width over the pooled range, the last bin closed), the statistic is exact, the
// p-value is ks_2samp's (exact when both samples have at most 10000 values). NaNs are dropped;
// -0.0 counts as +0.0. Pure and thread-safe; it needs three key buffers the size of the inputs,
// kept in a workspace the caller may reuse (fresh pages are costly: on the 2-core VM of
// bench/RESULTS.md first-touching 24 MB takes longer than the whole computation).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "drift/stats.h"

namespace vigil::drift {

struct PsiKsResult {
  double psi = 0.0;
  KsResult ks;
  std::vector<double> edges;                      // bins + 1 edges
  std::vector<double> ref_counts, cur_counts;     // per bin
};

struct PsiKsWorkspace {
  std::vector<std::uint64_t> a, b, scratch;
};

// `ws` null: a workspace of its own for this call.
PsiKsResult PsiKs(std::span<const double> reference, std::span<const double> current, int bins = 10,
                  PsiKsWorkspace* ws = nullptr);

// Sorts keys ascending: LSD radix, 11 bits a pass, passes where every key has the same digit
// skipped. `scratch` is resized to keys.size(). Exposed for tests.
void RadixSortKeys(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch);
// The order-preserving map from doubles (not NaN) to unsigned keys, and back.
std::uint64_t OrderedKey(double v);
double FromOrderedKey(std::uint64_t k);

}  // namespace vigil::drift
