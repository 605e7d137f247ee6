// The server `vigil demo` runs: this same binary as `vigil serve`, a child process in its own
// process group (Ctrl-C reaches the demo, which then stops traffic first and the server second),
// killed by the kernel if the demo dies (PR_SET_PDEATHSIG). Embedded store in a fresh data
// directory, the example configuration, a simulated clock. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <string>

#include "core/result.h"

namespace vigil::cli {

struct DemoServerOptions {
  std::string data_dir;     // created if missing; must not hold another server's data
  std::string config_dir;   // policy, calibration, fusion, scenarios
  std::string listen = "127.0.0.1:0";
};

class DemoServer {
 public:
  DemoServer() = default;
  ~DemoServer();
  DemoServer(const DemoServer&) = delete;
  DemoServer& operator=(const DemoServer&) = delete;

  // Starts the server and waits (up to 30 s) until /readyz answers 200.
  Status Start(const DemoServerOptions& options);
  // SIGTERM, then waits up to `timeout_ms` (SIGKILL after it). Returns the exit status, -1 if killed.
  int Stop(int timeout_ms = 15000);

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& log_path() const { return log_path_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string admin_key_, log_path_;
};

// The path of the running binary (to start it again as the server).
std::string SelfExe();

}  // namespace vigil::cli
