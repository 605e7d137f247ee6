// vigil decide FILE...: evaluates decision requests offline (no server, no audit), printing each
// response. Useful to try a policy change on a handful of requests.
#include <iostream>

#include "api/codec.h"
#include "cli/commands.h"
#include "core/file.h"
#include "pipeline/engine.h"

namespace vigil::cli {

void RegisterDecideCommands(CLI::App& app, int& exit_code) {
  auto* decide = app.add_subcommand("decide", "Evaluate decision request files offline and print the responses");
  static std::vector<std::string> files;
  static std::string config;
  decide->add_option("files", files, "Decision request JSON files")->required();
  decide->add_option("--config", config, "Configuration directory (policy, reasons, calibration, fusion)");
  decide->callback([&exit_code] {
    auto engine = DecisionEngine::Load(EngineFiles::Under(config.empty() ? DefaultConfigDir() : config));
    if (!engine.ok()) {
      std::cerr << "error: " << engine.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    for (const auto& f : files) {
      auto body = ReadFile(f);
      if (!body.ok()) {
        std::cerr << "error: " << body.error().ToString() << "\n";
        exit_code = 2;
        continue;
      }
      auto parsed = ParseDecisionRequest(*body);
      if (!parsed.ok()) {
        std::cout << RenderProblem(parsed.error(), f) << "\n";
        exit_code = 1;
        continue;
      }
      auto d = (*engine)->Decide(parsed->request);
      if (!d.ok()) {
        std::cout << RenderProblem(ProblemFromEngineError(d.error()), f) << "\n";
        exit_code = 1;
        continue;
      }
      std::cout << RenderDecision(parsed->request, *d, (*engine)->catalogue(), {}) << "\n";
    }
  });
}

}  // namespace vigil::cli
