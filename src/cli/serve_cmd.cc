// vigil serve: the HTTP server. SIGTERM/SIGINT: stop accepting, finish in-flight requests,
// flush the audit log, exit 0 within the deadline. SIGHUP: reload policy, models and keys.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <dlfcn.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "core/log.h"
#include "server/app.h"
#include "server/io_pool.h"

namespace vigil::cli {
namespace {

// The malloc this process runs on: jemalloc (linked in, or preloaded) answers mallctl("version");
// otherwise the system's (glibc's, or a sanitizer's in those builds).
std::string AllocatorName() {
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  auto mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  const char* version = nullptr;
  std::size_t len = sizeof version;
  if (mallctl != nullptr && mallctl("version", &version, &len, nullptr, 0) == 0 && version != nullptr) {
    return std::string("jemalloc ") + version;
  }
  return "system";
}

int Serve(ServerConfig cfg) {
  LogLevel level;
  if (!ParseLogLevel(cfg.log_level, level)) {
    std::cerr << "error: log_level must be debug, info, warn, error or off\n";
    return 2;
  }
  SetLogLevel(level);
  // A file-size limit (ulimit -f) reached by the audit log makes the write fail with EFBIG, which
  // the store answers like a full disk (503, not ready until writes succeed again), instead of
  // killing the process with SIGXFSZ in the middle of a commit.
  std::signal(SIGXFSZ, SIG_IGN);
  std::string admin_key;
  auto app = VigilApp::Create(cfg, &admin_key);
  if (!app.ok()) {
    Log(LogLevel::kError, "startup_failed").Str("error", app.error().ToString());
    std::cerr << "error: " << app.error().ToString() << "\n";
    return 2;
  }
  if (!admin_key.empty()) {
    // Printed once, to the terminal, never to the log.
    std::cout << "vigil: created the first admin key (shown once, store it now):\n  " << admin_key << "\n"
              << std::flush;
  }
  std::int64_t descriptor_limit = -1;
  if (int fitted = FitConnectionsToDescriptors(cfg.http.max_connections, &descriptor_limit); fitted != cfg.http.max_connections) {
    Log(LogLevel::kWarn, "max_connections_lowered").Int("configured", cfg.http.max_connections).Int("max_connections", fitted)
        .Int("descriptor_limit", descriptor_limit);
    cfg.http.max_connections = fitted;
  }
  int threads = cfg.threads > 0 ? cfg.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  IoPool pool(threads);
  auto& ioc = pool.main();
  HttpServer server(pool, **app, cfg.http);
  Status observed = (*app)->ObserveHttp(server.StatsReader(), cfg.http.max_connections);
  auto port = observed.ok() ? server.Listen(cfg.listen_address, cfg.port) : Result<int>(observed.error());
  if (!port.ok()) {
    Log(LogLevel::kError, "startup_failed").Str("error", port.error().ToString());
    std::cerr << "error: " << port.error().ToString() << "\n";
    return 2;
  }
  if (!cfg.port_file.empty()) {
    std::ofstream(cfg.port_file + ".tmp") << *port << "\n";
    std::rename((cfg.port_file + ".tmp").c_str(), cfg.port_file.c_str());
  }
  auto engine = (*app)->engine();
  Log(LogLevel::kInfo, "listening").Str("version", VIGIL_VERSION_STRING).Str("address", cfg.listen_address).Int("port", *port)
      .Int("threads", threads).Int("max_connections", cfg.http.max_connections)
      .Int("descriptor_limit", descriptor_limit).Str("policy_version", engine->policy().version())
      .Str("data_dir", cfg.data_dir).Str("audit_synchronous", cfg.audit_synchronous)
      .Str("allocator", AllocatorName());

  boost::asio::signal_set signals(ioc, SIGINT, SIGTERM, SIGHUP);
  boost::asio::steady_timer drain_timer(ioc);
  bool clean = true;
  auto deadline = std::chrono::steady_clock::time_point::max();
  std::function<void()> drain = [&] {
    bool idle = server.in_flight() == 0 && server.connections() == 0;
    if (idle || std::chrono::steady_clock::now() >= deadline) {
      if (!idle) {
        clean = false;
        Log(LogLevel::kWarn, "shutdown_deadline_passed").Int("in_flight", server.in_flight());
      }
      pool.Stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(10));
    drain_timer.async_wait([&](const boost::system::error_code&) { drain(); });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      (void)(*app)->Reload();
      signals.async_wait(on_signal);
      return;
    }
    Log(LogLevel::kInfo, "shutting_down").Int("signal", sig).Int("in_flight", server.in_flight());
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg.shutdown_deadline_ms);
    (*app)->BeginShutdown();
    server.BeginShutdown();
    drain();
  };
  signals.async_wait(on_signal);

  pool.Run("vigil-io");
  (*app)->FlushAudit();
  (*app)->StopModules();
  Log(LogLevel::kInfo, "stopped").Bool("clean", clean);
  return 0;
}

}  // namespace

void RegisterServeCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("serve", "Run the HTTP server");
  static std::string config_file, listen, data, config_dir, port_file;
  cmd->add_option("--config", config_file, "Server configuration YAML (default: built-in defaults)");
  cmd->add_option("--listen", listen, "ADDRESS:PORT to listen on (default 127.0.0.1:8080; port 0 picks one)");
  cmd->add_option("--data", data, "Data directory (default ./vigil-data)");
  cmd->add_option("--config-dir", config_dir, "Directory with policy.yaml, reasons.yaml, calibration/, fusion/");
  cmd->add_option("--port-file", port_file, "Write the bound port to this file once listening");
  cmd->callback([&exit_code] {
    ServerConfig cfg;
    if (!config_file.empty()) {
      auto loaded = LoadServerConfig(config_file);
      if (!loaded.ok()) {
        std::cerr << "error: " << loaded.error().ToString() << "\n";
        exit_code = 2;
        return;
      }
      cfg = *loaded;
    }
    if (!listen.empty()) {
      if (Status s = ApplyListen(listen, cfg); !s.ok()) {
        std::cerr << "error: " << s.error().message << "\n";
        exit_code = 2;
        return;
      }
    }
    if (!data.empty()) cfg.data_dir = data;
    if (!config_dir.empty()) cfg.config_dir = config_dir;
    if (!port_file.empty()) cfg.port_file = port_file;
    exit_code = Serve(cfg);
  });
}

}  // namespace vigil::cli
