// GET /v1/monitor/alerts through the real server on a simulated clock, with the shipped
// config/alerts.yaml: a burst of injection signals fires the pattern rule within one window,
// the alert carries the decisions' evidence ids and its first action, and the log route writes it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::ServerProcess;

constexpr std::int64_t kT0 = 1800000000000;

// A liveness decision with its own session, opened at the same event time.
std::string Login(HttpClient& c, ServerProcess& s, const std::string& id, std::int64_t t, bool injection) {
  auto sess = c.PostJson("/v1/sessions", nlohmann::json{{"flow_type", "login"}, {"timestamp_ms", t}}.dump(), s.admin_key());
  std::string token = sess.ok() && sess->status == 201 ? nlohmann::json::parse(sess->body)["session_token"].get<std::string>() : "";
  nlohmann::json j = {{"request_id", id}, {"flow_type", "login"}, {"timestamp_ms", t}, {"session_token", token},
                      {"context", {{"platform", "web"}, {"browser_family", "chrome"}}},
                      {"signals", {{"passive", 0.9}, {"active", 0.9}}},
                      {"security", {{"injection_signal", injection}}}};
  return j.dump();
}

TEST(AlertsServer, PatternRuleFiresWithEvidenceAndAction) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: warn\nsimulated_clock: true\n", {}, ""})) << s.error();
  HttpClient c("127.0.0.1", s.port());
  std::set<std::string> injected;
  for (int i = 0; i < 12; ++i) {
    const bool inj = i % 2 == 0;
    auto r = c.PostJson("/v1/decisions", Login(c, s, "a" + std::to_string(i), kT0 + i * 4000, inj), s.admin_key());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
    auto j = nlohmann::json::parse(r->body);
    if (inj) {
      EXPECT_EQ(j["decision"], "fail");
      injected.insert(j["evidence_id"].get<std::string>());
    }
  }
  auto none = c.Get("/v1/monitor/alerts", {{"Authorization", "Bearer " + s.admin_key()}});
  ASSERT_TRUE(none.ok());
  ASSERT_EQ(none->status, 200);
  EXPECT_EQ(nlohmann::json::parse(none->body)["firing"], 0) << "nothing is evaluated before the window ends";
  // The next minute's first decision closes the window and the rules run.
  ASSERT_EQ(c.PostJson("/v1/decisions", Login(c, s, "b0", kT0 + 60000, false), s.admin_key())->status, 200);

  EXPECT_EQ(c.Get("/v1/monitor/alerts")->status, 401);
  // OnDecided runs after the response is sent: poll briefly for the evaluation.
  nlohmann::json j;
  for (int i = 0; i < 200; ++i) {
    auto g = c.Get("/v1/monitor/alerts?state=firing", {{"Authorization", "Bearer " + s.admin_key()}});
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(g->status, 200) << g->body;
    j = nlohmann::json::parse(g->body);
    if (j["firing"] == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(j["firing"], 3);  // slices all, flow_type=login, platform=web
  const nlohmann::json* all = nullptr;
  for (const auto& a : j["alerts"]) {
    EXPECT_EQ(a["state"], "firing");
    if (a["slice"] == "all") all = &a;
  }
  ASSERT_NE(all, nullptr) << j.dump();
  EXPECT_EQ((*all)["rule"], "injection_or_virtual_camera_burst");
  EXPECT_EQ((*all)["type"], "pattern");
  EXPECT_EQ((*all)["severity"], "critical");
  EXPECT_EQ((*all)["value"], 6);
  EXPECT_EQ((*all)["first_action"], "tighten policy, review sessions, escalate fraud review");
  EXPECT_EQ((*all)["fired_at"], "2027-01-15T08:01:00.000Z");
  ASSERT_EQ((*all)["evidence_ids"].size(), 5u);
  for (const auto& id : (*all)["evidence_ids"]) EXPECT_TRUE(injected.count(id.get<std::string>())) << id;
  // The log route wrote it.
  ASSERT_EQ(s.Terminate(), 0);
  EXPECT_NE(s.stderr_text().find("\"event\":\"alert\""), std::string::npos);
  EXPECT_NE(s.stderr_text().find("injection_or_virtual_camera_burst"), std::string::npos);
}

}  // namespace
}  // namespace vigil
