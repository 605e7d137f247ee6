// vigil fit-fusion: fits the logistic fusion meta-model (fusion/fusion.h) from labelled,
// calibrated signals with L2 regularisation, as scikit-learn's LogisticRegression(C=...), and
// writes the model file. See docs/feedback.md.
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "core/file.h"
#include "feedback/fit_fusion.h"
#include "fusion/fusion.h"

namespace vigil::cli {

void RegisterFitFusionCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("fit-fusion", "Fit the logistic fusion meta-model (L2) from labelled signals");
  static std::string data, signals_text, name, version, feature = "logit", out;
  static double c = 1.0;
  cmd->add_option("--data", data, "CSV with a header: label and one column per signal (calibrated probabilities)")->required();
  cmd->add_option("--signals", signals_text, "Comma-separated signal columns, in model order")->required();
  cmd->add_option("--name", name, "Fusion model name (the policy's `fusion:`)")->required();
  cmd->add_option("--version", version, "Version of the new model")->required();
  cmd->add_option("--feature", feature, "logit or probability")->check(CLI::IsMember({"logit", "probability"}))->capture_default_str();
  cmd->add_option("--C", c, "Inverse L2 strength, as scikit-learn's C")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--out", out, "Output file (default: standard output)");
  cmd->callback([&exit_code] {
    std::vector<std::string> signals;
    std::stringstream ss(signals_text);
    for (std::string s; std::getline(ss, s, ',');) {
      if (!s.empty()) signals.push_back(s);
    }
    auto d = ReadFusionCsv(data, signals, feature == "logit");
    if (!d.ok()) {
      std::cerr << "error: " << d.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    auto fit = FitLogisticL2(d->x, d->y, c);
    if (!fit.ok()) {
      std::cerr << "error: " << fit.error().ToString() << "\n";
      exit_code = 1;
      return;
    }
    std::string text = FusionModelJson(name, version, feature == "logit", signals, *fit, c, d->x.size());
    if (auto check = LogisticFusion::Parse(text, "fit-fusion output"); !check.ok()) {
      std::cerr << "error: the fitted model does not load: " << check.error().ToString() << "\n";
      exit_code = 1;
      return;
    }
    std::cerr << "fitted on " << d->x.size() << " rows (" << d->skipped << " with a missing signal left out), "
              << fit->iterations << " Newton steps, mean log loss " << fit->mean_log_loss << "\n";
    if (out.empty()) {
      std::cout << text;
    } else if (Status s = WriteFileAtomic(out, text); !s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
    }
  });
}

}  // namespace vigil::cli
