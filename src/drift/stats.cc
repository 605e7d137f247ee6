// PSI, Jensen-Shannon, Wasserstein and histograms; KS lives in ks.cc.
#include "drift/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace vigil::drift {

std::vector<double> Shares(std::span<const double> counts) {
  double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  std::vector<double> out(counts.size(), 0.0);
  if (total <= 0) return out;
  for (std::size_t i = 0; i < counts.size(); ++i) out[i] = counts[i] / total;
  return out;
}

std::vector<double> FillEmptyBins(std::span<const double> shares) {
  std::vector<double> out(shares.begin(), shares.end());
  double smallest = std::numeric_limits<double>::infinity();
  for (double s : shares) {
    if (s != 0.0) smallest = std::min(smallest, s);
  }
  if (!std::isfinite(smallest)) return out;  // all empty: nothing to compare against
  // Evidently (get_binned_data): min non-zero / 10**6 if that is <= 0.0001, else 0.0001.
  const double fill = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
  for (double& s : out) {
    if (s == 0.0) s = fill;
  }
  return out;
}

double Psi(std::span<const double> ref_shares, std::span<const double> cur_shares) {
  auto r = FillEmptyBins(ref_shares);
  auto c = FillEmptyBins(cur_shares);
  double psi = 0.0;
  for (std::size_t i = 0; i < r.size() && i < c.size(); ++i) {
    if (r[i] == 0.0 || c[i] == 0.0) continue;  // a side with no data at all
    psi += (c[i] - r[i]) * std::log(c[i] / r[i]);
  }
  return psi;
}

namespace {
// x * log2(x / y) with scipy.special.rel_entr's conventions (0 when x == 0).
double RelEntr2(double x, double y) {
  if (x == 0.0) return 0.0;
  if (y == 0.0) return std::numeric_limits<double>::infinity();
  return x * std::log(x / y);
}
}  // namespace

double JensenShannon(std::span<const double> p, std::span<const double> q) {
  // scipy.spatial.distance.jensenshannon: normalise, m = (p + q) / 2,
  // js = (sum rel_entr(p, m) + sum rel_entr(q, m)) / 2 / ln(base), distance = sqrt(js).
  double sp = std::accumulate(p.begin(), p.end(), 0.0);
  double sq = std::accumulate(q.begin(), q.end(), 0.0);
  if (sp <= 0 || sq <= 0) return std::numeric_limits<double>::quiet_NaN();
  double left = 0.0, right = 0.0;
  for (std::size_t i = 0; i < p.size() && i < q.size(); ++i) {
    double pi = p[i] / sp, qi = q[i] / sq, m = (pi + qi) / 2.0;
    left += RelEntr2(pi, m);
    right += RelEntr2(qi, m);
  }
  double js = (left + right) / 2.0 / std::log(2.0);
  return std::sqrt(std::max(js, 0.0));
}

double Wasserstein(std::span<const double> u, std::span<const double> v,
                   std::span<const double> u_weights, std::span<const double> v_weights) {
  // scipy.stats._stats_py._cdf_distance(1, ...): integral of |U(x) - V(x)| dx, where U and V
  // are the (weighted) empirical CDFs, summed over the gaps between the sorted pooled values.
  if (u.empty() || v.empty()) return std::numeric_limits<double>::quiet_NaN();
  auto order = [](std::span<const double> x, std::span<const double> w) {
    std::vector<std::pair<double, double>> out(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) out[i] = {x[i], w.empty() ? 1.0 : w[i]};
    std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.first < b.first; });
    return out;
  };
  auto a = order(u, u_weights), b = order(v, v_weights);
  double wa = 0, wb = 0;
  for (auto& e : a) wa += e.second;
  for (auto& e : b) wb += e.second;
  if (wa <= 0 || wb <= 0) return std::numeric_limits<double>::quiet_NaN();
  std::size_t i = 0, j = 0;
  double ca = 0, cb = 0, sum = 0;
  double x = std::min(a[0].first, b[0].first);
  while (i < a.size() || j < b.size()) {
    double next = std::numeric_limits<double>::infinity();
    if (i < a.size()) next = a[i].first;
    if (j < b.size()) next = std::min(next, b[j].first);
    sum += std::fabs(ca / wa - cb / wb) * (next - x);
    x = next;
    while (i < a.size() && a[i].first == next) ca += a[i++].second;
    while (j < b.size() && b[j].first == next) cb += b[j++].second;
  }
  return sum;
}

std::vector<double> EqualWidthEdges(std::span<const double> a, std::span<const double> b, int bins) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (double x : a) lo = std::min(lo, x), hi = std::max(hi, x);
  for (double x : b) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (lo == hi) lo -= 0.5, hi += 0.5;  // numpy's rule for a degenerate range
  std::vector<double> edges(static_cast<std::size_t>(bins) + 1);
  // numpy.linspace(lo, hi, bins + 1): lo + i * step, the last edge exactly hi.
  const double step = (hi - lo) / bins;
  for (int i = 0; i <= bins; ++i) edges[static_cast<std::size_t>(i)] = lo + i * step;
  edges.back() = hi;
  return edges;
}

std::vector<double> Histogram(std::span<const double> x, std::span<const double> edges) {
  std::vector<double> counts(edges.size() - 1, 0.0);
  for (double v : x) {
    if (!(v >= edges.front() && v <= edges.back())) continue;
    // numpy: bins are [e_i, e_{i+1}) except the last, which is closed.
    auto it = std::upper_bound(edges.begin(), edges.end(), v);
    std::size_t k = static_cast<std::size_t>(it - edges.begin());
    k = k == 0 ? 0 : k - 1;
    if (k >= counts.size()) k = counts.size() - 1;
    counts[k] += 1.0;
  }
  return counts;
}

double Mean(std::span<const double> x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  return std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
}

double StdDev(std::span<const double> x) {
  if (x.empty()) return std::numeric_limits<double>::quiet_NaN();
  double m = Mean(x), s = 0;
  for (double v : x) s += (v - m) * (v - m);
  return std::sqrt(s / static_cast<double>(x.size()));
}

}  // namespace vigil::drift
