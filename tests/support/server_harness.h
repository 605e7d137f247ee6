// Starts the real `vigil serve` binary on 127.0.0.1 and a free port, in a fresh data directory,
// for integration tests; stops it (SIGTERM, then SIGKILL) when the test ends, even on failure.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/http_client.h"
#include "test_util.h"

extern char** environ;

namespace vigil::testing {

struct ServerOptions {
  std::string config_yaml;          // extra server config (YAML), written to the config file
  std::vector<std::string> env;     // extra environment, "NAME=value"
  std::string data_dir;             // reuse a data directory (crash tests); "" = fresh
};

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() { Kill(); }

  // Before Start: another configuration directory than the source tree's config/.
  void set_config_dir(std::string dir) { config_dir_ = std::move(dir); }
  // Before Start: false makes Start return once /healthz answers (tests of a server not ready).
  void set_wait_ready(bool wait) { wait_ready_ = wait; }

  // Starts the server and waits until /readyz answers 200. Returns false (with `error()`) if not.
  bool Start(const ServerOptions& opt = {}) {
    if (opt.data_dir.empty()) {
      std::random_device rd;
      dir_ = std::filesystem::temp_directory_path() / ("vigil-test-" + std::to_string(rd()) + std::to_string(::getpid()));
      std::filesystem::create_directories(dir_);
      data_dir_ = (dir_ / "data").string();
    } else {
      data_dir_ = opt.data_dir;
      dir_ = std::filesystem::path(data_dir_).parent_path();
    }
    std::string config = (dir_ / "vigil.yaml").string();
    std::ofstream(config) << (opt.config_yaml.empty() ? "log_level: warn\n" : opt.config_yaml);
    port_file_ = (dir_ / "port").string();
    std::filesystem::remove(port_file_);
    stdout_path_ = (dir_ / ("stdout." + std::to_string(starts_))).string();
    stderr_path_ = (dir_ / ("stderr." + std::to_string(starts_))).string();
    ++starts_;
    std::vector<std::string> args = {VigilBinary(), "serve", "--config", config, "--data", data_dir_,
                                     "--listen", "127.0.0.1:0", "--port-file", port_file_,
                                     "--config-dir", config_dir_.empty() ? SourcePath("config") : config_dir_};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (const auto& e : opt.env) env_store.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return Fail("posix_spawn failed");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Running()) return Fail("server exited early: " + Slurp(stderr_path_));
      if (std::filesystem::exists(port_file_)) {
        port_ = std::atoi(Slurp(port_file_).c_str());
        if (port_ > 0) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (port_ <= 0) return Fail("no port file");
    std::string out = Slurp(stdout_path_);
    auto at = out.find("vgl_");
    if (at != std::string::npos) admin_key_ = out.substr(at, out.find('\n', at) - at);
    HttpClient c("127.0.0.1", port_);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = c.Get(wait_ready_ ? "/readyz" : "/healthz");
      if (r.ok() && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Fail("never ready");
  }

  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM and wait up to `timeout`; returns the exit code, or -1 if it had to be killed.
  int Terminate(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    if (pid_ <= 0) return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
    ::kill(pid_, SIGTERM);
    return Wait(timeout);
  }
  int Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Running()) return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Kill();
    return -1;
  }
  void Signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  void Kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string stderr_text() const { return Slurp(stderr_path_); }
  const std::string& error() const { return error_; }
  // Adds a key with the given scopes through the CLI; returns it.
  std::string AddKey(const std::string& scopes_flags, double rate = 100000, double burst = 100000) const {
    auto [code, out] = Run(VigilBinary() + " keys add --data " + data_dir_ + " " + scopes_flags + " --rate " +
                           std::to_string(rate) + " --burst " + std::to_string(burst) + " 2>/dev/null");
    if (code != 0) return "";
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

 private:
  bool Fail(std::string e) {
    error_ = std::move(e);
    Kill();
    return false;
  }
  std::filesystem::path dir_;
  std::string data_dir_, port_file_, stdout_path_, stderr_path_, admin_key_, error_, config_dir_;
  bool wait_ready_ = true;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = 0;
  int starts_ = 0;
};

// A transaction decision the shipped configuration decides (three external signals), with this
// request_id.
inline std::string TxnBody(const std::string& request_id) {
  return R"({"request_id":")" + request_id + R"(","flow_type":"transaction_approval",
  "context":{"platform":"web","browser_family":"chrome","account_id":"acct_1","amount":1000,"account_age_days":1},
  "signals":{"fraud_model":0.45,"device_risk":0.4,"behaviour":0.2}})";
}

// A sample's value in an exposition, by its name with labels; -1 when absent.
inline double MetricValue(const std::string& exposition, const std::string& name) {
  auto at = exposition.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atof(exposition.c_str() + at + name.size() + 2);
}

}  // namespace vigil::testing
