// vigil calibrate: fits a Platt or isotonic calibration for one signal and model version from
// labelled scores (CSV with a header: score,label; label 0 or 1) and writes the calibration file.
#include <fstream>
#include <iostream>
#include <sstream>

#include "calibration/calibration.h"
#include "cli/commands.h"
#include "core/file.h"

namespace vigil::cli {
namespace {

Status ReadScoreCsv(const std::string& path, std::vector<double>& scores, std::vector<int>& labels) {
  std::ifstream in(path);
  if (!in) return Error::Io("cannot open", path);
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || (lineno == 1 && line.find_first_of("0123456789") != 0 && line[0] != '-' && line[0] != '.')) continue;
    std::stringstream ss(line);
    std::string a, b;
    if (!std::getline(ss, a, ',') || !std::getline(ss, b, ',')) {
      return Error::Parse("expected score,label", path + ":" + std::to_string(lineno));
    }
    try {
      std::size_t used = 0;
      double s = std::stod(a, &used);
      int l = std::stoi(b);
      if ((l != 0 && l != 1) || !std::isfinite(s)) throw std::invalid_argument("range");
      scores.push_back(s);
      labels.push_back(l);
    } catch (const std::exception&) {
      return Error::Parse("expected a finite score and a 0/1 label", path + ":" + std::to_string(lineno));
    }
  }
  return Status::Ok();
}

}  // namespace

void RegisterCalibrateCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("calibrate", "Fit a Platt or isotonic calibration from labelled scores");
  static std::string method = "platt", data, signal, version, out;
  cmd->add_option("--method", method, "platt or isotonic")->check(CLI::IsMember({"platt", "isotonic"}));
  cmd->add_option("--data", data, "CSV of score,label (1 = positive class)")->required();
  cmd->add_option("--signal", signal, "Signal name, e.g. passive")->required();
  cmd->add_option("--model-version", version, "Model version the scores come from")->required();
  cmd->add_option("--out", out, "Output file (default: standard output)");
  cmd->callback([&exit_code] {
    std::vector<double> scores;
    std::vector<int> labels;
    if (Status s = ReadScoreCsv(data, scores, labels); !s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
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
