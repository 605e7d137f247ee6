#include "feedback/fit_fusion.h"

#include <charconv>
#include <cmath>
#include <fstream>

#include "core/json_writer.h"
#include "feedback/eval_data.h"
#include "feedback/label.h"
#include "fusion/fusion.h"

namespace vigil {
namespace {

// log(1 + exp(z)), stable.
double Softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

double Objective(const std::vector<std::vector<double>>& x, std::span<const int> y, double c,
                 const std::vector<double>& theta) {
  double f = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double z = theta[0];
    for (std::size_t j = 0; j < x[i].size(); ++j) z += theta[j + 1] * x[i][j];
    f += Softplus(z) - y[i] * z;
  }
  f *= c;
  for (std::size_t j = 1; j < theta.size(); ++j) f += 0.5 * theta[j] * theta[j];
  return f;
}

// Solves A s = g for symmetric positive definite A (Cholesky); false when not positive definite.
bool Solve(std::vector<std::vector<double>> a, std::vector<double> g, std::vector<double>& s) {
  const std::size_t n = g.size();
  for (std::size_t j = 0; j < n; ++j) {
    double d = a[j][j];
    for (std::size_t k = 0; k < j; ++k) d -= a[j][k] * a[j][k];
    if (d <= 0) return false;
    a[j][j] = std::sqrt(d);
    for (std::size_t i = j + 1; i < n; ++i) {
      double v = a[i][j];
      for (std::size_t k = 0; k < j; ++k) v -= a[i][k] * a[j][k];
      a[i][j] = v / a[j][j];
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < i; ++k) g[i] -= a[i][k] * g[k];
    g[i] /= a[i][i];
  }
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t k = i + 1; k < n; ++k) g[i] -= a[k][i] * g[k];
    g[i] /= a[i][i];
  }
  s = std::move(g);
  return true;
}

}  // namespace

Result<LogisticFit> FitLogisticL2(const std::vector<std::vector<double>>& x, std::span<const int> y, double c) {
  if (x.empty() || x.size() != y.size()) return Error::Invalid("no data, or features and labels differ in length");
  if (!(c > 0)) return Error::Invalid("C must be positive");
  const std::size_t d = x[0].size();
  bool pos = false, neg = false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i].size() != d) return Error::Invalid("rows differ in length");
    (y[i] ? pos : neg) = true;
  }
  if (!pos || !neg) return Error::Invalid("both classes are needed");
  const std::size_t n = d + 1;
  std::vector<double> theta(n, 0.0);
  LogisticFit fit;
  double f = Objective(x, y, c, theta);
  for (int it = 0; it < 200; ++it) {
    std::vector<double> g(n, 0.0);
    std::vector<std::vector<double>> h(n, std::vector<double>(n, 0.0));
    for (std::size_t i = 0; i < x.size(); ++i) {
      double z = theta[0];
      for (std::size_t j = 0; j < d; ++j) z += theta[j + 1] * x[i][j];
      const double p = 1.0 / (1.0 + std::exp(-z));
      const double r = c * (p - y[i]), s = c * p * (1 - p);
      for (std::size_t a = 0; a < n; ++a) {
        const double xa = a == 0 ? 1.0 : x[i][a - 1];
        g[a] += r * xa;
        for (std::size_t b = 0; b <= a; ++b) h[a][b] += s * xa * (b == 0 ? 1.0 : x[i][b - 1]);
      }
    }
    double gnorm = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      if (j > 0) {
        g[j] += theta[j];
        h[j][j] += 1.0;
      }
      gnorm = std::max(gnorm, std::abs(g[j]));
    }
    fit.iterations = it;
    if (gnorm < 1e-10) break;
    for (std::size_t a = 0; a < n; ++a) {
      for (std::size_t b = a + 1; b < n; ++b) h[a][b] = h[b][a];
    }
    std::vector<double> step;
    if (!Solve(h, g, step)) return Error::Invalid("the Hessian is singular (a constant or duplicated signal?)");
    double t = 1.0;
    std::vector<double> next(n);
    for (int ls = 0; ls < 50; ++ls, t /= 2) {
      for (std::size_t j = 0; j < n; ++j) next[j] = theta[j] - t * step[j];
      const double fn = Objective(x, y, c, next);
      if (fn <= f) {
        f = fn;
        break;
      }
    }
    theta = next;
  }
  fit.bias = theta[0];
  fit.weights.assign(theta.begin() + 1, theta.end());
  fit.objective = f;
  double wsq = 0.0;
  for (double w : fit.weights) wsq += w * w;
  fit.mean_log_loss = (f - 0.5 * wsq) / c / static_cast<double>(x.size());
  return fit;
}

Result<FusionData> ReadFusionCsv(const std::string& path, const std::vector<std::string>& signals, bool logit) {
  std::ifstream in(path);
  if (!in) return Error::Io("cannot open", path);
  std::string line;
  if (!std::getline(in, line)) return Error::Parse("empty file: a header row is required", path);
  auto header = SplitCsvLine(line);
  auto col = [&header](const std::string& n) {
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (header[i] == n) return static_cast<int>(i);
    }
    return -1;
  };
  const int c_label = col("label");
  if (c_label < 0) return Error::Parse("no 'label' column", path + ":1");
  std::vector<int> cols;
  for (const auto& s : signals) {
    cols.push_back(col(s));
    if (cols.back() < 0) return Error::Parse("no '" + s + "' column", path + ":1");
  }
  FusionData data;
  std::size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    auto cells = SplitCsvLine(line);
    const std::string where = path + ":" + std::to_string(lineno);
    auto cell = [&cells](int c) { return c < static_cast<int>(cells.size()) ? cells[static_cast<std::size_t>(c)] : std::string(); };
    const std::string lab = cell(c_label);
    int y;
    if (lab == "1" || lab == "genuine" || lab == "fraud") {
      y = 1;
    } else if (lab == "0" || lab == "attack" || lab == "legitimate") {
      y = 0;
    } else {
      return Error::Parse("label must be 0, 1, genuine, attack, legitimate or fraud", where);
    }
    std::vector<double> row;
    bool missing = false;
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const std::string v = cell(cols[k]);
      if (v.empty()) {
        missing = true;
        break;
      }
      double p = 0.0;
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), p);
      if (ec != std::errc() || end != v.data() + v.size() || !(p >= 0.0 && p <= 1.0)) {
        return Error::Parse("'" + signals[k] + "' must be a probability in [0, 1]", where);
      }
      row.push_back(logit ? ClippedLogit(p) : p);
    }
    if (missing) {
      ++data.skipped;
      continue;
    }
    data.x.push_back(std::move(row));
    data.y.push_back(y);
  }
  return data;
}

std::string FusionModelJson(const std::string& name, const std::string& version, bool logit,
                            const std::vector<std::string>& signals, const LogisticFit& fit, double c,
                            std::size_t rows) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("name", name).Field("version", version).Field("feature", logit ? "logit" : "probability")
      .Field("bias", fit.bias).Field("missing", "renormalise").Key("inputs").BeginArray();
  for (std::size_t i = 0; i < signals.size(); ++i) {
    w.BeginObject().Field("signal", signals[i]).Field("weight", fit.weights[i]).EndObject();
  }
  w.EndArray();
  w.Key("fitted").BeginObject().Field("by", "vigil fit-fusion").Field("method", "logistic regression, L2")
      .Field("C", c).Field("rows", static_cast<std::int64_t>(rows)).Field("iterations", fit.iterations)
      .Field("mean_log_loss", fit.mean_log_loss).EndObject();
  w.EndObject();
  out += "\n";
  return out;
}

}  // namespace vigil
