// vigil simulate: realistic traffic against a running server, or into a JSONL file. See
// docs/simulate.md.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "cli/sim_common.h"
#include "simulate/driver.h"
#include "simulate/summary.h"

namespace vigil::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnInterrupt(int) { g_stop.store(true); }

}  // namespace

void AddTrafficOptions(CLI::App& cmd, TrafficFlags& f) {
  cmd.add_option("--scenario", f.scenario, "Scenario name under CONFIG/scenarios, or a YAML path")->capture_default_str();
  cmd.add_option("--config", f.config, "Configuration directory (default: as vigil serve)");
  cmd.add_option("--seed", f.seed, "Random seed: one seed, one stream")->capture_default_str();
  cmd.add_option("--concurrency,-c", f.concurrency, "Concurrent connections (keep-alive)")->capture_default_str();
  cmd.add_option("--rate", f.rate, "Events per second (0: as fast as possible)")->capture_default_str();
  cmd.add_option("--count,-n", f.count, "Stop after this many events");
  cmd.add_option("--duration", f.duration_s, "Stop after this many wall-clock seconds");
  cmd.add_option("--days", f.days, "Simulated days the run covers (default: the scenario's)");
  cmd.add_option("--speed", f.speed, "Simulated seconds per wall second (sets --rate when it is not given)");
  cmd.add_option("--start-ms", f.start_ms, "Simulated time of the first event (ms since 1970)");
  cmd.add_option("--run-id", f.run_id, "Prefix of request ids (default: sim-SEED-TIME, unique per run)");
  cmd.add_flag("--no-sessions", f.no_sessions, "Do not open sessions even when the server offers them");
  cmd.add_flag("--no-labels", f.no_labels, "Do not post ground-truth labels");
  cmd.add_flag("--media", f.media,
               "Send real camera frames (photographs and their degradations) with liveness attempts: the server's "
               "quality gate, security checks and cues run on them");
  cmd.add_option("--media-dir", f.media_dir, "Directory with astronaut.png and coffee.png (default: python3-skimage's data)");
}

Result<std::unique_ptr<sim::MediaLibrary>> LoadTrafficMedia(const TrafficFlags& f) {
  if (!f.media) return std::unique_ptr<sim::MediaLibrary>();
  sim::MediaOptions o;
  o.photo_dir = f.media_dir;
  return sim::MediaLibrary::Load(o);
}

Result<sim::Scenario> LoadTrafficScenario(const TrafficFlags& f) {
  return sim::FindScenario(f.scenario, f.config.empty() ? DefaultConfigDir() : f.config);
}

sim::TrafficOptions MakeTrafficOptions(const TrafficFlags& f, const sim::Scenario& s, double* rate_out) {
  const double days = f.days > 0 ? f.days : s.days;
  const sim::TimePlan plan = sim::PlanTime(s.events_per_day, days, f.count, f.duration_s, f.rate, f.speed);
  sim::TrafficOptions o;
  o.seed = f.seed;
  o.ms_per_event = plan.ms_per_event;
  if (f.start_ms > 0) o.start_ms = f.start_ms;
  o.run_id = f.run_id;
  if (o.run_id.empty()) {
    o.run_id = "sim-" + std::to_string(f.seed) + "-" +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count() % 100000000);
  }
  if (rate_out) *rate_out = plan.rate;
  return o;
}

std::string CompressionNote(const TrafficFlags& f, const sim::TrafficOptions& o) {
  const double spread_s = o.ms_per_event * (std::max(1, f.concurrency) - 1) / 1000.0;
  if (spread_s <= 60.0) return {};
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "note: %d connections x %.0f s of simulated time per event: requests in flight span %.0f simulated "
                "seconds, more than a session's lifetime may allow; some liveness sessions can expire before their "
                "decision (fewer --days or connections avoid it)\n",
                f.concurrency, o.ms_per_event / 1000.0, spread_s);
  return buf;
}

void RegisterSimulateCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("simulate", "Drive a running server with realistic traffic, or write it to a file");
  static TrafficFlags f;
  static std::string server = "127.0.0.1:8080", key, out;
  static double progress = 2.0;
  static bool json = false, quiet = false;
  AddTrafficOptions(*cmd, f);
  cmd->add_option("--server", server, "HOST:PORT of the vigil server")->capture_default_str();
  cmd->add_option("--key", key, "API key with scopes decide and label (default: $VIGIL_API_KEY)");
  cmd->add_option("--out", out, "Write the traffic to this JSONL file instead of sending it (needs --count or --days)");
  cmd->add_option("--progress", progress, "Seconds between progress lines (0: none)")->capture_default_str();
  cmd->add_flag("--json", json, "Print the final figures as one JSON object");
  cmd->add_flag("--quiet,-q", quiet, "No progress lines");
  cmd->callback([&exit_code] {
    auto scenario = LoadTrafficScenario(f);
    if (!scenario.ok()) {
      std::cerr << "error: " << scenario.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    double rate = 0;
    if (!out.empty() && f.run_id.empty()) f.run_id = "sim-" + std::to_string(f.seed);
    sim::TrafficOptions topt = MakeTrafficOptions(f, *scenario, &rate);
    const double days = f.days > 0 ? f.days : scenario->days;
    sim::TrafficGenerator traffic(*scenario, topt);
    auto media = LoadTrafficMedia(f);
    if (!media.ok()) {
      std::cerr << "error: " << media.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    if (!out.empty()) {
      auto n = sim::WriteJsonl(traffic, out, f.count, f.count > 0 && f.days <= 0 ? 0 : days, media->get());
      if (!n.ok()) {
        std::cerr << "error: " << n.error().ToString() << "\n";
        exit_code = 2;
        return;
      }
      std::cout << "wrote " << *n << " events to " << out << "\n";
      return;
    }
    sim::DriveOptions d;
    auto colon = server.rfind(':');
    d.host = colon == std::string::npos ? server : server.substr(0, colon);
    d.port = colon == std::string::npos ? 8080 : std::atoi(server.c_str() + colon + 1);
    d.api_key = key;
    if (d.api_key.empty()) {
      if (const char* env = std::getenv("VIGIL_API_KEY")) d.api_key = env;
    }
    d.concurrency = f.concurrency;
    d.rate = rate;
    d.count = f.count;
    d.duration_s = f.duration_s;
    d.days = f.count > 0 ? 0 : days;  // with a count, --days only sets the spacing
    d.sessions = !f.no_sessions;
    d.labels = !f.no_labels;
    d.media = media->get();
    d.stop = &g_stop;
    d.progress_interval_s = progress > 0 ? progress : 1e9;
    const std::int64_t start = topt.start_ms;
    if (!quiet && progress > 0) {
      d.on_progress = [start](const sim::Snapshot& s) {
        std::cerr << sim::ProgressLine(s, static_cast<double>(start)) << "\n";
      };
    }
    std::cerr << CompressionNote(f, topt);
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    std::cerr << "vigil simulate: scenario " << scenario->name << ", seed " << f.seed << ", " << days
              << " simulated days, " << (rate > 0 ? std::to_string(static_cast<int>(rate)) + " events/s" : "max rate")
              << ", " << f.concurrency << " connections to " << server << "\n";
    auto report = sim::Drive(traffic, d);
    if (!report.ok()) {
      std::cerr << "error: " << report.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    if (json) {
      std::cout << sim::SnapshotJson(report->final) << "\n";
    } else {
      std::cout << sim::SummaryTable(report->final, start, {})
                << "sessions    " << (report->sessions_used ? "used" : "not offered by the server") << ", labels "
                << (report->labels_used ? "posted" : "not accepted by the server (no /v1/labels)") << "\n";
    }
    if (report->final.decisions == 0) exit_code = 1;
  });
}

}  // namespace vigil::cli
