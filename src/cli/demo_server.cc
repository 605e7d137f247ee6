#include "cli/demo_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "client/http_client.h"

namespace vigil::cli {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string SelfExe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("vigil") : p.string();
}

DemoServer::~DemoServer() {
  if (pid_ > 0) Stop(5000);
}

Status DemoServer::Start(const DemoServerOptions& opt) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(opt.data_dir, ec);
  if (ec) return Error::Io("cannot create " + opt.data_dir + ": " + ec.message());
  const std::string config = opt.data_dir + "/vigil-demo.yaml";
  const std::string port_file = opt.data_dir + "/port";
  const std::string out_path = opt.data_dir + "/serve.out";
  log_path_ = opt.data_dir + "/serve.log";
  fs::remove(port_file, ec);
  {
    std::ofstream f(config);
    f << "# Written by vigil demo.\nlisten: " << opt.listen << "\ndata_dir: " << opt.data_dir << "/data\n"
      << "config_dir: " << opt.config_dir << "\nlog_level: warn\nsimulated_clock: true\n"
      << "shutdown_deadline_ms: 5000\naudit:\n  synchronous: normal\n";
    if (!f) return Error::Io("cannot write " + config);
  }
  const std::string exe = SelfExe();
  std::vector<std::string> args = {exe, "serve", "--config", config, "--port-file", port_file};
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) return Error::Io("fork failed");
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(1);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out >= 0) ::dup2(out, 1);
    if (err >= 0) ::dup2(err, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Error::Io("the server exited at start: " + Slurp(log_path_));
    }
    if (fs::exists(port_file)) {
      port_ = std::atoi(Slurp(port_file).c_str());
      if (port_ > 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (port_ <= 0) return Error::Io("the server did not start listening; see " + log_path_);
  std::string out = Slurp(out_path);
  if (auto at = out.find("vgl_"); at != std::string::npos) admin_key_ = out.substr(at, out.find('\n', at) - at);
  HttpClient c("127.0.0.1", port_);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.Get("/readyz");
    if (r.ok() && r->status == 200) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Error::Io("the server never became ready; see " + log_path_);
}

int DemoServer::Stop(int timeout_ms) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

}  // namespace vigil::cli
