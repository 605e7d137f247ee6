// A real Prometheus server (Debian's package) on a free loopback port scrapes the real vigil
// server every second while decisions are sent: PromQL answers match the requests sent, the
// shipped recording and alerting rules load and evaluate without error, and every expression of
// the Grafana dashboard is valid PromQL that the server accepts.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <iterator>
#include <regex>
#include <string>
#include <thread>

#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::ServerProcess;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

std::string UrlEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

// Prometheus as a child process; killed (by its pid) when the test ends.
class PrometheusProcess {
 public:
  ~PrometheusProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 200 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
      if (::waitpid(pid_, &status, WNOHANG) == 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  bool Start(int vigil_port, std::string* error) {
    port_ = FreePort();
    dir_ = std::filesystem::temp_directory_path() / ("vigil-prom-" + std::to_string(::getpid()) + "-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    std::string cfg = (dir_ / "prometheus.yml").string();
    std::ofstream(cfg) << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                       << "rule_files:\n  - " << testing::SourcePath("deploy/prometheus/recording_rules.yml")
                       << "\n  - " << testing::SourcePath("deploy/prometheus/alerting_rules.yml") << "\n"
                       << "scrape_configs:\n  - job_name: vigil\n    static_configs:\n"
                       << "      - targets: ['127.0.0.1:" << vigil_port << "']\n";
    std::vector<std::string> args = {VIGIL_PROMETHEUS, "--config.file=" + cfg,
                                     "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                     "--log.level=warn"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string log = (dir_ / "log").string();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = -1;
      *error = "posix_spawn prometheus failed";
      return false;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      HttpClient c("127.0.0.1", port_);
      auto r = c.Get("/-/ready");
      if (r.ok() && r->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    *error = "prometheus never ready: " + testing::Slurp(log);
    return false;
  }
  // Runs an instant query; returns the parsed response ({"status": ..., "data": ...}).
  nlohmann::json Query(const std::string& promql) {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Get("/api/v1/query?query=" + UrlEncode(promql));
    if (!r.ok()) return {{"status", "transport-error"}};
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    return j.is_discarded() ? nlohmann::json{{"status", "bad-json"}, {"body", r->body}} : j;
  }
  // The single value of a scalar-like query, or NaN when there is none.
  double Value(const std::string& promql) {
    auto j = Query(promql);
    if (j["status"] != "success" || j["data"]["result"].empty()) return std::nan("");
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  }
  nlohmann::json Get(const std::string& target) {
    HttpClient c("127.0.0.1", port_);
    auto r = c.Get(target);
    if (!r.ok()) return {};
    return nlohmann::json::parse(r->body, nullptr, false);
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string Txn(const std::string& id, const std::string& platform) {
  return R"({"request_id":")" + id + R"(","flow_type":"transaction_approval","context":{"platform":")" +
         platform +
         R"(","browser_family":"firefox","device_class":"low","sdk_version":"web-9.9.9","app_version":"9.9",)"
         R"("account_id":"acct_)" + id + R"(","amount":75,"account_age_days":400},"signals":{"fraud_model":0.1,"device_risk":0.1,"behaviour":0.1}})";
}

// Polls `promql` until it equals `want` (Prometheus scrapes every second).
bool Eventually(PrometheusProcess& prom, const std::string& promql, double want, double* got) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    *got = prom.Value(promql);
    if (*got == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

TEST(PrometheusScrape, PromqlAnswersMatchTheRequestsSent) {
  ServerProcess vigil;
  ASSERT_TRUE(vigil.Start()) << vigil.error();
  PrometheusProcess prom;
  std::string error;
  ASSERT_TRUE(prom.Start(vigil.port(), &error)) << error;
  double got = 0;
  ASSERT_TRUE(Eventually(prom, "up{job=\"vigil\"}", 1, &got)) << got;

  // Requests run while Prometheus scrapes: 24 web and 16 ios decisions over about 2 seconds.
  std::thread sender([&] {
    HttpClient c("127.0.0.1", vigil.port());
    for (int i = 0; i < 40; ++i) {
      auto r = c.PostJson("/v1/decisions", Txn("prom_" + std::to_string(i), i % 5 < 3 ? "web" : "ios"),
                          vigil.admin_key());
      EXPECT_TRUE(r.ok() && r->status == 200);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (int i = 0; i < 3; ++i) (void)c.PostJson("/v1/decisions", "{oops", vigil.admin_key());
  });
  sender.join();

  EXPECT_TRUE(Eventually(prom, "sum(vigil_decisions_total{sdk_version=\"web-9.9.9\"})", 40, &got)) << got;
  EXPECT_TRUE(Eventually(prom, "sum(vigil_decisions_total{sdk_version=\"web-9.9.9\",platform=\"web\"})", 24, &got)) << got;
  EXPECT_TRUE(Eventually(prom, "sum(vigil_decisions_total{platform=\"ios\",browser_family=\"firefox\",device_class=\"low\"})", 16, &got)) << got;
  EXPECT_TRUE(Eventually(prom, "sum(vigil_decision_latency_seconds_count{flow_type=\"transaction_approval\"})", 40, &got)) << got;
  EXPECT_TRUE(Eventually(prom, "sum(vigil_problems_total{type=\"malformed-json\"})", 3, &got)) << got;
  EXPECT_TRUE(Eventually(prom, "sum(vigil_signal_score_count{signal=\"fraud_model\"})", 40, &got)) << got;
  double p95 = prom.Value("histogram_quantile(0.95, sum by (le) (vigil_decision_latency_seconds_bucket))");
  EXPECT_GT(p95, 0);
  EXPECT_LT(p95, 10);

  // The shipped rules load and evaluate cleanly (wait for an evaluation after the data arrived).
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  auto rules = prom.Get("/api/v1/rules");
  ASSERT_EQ(rules["status"], "success") << rules.dump();
  int count = 0;
  for (const auto& g : rules["data"]["groups"]) {
    for (const auto& r : g["rules"]) {
      ++count;
      EXPECT_EQ(r["health"], "ok") << r.dump();
    }
  }
  // Every rule in the two files loaded: as many as they declare (`- alert:` / `- record:` lines).
  int declared = 0;
  for (const char* file : {"deploy/prometheus/recording_rules.yml", "deploy/prometheus/alerting_rules.yml"}) {
    const std::string text = testing::Slurp(testing::SourcePath(file));
    const std::regex rule_line(R"(^\s*- (alert|record):)", std::regex::multiline);
    declared += static_cast<int>(std::distance(std::sregex_iterator(text.begin(), text.end(), rule_line), std::sregex_iterator()));
  }
  EXPECT_GE(declared, 20);
  EXPECT_EQ(count, declared);
  EXPECT_FALSE(std::isnan(prom.Value("vigil:decisions:rate5m{platform=\"web\"}")));

  // Every dashboard expression, with its template variables filled in, is accepted.
  auto dash = nlohmann::json::parse(testing::Slurp(testing::SourcePath("deploy/grafana/vigil-dashboard.json")));
  int exprs = 0;
  for (const auto& panel : dash["panels"]) {
    if (!panel.contains("targets")) continue;
    for (const auto& t : panel["targets"]) {
      std::string e = t["expr"];
      for (const std::string var : {"$flow_type", "$platform", "$device_class", "$browser_family", "$sdk_version",
                                    "$app_version", "$model_version", "$policy_version"}) {
        for (auto at = e.find(var); at != std::string::npos; at = e.find(var)) e.replace(at, var.size(), ".*");
      }
      for (const std::string var : {"$__rate_interval", "$__interval"}) {
        for (auto at = e.find(var); at != std::string::npos; at = e.find(var)) e.replace(at, var.size(), "1m");
      }
      auto j = prom.Query(e);
      EXPECT_EQ(j["status"], "success") << panel["title"] << ": " << e << "\n" << j.dump();
      ++exprs;
    }
  }
  EXPECT_GT(exprs, 20);
  EXPECT_EQ(vigil.Terminate(), 0);
}

}  // namespace
}  // namespace vigil
