#include "drift/compare.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/json_writer.h"

namespace vigil::drift {

NumericDrift CompareNumeric(std::span<const double> reference, std::span<const double> current, int bins) {
  NumericDrift d;
  d.n_reference = reference.size();
  d.n_current = current.size();
  d.bins = bins;
  if (reference.empty() || current.empty()) return d;
  std::vector<double> a(reference.begin(), reference.end()), b(current.begin(), current.end());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  auto edges = EqualWidthEdges(a, b, bins);
  auto ha = Histogram(a, edges), hb = Histogram(b, edges);
  d.psi = Psi(Shares(ha), Shares(hb));
  d.js_distance = JensenShannon(ha, hb);
  KsResult ks = KsTwoSampleSorted(a, b);
  d.ks_statistic = ks.statistic;
  d.ks_p_value = ks.p_value;
  d.ks_exact = ks.exact;
  d.wasserstein = Wasserstein(a, b);
  d.reference_mean = Mean(a);
  d.current_mean = Mean(b);
  d.reference_std = StdDev(a);
  d.wasserstein_norm = d.reference_std > 0 ? d.wasserstein / d.reference_std : std::nan("");
  return d;
}

NumericDrift CompareHistograms(std::span<const double> ref_counts, std::span<const double> cur_counts,
                               std::span<const double> centres) {
  NumericDrift d;
  d.bins = static_cast<int>(centres.size());
  double n1 = std::accumulate(ref_counts.begin(), ref_counts.end(), 0.0);
  double n2 = std::accumulate(cur_counts.begin(), cur_counts.end(), 0.0);
  d.n_reference = static_cast<std::size_t>(n1);
  d.n_current = static_cast<std::size_t>(n2);
  if (n1 <= 0 || n2 <= 0) return d;
  d.psi = Psi(Shares(ref_counts), Shares(cur_counts));
  d.js_distance = JensenShannon(ref_counts, cur_counts);
  KsResult ks = KsFromCounts(ref_counts, cur_counts);
  d.ks_statistic = ks.statistic;
  d.ks_p_value = ks.p_value;
  d.wasserstein = Wasserstein(centres, centres, ref_counts, cur_counts);
  double m1 = 0, m2 = 0, v1 = 0;
  for (std::size_t i = 0; i < centres.size(); ++i) {
    m1 += centres[i] * ref_counts[i] / n1;
    m2 += centres[i] * cur_counts[i] / n2;
  }
  for (std::size_t i = 0; i < centres.size(); ++i) v1 += (centres[i] - m1) * (centres[i] - m1) * ref_counts[i] / n1;
  d.reference_mean = m1;
  d.current_mean = m2;
  d.reference_std = std::sqrt(v1);
  d.wasserstein_norm = d.reference_std > 0 ? d.wasserstein / d.reference_std : std::nan("");
  return d;
}

MixDrift CompareCategories(const std::map<std::string, double>& reference,
                           const std::map<std::string, double>& current) {
  MixDrift m;
  std::map<std::string, std::pair<double, double>> all;
  double n1 = 0, n2 = 0;
  for (const auto& [k, v] : reference) all[k].first += v, n1 += v;
  for (const auto& [k, v] : current) all[k].second += v, n2 += v;
  m.n_reference = static_cast<std::size_t>(n1);
  m.n_current = static_cast<std::size_t>(n2);
  std::vector<double> r, c;
  for (const auto& [k, v] : all) {
    r.push_back(v.first);
    c.push_back(v.second);
    m.shares.push_back({k, n1 > 0 ? v.first / n1 : 0.0, n2 > 0 ? v.second / n2 : 0.0});
  }
  if (n1 <= 0 || n2 <= 0) return m;
  m.psi = Psi(Shares(r), Shares(c));
  m.js_distance = JensenShannon(r, c);
  for (const auto& s : m.shares) m.total_variation += std::fabs(s.reference - s.current) / 2.0;
  return m;
}

MixDrift CompareCategorySamples(std::span<const std::string> reference, std::span<const std::string> current) {
  std::map<std::string, double> r, c;
  for (const auto& s : reference) r[s] += 1.0;
  for (const auto& s : current) c[s] += 1.0;
  return CompareCategories(r, c);
}

void AppendJson(std::string& out, const NumericDrift& d) {
  JsonWriter w(out);
  w.BeginObject()
      .Field("n_reference", static_cast<std::int64_t>(d.n_reference))
      .Field("n_current", static_cast<std::int64_t>(d.n_current))
      .Field("bins", d.bins)
      .Field("psi", d.psi)
      .Field("ks_statistic", d.ks_statistic)
      .Field("ks_p_value", d.ks_p_value)
      .Field("ks_method", d.ks_exact ? "exact" : "asymptotic")
      .Field("js_distance", d.js_distance)
      .Field("wasserstein", d.wasserstein)
      .Field("wasserstein_norm", d.wasserstein_norm)
      .Field("reference_mean", d.reference_mean)
      .Field("current_mean", d.current_mean)
      .Field("reference_std", d.reference_std)
      .EndObject();
}

void AppendJson(std::string& out, const MixDrift& d) {
  JsonWriter w(out);
  w.BeginObject()
      .Field("n_reference", static_cast<std::int64_t>(d.n_reference))
      .Field("n_current", static_cast<std::int64_t>(d.n_current))
      .Field("psi", d.psi)
      .Field("js_distance", d.js_distance)
      .Field("total_variation", d.total_variation)
      .Key("shares")
      .BeginObject();
  for (const auto& s : d.shares) {
    w.Key(s.category).BeginObject().Field("reference", s.reference).Field("current", s.current).EndObject();
  }
  w.EndObject().EndObject();
}

}  // namespace vigil::drift
