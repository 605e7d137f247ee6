// vigil policy check FILE: validates a policy against the reason catalogue and prints every
// problem with its file, line, column and field.
#include <iostream>

#include "cli/commands.h"
#include "policy/policy.h"
#include "reasons/catalogue.h"

namespace vigil::cli {

void RegisterPolicyCommands(CLI::App& app, int& exit_code) {
  auto* policy = app.add_subcommand("policy", "Work with policy files");
  policy->require_subcommand(1);
  auto* check = policy->add_subcommand("check", "Validate a policy file and report every error with its line");
  static std::string file, reasons;
  check->add_option("file", file, "Policy YAML file")->required();
  check->add_option("--reasons", reasons, "Reason catalogue (default: CONFIG/reasons.yaml)");
  check->callback([&exit_code] {
    std::string catalogue_path = reasons.empty() ? DefaultConfigDir() + "/reasons.yaml" : reasons;
    auto cat = ReasonCatalogue::LoadFile(catalogue_path);
    if (!cat.ok()) {
      std::cerr << "error: " << cat.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    std::vector<Error> errors;
    auto p = Policy::LoadFile(file, *cat, &errors);
    if (!p.ok()) {
      for (const auto& e : errors) std::cerr << e.ToString() << "\n";
      std::cerr << errors.size() << (errors.size() == 1 ? " error" : " errors") << " in " << file << "\n";
      exit_code = 1;
      return;
    }
    std::size_t rules = 0;
    for (const auto& f : (*p)->flows()) rules += f.hard_rules.size() + f.review.size() + f.segments.size();
    std::cout << "ok: " << file << ": " << (*p)->version() << ", " << (*p)->flows().size()
              << " flows, " << rules << " rules and segments\n";
  });
}

}  // namespace vigil::cli
