// Fitting the fusion meta-model (fusion/fusion.h) from labelled data: L2-regularised logistic
// regression with an unpenalised intercept, the objective of scikit-learn's
//   LogisticRegression(penalty="l2", C=C, fit_intercept=True)
//   minimise  C * sum_i logloss(y_i, sigmoid(b + w.x_i)) + 0.5 * |w|^2
// solved by Newton's method with backtracking to a gradient norm below 1e-10. Pure; thread-safe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace vigil {

struct LogisticFit {
  double bias = 0.0;
  std::vector<double> weights;
  int iterations = 0;
  double objective = 0.0;
  double mean_log_loss = 0.0;
};

// `x`: rows of features (all the same length), `y`: 0/1. C > 0.
Result<LogisticFit> FitLogisticL2(const std::vector<std::vector<double>>& x, std::span<const int> y, double c);

// Reads a CSV with a header: `label` (0/1, or genuine/legitimate/attack/fraud mapped to the
// fused score's direction: genuine 1, attack 0 for liveness; fraud 1, legitimate 0 for
// transactions) and one column per signal (calibrated probabilities). Rows with an empty signal
// cell are skipped. Features are logit(clip(p)) when `logit`, else p.
struct FusionData {
  std::vector<std::vector<double>> x;
  std::vector<int> y;
  std::size_t skipped = 0;
};
Result<FusionData> ReadFusionCsv(const std::string& path, const std::vector<std::string>& signals, bool logit);

// The fusion model file (JSON) for a fit, readable by LogisticFusion::Parse.
std::string FusionModelJson(const std::string& name, const std::string& version, bool logit,
                            const std::vector<std::string>& signals, const LogisticFit& fit, double c,
                            std::size_t rows);

}  // namespace vigil
