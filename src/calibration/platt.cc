// Platt scaling, fitted as in Lin, Lin & Weng (2007), "A note on Platt's probabilistic outputs
// for support vector machines", Algorithm 1: Newton's method with a backtracking line search on
// the cross-entropy with Platt's smoothed targets, computed so that exp() never overflows.
#include <cmath>

#include "calibration/calibration.h"

namespace vigil {

Result<PlattParams> FitPlatt(std::span<const double> scores, std::span<const int> labels) {
  if (scores.size() != labels.size()) return Error::Invalid("scores and labels differ in length");
  double prior1 = 0, prior0 = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (!std::isfinite(scores[i])) return Error::Invalid("score " + std::to_string(i) + " is not finite");
    if (labels[i] != 0 && labels[i] != 1) return Error::Invalid("labels must be 0 or 1");
    (labels[i] == 1 ? prior1 : prior0) += 1;
  }
  if (prior1 == 0 || prior0 == 0) return Error::Invalid("Platt scaling needs both classes");

  const double hi_target = (prior1 + 1.0) / (prior1 + 2.0);
  const double lo_target = 1.0 / (prior0 + 2.0);
  const std::size_t n = scores.size();
  auto target = [&](std::size_t i) { return labels[i] == 1 ? hi_target : lo_target; };
  auto objective = [&](double a, double b) {
    double f = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double fab = scores[i] * a + b;
      double t = target(i);
      f += fab >= 0 ? t * fab + std::log1p(std::exp(-fab)) : (t - 1) * fab + std::log1p(std::exp(fab));
    }
    return f;
  };

  double a = 0.0;
  double b = std::log((prior0 + 1.0) / (prior1 + 1.0));
  double fval = objective(a, b);
  constexpr int kMaxIter = 200;
  constexpr double kMinStep = 1e-12;
  constexpr double kSigma = 1e-12;  // keeps the Hessian positive definite
  for (int it = 0; it < kMaxIter; ++it) {
    double h11 = kSigma, h22 = kSigma, h21 = 0, g1 = 0, g2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double fab = scores[i] * a + b;
      double p, q;  // p = P(y=1) = 1/(1+exp(fab)), q = 1-p
      if (fab >= 0) {
        double e = std::exp(-fab);
        p = e / (1.0 + e);
        q = 1.0 / (1.0 + e);
      } else {
        double e = std::exp(fab);
        p = 1.0 / (1.0 + e);
        q = e / (1.0 + e);
      }
      double d2 = p * q;
      h11 += scores[i] * scores[i] * d2;
      h22 += d2;
      h21 += scores[i] * d2;
      double d1 = target(i) - p;
      g1 += scores[i] * d1;
      g2 += d1;
    }
    // Converged when the gradient is negligible relative to the sample size.
    if (std::fabs(g1) < 1e-11 * static_cast<double>(n) && std::fabs(g2) < 1e-11 * static_cast<double>(n)) break;
    double det = h11 * h22 - h21 * h21;
    double da = -(h22 * g1 - h21 * g2) / det;
    double db = -(-h21 * g1 + h11 * g2) / det;
    double gd = g1 * da + g2 * db;
    double step = 1.0;
    bool moved = false;
    while (step >= kMinStep) {
      double na = a + step * da, nb = b + step * db;
      double nf = objective(na, nb);
      if (nf < fval + 1e-4 * step * gd) {
        a = na;
        b = nb;
        fval = nf;
        moved = true;
        break;
      }
      step /= 2.0;
    }
    if (!moved) break;  // at the optimum to machine precision
  }
  return PlattParams{a, b};
}

}  // namespace vigil
