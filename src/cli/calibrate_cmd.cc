// vigil calibrate: fits a Platt or isotonic calibration for one signal and model version from
// labelled scores and writes the calibration file. The data is score,label (label 0 or 1), or a
// CSV with a header (`vigil labels export`-style: label, one column per signal, model versions);
// see ReadScoreCsv and docs/feedback.md.
#include <fstream>
#include <iostream>
#include <sstream>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "calibration/calibration.h"
#include "cli/commands.h"
#include "core/file.h"
#include "feedback/eval_data.h"
#include "feedback/performance.h"

namespace vigil::cli {
namespace {

// Labelled scores. Either two unnamed columns score,label (the original form), or a CSV with a
// header naming `label` and the score column (`column`, else the signal's name, else "score"); a
// `model_version` (or `<signal>_model_version`) column, when present, keeps only the rows of
// `version`. Labels are 0/1, or words in the calibrated probability's direction: genuine and
// fraud are 1, attack and legitimate 0.
Status ReadScoreCsv(const std::string& path, const std::string& column, const std::string& signal,
                    const std::string& version, std::vector<double>& scores, std::vector<int>& labels,
                    std::size_t& other_versions) {
  std::ifstream in(path);
  if (!in) return Error::Io("cannot open", path);
  std::string line;
  std::size_t lineno = 0;
  int c_score = 0, c_label = 1, c_version = -1;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto cells = SplitCsvLine(line);
    if (lineno == 1 && line.find_first_of("0123456789") != 0 && line[0] != '-' && line[0] != '.') {
      auto find = [&cells](const std::string& n) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
          if (cells[i] == n) return static_cast<int>(i);
        }
        return -1;
      };
      if (find("label") >= 0) {
        c_label = find("label");
        c_score = !column.empty() ? find(column) : (find(signal) >= 0 ? find(signal) : find("score"));
        if (c_score < 0) return Error::Parse("no score column (" + (column.empty() ? signal + " or score" : column) + ")", path + ":1");
        c_version = find(signal + "_model_version") >= 0 ? find(signal + "_model_version") : find("model_version");
      }
      continue;
    }
    const std::string where = path + ":" + std::to_string(lineno);
    if (static_cast<int>(cells.size()) <= std::max({c_score, c_label, c_version})) {
      return Error::Parse("expected score,label", where);
    }
    if (c_version >= 0 && cells[static_cast<std::size_t>(c_version)] != version) {
      ++other_versions;
      continue;
    }
    const std::string& sc = cells[static_cast<std::size_t>(c_score)];
    const std::string& lb = cells[static_cast<std::size_t>(c_label)];
    if (sc.empty()) continue;  // no score recorded for this signal
    int l = -1;
    if (lb == "genuine" || lb == "fraud") l = 1;
    if (lb == "attack" || lb == "legitimate") l = 0;
    try {
      std::size_t used = 0;
      double s = std::stod(sc, &used);
      if (l < 0) l = std::stoi(lb);
      if ((l != 0 && l != 1) || !std::isfinite(s) || used != sc.size()) throw std::invalid_argument("range");
      scores.push_back(s);
      labels.push_back(l);
    } catch (const std::exception&) {
      return Error::Parse("expected a finite score and a 0/1 (or genuine/attack/legitimate/fraud) label", where);
    }
  }
  return Status::Ok();
}

// In-sample Brier score and ECE (10 equal-width bins) of probabilities against 0/1 labels.
std::string CalibrationSummary(const std::vector<double>& p, const std::vector<int>& y) {
  std::vector<LabelledCase> cases;
  for (std::size_t i = 0; i < p.size(); ++i) {
    LabelledCase c;
    c.positive = y[i] == 1;
    c.has_risk = true;
    c.risk = std::clamp(p[i], 0.0, 1.0);
    cases.push_back(c);
  }
  Calibration cal = ComputeCalibration(cases);
  char buf[128];
  std::snprintf(buf, sizeof buf, "Brier %.5f, ECE %.5f", cal.brier, cal.ece);
  return buf;
}

}  // namespace

void RegisterCalibrateCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("calibrate", "Fit a Platt or isotonic calibration from labelled scores");
  static std::string method = "platt", data, signal, version, out, column;
  cmd->add_option("--method", method, "platt or isotonic")->check(CLI::IsMember({"platt", "isotonic"}));
  cmd->add_option("--data", data, "CSV of score,label (1 = positive class), or with a header naming label and the score column")->required();
  cmd->add_option("--column", column, "Score column of a CSV with a header (default: the signal's name, else score)");
  cmd->add_option("--signal", signal, "Signal name, e.g. passive")->required();
  cmd->add_option("--model-version", version, "Model version the scores come from")->required();
  cmd->add_option("--out", out, "Output file (default: standard output)");
  cmd->callback([&exit_code] {
    std::vector<double> scores;
    std::vector<int> labels;
    std::size_t other_versions = 0;
    if (Status s = ReadScoreCsv(data, column, signal, version, scores, labels, other_versions); !s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    if (other_versions > 0) std::cerr << "left out " << other_versions << " rows of other model versions\n";
    Result<Calibrator> cal = Error::Invalid("no method");
    if (method == "platt") {
      auto p = FitPlatt(scores, labels);
      if (p.ok()) cal = Calibrator::Platt(signal, version, *p);
      else cal = p.error();
    } else {
      std::vector<double> y(labels.begin(), labels.end());
      auto m = FitIsotonic(scores, y);
      if (m.ok()) cal = Calibrator::Isotonic(signal, version, std::move(*m));
      else cal = m.error();
    }
    if (!cal.ok()) {
      std::cerr << "error: " << cal.error().ToString() << "\n";
      exit_code = 1;
      return;
    }
    std::vector<double> before(scores.begin(), scores.end()), after;
    for (double s : scores) after.push_back(cal->Apply(s));
    std::cerr << "in-sample: raw " << CalibrationSummary(before, labels) << "; calibrated "
              << CalibrationSummary(after, labels) << "\n";
    std::string text = SerializeCalibration(*cal);
    if (out.empty()) {
      std::cout << text;
    } else if (Status s = WriteFileAtomic(out, text); !s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
    } else {
      std::cerr << "wrote " << out << " (" << scores.size() << " samples)\n";
    }
  });
}

}  // namespace vigil::cli
