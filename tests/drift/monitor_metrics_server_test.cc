// The drift measures and the firing alerts in GET /metrics of the real server (simulated clock):
// after a burst of injection signals the pattern rule's vigil_alerts_firing gauge counts its
// slices, the log route's deliveries are counted, and after a frozen reference and a shifted
// window the drift gauges carry exactly the values of GET /v1/monitor/drift. The whole scrape
// passes `promtool check metrics` when promtool is installed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include "metrics/exposition_parser.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::ParseExposition;
using testing::ServerProcess;

constexpr std::int64_t kT0 = 1800000000000;  // a whole minute

class MonitorMetrics : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(s_.Start({"log_level: warn\nsimulated_clock: true\n", {}, ""})) << s_.error();
    c_ = std::make_unique<HttpClient>("127.0.0.1", s_.port());
  }
  // One login decision with its own session opened at the same event time.
  void Decide(const std::string& id, std::int64_t t, double passive, bool injection, const char* platform = "web") {
    auto sess = c_->PostJson("/v1/sessions", nlohmann::json{{"flow_type", "login"}, {"timestamp_ms", t}}.dump(), s_.admin_key());
    ASSERT_TRUE(sess.ok());
    ASSERT_EQ(sess->status, 201) << sess->body;
    nlohmann::json j = {{"request_id", id}, {"flow_type", "login"}, {"timestamp_ms", t},
                        {"session_token", nlohmann::json::parse(sess->body)["session_token"]},
                        {"context", {{"platform", platform}, {"browser_family", "chrome"}, {"device_class", "mid"}}},
                        {"signals", {{"passive", passive}, {"active", 0.8}}},
                        {"security", {{"injection_signal", injection}}}};
    auto r = c_->PostJson("/v1/decisions", j.dump(), s_.admin_key());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  std::string Scrape() {
    auto r = c_->Get("/metrics");
    EXPECT_TRUE(r.ok());
    return r.ok() && r->status == 200 ? r->body : "";
  }
  nlohmann::json Get(const std::string& path) {
    auto g = c_->Get(path, {{"Authorization", "Bearer " + s_.admin_key()}});
    return g.ok() && g->status == 200 ? nlohmann::json::parse(g->body) : nlohmann::json();
  }
  // OnDecided runs after the response: poll until `pred` holds on a scrape (or 5 s pass).
  template <typename P>
  testing::Exposition ScrapeUntil(P pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (;;) {
      auto e = ParseExposition(Scrape());
      if (pred(e) || std::chrono::steady_clock::now() > deadline) return e;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void Promtool(const std::string& text) {
#ifdef VIGIL_PROMTOOL
    std::string path = ::testing::TempDir() + "/vigil_monitor_scrape.txt";
    std::ofstream(path) << text;
    auto [code, out] = testing::Run(std::string(VIGIL_PROMTOOL) + " check metrics < " + path + " 2>&1");
    EXPECT_EQ(code, 0) << out;
    EXPECT_EQ(out, "") << out;
#else
    (void)text;
    std::cerr << "promtool not found at configure time: exposition lint skipped\n";
#endif
  }

  ServerProcess s_;
  std::unique_ptr<HttpClient> c_;
};

TEST_F(MonitorMetrics, FiringAlertsAreGauges) {
  for (int i = 0; i < 12; ++i) Decide("a" + std::to_string(i), kT0 + i * 4000, 0.9, i % 2 == 0);
  // Nothing is evaluated before the window ends: the family exists only once a rule fired.
  auto before = ParseExposition(Scrape());
  ASSERT_EQ(before.error, "");
  EXPECT_EQ(before.Sum("vigil_alerts_firing"), 0);
  EXPECT_EQ(before.types["vigil_alerts_firing"], "gauge");
  Decide("b0", kT0 + 60000, 0.9, false);  // closes the first minute: the pattern rule fires
  const std::map<std::string, std::string> rule = {{"rule", "injection_or_virtual_camera_burst"}, {"severity", "critical"}};
  auto e = ScrapeUntil([&](const testing::Exposition& x) { return x.Sum("vigil_alerts_firing", rule) >= 3; });
  ASSERT_EQ(e.error, "");
  // Slices "all", "flow_type=login" and "platform=web": six matches each, min_count 5.
  EXPECT_EQ(e.Sum("vigil_alerts_firing", rule), 3);
  EXPECT_EQ(e.Sum("vigil_alerts_firing"), static_cast<double>(Get("/v1/monitor/alerts")["firing"].get<int>()));
  // The log route delivers each firing notification.
  e = ScrapeUntil([](const testing::Exposition& x) {
    return x.Sum("vigil_alert_notifications", {{"route", "log"}, {"result", "delivered"}}) >= 3;
  });
  EXPECT_GE(e.Sum("vigil_alert_notifications", {{"route", "log"}, {"result", "delivered"}}), 3);
  EXPECT_EQ(e.Sum("vigil_alert_notifications", {{"route", "log"}, {"result", "failed"}}), 0);
  // Six clean minutes later the pattern's 5-minute lookback is empty: resolved, the gauge back to 0.
  for (int m = 2; m <= 8; ++m) Decide("c" + std::to_string(m), kT0 + m * 60000, 0.9, false);
  e = ScrapeUntil([&](const testing::Exposition& x) { return x.Sum("vigil_alerts_firing", rule) == 0; });
  EXPECT_EQ(e.Sum("vigil_alerts_firing", rule), 0);
  EXPECT_EQ(e.Count("vigil_alerts_firing"), 1u) << "the series stays, at 0";
  Promtool(Scrape());
}

TEST_F(MonitorMetrics, DriftGaugesMatchTheReport) {
  // Window 1: the reference (frozen); window 2: passive scores shifted down; window 3 closes 2.
  for (int i = 0; i < 60; ++i) Decide("w1_" + std::to_string(i), kT0 + i * 900, 0.75 + 0.2 * ((i * 37) % 100) / 100.0, false);
  for (int i = 0; i < 100 && Get("/v1/monitor/drift")["open_window"]["decisions"] != 60; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto freeze = c_->Request("POST", "/v1/monitor/drift/reference", R"({"label":"r1"})",
                            {{"Authorization", "Bearer " + s_.admin_key()}, {"Content-Type", "application/json"}});
  ASSERT_TRUE(freeze.ok());
  ASSERT_EQ(freeze->status, 200) << freeze->body;
  // Too little data on the current side so far: NaN, not 0.
  auto early = ParseExposition(Scrape());
  ASSERT_EQ(early.error, "");
  EXPECT_TRUE(std::isnan(early.Sum("vigil_drift_psi", {{"slice", "all"}, {"feature", "score.passive"}})));
  for (int i = 0; i < 60; ++i) {
    Decide("w2_" + std::to_string(i), kT0 + 60000 + i * 900, 0.35 + 0.2 * ((i * 37) % 100) / 100.0, false, i % 4 ? "web" : "ios");
  }
  Decide("w3", kT0 + 120000, 0.8, false);
  const std::map<std::string, std::string> passive = {{"slice", "all"}, {"feature", "score.passive"}};
  auto e = ScrapeUntil([&](const testing::Exposition& x) { return x.Sum("vigil_drift_psi", passive) > 0.25; });
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.types["vigil_drift_psi"], "gauge");
  auto j = Get("/v1/monitor/drift");
  ASSERT_FALSE(j.is_null());
  int checked = 0;
  for (const auto& s : j["series"]) {
    const std::map<std::string, std::string> l = {{"slice", s["slice"]}, {"feature", s["feature"]}};
    if (!s["enough_data"].get<bool>()) {
      EXPECT_TRUE(std::isnan(e.Sum("vigil_drift_psi", l))) << s.dump();
      continue;
    }
    // The exposition prints the shortest round-trip form: equal to the JSON's double exactly.
    // JSON has null where the measure is undefined (a constant reference: no standard deviation).
    for (const auto& [family, key] : {std::pair{"vigil_drift_psi", "psi"}, {"vigil_drift_ks_statistic", "ks_statistic"},
                                      {"vigil_drift_js_distance", "js_distance"}, {"vigil_drift_wasserstein_norm", "wasserstein_norm"}}) {
      const auto& v = s["drift"][key];
      if (v.is_null()) {
        EXPECT_TRUE(std::isnan(e.Sum(family, l))) << family << " " << s.dump();
      } else {
        EXPECT_EQ(e.Sum(family, l), v.get<double>()) << family << " " << s.dump();
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 6);  // passive, active and fusion in "all" and "flow_type=login" at least
  EXPECT_GT(e.Sum("vigil_drift_psi", passive), 1.0);
  EXPECT_GT(e.Sum("vigil_drift_ks_statistic", passive), 0.9);
  EXPECT_LT(e.Sum("vigil_drift_psi", {{"slice", "all"}, {"feature", "score.active"}}), 1e-9);
  // The platform mix moved from all-web to a quarter ios: total variation 0.25.
  EXPECT_NEAR(e.Sum("vigil_drift_mix_total_variation", {{"slice", "all"}, {"field", "platform"}}), 0.25, 1e-12);
  Promtool(Scrape());
}

}  // namespace
}  // namespace vigil
