// The transaction flow through the real `vigil serve`: impossible travel and velocity bursts raise
// their reasons with evidence, the hosted model scores every transaction, and a feature schema
// that does not match its model keeps the server not ready until a reload fixes it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/file.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using nlohmann::json;
using testing::ServerProcess;
using testing::SourcePath;

constexpr std::int64_t kT0 = 1'800'000'000'000;

std::string Txn(const std::string& id, std::int64_t t, const json& context) {
  json body = {{"request_id", id}, {"flow_type", "transaction_approval"}, {"timestamp_ms", t},
               {"context", context}, {"signals", {{"device_risk", 0.1}}}};
  return body.dump();
}

const json* Reason(const json& decision, const std::string& code) {
  for (const auto& r : decision["reasons"]) {
    if (r["code"] == code) return &r;
  }
  return nullptr;
}

class TransactionServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start({"log_level: warn\nsimulated_clock: true\n", {}, ""})) << server_->error();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Terminate(), 0);
    delete server_;
  }
  json Decide(const std::string& body) {
    HttpClient c("127.0.0.1", server_->port());
    auto r = c.PostJson("/v1/decisions", body, server_->admin_key());
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }
  static ServerProcess* server_;
};
ServerProcess* TransactionServerTest::server_ = nullptr;

TEST_F(TransactionServerTest, ImpossibleTravelPairYieldsReasonWithEvidence) {
  json munich = {{"account_id", "acct_travel"}, {"amount", 40.0}, {"account_age_days", 400},
                 {"geo", {{"lat", 48.1374}, {"lon", 11.5755}}}};
  json first = Decide(Txn("it_1", kT0, munich));
  EXPECT_EQ(Reason(first, "IMPOSSIBLE_TRAVEL"), nullptr);
  json new_york = {{"account_id", "acct_travel"}, {"amount", 800.0}, {"account_age_days", 400},
                   {"geo", {{"lat", 40.7128}, {"lon", -74.006}}}};
  json second = Decide(Txn("it_2", kT0 + 3'600'000, new_york));
  const json* r = Reason(second, "IMPOSSIBLE_TRAVEL");
  ASSERT_NE(r, nullptr) << second.dump();
  const json& ev = (*r)["evidence"];
  EXPECT_EQ(ev["from"]["lat"], 48.1374);
  EXPECT_EQ(ev["to"]["lon"], -74.006);
  EXPECT_EQ(ev["from"]["time_ms"], kT0);
  EXPECT_NEAR(ev["speed_kmh"].get<double>(), 6488.1, 0.1);
  // The policy's hard rule: impossible travel with a large amount challenges.
  EXPECT_EQ(second["decision"], "challenge");
}

TEST_F(TransactionServerTest, VelocityBurstYieldsVelocityAnomaly) {
  json ctx = {{"account_id", "acct_burst"}, {"card_id", "card_burst"}, {"amount", 25.0}, {"account_age_days", 900}};
  json last;
  for (int i = 0; i < 5; ++i) {
    last = Decide(Txn("vb_" + std::to_string(i), kT0 + i * 2000, ctx));
    if (i < 4) {
      EXPECT_EQ(Reason(last, "VELOCITY_ANOMALY"), nullptr) << i;
    }
  }
  const json* r = Reason(last, "VELOCITY_ANOMALY");
  ASSERT_NE(r, nullptr) << last.dump();
  bool card_minute = false;
  for (const auto& e : (*r)["evidence"]["exceeded"]) {
    card_minute = card_minute || (e["entity"] == "card" && e["window"] == "1m" && e["value"] == 5);
  }
  EXPECT_TRUE(card_minute) << r->dump();
}

TEST_F(TransactionServerTest, HostedModelScoresAndStatsShowIt) {
  HttpClient c("127.0.0.1", server_->port());
  auto stats = [&] {
    auto s = c.Get("/v1/transactions/stats", {{"Authorization", "Bearer " + server_->admin_key()}});
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s->status, 200) << s->body;
    return json::parse(s->body);
  };
  // The server is shared by this suite's tests: count what these two requests add.
  const json before = stats();
  json ctx = {{"account_id", "acct_model"}, {"amount", 12.0}, {"account_age_days", 1200}};
  // With a client score (config: client_signal: client, so the client's is kept) ...
  json with_client = {{"request_id", "hm_1"}, {"flow_type", "transaction_approval"}, {"timestamp_ms", kT0},
                      {"context", ctx}, {"signals", {{"fraud_model", 0.99}}}};
  json d = Decide(with_client.dump());
  ASSERT_TRUE(d.contains("scores")) << d.dump();
  EXPECT_DOUBLE_EQ(d["explanation"]["signals"][0]["raw"].get<double>(), 0.99) << d.dump();
  // ... and without one: the hosted model scores it.
  json without = {{"request_id", "hm_2"}, {"flow_type", "transaction_approval"}, {"timestamp_ms", kT0 + 1000},
                  {"context", ctx}, {"signals", json::object()}};
  json h = Decide(without.dump());
  ASSERT_TRUE(h.contains("scores")) << h.dump();
  EXPECT_EQ(h["explanation"]["signals"][0]["name"], "fraud_model") << h.dump();
  EXPECT_TRUE(h["explanation"]["signals"][0]["present"].get<bool>()) << h.dump();
  const json after = stats();
  EXPECT_EQ(after["fraud_model"]["model_version"], "fraud-xgb-demo-1");
  EXPECT_EQ(after["fraud_model"]["evaluator"], "native");
  EXPECT_EQ(after["fraud_model"]["scored"].get<int>() - before["fraud_model"]["scored"].get<int>(), 1);
  EXPECT_EQ(after["fraud_model"]["client_kept"].get<int>() - before["fraud_model"]["client_kept"].get<int>(), 1);
  EXPECT_EQ(after["velocity"]["events"].get<int>() - before["velocity"]["events"].get<int>(), 2);
  auto unauth = c.Get("/v1/transactions/stats");
  ASSERT_TRUE(unauth.ok());
  EXPECT_EQ(unauth->status, 401);
}

// Seed 004: a first payment of 1000 from a day-old account is not a 5 payment from a three-year
// customer: the hosted model scores them apart and the policy's segments judge them apart.
TEST_F(TransactionServerTest, ContextDecidesNewLargeAgainstTrustedSmall) {
  json risky = Decide(Txn("ctx_1", kT0, {{"account_id", "acct_new"}, {"card_id", "card_new"}, {"amount", 1000.0},
                                         {"account_age_days", 1}}));
  json trusted = Decide(Txn("ctx_2", kT0, {{"account_id", "acct_old"}, {"card_id", "card_old"}, {"amount", 5.0},
                                           {"account_age_days", 1100}}));
  EXPECT_EQ(risky["explanation"]["segment"], "new_account_large_amount") << risky.dump();
  EXPECT_EQ(trusted["explanation"]["segment"], "trusted_small_amount") << trusted.dump();
  EXPECT_EQ(trusted["decision"], "allow") << trusted.dump();
  const double raw_risky = risky["explanation"]["signals"][0]["raw"], raw_trusted = trusted["explanation"]["signals"][0]["raw"];
  EXPECT_EQ(risky["explanation"]["signals"][0]["name"], "fraud_model");
  EXPECT_GT(raw_risky, raw_trusted) << risky.dump() << trusted.dump();
  EXPECT_LT(risky["explanation"]["thresholds"]["pass"].get<double>(), trusted["explanation"]["thresholds"]["pass"].get<double>());
}

TEST(TransactionNotReady, BadSchemaKeepsTheServerNotReadyUntilFixed) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("vigil-txn-config-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(SourcePath("config"), dir, fs::copy_options::recursive);
  const fs::path schema = dir / "models" / "fraud-demo.schema.json";
  std::string good = *ReadFile(schema.string());
  std::string bad = good;
  bad.replace(bad.find(R"("name": "amount")"), 16, R"("name": "amount_usd")");
  std::ofstream(schema) << bad;

  ServerProcess s;
  s.set_config_dir(dir.string());
  s.set_wait_ready(false);
  ASSERT_TRUE(s.Start({"log_level: warn\n", {}, ""})) << s.error();
  HttpClient c("127.0.0.1", s.port());
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(s.stderr_text().find("schema does not match the model"), std::string::npos) << s.stderr_text();
  // A transaction is refused rather than decided without its model.
  auto r = c.PostJson("/v1/decisions", Txn("nr_1", kT0, {{"account_id", "a"}, {"amount", 5.0}}), s.admin_key());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_NE(r->body.find("not-ready"), std::string::npos);

  std::ofstream(schema) << good;
  s.Signal(SIGHUP);
  bool became_ready = false;
  for (int i = 0; i < 200 && !became_ready; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    auto again = c.Get("/readyz");
    became_ready = again.ok() && again->status == 200;
  }
  EXPECT_TRUE(became_ready);
  EXPECT_EQ(s.Terminate(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil
