// vigil: real-time liveness and fraud decisions that operate themselves. See README.md.
#include <cstdlib>
#include <filesystem>

#include "cli/commands.h"

#ifndef VIGIL_DEFAULT_CONFIG_DIR
#define VIGIL_DEFAULT_CONFIG_DIR "config"
#endif

namespace vigil::cli {

std::string DefaultConfigDir() {
  if (const char* env = std::getenv("VIGIL_CONFIG"); env && *env) return env;
  if (std::filesystem::exists("config/policy.yaml")) return "config";
  return VIGIL_DEFAULT_CONFIG_DIR;
}

}  // namespace vigil::cli

int main(int argc, char** argv) {
  CLI::App app{"vigil: liveness and fraud decisions, explained, audited and watched"};
  app.set_version_flag("--version", "vigil " VIGIL_VERSION_STRING, "Print the version and exit");
  app.require_subcommand(1);
  int exit_code = 0;
  vigil::cli::RegisterPolicyCommands(app, exit_code);
  vigil::cli::RegisterDecideCommands(app, exit_code);
  vigil::cli::RegisterDemoCommand(app, exit_code);
  vigil::cli::RegisterCalibrateCommand(app, exit_code);
  vigil::cli::RegisterServeCommand(app, exit_code);
  vigil::cli::RegisterAuditCommands(app, exit_code);
  vigil::cli::RegisterTrajectoryCommands(app, exit_code);
  vigil::cli::RegisterDriftCommand(app, exit_code);
  vigil::cli::RegisterEvalCommand(app, exit_code);
  vigil::cli::RegisterFitFusionCommand(app, exit_code);
  vigil::cli::RegisterSimulateCommand(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
