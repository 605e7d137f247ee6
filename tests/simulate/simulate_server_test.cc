// The simulator against the real server, and `vigil demo` end to end: every request answered,
// the simulator's decision count equal to what the server's audit log holds, event time taken
// from the simulated clock, the demo's summary consistent with the audit count.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>

#include "support/audit_db.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::AuditCount;
using testing::ServerProcess;
using testing::VigilBinary;

TEST(SimulateServer, DrivesTheServerOnSimulatedTime) {
  ServerProcess server;
  testing::ServerOptions opt;
  opt.config_yaml = "log_level: warn\nsimulated_clock: true\naudit:\n  synchronous: normal\n";
  ASSERT_TRUE(server.Start(opt)) << server.error();
  auto [code, out] = testing::Run(VigilBinary() + " simulate --server 127.0.0.1:" + std::to_string(server.port()) + " --key " +
                         server.admin_key() + " --count 400 -c 4 --seed 5 --run-id it --quiet --json --days 0.05");
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  const std::int64_t decisions = j["decisions"];
  EXPECT_GE(decisions, 400);  // liveness retries add decisions
  EXPECT_EQ(j["events"], 400);
  EXPECT_TRUE(j["errors"].empty()) << j.dump();
  std::int64_t sum = 0;
  for (auto& [k, v] : j["outcomes"].items()) sum += v.get<std::int64_t>();
  EXPECT_EQ(sum, decisions);
  EXPECT_GT(j["latency_ms"]["p50"].get<double>(), 0.0);
  // One audit record per decision (sessions and labels, when the server has them, may add their own).
  ASSERT_EQ(server.Terminate(), 0);
  const std::int64_t audited = AuditCount(server.data_dir());
  EXPECT_GE(audited, decisions);
  EXPECT_LE(audited, decisions + j["sessions"].get<std::int64_t>() + j["labels"]["posted"].get<std::int64_t>());
  EXPECT_EQ(server.stderr_text().find("session_token_refused"), std::string::npos);
}

TEST(SimulateServer, EventTimeIsTheSimulatedTime) {
  ServerProcess server;
  testing::ServerOptions opt;
  opt.config_yaml = "log_level: warn\nsimulated_clock: true\n";
  ASSERT_TRUE(server.Start(opt)) << server.error();
  auto [code, out] = testing::Run(VigilBinary() + " simulate --server 127.0.0.1:" + std::to_string(server.port()) + " --key " +
                         server.admin_key() + " --count 20 -c 1 --run-id st --quiet --json --start-ms 1800000000000");
  ASSERT_EQ(code, 0) << out;
  HttpClient c("127.0.0.1", server.port());
  auto r = c.Get("/v1/decisions/st-0", {{"Authorization", "Bearer " + server.admin_key()}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["time"].get<std::string>().substr(0, 10), "2027-01-15") << r->body;  // 1.8e12 ms
}

// --media: real frames reach the quality gate, the challenge check and the cues. A genuine user
// with a good capture follows the head-turn challenge and passes; the audit records keep only the
// media's digest.
TEST(SimulateServer, MediaFramesAreDecidedOnTheirPixels) {
  ServerProcess server;
  testing::ServerOptions opt;
  opt.config_yaml = "log_level: warn\nsimulated_clock: true\naudit:\n  synchronous: normal\n";
  ASSERT_TRUE(server.Start(opt)) << server.error();
  auto [code, out] = testing::Run(VigilBinary() + " simulate --server 127.0.0.1:" + std::to_string(server.port()) + " --key " +
                         server.admin_key() + " --media --count 60 -c 2 --seed 11 --run-id md --quiet --json --days 0.02");
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_TRUE(j["errors"].empty()) << j.dump();
  ASSERT_GT(j["liveness_decisions"].get<std::int64_t>(), 10) << j.dump();
  const double genuine = j["truth"]["genuine"].get<double>();
  ASSERT_GT(genuine, 5) << j.dump();
  // Without frames that follow the challenge every genuine attempt fails it (CHALLENGE_FAILED).
  // The head pose needs BlazeFace's keypoints (scripts/install-deps.sh fetches the model).
  if (std::filesystem::exists(testing::SourcePath("third_party/npm/blazeface/face_detection_front_128x128_barracuda.onnx"))) {
    EXPECT_GT(j["truth"]["genuine_passed"].get<double>() / genuine, 0.6) << j.dump();
  }
  ASSERT_EQ(server.Terminate(), 0);
  const std::int64_t with_media = testing::AuditScalar(
      server.data_dir(), "SELECT count(*) FROM audit WHERE payload LIKE '%\"media_sha256\"%'");
  EXPECT_GE(with_media, j["liveness_decisions"].get<std::int64_t>()) << "every liveness decision was made on frames";
  EXPECT_EQ(testing::AuditScalar(server.data_dir(), "SELECT count(*) FROM audit WHERE payload LIKE '%/9j/%' OR response LIKE '%/9j/%'"), 0)
      << "no JPEG bytes (base64 '/9j/') in the audit log";
}

TEST(SimulateServer, RefusesAnUnreachableServer) {
  auto [code, out] = testing::Run(VigilBinary() + " simulate --server 127.0.0.1:1 --count 5 --quiet 2>&1");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("cannot reach"), std::string::npos) << out;
}

TEST(Demo, ShortRunAnswersEveryRequestAndMatchesTheAuditLog) {
  const auto dir = std::filesystem::temp_directory_path() / ("vigil-demo-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  // 0.1 simulated days in 5 s: events in flight stay within a session's lifetime.
  auto [code, out] = testing::Run(VigilBinary() + " demo --duration 5 --rate 150 --days 0.1 --plain --check --seed 3 --data " +
                         dir.string() + " --config " + testing::SourcePath("config") + " 2>&1");
  EXPECT_EQ(code, 0) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(decisions\s+(\d+) in)"))) << out;
  const long decisions = std::stol(m[1]);
  EXPECT_GT(decisions, 200) << out;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(ok: (\d+) records, chain intact)"))) << out;
  const long audited = std::stol(m[1]);
  std::smatch s;
  long sessions = 0, labels = 0;
  if (std::regex_search(out, s, std::regex(R"((\d+) sessions)"))) sessions = std::stol(s[1]);
  if (std::regex_search(out, s, std::regex(R"((\d+) posted)"))) labels = std::stol(s[1]);
  EXPECT_GE(audited, decisions) << out;
  EXPECT_LE(audited, decisions + sessions + labels) << out;
  EXPECT_NE(out.find("errors      none"), std::string::npos) << out;
  EXPECT_NE(out.find("/metrics"), std::string::npos);
  EXPECT_NE(out.find("stopped cleanly"), std::string::npos) << out;
  EXPECT_EQ(out.find("FAILED"), std::string::npos) << out;
  EXPECT_EQ(out.find("note:"), std::string::npos) << out;
  // No session was refused: every liveness journey used its own fresh tokens.
  EXPECT_EQ(testing::Slurp(dir.string() + "/serve.log").find("session_token_refused"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
