#include "feedback/performance.h"

#include <algorithm>
#include <map>

namespace vigil {
namespace {

double Ratio(std::int64_t num, std::int64_t den) {
  return den == 0 ? kUndefined : static_cast<double>(num) / static_cast<double>(den);
}

// The bin of a probability as numpy.searchsorted(linspace(0, 1, bins + 1)[1:-1], p) does.
int BinOf(double p, int bins) {
  const double step = 1.0 / bins;
  int b = 0;
  while (b < bins - 1 && static_cast<double>(b + 1) * step < p) ++b;
  return b;
}

}  // namespace

void Confusion::Add(bool positive, bool flagged) {
  if (positive) {
    (flagged ? tp : fn)++;
  } else {
    (flagged ? fp : tn)++;
  }
}

ClassRates RatesOf(const Confusion& c) {
  ClassRates r;
  r.fpr = Ratio(c.fp, c.fp + c.tn);
  r.tnr = Ratio(c.tn, c.fp + c.tn);
  r.fnr = Ratio(c.fn, c.fn + c.tp);
  r.tpr = Ratio(c.tp, c.fn + c.tp);
  r.recall = r.tpr;
  r.precision = Ratio(c.tp, c.tp + c.fp);
  r.f1 = Ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn);
  r.accuracy = Ratio(c.tp + c.tn, c.n());
  const double tp = static_cast<double>(c.tp), fp = static_cast<double>(c.fp);
  const double tn = static_cast<double>(c.tn), fn = static_cast<double>(c.fn);
  const double den = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
  r.mcc = den == 0.0 ? 0.0 : (tp * tn - fp * fn) / std::sqrt(den);
  return r;
}

Calibration ComputeCalibration(std::span<const LabelledCase> cases, int bins) {
  Calibration cal;
  bins = std::max(bins, 1);
  std::vector<double> sum_risk(static_cast<std::size_t>(bins), 0.0), sum_pos(static_cast<std::size_t>(bins), 0.0);
  std::vector<std::int64_t> count(static_cast<std::size_t>(bins), 0);
  double sq = 0.0;
  for (const auto& c : cases) {
    if (!c.has_risk) continue;
    const double y = c.positive ? 1.0 : 0.0;
    sq += (c.risk - y) * (c.risk - y);
    const auto b = static_cast<std::size_t>(BinOf(c.risk, bins));
    sum_risk[b] += c.risk;
    sum_pos[b] += y;
    ++count[b];
    ++cal.n;
  }
  if (cal.n == 0) return cal;
  cal.brier = sq / static_cast<double>(cal.n);
  double ece = 0.0;
  for (std::size_t b = 0; b < count.size(); ++b) {
    ReliabilityBin rb;
    rb.lower = static_cast<double>(b) / bins;
    rb.upper = static_cast<double>(b + 1) / bins;
    rb.count = count[b];
    if (count[b] > 0) {
      rb.mean_risk = sum_risk[b] / static_cast<double>(count[b]);
      rb.positive_rate = sum_pos[b] / static_cast<double>(count[b]);
      ece += static_cast<double>(count[b]) / static_cast<double>(cal.n) * std::abs(rb.mean_risk - rb.positive_rate);
    }
    cal.bins.push_back(rb);
  }
  cal.ece = ece;
  return cal;
}

Performance ComputePerformance(std::span<const LabelledCase> cases, int bins) {
  Performance p;
  std::map<std::string, AttackTypeRate> types;
  for (const auto& c : cases) {
    ++p.n;
    p.confusion.Add(c.positive, c.flagged);
    if (c.positive) {
      ++p.positives;
      auto& t = types[c.attack_type.empty() ? "unspecified" : c.attack_type];
      ++t.attacks;
      if (!c.flagged) ++t.accepted;
    } else {
      ++p.negatives;
    }
  }
  p.rates = RatesOf(p.confusion);
  for (auto& [name, t] : types) {
    t.attack_type = name;
    t.apcer = Ratio(t.accepted, t.attacks);
    if (std::isnan(p.max_apcer) || t.apcer > p.max_apcer) p.max_apcer = t.apcer;
    p.by_attack_type.push_back(t);
  }
  p.bpcer = p.rates.fpr;
  p.acer = (std::isnan(p.max_apcer) || std::isnan(p.bpcer)) ? kUndefined : (p.max_apcer + p.bpcer) / 2.0;
  p.calibration = ComputeCalibration(cases, bins);
  return p;
}

namespace {
void FillRates(SweepPoint& s, std::int64_t pos, std::int64_t neg) {
  s.fpr = Ratio(s.confusion.fp, neg);
  s.tpr = Ratio(s.confusion.tp, pos);
  s.fnr = Ratio(s.confusion.fn, pos);
}
}  // namespace

std::vector<SweepPoint> SweepThresholds(std::span<const LabelledCase> cases) {
  std::vector<std::pair<double, bool>> scored;
  scored.reserve(cases.size());
  for (const auto& c : cases) {
    if (c.has_risk) scored.emplace_back(c.risk, c.positive);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::int64_t pos = 0, neg = 0;
  for (const auto& [r, y] : scored) (y ? pos : neg)++;
  std::vector<SweepPoint> out;
  std::int64_t tp = 0, fp = 0;
  for (std::size_t i = 0; i < scored.size(); ++i) {
    (scored[i].second ? tp : fp)++;
    if (i + 1 < scored.size() && scored[i + 1].first == scored[i].first) continue;
    SweepPoint s;
    s.threshold = scored[i].first;
    s.confusion = {tp, fp, neg - fp, pos - tp};
    FillRates(s, pos, neg);
    out.push_back(s);
  }
  return out;
}

std::vector<SweepPoint> ConfusionAt(std::span<const LabelledCase> cases, std::span<const double> thresholds) {
  std::vector<SweepPoint> out;
  std::vector<std::pair<double, bool>> scored;
  std::int64_t pos = 0, neg = 0;
  for (const auto& c : cases) {
    if (!c.has_risk) continue;
    scored.emplace_back(c.risk, c.positive);
    (c.positive ? pos : neg)++;
  }
  std::sort(scored.begin(), scored.end());
  // Suffix counts: positives and negatives at or above each index.
  std::vector<std::int64_t> pos_above(scored.size() + 1, 0), neg_above(scored.size() + 1, 0);
  for (std::size_t i = scored.size(); i-- > 0;) {
    pos_above[i] = pos_above[i + 1] + (scored[i].second ? 1 : 0);
    neg_above[i] = neg_above[i + 1] + (scored[i].second ? 0 : 1);
  }
  for (double t : thresholds) {
    auto it = std::lower_bound(scored.begin(), scored.end(), t,
                               [](const std::pair<double, bool>& a, double v) { return a.first < v; });
    auto i = static_cast<std::size_t>(it - scored.begin());
    SweepPoint s;
    s.threshold = t;
    s.confusion = {pos_above[i], neg_above[i], neg - neg_above[i], pos - pos_above[i]};
    FillRates(s, pos, neg);
    out.push_back(s);
  }
  return out;
}

double RocAuc(std::span<const SweepPoint> sweep) {
  if (sweep.empty() || std::isnan(sweep.front().fpr) || std::isnan(sweep.front().tpr)) return kUndefined;
  double auc = 0.0, x = 0.0, y = 0.0;
  for (const auto& s : sweep) {
    auc += (s.fpr - x) * (s.tpr + y) / 2.0;
    x = s.fpr;
    y = s.tpr;
  }
  return auc;
}

TargetThreshold ThresholdForMaxFpr(std::span<const SweepPoint> sweep, double max_fpr) {
  TargetThreshold t;
  for (const auto& s : sweep) {
    if (std::isnan(s.fpr) || s.fpr > max_fpr) break;
    t.threshold = s.threshold;
    t.point = s;
  }
  return t;
}

}  // namespace vigil
