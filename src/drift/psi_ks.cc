#include "drift/psi_ks.h"

#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace vigil::drift {

std::uint64_t OrderedKey(double v) {
  const auto b = std::bit_cast<std::uint64_t>(v + 0.0);  // -0.0 + 0.0 == +0.0
  return (b >> 63) ? ~b : b | (std::uint64_t{1} << 63);
}

double FromOrderedKey(std::uint64_t k) {
  return std::bit_cast<double>((k >> 63) ? k & ~(std::uint64_t{1} << 63) : ~k);
}

void RadixSortKeys(std::vector<std::uint64_t>& keys, std::vector<std::uint64_t>& scratch) {
  constexpr int kBits = 11, kPasses = 6;
  constexpr std::size_t kRadix = std::size_t{1} << kBits;
  const std::size_t n = keys.size();
  scratch.resize(n);
  std::vector<std::array<std::uint32_t, kRadix>> count(kPasses);
  for (auto& c : count) c.fill(0);
  for (std::uint64_t k : keys) {
    for (int p = 0; p < kPasses; ++p) ++count[static_cast<std::size_t>(p)][(k >> (p * kBits)) & (kRadix - 1)];
  }
  std::uint64_t* src = keys.data();
  std::uint64_t* dst = scratch.data();
  for (int p = 0; p < kPasses; ++p) {
    auto& c = count[static_cast<std::size_t>(p)];
    if (n == 0 || c[(src[0] >> (p * kBits)) & (kRadix - 1)] == n) continue;  // one digit: nothing moves
    std::uint32_t sum = 0;
    for (auto& x : c) {
      const std::uint32_t t = x;
      x = sum;
      sum += t;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint64_t k = src[i];
      dst[c[(k >> (p * kBits)) & (kRadix - 1)]++] = k;
    }
    std::swap(src, dst);
  }
  if (src != keys.data()) keys.swap(scratch);
}

namespace {

// Keys of the non-NaN values into `out`, widening the pooled minimum and maximum.
void Keys(std::span<const double> x, std::vector<std::uint64_t>& out, std::uint64_t& lo, std::uint64_t& hi) {
  out.resize(x.size());
  std::size_t n = 0;
  for (double v : x) {
    if (std::isnan(v)) continue;
    const std::uint64_t k = OrderedKey(v);
    lo = std::min(lo, k);
    hi = std::max(hi, k);
    out[n++] = k;
  }
  out.resize(n);
}

}  // namespace

PsiKsResult PsiKs(std::span<const double> reference, std::span<const double> current, int bins, PsiKsWorkspace* ws) {
  PsiKsResult r;
  PsiKsWorkspace own;
  if (!ws) ws = &own;
  std::uint64_t lo = std::numeric_limits<std::uint64_t>::max(), hi = 0;
  std::vector<std::uint64_t>& a = ws->a;
  std::vector<std::uint64_t>& b = ws->b;
  Keys(reference, a, lo, hi);
  Keys(current, b, lo, hi);
  const std::size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 && n2 == 0) lo = hi = OrderedKey(0.0);
  // numpy.histogram_bin_edges over the pooled range (EqualWidthEdges' arithmetic).
  const double dlo = FromOrderedKey(lo), dhi = FromOrderedKey(hi);
  const std::array<double, 1> lo_arr = {dlo}, hi_arr = {dhi};
  r.edges = EqualWidthEdges(lo_arr, hi_arr, bins);
  r.ref_counts.assign(static_cast<std::size_t>(bins), 0.0);
  r.cur_counts.assign(static_cast<std::size_t>(bins), 0.0);
  RadixSortKeys(a, ws->scratch);
  RadixSortKeys(b, ws->scratch);
  // Edge keys: a value falls in bin j when key >= edge_key[j] and < edge_key[j + 1] (the last
  // bin closed), exactly numpy's rule on the doubles.
  std::vector<std::uint64_t> edge_key(r.edges.size());
  for (std::size_t j = 0; j < r.edges.size(); ++j) edge_key[j] = OrderedKey(r.edges[j]);
  const std::size_t last = static_cast<std::size_t>(bins) - 1;
  // One merge pass: at each distinct value compare the right-continuous ECDFs (KS) and count
  // each run of equal values into its bin.
  std::size_t i = 0, j = 0, bin = 0;
  double d = 0.0;
  const double inv1 = n1 ? 1.0 / static_cast<double>(n1) : 0.0, inv2 = n2 ? 1.0 / static_cast<double>(n2) : 0.0;
  std::uint64_t ci = 0, cj = 0;  // counts of the current bin
  while (i < n1 || j < n2) {
    const std::uint64_t x = i == n1 ? b[j] : (j == n2 ? a[i] : std::min(a[i], b[j]));
    if (x < edge_key[0] || x > edge_key.back()) {  // outside the range (cannot happen: pooled min/max)
      while (i < n1 && a[i] == x) ++i;
      while (j < n2 && b[j] == x) ++j;
      continue;
    }
    if (bin < last && x >= edge_key[bin + 1]) {
      r.ref_counts[bin] += static_cast<double>(ci);
      r.cur_counts[bin] += static_cast<double>(cj);
      ci = cj = 0;
      while (bin < last && x >= edge_key[bin + 1]) ++bin;
    }
    const std::size_t i0 = i, j0 = j;
    while (i < n1 && a[i] == x) ++i;
    while (j < n2 && b[j] == x) ++j;
    ci += i - i0;
    cj += j - j0;
    if (n1 && n2) d = std::max(d, std::fabs(static_cast<double>(i) * inv1 - static_cast<double>(j) * inv2));
  }
  r.ref_counts[bin] += static_cast<double>(ci);
  r.cur_counts[bin] += static_cast<double>(cj);
  r.psi = Psi(Shares(r.ref_counts), Shares(r.cur_counts));
  r.ks = KsFromStatistic(static_cast<std::int64_t>(n1), static_cast<std::int64_t>(n2), d);
  return r;
}

}  // namespace vigil::drift
