// vigil demo: the product in one command. Starts `vigil serve` (embedded store, example
// configuration, simulated clock, fresh data directory), drives it with a scenario and shows a
// live summary: decision rates, latency, alerts, the metrics URL. Ctrl-C stops the traffic,
// then the server, cleanly. See README.md and docs/simulate.md.
#include <signal.h>
#include <unistd.h>

#include <simdjson.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/demo_server.h"
#include "cli/sim_common.h"
#include "client/http_client.h"
#include "simulate/driver.h"
#include "simulate/summary.h"

namespace vigil::cli {
namespace {

std::atomic<bool> g_demo_stop{false};
extern "C" void OnDemoInterrupt(int) { g_demo_stop.store(true); }

// Firing alerts from GET /v1/monitor/alerts, one line each; empty when the route is absent.
class AlertPoller {
 public:
  AlertPoller(int port, std::string key) : client_("127.0.0.1", port, std::chrono::seconds(2)), key_(std::move(key)) {}
  std::vector<std::string> Poll() {
    if (!available_) return {};
    auto r = client_.Get("/v1/monitor/alerts", {{"Authorization", "Bearer " + key_}});
    if (!r.ok()) return last_;
    if (r->status == 404 || r->status == 405) {
      available_ = false;
      return {};
    }
    if (r->status != 200) return last_;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(r->body).get(doc)) return last_;
    simdjson::dom::array list;
    if (doc.get_array().get(list) && doc["alerts"].get_array().get(list)) return last_;
    last_.clear();
    for (auto a : list) {
      std::string_view state;
      if (!a["state"].get(state) && state == "resolved") continue;
      std::string line;
      for (const char* k : {"state", "severity", "rule", "slice", "metric"}) {
        std::string_view v;
        if (!a[k].get(v) && !v.empty()) line += (line.empty() ? "" : "  ") + std::string(v);
      }
      double value = 0, baseline = 0;
      if (!a["value"].get(value)) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "  %.4g", value);
        line += buf;
        if (!a["baseline"].get(baseline)) {
          std::snprintf(buf, sizeof buf, " (baseline %.4g)", baseline);
          line += buf;
        }
      }
      last_.push_back(line.empty() ? std::string(simdjson::minify(a)).substr(0, 160) : line);
    }
    return last_;
  }
  bool available() const { return available_; }

 private:
  HttpClient client_;
  std::string key_;
  bool available_ = true;
  std::vector<std::string> last_;
};

// Whether the final figures meet the scenario's expectations; prints each one.
bool CheckExpectations(const sim::Scenario& s, const sim::Snapshot& snap) {
  bool ok = true;
  for (const auto& ex : s.expect) {
    double v = 0;
    if (ex.rate == "answered") {
      const double tried = static_cast<double>(snap.decisions + snap.Errors());
      v = tried > 0 ? static_cast<double>(snap.decisions) / tried : 0.0;
    } else {
      const bool live = ex.rate == "pass" || ex.rate == "retry" || ex.rate == "fail" || ex.rate == "review";
      v = snap.Rate(ex.rate, live);
    }
    const bool pass = v >= ex.min && v <= ex.max;
    ok = ok && pass;
    std::printf("check       %-9s %.3f in [%.2f, %.2f]: %s\n", ex.rate.c_str(), v, ex.min, ex.max, pass ? "ok" : "FAILED");
  }
  return ok;
}

bool IsOurs(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return true;
  if (std::filesystem::exists(dir / "vigil-demo.yaml", ec)) return true;
  return std::filesystem::is_empty(dir, ec);
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("demo", "Start a server with simulated traffic and show a live summary (Ctrl-C stops)");
  static TrafficFlags f;
  static std::string data = "./vigil-data-demo";
  static bool check = false, plain = false;
  static double refresh = 1.0;
  f.duration_s = 300;
  f.rate = 200;
  AddTrafficOptions(*cmd, f);
  cmd->add_option("--data", data, "Demo directory (wiped at start; kept afterwards)")->capture_default_str();
  cmd->add_option("--refresh", refresh, "Seconds between summary refreshes")->capture_default_str();
  cmd->add_flag("--check", check, "Exit 1 when the run misses the scenario's expected rates");
  cmd->add_flag("--plain", plain, "Print summaries one after another (no screen redraw)");
  cmd->callback([&exit_code] {
    namespace fs = std::filesystem;
    const std::string config_dir = fs::absolute(f.config.empty() ? DefaultConfigDir() : f.config).string();
    f.config = config_dir;
    auto scenario = LoadTrafficScenario(f);
    if (!scenario.ok()) {
      std::cerr << "error: " << scenario.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    const fs::path dir = fs::absolute(data);
    if (!IsOurs(dir)) {
      std::cerr << "error: " << dir.string() << " exists and was not made by vigil demo; choose another --data\n";
      exit_code = 2;
      return;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);

    std::signal(SIGINT, OnDemoInterrupt);
    std::signal(SIGTERM, OnDemoInterrupt);
    DemoServer server;
    DemoServerOptions so;
    so.data_dir = dir.string();
    so.config_dir = config_dir;
    if (Status s = server.Start(so); !s.ok()) {
      std::cerr << "error: " << s.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
    double rate = 0;
    sim::TrafficOptions topt = MakeTrafficOptions(f, *scenario, &rate);
    const double days = f.days > 0 ? f.days : scenario->days;
    std::string header = "vigil demo: scenario " + scenario->name + " (" + scenario->description + ")\n" +
                         "server      " + base + " (pid " + std::to_string(server.pid()) + "), data " + dir.string() +
                         "\nmetrics     " + base + "/metrics\n" + "traffic     " +
                         std::to_string(static_cast<int>(rate)) + " events/s for up to " +
                         std::to_string(static_cast<int>(f.duration_s)) + " s, " + std::to_string(days).substr(0, 4) +
                         " simulated days, seed " + std::to_string(f.seed) + "; Ctrl-C stops\n";
    header += CompressionNote(f, topt);
    std::cout << header << std::flush;

    sim::TrafficGenerator traffic(*scenario, topt);
    auto media = LoadTrafficMedia(f);
    if (!media.ok()) {
      std::cerr << "error: " << media.error().ToString() << "\n";
      (void)server.Stop();
      exit_code = 2;
      return;
    }
    sim::DriveOptions d;
    d.media = media->get();
    d.port = server.port();
    d.api_key = server.admin_key();
    d.concurrency = f.concurrency;
    d.rate = rate;
    d.count = f.count;
    d.duration_s = f.duration_s;
    d.days = f.count > 0 ? 0 : days;
    d.sessions = !f.no_sessions;
    d.labels = !f.no_labels;
    d.stop = &g_demo_stop;
    d.progress_interval_s = refresh;
    const bool tty = !plain && ::isatty(1);
    AlertPoller alerts(server.port(), server.admin_key());
    const std::int64_t start = topt.start_ms;
    d.on_progress = [&](const sim::Snapshot& s) {
      std::string table = sim::SummaryTable(s, start, alerts.Poll());
      if (tty) {
        std::cout << "\x1b[H\x1b[2J" << header << "\n" << table << std::flush;
      } else {
        std::cout << sim::ProgressLine(s, static_cast<double>(start)) << "\n" << std::flush;
      }
    };
    auto report = sim::Drive(traffic, d);
    const auto final_alerts = alerts.Poll();
    const int server_status = server.Stop();
    if (!report.ok()) {
      std::cerr << "error: " << report.error().ToString() << "\n";
      exit_code = 2;
      return;
    }
    if (tty) std::cout << "\x1b[H\x1b[2J" << header;
    std::cout << "\n" << sim::SummaryTable(report->final, start, final_alerts)
              << "sessions    " << (report->sessions_used ? "opened per liveness journey" : "not offered by this server")
              << "; labels " << (report->labels_used ? "posted to /v1/labels" : "not accepted by this server")
              << "; alerts " << (alerts.available() ? "from /v1/monitor/alerts" : "not offered by this server") << "\n";
    // The server's own count: the audit log holds one record per decision.
    std::string verify = SelfExe() + " audit verify --data " + dir.string() + "/data 2>&1";
    if (FILE* p = ::popen(verify.c_str(), "r")) {
      char buf[256];
      std::string out;
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      ::pclose(p);
      std::cout << "audit log   " << out;
    }
    std::cout << "server      stopped " << (server_status == 0 ? "cleanly" : "with status " + std::to_string(server_status))
              << "; its log is " << server.log_path() << "\n";
    if (report->final.decisions == 0) exit_code = 1;
    if (check && !CheckExpectations(*scenario, report->final)) exit_code = 1;
  });
}

}  // namespace vigil::cli
