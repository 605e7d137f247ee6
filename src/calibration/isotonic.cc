// Isotonic regression by pool adjacent violators (Ayer et al. 1955; Best & Chakravarti 1990),
// with the tie handling and breakpoint trimming of scikit-learn's IsotonicRegression so that
// results agree with it.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "calibration/calibration.h"

namespace vigil {

Result<IsotonicMap> FitIsotonic(std::span<const double> x, std::span<const double> y,
                                std::span<const double> weights) {
  const std::size_t n = x.size();
  if (y.size() != n || (!weights.empty() && weights.size() != n)) {
    return Error::Invalid("x, y and weights differ in length");
  }
  if (n == 0) return Error::Invalid("isotonic fit needs at least one sample");
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      return Error::Invalid("sample " + std::to_string(i) + " is not finite");
    }
    if (!weights.empty() && !(weights[i] >= 0 && std::isfinite(weights[i]))) {
      return Error::Invalid("weight " + std::to_string(i) + " is negative or not finite");
    }
  }
  // Order by x, then y (numpy.lexsort((y, x))), dropping zero weights.
  std::vector<std::size_t> order;
  order.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (weights.empty() || weights[i] > 0) order.push_back(i);
  }
  if (order.empty()) return Error::Invalid("all weights are zero");
  std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
    return x[i] != x[j] ? x[i] < x[j] : y[i] < y[j];
  });

  // Pool ties: x values closer than the float64 resolution (1e-15) are one point.
  constexpr double kEps = 1e-15;
  std::vector<double> ux, uy, uw;
  double cur_x = x[order[0]], sum_wy = 0, sum_w = 0;
  for (std::size_t k : order) {
    double w = weights.empty() ? 1.0 : weights[k];
    if (x[k] - cur_x >= kEps) {
      ux.push_back(cur_x);
      uy.push_back(sum_wy / sum_w);
      uw.push_back(sum_w);
      cur_x = x[k];
      sum_wy = 0;
      sum_w = 0;
    }
    sum_wy += y[k] * w;
    sum_w += w;
  }
  ux.push_back(cur_x);
  uy.push_back(sum_wy / sum_w);
  uw.push_back(sum_w);

  // Pool adjacent violators with a stack of blocks (value, weight, count).
  struct Block {
    double value, weight;
    std::size_t count;
  };
  std::vector<Block> blocks;
  blocks.reserve(uy.size());
  for (std::size_t i = 0; i < uy.size(); ++i) {
    blocks.push_back({uy[i], uw[i], 1});
    while (blocks.size() > 1 && blocks[blocks.size() - 2].value >= blocks.back().value) {
      Block top = blocks.back();
      blocks.pop_back();
      Block& prev = blocks.back();
      double w = prev.weight + top.weight;
      prev.value = (prev.value * prev.weight + top.value * top.weight) / w;
      prev.weight = w;
      prev.count += top.count;
    }
  }
  std::vector<double> fitted;
  fitted.reserve(uy.size());
  for (const Block& b : blocks) fitted.insert(fitted.end(), b.count, b.value);

  // Keep the first and last points and every point whose value differs from a neighbour's.
  IsotonicMap m;
  for (std::size_t i = 0; i < fitted.size(); ++i) {
    bool keep = i == 0 || i + 1 == fitted.size() || fitted[i] != fitted[i - 1] ||
                fitted[i] != fitted[i + 1];
    if (keep) {
      m.x.push_back(ux[i]);
      m.y.push_back(fitted[i]);
    }
  }
  return m;
}

}  // namespace vigil
