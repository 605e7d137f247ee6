// vigil decide FILE...: evaluates decision requests offline (no server, no audit), printing each
// response. Useful to try a policy change on a handful of requests.
#include <filesystem>
#include <iomanip>
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

void RegisterDemoCommand(CLI::App& app, int& exit_code) {
  auto* demo = app.add_subcommand("demo", "Evaluate the example requests in CONFIG/examples and print the decisions");
  static std::string config;
  demo->add_option("--config", config, "Configuration directory");
  demo->callback([&exit_code] {
    std::string dir = config.empty() ? DefaultConfigDir() : config;
    auto engine = DecisionEngine::Load(EngineFiles::Under(dir));
    if (!engine.ok()) {
      std::cerr << "error: " << engine.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    auto files = ListConfigFiles(dir + "/examples");
    if (!files.ok()) {
      std::cerr << "error: " << files.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    std::cout << "vigil " << (*engine)->policy().version() << ": " << files->size() << " example requests\n\n";
    std::cout << std::left << std::setw(22) << "request" << std::setw(22) << "flow" << std::setw(11) << "decision"
              << std::setw(11) << "band" << std::setw(8) << "score" << std::setw(26) << "segment" << "reasons\n";
    for (const auto& f : *files) {
      auto body = ReadFile(f);
      auto parsed = body.ok() ? ParseDecisionRequest(*body) : Problem{ProblemType::kInternal, body.error().ToString(), ""};
      if (!parsed.ok()) {
        std::cout << std::filesystem::path(f).filename().string() << ": " << parsed.error().detail << "\n";
        exit_code = 1;
        continue;
      }
      auto d = (*engine)->Decide(parsed->request);
      if (!d.ok()) {
        std::cout << parsed->request.request_id << ": " << d.error().ToString() << "\n";
        exit_code = 1;
        continue;
      }
      std::string reasons;
      for (const auto& r : d->reasons) reasons += (reasons.empty() ? "" : ",") + (*engine)->catalogue().Info(r.code).name;
      std::cout << std::left << std::setw(22) << d->request_id << std::setw(22) << d->flow_type << std::setw(11)
                << d->outcome_name << std::setw(11) << d->band_name << std::setw(8) << std::fixed << std::setprecision(3)
                << d->fusion.score << std::setw(26) << (d->explanation.segment.empty() ? "default" : d->explanation.segment)
                << reasons << "\n";
    }
  });
}

}  // namespace vigil::cli
