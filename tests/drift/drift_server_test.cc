// GET /v1/monitor/drift through the real server on a simulated clock: a frozen reference, a
// shifted window, the measures that show it, the stored reference surviving a restart.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::ServerProcess;

constexpr std::int64_t kT0 = 1800000000000;  // a whole minute

std::string Login(const std::string& id, double passive, double active, std::int64_t t, const char* platform) {
  nlohmann::json j = {{"request_id", id}, {"flow_type", "login"}, {"timestamp_ms", t},
                      {"context", {{"platform", platform}, {"browser_family", "chrome"}, {"device_class", "mid"}}},
                      {"signals", {{"passive", passive}, {"active", active}}}};
  return j.dump();
}

const nlohmann::json* Find(const nlohmann::json& arr, const std::string& slice, const std::string& key, const std::string& value) {
  for (const auto& e : arr) {
    if (e["slice"] == slice && e[key] == value) return &e;
  }
  return nullptr;
}

TEST(DriftServer, FrozenReferenceShiftedWindowAndRestart) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: warn\nsimulated_clock: true\n", {}, ""})) << s.error();
  std::string read_key = s.AddKey("--scope read");
  s.Signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  HttpClient c("127.0.0.1", s.port());
  // Each liveness decision needs a session (POST /v1/sessions) opened at the same event time.
  auto decide = [&](std::string body) {
    auto j = nlohmann::json::parse(body);
    auto sess = c.PostJson("/v1/sessions", nlohmann::json{{"flow_type", "login"}, {"timestamp_ms", j["timestamp_ms"]}}.dump(),
                           s.admin_key());
    ASSERT_TRUE(sess.ok());
    ASSERT_EQ(sess->status, 201) << sess->body;
    j["session_token"] = nlohmann::json::parse(sess->body)["session_token"];
    auto r = c.PostJson("/v1/decisions", j.dump(), s.admin_key());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  };
  // Window 1: genuine-looking scores, web and ios.
  for (int i = 0; i < 80; ++i) {
    decide(Login("w1_" + std::to_string(i), 0.75 + 0.2 * ((i * 37) % 100) / 100.0, 0.8, kT0 + i * 500,
                 i % 2 ? "web" : "ios"));
  }
  // OnDecided runs after the response is sent: wait until the monitor has seen all 80.
  auto report = [&] {
    auto g = c.Get("/v1/monitor/drift", {{"Authorization", "Bearer " + read_key}});
    return g.ok() && g->status == 200 ? nlohmann::json::parse(g->body) : nlohmann::json();
  };
  auto wait_for = [&](auto pred) {
    for (int i = 0; i < 200; ++i) {
      auto j = report();
      if (!j.is_null() && pred(j)) return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return report();
  };
  wait_for([](const nlohmann::json& j) { return !j["open_window"].is_null() && j["open_window"]["decisions"] == 80; });
  auto freeze = c.Request("POST", "/v1/monitor/drift/reference", R"({"label":"release-1"})",
                          {{"Authorization", "Bearer " + s.admin_key()}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(freeze.ok());
  ASSERT_EQ(freeze->status, 200) << freeze->body;
  auto forbidden = c.Request("POST", "/v1/monitor/drift/reference", "", {{"Authorization", "Bearer " + read_key}});
  ASSERT_TRUE(forbidden.ok());
  EXPECT_EQ(forbidden->status, 403);
  // Window 2: a browser release shifts passive scores down; traffic moves to web.
  for (int i = 0; i < 80; ++i) {
    decide(Login("w2_" + std::to_string(i), 0.35 + 0.2 * ((i * 37) % 100) / 100.0, 0.8, kT0 + 60000 + i * 500,
                 i % 8 ? "web" : "ios"));
  }
  decide(Login("w3_0", 0.8, 0.8, kT0 + 120000, "web"));  // closes window 2

  auto unauth = c.Get("/v1/monitor/drift");
  ASSERT_TRUE(unauth.ok());
  EXPECT_EQ(unauth->status, 401);
  auto j = wait_for([](const nlohmann::json& r) { return r["current_window"].is_object() && r["current_window"]["start"] == "2027-01-15T08:01:00.000Z"; });
  ASSERT_FALSE(j.is_null());
  EXPECT_EQ(j["reference"]["mode"], "frozen");
  EXPECT_EQ(j["reference"]["label"], "release-1");
  EXPECT_EQ(j["window_ms"], 60000);
  EXPECT_EQ(j["current_window"]["start"], "2027-01-15T08:01:00.000Z");
  const auto* passive = Find(j["series"], "all", "feature", "score.passive");
  ASSERT_NE(passive, nullptr) << j.dump().substr(0, 2000);
  EXPECT_TRUE((*passive)["enough_data"].get<bool>());
  const auto& d = (*passive)["drift"];
  EXPECT_EQ(d["n_reference"], 80);
  EXPECT_EQ(d["n_current"], 80);
  EXPECT_GT(d["psi"].get<double>(), 1.0);
  EXPECT_GT(d["ks_statistic"].get<double>(), 0.9);
  EXPECT_LT(d["ks_p_value"].get<double>(), 1e-6);
  EXPECT_GT(d["js_distance"].get<double>(), 0.8);
  EXPECT_GT(d["wasserstein"].get<double>(), 0.1);  // on calibrated scores, not the raw 0.4 shift
  // The active score did not move.
  const auto* active = Find(j["series"], "all", "feature", "score.active");
  ASSERT_NE(active, nullptr);
  EXPECT_LT((*active)["drift"]["psi"].get<double>(), 1e-9);
  // Per-slice series and the platform mix.
  EXPECT_NE(Find(j["series"], "platform=web", "feature", "score.passive"), nullptr);
  EXPECT_NE(Find(j["series"], "flow_type=login", "feature", "score.fusion"), nullptr);
  const auto* mix = Find(j["mix"], "all", "field", "platform");
  ASSERT_NE(mix, nullptr);
  EXPECT_NEAR((*mix)["drift"]["shares"]["web"]["current"].get<double>(), 70.0 / 80.0, 1e-12);
  EXPECT_NEAR((*mix)["drift"]["total_variation"].get<double>(), 70.0 / 80.0 - 0.5, 1e-12);

  // The frozen reference is stored and survives a restart.
  std::string data = s.data_dir();
  EXPECT_TRUE(std::filesystem::exists(data + "/drift_reference.json"));
  ASSERT_EQ(s.Terminate(), 0);
  ASSERT_TRUE(s.Start({"log_level: warn\nsimulated_clock: true\n", {}, data})) << s.error();
  HttpClient c2("127.0.0.1", s.port());
  auto g2 = c2.Get("/v1/monitor/drift", {{"Authorization", "Bearer " + read_key}});
  ASSERT_TRUE(g2.ok());
  ASSERT_EQ(g2->status, 200);
  auto j2 = nlohmann::json::parse(g2->body);
  EXPECT_EQ(j2["reference"]["mode"], "frozen");
  EXPECT_EQ(j2["reference"]["label"], "release-1");
  // Back to the trailing reference.
  auto del = c2.Request("DELETE", "/v1/monitor/drift/reference", "", {{"Authorization", "Bearer " + s.admin_key()}});
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->status, 200);
  EXPECT_EQ(nlohmann::json::parse(del->body)["reference"]["mode"], "trailing_7d");
  EXPECT_FALSE(std::filesystem::exists(data + "/drift_reference.json"));
}

}  // namespace
}  // namespace vigil
