// The HTTP API against the real binary: the happy path, idempotency, the whole bad-input table
// (each answer checked, the audit log checked unchanged), readiness and reload, a full disk and
// overload. The transport's connection and memory limits are in connections_test.cc.
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <ostream>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "support/audit_db.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::AuditCount;
using testing::MetricValue;
using testing::ServerProcess;
using testing::TxnBody;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start({"log_level: warn\nhttp: {max_body_bytes: 65536, read_timeout_ms: 400}\n", {}, ""}))
        << server_->error();
    ASSERT_FALSE(server_->admin_key().empty());
    read_key_ = server_->AddKey("--scope read");
    slow_key_ = server_->AddKey("--scope decide", 0.001, 1);
    server_->Signal(SIGHUP);  // load the new keys
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Terminate(), 0);
    delete server_;
  }
  HttpClient Client() { return HttpClient("127.0.0.1", server_->port()); }
  static ServerProcess* server_;
  static std::string read_key_, slow_key_;
};
ServerProcess* ServerTest::server_ = nullptr;
std::string ServerTest::read_key_, ServerTest::slow_key_;

TEST_F(ServerTest, HealthAndReadiness) {
  auto c = Client();
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->status, 200);
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(nlohmann::json::parse(r->body)["checks"]["store"], true);
}

TEST_F(ServerTest, DecisionIsAuditedAndReadable) {
  auto c = Client();
  std::int64_t before = AuditCount(server_->data_dir());
  auto r = c.PostJson("/v1/decisions", TxnBody("srv_happy_1"), server_->admin_key());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = nlohmann::json::parse(r->body);
  // The hosted fraud model (config/models, docs/transactions.md) scores this request rather than
  // the client's 0.45, so the outcome is the model's; tests/transaction checks outcomes.
  const std::string outcome = j["decision"];
  EXPECT_TRUE(outcome == "allow" || outcome == "challenge" || outcome == "deny") << outcome;
  std::string evidence = j["evidence_id"];
  EXPECT_EQ(evidence.size(), 64u);
  EXPECT_NE(evidence, std::string(64, '0'));
  EXPECT_EQ(AuditCount(server_->data_dir()), before + 1);

  auto g = c.Get("/v1/decisions/srv_happy_1", {{"Authorization", "Bearer " + read_key_}});
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->status, 200) << g->body;
  auto gj = nlohmann::json::parse(g->body);
  EXPECT_EQ(gj["evidence_id"], evidence);
  EXPECT_EQ(gj["record"]["decision"]["outcome_name"], outcome);
  EXPECT_EQ(gj["response"]["evidence_id"], evidence);
  EXPECT_TRUE(gj["record"]["request"]["context"]["account_id"].get<std::string>().rfind("ps_", 0) == 0)
      << "subject ids are stored as pseudonyms";
  EXPECT_EQ(gj["record"]["request"]["signals"]["behaviour"], 0.2);

  auto missing = c.Get("/v1/decisions/never_seen", {{"Authorization", "Bearer " + read_key_}});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ServerTest, RequestIdIsAnIdempotencyKey) {
  auto c = Client();
  auto first = c.PostJson("/v1/decisions", TxnBody("srv_idem_1"), server_->admin_key());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 200);
  std::int64_t after_first = AuditCount(server_->data_dir());
  auto again = c.PostJson("/v1/decisions", TxnBody("srv_idem_1"), server_->admin_key());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(again->body, first->body) << "the stored decision, not a second evaluation";
  EXPECT_EQ(again->Header("idempotent-replay"), "true");
  std::string other = TxnBody("srv_idem_1");
  other.replace(other.find("0.45"), 4, "0.95");
  auto conflict = c.PostJson("/v1/decisions", other, server_->admin_key());
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->status, 409);
  EXPECT_EQ(nlohmann::json::parse(conflict->body)["type"], "urn:vigil:problem:idempotency-conflict");
  EXPECT_EQ(AuditCount(server_->data_dir()), after_first);
}

TEST_F(ServerTest, ConcurrentDuplicatesGetOneDecision) {
  std::vector<std::thread> threads;
  std::vector<std::string> bodies(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      HttpClient c("127.0.0.1", server_->port());
      auto r = c.PostJson("/v1/decisions", TxnBody("srv_race_1"), server_->admin_key());
      if (r.ok() && r->status == 200) bodies[static_cast<std::size_t>(i)] = r->body;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& b : bodies) EXPECT_EQ(b, bodies[0]);
  EXPECT_FALSE(bodies[0].empty());
}

struct Bad {
  const char* name;
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  int key;  // 0 none, 1 admin, 2 read-only, 3 garbage
  int status;
  const char* type;
};
void PrintTo(const Bad& v, std::ostream* os) { *os << v.name; }

class BadInput : public ServerTest, public ::testing::WithParamInterface<Bad> {};

TEST_P(BadInput, ClearProblemAndNothingWritten) {
  const Bad& b = GetParam();
  auto c = Client();
  std::int64_t before = AuditCount(server_->data_dir());
  std::vector<std::pair<std::string, std::string>> h;
  if (!b.content_type.empty()) h.emplace_back("Content-Type", b.content_type);
  if (b.key == 1) h.emplace_back("Authorization", "Bearer " + server_->admin_key());
  if (b.key == 2) h.emplace_back("Authorization", "Bearer " + read_key_);
  if (b.key == 3) h.emplace_back("Authorization", "Bearer vgl_00000000_notakeynotakeynotakeynotakeynotakeynotakey1");
  auto r = c.Request(b.method, b.target, b.body, h);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, b.status) << r->body;
  EXPECT_EQ(r->Header("content-type"), "application/problem+json");
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["type"], std::string("urn:vigil:problem:") + b.type);
  EXPECT_EQ(j["status"], b.status);
  EXPECT_TRUE(j.contains("title"));
  if (b.status == 401) {
    EXPECT_EQ(r->Header("www-authenticate"), "Bearer");
  }
  if (b.status == 405) {
    EXPECT_FALSE(r->Header("allow").empty());
  }
  EXPECT_EQ(AuditCount(server_->data_dir()), before) << "a rejected request writes nothing";
}

const std::string kJson = "application/json";

INSTANTIATE_TEST_SUITE_P(
    Table, BadInput,
    ::testing::Values(
        Bad{"malformed_json", "POST", "/v1/decisions", "{\"request_id\": ", kJson, 1, 400, "malformed-json"},
        Bad{"nan", "POST", "/v1/decisions", R"({"request_id":"b1","flow_type":"login","signals":{"passive":NaN}})", kJson, 1, 400, "malformed-json"},
        Bad{"infinite", "POST", "/v1/decisions", R"({"request_id":"b1","flow_type":"login","signals":{"passive":1e999}})", kJson, 1, 422, "invalid-number"},
        Bad{"wrong_type", "POST", "/v1/decisions", R"({"request_id":"b1","flow_type":"login","signals":{"passive":"high"}})", kJson, 1, 422, "wrong-type"},
        Bad{"missing_field", "POST", "/v1/decisions", R"({"request_id":"b1"})", kJson, 1, 422, "missing-field"},
        Bad{"unknown_flow", "POST", "/v1/decisions", R"({"request_id":"b1","flow_type":"mortgage"})", kJson, 1, 422, "unknown-flow"},
        Bad{"unknown_signal", "POST", "/v1/decisions", R"({"request_id":"b1","flow_type":"transaction_approval","signals":{"mystery":0.5}})", kJson, 1, 422, "unknown-signal"},
        Bad{"unknown_field", "POST", "/v1/decisions", R"({"request_id":"b1","flow_type":"login","extra":1})", kJson, 1, 422, "unknown-field"},
        Bad{"body_too_large", "POST", "/v1/decisions", std::string(70000, ' '), kJson, 1, 413, "body-too-large"},
        Bad{"wrong_content_type", "POST", "/v1/decisions", TxnBody("b2"), "text/plain", 1, 415, "unsupported-media-type"},
        Bad{"unknown_route", "GET", "/v1/nothing", "", "", 1, 404, "not-found"},
        Bad{"wrong_method", "DELETE", "/v1/decisions", "", "", 1, 405, "method-not-allowed"},
        Bad{"no_key", "POST", "/v1/decisions", TxnBody("b3"), kJson, 0, 401, "unauthorized"},
        Bad{"bad_key", "POST", "/v1/decisions", TxnBody("b3"), kJson, 3, 401, "unauthorized"},
        Bad{"wrong_scope", "POST", "/v1/decisions", TxnBody("b3"), kJson, 2, 403, "forbidden"}),
    [](const auto& param_info) { return vigil::testing::ParamName(param_info.param); });

TEST_F(ServerTest, RateLimitedWithRetryAfter) {
  auto c = Client();
  std::int64_t before = AuditCount(server_->data_dir());
  auto first = c.PostJson("/v1/decisions", TxnBody("srv_rate_1"), slow_key_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200) << first->body;  // the bucket holds one token
  auto second = c.PostJson("/v1/decisions", TxnBody("srv_rate_2"), slow_key_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 429);
  EXPECT_EQ(nlohmann::json::parse(second->body)["type"], "urn:vigil:problem:rate-limited");
  EXPECT_GE(std::atoi(second->Header("retry-after").c_str()), 1);
  EXPECT_EQ(AuditCount(server_->data_dir()), before + 1);
}

TEST_F(ServerTest, SlowRequestIsCutOffAtTheReadTimeout) {
  auto c = Client();
  // Headers promise a body that never comes; read_timeout_ms is 400: the server closes.
  auto start = std::chrono::steady_clock::now();
  auto r = c.Raw("POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":");
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(r.ok()) << "no response to a request that never finished";
  EXPECT_GE(waited, 0.35);
  EXPECT_LT(waited, 5.0);
}

TEST_F(ServerTest, MalformedHttpIsRejected) {
  auto c = Client();
  auto r = c.Raw("NOT-HTTP\r\n\r\n");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, ReloadRefusesABadPolicyAndKeepsServing) {
  auto c = Client();
  auto ok = c.Request("POST", "/v1/admin/reload", "", {{"Authorization", "Bearer " + server_->admin_key()}});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto forbidden = c.Request("POST", "/v1/admin/reload", "", {{"Authorization", "Bearer " + read_key_}});
  ASSERT_TRUE(forbidden.ok());
  EXPECT_EQ(forbidden->status, 403);
}

// The startup line names the allocator; a build linked with jemalloc (VIGIL_JEMALLOC, the default
// when libjemalloc-dev is installed) runs on it.
TEST(ServerStartup, LogsTheAllocatorItRunsOn) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: info\n", {}, ""})) << s.error();
  const std::string log = s.stderr_text();
  std::string allocator, version;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"event\":\"listening\"") == std::string::npos) continue;
    allocator = nlohmann::json::parse(line).value("allocator", "");
    version = nlohmann::json::parse(line).value("version", "");
  }
  EXPECT_EQ(s.Terminate(), 0);
  EXPECT_EQ(version, VIGIL_PROJECT_VERSION) << log;  // the build's version, also vigil --version's
#ifdef VIGIL_EXPECT_JEMALLOC
  EXPECT_EQ(allocator.rfind("jemalloc ", 0), 0u) << log;
#else
  EXPECT_EQ(allocator, "system") << log;
#endif
}

// `vigil --version` names the build's version (the project's, from CMake) and exits 0, as
// operators check which binary a host runs; the server's startup line carries the same (above).
TEST(ServerStartup, VersionFlagPrintsTheBuildsVersion) {
  auto [code, out] = testing::Run(testing::VigilBinary() + " --version");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, std::string("vigil ") + VIGIL_PROJECT_VERSION + "\n");
}

// The disk fills (here: a file-size limit set on the running server with prlimit, so every write
// past the first 4 KB of a file fails, as on a full disk): decisions get 503 problem+json and
// nothing is acknowledged, /readyz says not ready, the process lives on; once writes succeed
// again the server is ready again by itself, with no decision sent to it, and a retry of a failed
// decision is decided anew (it was never in the log).
TEST(ServerDiskFull, DecisionsFailClearlyAndReadinessComesBackWithTheDisk) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: warn\n", {}, ""})) << s.error();
  HttpClient c("127.0.0.1", s.port());
  auto first = c.PostJson("/v1/decisions", TxnBody("disk_0"), s.admin_key());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->status, 200) << first->body;

  // The soft limit only: the hard one stays as it was, so no privilege is needed to lift it again.
  struct rlimit was {};
  ASSERT_EQ(::prlimit(s.pid(), RLIMIT_FSIZE, nullptr, &was), 0) << std::strerror(errno);
  struct rlimit full = {4096, was.rlim_max};
  ASSERT_EQ(::prlimit(s.pid(), RLIMIT_FSIZE, &full, nullptr), 0) << std::strerror(errno);
  for (int i = 1; i <= 3; ++i) {
    auto r = c.PostJson("/v1/decisions", TxnBody("disk_" + std::to_string(i)), s.admin_key());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_EQ(r->Header("content-type"), "application/problem+json");
    EXPECT_EQ(nlohmann::json::parse(r->body)["type"], "urn:vigil:problem:overloaded");
    EXPECT_FALSE(r->Header("retry-after").empty());
  }
  auto not_ready = c.Get("/readyz");
  ASSERT_TRUE(not_ready.ok());
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_EQ(nlohmann::json::parse(not_ready->body)["checks"]["store"], false);
  EXPECT_TRUE(s.Running()) << "killed by SIGXFSZ";
  // What an operator's alert reads (VigilAuditNotWritable).
  auto metrics = c.Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("\nvigil_audit_writable 0\n"), std::string::npos);
  EXPECT_EQ(metrics->body.find("\nvigil_audit_commit_failures_total 0\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\nvigil_audit_commit_failures_total "), std::string::npos);

  ASSERT_EQ(::prlimit(s.pid(), RLIMIT_FSIZE, &was, nullptr), 0);
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto r = c.Get("/readyz");
    status = r.ok() ? r->status : 0;
  }
  EXPECT_EQ(status, 200) << "not ready again, 10 s after the disk took writes again";
  auto after = c.Get("/metrics");
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->body.find("\nvigil_audit_writable 1\n"), std::string::npos);

  auto retried = c.PostJson("/v1/decisions", TxnBody("disk_1"), s.admin_key());
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->status, 200) << retried->body;
  EXPECT_TRUE(retried->Header("idempotent-replay").empty()) << "the failed decision was in the log";
  ASSERT_EQ(s.Terminate(), 0);
  EXPECT_EQ(AuditCount(s.data_dir()), 2);
  auto [code, out] = testing::Run(testing::VigilBinary() + " audit verify --data " + s.data_dir());
  EXPECT_EQ(code, 0) << out;
}

TEST(ServerOverload, AnswersServiceUnavailableBeyondTheInFlightBound) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: warn\nhttp: {max_in_flight: 1}\n", {}, ""})) << s.error();
  std::atomic<int> ok{0}, overloaded{0}, other{0};
  std::atomic<bool> retry_after_ok{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", s.port());
      for (int i = 0; i < 20; ++i) {
        auto r = c.PostJson("/v1/decisions", TxnBody("ovl_" + std::to_string(t) + "_" + std::to_string(i)), s.admin_key());
        if (!r.ok()) {
          ++other;
        } else if (r->status == 200) {
          ++ok;
        } else if (r->status == 503) {
          ++overloaded;
          if (r->Header("retry-after").empty() ||
              nlohmann::json::parse(r->body)["type"] != "urn:vigil:problem:overloaded") {
            retry_after_ok = false;
          }
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(overloaded.load(), 0);
  EXPECT_GT(ok.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_TRUE(retry_after_ok.load());
  // Answered by the transport, and counted: the 5xx alert reads this series.
  HttpClient c("127.0.0.1", s.port());
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(MetricValue(m->body, "vigil_problems_total{type=\"overloaded\",route=\"(transport)\"}"), overloaded.load())
      << m->body.substr(m->body.find("vigil_problems_total"), 600);
  EXPECT_EQ(s.Terminate(), 0);
  EXPECT_EQ(AuditCount(s.data_dir()), ok.load()) << "every 200 is in the log, no 503 is";
}

}  // namespace
}  // namespace vigil
