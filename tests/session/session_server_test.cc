// Sessions through the real server: a liveness decision needs a valid token; forged, tampered,
// foreign-key, expired and replayed tokens are each refused with their own reason, audited, and
// never pass; retries carry the next attempt's token and attempts run out at the policy maximum.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <thread>

#include "support/audit_db.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using nlohmann::json;
using testing::AuditCount;
using testing::ServerProcess;

constexpr std::int64_t kT0 = 1'790'000'000'000;  // event time of the simulated clock

class SessionServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start({"log_level: warn\nsimulated_clock: true\n", {}, ""})) << server_->error();
    other_key_ = server_->AddKey("--scope decide");
    server_->Signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Terminate(), 0);
    delete server_;
  }
  HttpClient Client() { return HttpClient("127.0.0.1", server_->port()); }

  json Open(const std::string& flow, std::int64_t t = kT0, const std::string& key = {}) {
    auto c = Client();
    auto r = c.PostJson("/v1/sessions",
                        json{{"flow_type", flow}, {"capture_context", {{"platform", "web"}}}, {"timestamp_ms", t}}.dump(),
                        key.empty() ? server_->admin_key() : key);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body);
  }

  // A liveness decision; scores decide the band (0.9: pass, 0.6: uncertain, 0.1: fail).
  std::pair<int, json> Decide(const std::string& id, const std::string& token, double score, std::int64_t t = kT0 + 1000,
                              const std::string& key = {}) {
    json body = {{"request_id", id},
                 {"flow_type", "onboarding"},
                 {"timestamp_ms", t},
                 {"context", {{"platform", "web"}, {"device_class", "mid"}}},
                 {"signals", {{"passive", score}, {"active", score}}},
                 {"security", {{"injection_signal", false}, {"device_integrity", true}}}};
    if (!token.empty()) body["session_token"] = token;
    auto c = Client();
    auto r = c.PostJson("/v1/decisions", body.dump(), key.empty() ? server_->admin_key() : key);
    EXPECT_TRUE(r.ok());
    return {r->status, json::parse(r->body)};
  }

  static std::string FirstReason(const json& d) { return d["reasons"].empty() ? "" : d["reasons"][0]["code"].get<std::string>(); }

  static ServerProcess* server_;
  static std::string other_key_;
};
ServerProcess* SessionServerTest::server_ = nullptr;
std::string SessionServerTest::other_key_;

TEST_F(SessionServerTest, OpenReturnsChallengeTokenAndExpiry) {
  json s = Open("onboarding");
  EXPECT_EQ(s["session_id"].get<std::string>().size(), 22u);  // 16 random bytes, base64url
  EXPECT_EQ(s["challenge"]["nonce"].get<std::string>().size(), 22u);
  EXPECT_EQ(s["challenge"]["steps"].size(), 2u);
  EXPECT_EQ(s["expires_at_ms"], kT0 + 180'000);  // policy: session_ttl_seconds 180
  EXPECT_EQ(s["max_attempts"], 3);
  EXPECT_NE(Open("onboarding")["session_id"], s["session_id"]);
}

TEST_F(SessionServerTest, OpenRefusesBadInput) {
  auto c = Client();
  auto post = [&](const std::string& body) {
    auto r = c.PostJson("/v1/sessions", body, server_->admin_key());
    EXPECT_TRUE(r.ok());
    return std::make_pair(r->status, json::parse(r->body).value("type", ""));
  };
  EXPECT_EQ(post(R"({"flow_type":"mortgage"})"), std::make_pair(422, std::string("urn:vigil:problem:unknown-flow")));
  EXPECT_EQ(post(R"({"flow_type":"transaction_approval"})"), std::make_pair(422, std::string("urn:vigil:problem:invalid-value")));
  EXPECT_EQ(post(R"({})"), std::make_pair(422, std::string("urn:vigil:problem:missing-field")));
  EXPECT_EQ(post(R"({"flow_type":"login","x":1})"), std::make_pair(422, std::string("urn:vigil:problem:unknown-field")));
  EXPECT_EQ(post(R"({"flow_type":"login","capture_context":{"a":[1]}})"), std::make_pair(422, std::string("urn:vigil:problem:wrong-type")));
  EXPECT_EQ(post(R"({"flow_type":)"), std::make_pair(400, std::string("urn:vigil:problem:malformed-json")));
  auto r = c.PostJson("/v1/sessions", R"({"flow_type":"login"})", "vgl_00000000_nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
}

TEST_F(SessionServerTest, ValidTokenPassesOnceAndReplayIsRefused) {
  json s = Open("onboarding");
  auto [st, d] = Decide("sess_pass_1", s["session_token"], 0.95);
  ASSERT_EQ(st, 200) << d;
  EXPECT_EQ(d["decision"], "pass");
  EXPECT_FALSE(d.contains("next_token"));
  std::int64_t before = AuditCount(server_->data_dir());
  auto [st2, d2] = Decide("sess_pass_2", s["session_token"], 0.95);
  ASSERT_EQ(st2, 200) << d2;
  EXPECT_EQ(d2["decision"], "fail");
  EXPECT_EQ(FirstReason(d2), "TOKEN_REPLAYED");
  EXPECT_EQ(AuditCount(server_->data_dir()), before + 1);  // the refusal is audited
}

TEST_F(SessionServerTest, MissingTokenIsAProblemAndWritesNothing) {
  std::int64_t before = AuditCount(server_->data_dir());
  auto [st, d] = Decide("sess_missing", "", 0.95);
  EXPECT_EQ(st, 422);
  EXPECT_EQ(d["type"], "urn:vigil:problem:missing-field");
  EXPECT_EQ(d["field"], "session_token");
  EXPECT_EQ(AuditCount(server_->data_dir()), before);
}

TEST_F(SessionServerTest, EachRefusalHasItsOwnReasonAndNeverPasses) {
  // Forged: a token of the right shape under another secret.
  json s1 = Open("onboarding");
  std::string t = s1["session_token"];
  std::string forged = t.substr(0, t.find('.') + 1) + std::string(43, 'A');
  auto [a, da] = Decide("sess_forged", forged, 0.99);
  EXPECT_EQ(da["decision"], "fail");
  EXPECT_EQ(FirstReason(da), "TOKEN_INVALID");
  // Tampered: one character of the payload changed.
  std::string tampered = t;
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  auto [b, db] = Decide("sess_tampered", tampered, 0.99);
  EXPECT_EQ(db["decision"], "fail");
  EXPECT_EQ(FirstReason(db), "TOKEN_INVALID");
  // Another key's token.
  json s2 = Open("onboarding", kT0, other_key_);
  auto [c, dc] = Decide("sess_wrong_key", s2["session_token"], 0.99);
  EXPECT_EQ(dc["decision"], "fail");
  EXPECT_EQ(FirstReason(dc), "TOKEN_WRONG_KEY");
  // Expired: presented 181 s after the session opened (simulated clock).
  json s3 = Open("onboarding");
  auto [e, de] = Decide("sess_expired", s3["session_token"], 0.99, kT0 + 181'000);
  EXPECT_NE(de["decision"], "pass");
  EXPECT_EQ(FirstReason(de), "TOKEN_EXPIRED");
  EXPECT_FALSE(de.contains("next_token"));  // the session is over: open a new one
  // The other key's token still works for its own key.
  auto [f, df] = Decide("sess_right_key", s2["session_token"], 0.99, kT0 + 1000, other_key_);
  EXPECT_EQ(df["decision"], "pass");
}

TEST_F(SessionServerTest, RetriesCarryTheNextTokenUntilAttemptsRunOut) {
  json s = Open("onboarding");
  std::string token = s["session_token"];
  std::string first = token;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto [st, d] = Decide("sess_retry_" + std::to_string(attempt), token, 0.6, kT0 + attempt * 1000);
    ASSERT_EQ(st, 200) << d;
    EXPECT_EQ(d["attempt"], attempt);
    if (attempt < 3) {
      ASSERT_EQ(d["decision"], "retry") << d;
      ASSERT_TRUE(d.contains("next_token"));
      token = d["next_token"];
      EXPECT_NE(token, first);
    } else {
      EXPECT_EQ(d["decision"], "review");  // policy: last attempt's uncertain result
      EXPECT_FALSE(d.contains("next_token"));
    }
  }
  // The first attempt's token cannot be used again, nor can the last one after the final answer.
  EXPECT_EQ(FirstReason(Decide("sess_retry_old", first, 0.99).second), "TOKEN_REPLAYED");
  EXPECT_EQ(FirstReason(Decide("sess_retry_last", token, 0.99).second), "TOKEN_REPLAYED");
}

TEST_F(SessionServerTest, IdempotentReplayOfADecisionIsNotATokenReplay) {
  json s = Open("login");
  json body = {{"request_id", "sess_idem"}, {"flow_type", "login"}, {"timestamp_ms", kT0 + 10},
               {"signals", {{"passive", 0.95}, {"active", 0.95}}}, {"session_token", s["session_token"]}};
  auto c = Client();
  auto r1 = c.PostJson("/v1/decisions", body.dump(), server_->admin_key());
  auto r2 = c.PostJson("/v1/decisions", body.dump(), server_->admin_key());
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(r1->body, r2->body);  // the stored decision, not a second evaluation
  EXPECT_EQ(json::parse(r1->body)["decision"], "pass");
}

// The sum of a metric's samples whose label text contains `match` ("" for all).
double Scrape(HttpClient& c, const std::string& metric, const std::string& match) {
  auto r = c.Get("/metrics");
  if (!r.ok() || r->status != 200) return -1;
  double sum = 0;
  std::istringstream in(r->body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(metric, 0) != 0 || (line.size() > metric.size() && line[metric.size()] != '{' && line[metric.size()] != ' ')) continue;
    if (!match.empty() && line.find(match) == std::string::npos) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

TEST_F(SessionServerTest, SessionsAndRefusalsAreCounted) {
  auto c = Client();
  double started = Scrape(c, "vigil_sessions_started_total", "flow_type=\"onboarding\"");
  double replayed = Scrape(c, "vigil_session_token_refusals_total", "TOKEN_REPLAYED");
  json s = Open("onboarding");
  Decide("sess_count_1", s["session_token"], 0.95);
  Decide("sess_count_2", s["session_token"], 0.95);  // replayed
  EXPECT_EQ(Scrape(c, "vigil_sessions_started_total", "flow_type=\"onboarding\""), started + 1);
  EXPECT_EQ(Scrape(c, "vigil_session_token_refusals_total", "TOKEN_REPLAYED"), replayed + 1);
  EXPECT_GE(Scrape(c, "vigil_sessions_open", ""), 1);
}

}  // namespace
}  // namespace vigil
