// Options shared by `vigil simulate` and `vigil demo`: which traffic to make.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "simulate/media_library.h"
#include "simulate/scenario.h"
#include "simulate/traffic.h"

namespace vigil::cli {

struct TrafficFlags {
  std::string scenario = "clean";
  std::string config;
  std::uint64_t seed = 1;
  int concurrency = 4;
  double rate = 0;
  std::uint64_t count = 0;
  double duration_s = 0;
  double days = 0;
  double speed = 0;
  std::int64_t start_ms = 0;
  std::string run_id;
  bool no_sessions = false;
  bool no_labels = false;
  bool media = false;        // send real camera frames with liveness attempts
  std::string media_dir;     // where the photographs are (default: Debian's skimage data)
};

void AddTrafficOptions(CLI::App& cmd, TrafficFlags& flags);
Result<sim::Scenario> LoadTrafficScenario(const TrafficFlags& flags);
// The generator's options from the flags; `rate_out` gets the pacing rate (events/s, 0: none).
sim::TrafficOptions MakeTrafficOptions(const TrafficFlags& flags, const sim::Scenario& s, double* rate_out);
// The frames for --media (rendered once), or nullptr without --media.
Result<std::unique_ptr<sim::MediaLibrary>> LoadTrafficMedia(const TrafficFlags& flags);
// A note for stderr when the run compresses time so much that the events in flight at once span
// more than a minute of simulated time: a server that sweeps sessions by the latest event time
// may then expire a session before its decision arrives. "" when the plan is fine.
std::string CompressionNote(const TrafficFlags& flags, const sim::TrafficOptions& options);

}  // namespace vigil::cli
