// vigil trajectory fit: fits the session-trajectory Markov chain (analyzers/markov.h) from
// legitimate sessions (CSV lines session_id,time_ms,action; a header line is skipped) and writes
// the model file that config/analyzers.yaml's trajectory.model names.
#include <iostream>

#include "analyzers/markov.h"
#include "cli/commands.h"
#include "core/file.h"

namespace vigil::cli {

void RegisterTrajectoryCommands(CLI::App& app, int& exit_code) {
  auto* traj = app.add_subcommand("trajectory", "Session-trajectory models");
  traj->require_subcommand(1);
  auto* fit = traj->add_subcommand("fit", "Fit the Markov chain of actions from legitimate sessions");
  static std::string input, out, version = "trajectory-1";
  static double alpha = 0.1;
  fit->add_option("--input", input, "CSV of session_id,time_ms,action from legitimate sessions")->required();
  fit->add_option("--out", out, "Output model file (default: standard output)");
  fit->add_option("--version", version, "Model version recorded in the file and in evidence");
  fit->add_option("--alpha", alpha, "Additive smoothing of transition counts (> 0)")->check(CLI::PositiveNumber);
  fit->callback([&exit_code] {
    auto text = ReadFile(input);
    if (!text.ok()) {
      std::cerr << "error: " << text.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    auto events = analyzers::ReadSessionCsv(*text, input);
    if (!events.ok()) {
      std::cerr << "error: " << events.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    auto model = analyzers::FitMarkov(std::move(*events), alpha, version);
    if (!model.ok()) {
      std::cerr << "error: " << model.error().ToString() << "\n";
      exit_code = 1;
      return;
    }
    std::string json = analyzers::SerializeMarkov(*model);
    if (out.empty()) {
      std::cout << json;
    } else if (Status s = WriteFileAtomic(out, json); !s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    std::cerr << "fitted " << model->size() << " actions from " << model->sessions << " sessions (" << model->events
              << " events); rate " << model->rate_mean << " +- " << model->rate_std << " per minute\n";
  });
}

}  // namespace vigil::cli
