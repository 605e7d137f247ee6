// The `vigil` command line: each file registers its subcommands on the CLI11 app. A command
// stores its exit status in `exit_code` (0 ok, 1 failure found, 2 usage or I/O error).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace vigil::cli {

// $VIGIL_CONFIG, else ./config, else the source tree's config/ (for running from a build dir).
std::string DefaultConfigDir();

void RegisterPolicyCommands(CLI::App& app, int& exit_code);
void RegisterDecideCommands(CLI::App& app, int& exit_code);
void RegisterDemoCommand(CLI::App& app, int& exit_code);
void RegisterCalibrateCommand(CLI::App& app, int& exit_code);
void RegisterServeCommand(CLI::App& app, int& exit_code);
void RegisterAuditCommands(CLI::App& app, int& exit_code);
void RegisterTrajectoryCommands(CLI::App& app, int& exit_code);
void RegisterDriftCommand(CLI::App& app, int& exit_code);
void RegisterEvalCommand(CLI::App& app, int& exit_code);
void RegisterFitFusionCommand(CLI::App& app, int& exit_code);
void RegisterSimulateCommand(CLI::App& app, int& exit_code);

}  // namespace vigil::cli
