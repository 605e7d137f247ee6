#include "feedback/eval_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "core/json_writer.h"
#include "feedback/performance_json.h"

namespace vigil {

double NormalQuantile(double p) {
  // Acklam's rational approximation, refined by one Halley step on erfc (|error| < 1e-15).
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  if (p <= 0.0) return -INFINITY;
  if (p >= 1.0) return INFINITY;
  double x;
  if (p < 0.02425) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p > 1 - 0.02425) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

EvalReport BuildEvalReport(EvalData data, const EvalOptions& opt) {
  EvalReport r;
  r.options = opt;
  if (!data.has_decisions) {
    for (auto& c : data.cases) {
      c.flagged = c.has_risk && c.risk >= opt.threshold;
      c.outcome = c.flagged ? "flagged" : "passed";
    }
  }
  r.performance = ComputePerformance(data.cases);
  r.sweep = SweepThresholds(data.cases);
  std::vector<double> grid;
  for (int i = 0; i <= 20; ++i) grid.push_back(i / 20.0);
  r.grid = ConfusionAt(data.cases, grid);
  r.auc = RocAuc(r.sweep);
  if (!std::isnan(opt.target_fpr)) r.target = ThresholdForMaxFpr(r.sweep, opt.target_fpr);
  r.data = std::move(data);
  return r;
}

namespace {

std::vector<const SweepPoint*> Thinned(const std::vector<SweepPoint>& sweep, std::size_t max) {
  std::vector<const SweepPoint*> out;
  if (sweep.empty()) return out;
  max = std::max<std::size_t>(max, 2);
  if (sweep.size() <= max) {
    for (const auto& s : sweep) out.push_back(&s);
    return out;
  }
  for (std::size_t i = 0; i < max; ++i) out.push_back(&sweep[i * (sweep.size() - 1) / (max - 1)]);
  return out;
}

std::string FlowName(const EvalReport& r) {
  if (!r.options.flow.empty()) return r.options.flow;
  return r.data.liveness ? "onboarding" : "transaction_approval";
}

// The policy threshold for a risk threshold: liveness passes when the genuine score >= pass.
double PolicyThreshold(const EvalReport& r, double risk_threshold) {
  return r.data.flipped ? 1.0 - risk_threshold : risk_threshold;
}

std::string Fmt(double v, const char* f = "%.4f") {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

std::string EvalReportJson(const EvalReport& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("source", r.options.source).Field("rows", static_cast<std::int64_t>(r.data.cases.size()))
      .Field("kind", r.data.liveness ? "liveness" : "transaction")
      .Field("figures_at", r.data.has_decisions ? "decisions" : "threshold")
      .Field("threshold", r.data.has_decisions ? kUndefined : r.options.threshold)
      .Field("score_flipped", r.data.flipped).Field("rows_without_score", r.data.skipped_no_score);
  w.Key("conventions");
  WriteConventions(w);
  w.Key("performance");
  WritePerformance(w, r.performance, r.data.liveness);
  w.Field("roc_auc", r.auc);
  w.Key("confusion_along_threshold").BeginArray();
  for (const auto& s : r.grid) WriteSweepPoint(w, s);
  w.EndArray();
  auto pts = Thinned(r.sweep, r.options.max_curve_points);
  w.Key("roc").BeginObject().Field("points", static_cast<std::int64_t>(r.sweep.size()));
  w.Key("threshold").BeginArray();
  for (auto* p : pts) w.Number(p->threshold);
  w.EndArray().Key("fpr").BeginArray();
  for (auto* p : pts) w.Number(p->fpr);
  w.EndArray().Key("tpr").BeginArray();
  for (auto* p : pts) w.Number(p->tpr);
  w.EndArray().EndObject();
  w.Key("det").BeginObject().Key("fpr").BeginArray();
  for (auto* p : pts) w.Number(p->fpr);
  w.EndArray().Key("fnr").BeginArray();
  for (auto* p : pts) w.Number(p->fnr);
  w.EndArray().EndObject();
  if (!std::isnan(r.options.target_fpr)) {
    w.Key("target").BeginObject().Field(r.data.liveness ? "max_bpcer" : "max_fpr", r.options.target_fpr)
        .Field("met", !std::isnan(r.target.threshold)).Field("risk_threshold", r.target.threshold)
        .Field("flow", FlowName(r)).Field(r.data.liveness ? "pass_threshold" : "allow_threshold",
                                          std::isnan(r.target.threshold) ? kUndefined : PolicyThreshold(r, r.target.threshold));
    if (!std::isnan(r.target.threshold)) {
      w.Key("at_threshold");
      WriteSweepPoint(w, r.target.point);
    }
    w.Field("policy_fragment", PolicyFragment(r)).EndObject();
  }
  w.EndObject();
  return out;
}

std::string PolicyFragment(const EvalReport& r) {
  if (std::isnan(r.target.threshold)) return {};
  const auto& p = r.target.point;
  const double t = PolicyThreshold(r, r.target.threshold);
  std::string y;
  y += "# vigil eval: the threshold meeting " + std::string(r.data.liveness ? "BPCER" : "FPR") + " <= " +
       Fmt(r.options.target_fpr, "%g") + " on " + r.options.source + " (" + std::to_string(r.data.cases.size()) + " rows)\n";
  y += "# expected there: " + std::string(r.data.liveness ? "BPCER " : "FPR ") + Fmt(p.fpr) +
       (r.data.liveness ? ", APCER (all attacks) " : ", FNR ") + Fmt(p.fnr) + "; TP " + std::to_string(p.confusion.tp) +
       ", FP " + std::to_string(p.confusion.fp) + ", TN " + std::to_string(p.confusion.tn) + ", FN " +
       std::to_string(p.confusion.fn) + "\n";
  y += "# merge into policy.yaml and check it with `vigil policy check`; the other threshold stays as it is\n";
  y += "flows:\n  " + FlowName(r) + ":\n    thresholds: {" + (r.data.liveness ? "pass: " : "allow: ") + Fmt(t, "%.17g") + "}\n";
  return y;
}

namespace {

constexpr double kW = 420, kH = 360, kL = 56, kB = 44, kT = 16, kR = 16;  // size and margins

std::string Svg(const std::string& title, const std::string& body) {
  char head[256];
  std::snprintf(head, sizeof head,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">",
                kW, kH, kW, kH);
  return std::string(head) + "<title>" + title + "</title>" + body + "</svg>";
}

std::string Line(double x1, double y1, double x2, double y2, const char* style) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" style=\"%s\"/>", x1, y1, x2, y2, style);
  return buf;
}

std::string Text(double x, double y, const std::string& s, const char* anchor = "middle") {
  char buf[96];
  std::snprintf(buf, sizeof buf, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"11\" text-anchor=\"%s\">", x, y, anchor);
  return buf + s + "</text>";
}

// Reliability diagram: observed positive rate against mean predicted risk per bin.
std::string ReliabilitySvg(const Calibration& cal) {
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  auto X = [&](double v) { return kL + v * pw; };
  auto Y = [&](double v) { return kT + (1 - v) * ph; };
  std::string b;
  for (int i = 0; i <= 10; i += 2) {
    b += Line(X(i / 10.0), Y(0), X(i / 10.0), Y(1), "stroke:#eee");
    b += Line(X(0), Y(i / 10.0), X(1), Y(i / 10.0), "stroke:#eee");
    b += Text(X(i / 10.0), Y(0) + 14, Fmt(i / 10.0, "%.1f"));
    b += Text(X(0) - 6, Y(i / 10.0) + 4, Fmt(i / 10.0, "%.1f"), "end");
  }
  b += Line(X(0), Y(0), X(1), Y(1), "stroke:#999;stroke-dasharray:4 3");
  std::string path;
  for (const auto& bin : cal.bins) {
    if (bin.count == 0) continue;
    char rect[240];
    std::snprintf(rect, sizeof rect,
                  "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" style=\"fill:#9ecae1;opacity:0.6\"><title>%s"
                  "</title></rect>",
                  X(bin.lower) + 1, Y(bin.positive_rate), (bin.upper - bin.lower) * pw - 2, Y(0) - Y(bin.positive_rate),
                  ("n=" + std::to_string(bin.count)).c_str());
    b += rect;
    char pt[64];
    std::snprintf(pt, sizeof pt, "%s%.2f,%.2f", path.empty() ? "M" : " L", X(bin.mean_risk), Y(bin.positive_rate));
    path += pt;
    char dot[128];
    std::snprintf(dot, sizeof dot, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" style=\"fill:#08519c\"/>", X(bin.mean_risk),
                  Y(bin.positive_rate));
    b += dot;
  }
  if (!path.empty()) b += "<path d=\"" + path + "\" style=\"fill:none;stroke:#08519c;stroke-width:1.5\"/>";
  b += Text(kL + pw / 2, kH - 8, "mean predicted risk");
  b += "<text transform=\"translate(14," + Fmt(kT + ph / 2, "%.1f") +
       ") rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">observed positive rate</text>";
  return Svg("Reliability diagram", b);
}

// DET curve: FNR against FPR on normal-deviate axes, 0.1% to 60%.
std::string DetSvg(const std::vector<const SweepPoint*>& pts, const SweepPoint* target) {
  const double lo = NormalQuantile(0.001), hi = NormalQuantile(0.6);
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  auto Clip = [&](double p) { return std::clamp(NormalQuantile(std::clamp(p, 0.0005, 0.9995)), lo, hi); };
  auto X = [&](double p) { return kL + (Clip(p) - lo) / (hi - lo) * pw; };
  auto Y = [&](double p) { return kT + (1 - (Clip(p) - lo) / (hi - lo)) * ph; };
  std::string b;
  for (double t : {0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6}) {
    b += Line(X(t), Y(0.001), X(t), Y(0.6), "stroke:#eee");
    b += Line(X(0.001), Y(t), X(0.6), Y(t), "stroke:#eee");
    const std::string lab = Fmt(t * 100, "%g") + "%";
    b += Text(X(t), Y(0.001) + 14, lab);
    b += Text(X(0.001) - 6, Y(t) + 4, lab, "end");
  }
  std::string path;
  for (const auto* p : pts) {
    if (std::isnan(p->fpr) || std::isnan(p->fnr)) continue;
    char pt[64];
    std::snprintf(pt, sizeof pt, "%s%.2f,%.2f", path.empty() ? "M" : " L", X(p->fpr), Y(p->fnr));
    path += pt;
  }
  if (!path.empty()) b += "<path d=\"" + path + "\" style=\"fill:none;stroke:#d94801;stroke-width:1.5\"/>";
  if (target) {
    char dot[160];
    std::snprintf(dot, sizeof dot, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" style=\"fill:#000\"><title>target threshold</title></circle>",
                  X(target->fpr), Y(target->fnr));
    b += dot;
  }
  b += Text(kL + pw / 2, kH - 8, "false-positive rate (BPCER)");
  b += "<text transform=\"translate(14," + Fmt(kT + ph / 2, "%.1f") +
       ") rotate(-90)\" font-size=\"11\" text-anchor=\"middle\">false-negative rate (APCER)</text>";
  return Svg("DET curve", b);
}

std::string Escape(const std::string& s) {
  std::string o;
  for (char ch : s) {
    if (ch == '<') o += "&lt;";
    else if (ch == '>') o += "&gt;";
    else if (ch == '&') o += "&amp;";
    else if (ch == '"') o += "&quot;";
    else o += ch;
  }
  return o;
}

std::string Row(const std::string& k, const std::string& v) { return "<tr><th>" + k + "</th><td>" + v + "</td></tr>"; }

}  // namespace

std::string EvalReportHtml(const EvalReport& r) {
  const Performance& p = r.performance;
  const bool live = r.data.liveness;
  std::string h = "<!doctype html><html><head><meta charset=\"utf-8\"><title>vigil eval</title><style>"
                  "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
                  "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}"
                  "figure{display:inline-block;margin:0 2em 1em 0}</style></head><body>";
  h += "<h1>vigil eval</h1><p>" + Escape(r.options.source) + ": " + std::to_string(r.data.cases.size()) + " labelled " +
       (live ? "liveness" : "transaction") + " decisions; figures at " +
       (r.data.has_decisions ? std::string("the recorded decisions") : "risk threshold " + Fmt(r.options.threshold, "%g")) +
       ". Positive class: " + (live ? "attack" : "fraud") + ".</p>";
  h += "<h2>Error rates</h2><table>";
  h += Row("TP / FP / TN / FN", std::to_string(p.confusion.tp) + " / " + std::to_string(p.confusion.fp) + " / " +
                                    std::to_string(p.confusion.tn) + " / " + std::to_string(p.confusion.fn));
  h += Row(live ? "BPCER (= FPR)" : "FPR", Fmt(p.rates.fpr)) + Row(live ? "FNR (all attacks)" : "FNR", Fmt(p.rates.fnr));
  if (live) {
    for (const auto& t : p.by_attack_type) h += Row("APCER " + Escape(t.attack_type), Fmt(t.apcer) + " (" + std::to_string(t.attacks) + ")");
    h += Row("max APCER", Fmt(p.max_apcer)) + Row("ACER (research convention)", Fmt(p.acer));
  }
  h += Row("precision", Fmt(p.rates.precision)) + Row("recall", Fmt(p.rates.recall)) + Row("F1", Fmt(p.rates.f1)) +
       Row("MCC", Fmt(p.rates.mcc)) + Row("Brier", Fmt(p.calibration.brier)) +
       Row("ECE (10 equal-width bins)", Fmt(p.calibration.ece)) + Row("ROC AUC", Fmt(r.auc));
  h += "</table>";
  auto pts = Thinned(r.sweep, r.options.max_curve_points);
  const SweepPoint* target = std::isnan(r.target.threshold) ? nullptr : &r.target.point;
  h += "<h2>Pictures</h2><figure>" + ReliabilitySvg(p.calibration) + "<figcaption>Reliability diagram</figcaption></figure>";
  h += "<figure>" + DetSvg(pts, target) + "<figcaption>DET curve (normal-deviate axes)</figcaption></figure>";
  if (!std::isnan(r.options.target_fpr)) {
    h += "<h2>Target</h2>";
    if (target) {
      h += "<pre>" + Escape(PolicyFragment(r)) + "</pre>";
    } else {
      h += "<p>No threshold meets " + std::string(live ? "BPCER" : "FPR") + " &lt;= " + Fmt(r.options.target_fpr, "%g") + ".</p>";
    }
  }
  h += "<h2>Confusion along the threshold</h2><table><tr><th>risk &ge;</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th>"
       "<th>FPR</th><th>FNR</th></tr>";
  for (const auto& s : r.grid) {
    h += "<tr><td>" + Fmt(s.threshold, "%.2f") + "</td><td>" + std::to_string(s.confusion.tp) + "</td><td>" +
         std::to_string(s.confusion.fp) + "</td><td>" + std::to_string(s.confusion.tn) + "</td><td>" +
         std::to_string(s.confusion.fn) + "</td><td>" + Fmt(s.fpr) + "</td><td>" + Fmt(s.fnr) + "</td></tr>";
  }
  h += "</table><p>Conventions: docs/feedback.md. A ratio with a zero denominator is shown as n/a.</p></body></html>\n";
  return h;
}

}  // namespace vigil
