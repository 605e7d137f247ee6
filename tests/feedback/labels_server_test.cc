// POST /v1/labels and GET /v1/monitor/performance against the real binary: unknown, duplicate and
// conflicting request ids, validation, the join under concurrent decisions and labels, figures
// hand-checked from the stored decisions, and labels surviving a restart.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/audit_db.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using nlohmann::json;
using testing::ServerProcess;

std::string Txn(const std::string& id, double fraud_model, const std::string& platform = "web") {
  json j = {{"request_id", id},
            {"flow_type", "transaction_approval"},
            {"context", {{"platform", platform}, {"browser_family", "chrome"}, {"account_id", "acct_" + id},
                         {"amount", 20.0}, {"account_age_days", 400}}},
            {"signals", {{"fraud_model", fraud_model}}}};
  return j.dump();
}

std::string Live(const std::string& id, double passive, const std::string& token) {
  json j = {{"request_id", id},
            {"session_token", token},
            {"flow_type", "onboarding"},
            {"context", {{"platform", "android"}, {"browser_family", "chrome"}, {"device_class", "mid"}}},
            {"signals", {{"passive", passive}, {"active", passive}}}};
  return j.dump();
}

std::string LabelBody(const std::string& id, const std::string& label, const std::string& source,
                      const std::string& attack_type = "", const std::string& at = "") {
  json j = {{"request_id", id}, {"label", label}, {"source", source}};
  if (!attack_type.empty()) j["attack_type"] = attack_type;
  if (!at.empty()) j["labelled_at"] = at;
  return j.dump();
}

class LabelsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start()) << server_.error();
    label_key_ = server_.AddKey("--scope label");
    read_key_ = server_.AddKey("--scope read");
    decide_key_ = server_.AddKey("--scope decide");
    server_.Signal(SIGHUP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  void TearDown() override { EXPECT_EQ(server_.Terminate(), 0); }
  HttpClient Client() { return HttpClient("127.0.0.1", server_.port()); }
  json Decide(HttpClient& c, const std::string& body) {
    auto r = c.PostJson("/v1/decisions", body, decide_key_);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }
  // A liveness decision: a session first (sessions bind the token to the key), then the decision.
  json DecideLive(HttpClient& c, const std::string& id, double passive) {
    auto s = c.PostJson("/v1/sessions", json{{"flow_type", "onboarding"}}.dump(), decide_key_);
    EXPECT_TRUE(s.ok());
    EXPECT_EQ(s->status, 201) << s->body;
    return Decide(c, Live(id, passive, json::parse(s->body)["session_token"]));
  }
  HttpResult PostLabel(HttpClient& c, const std::string& body) {
    auto r = c.PostJson("/v1/labels", body, label_key_);
    EXPECT_TRUE(r.ok());
    return *r;
  }
  json Performance(HttpClient& c, const std::string& window = "all") {
    auto r = c.Get("/v1/monitor/performance?window=" + window, {{"Authorization", "Bearer " + read_key_}});
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body);
  }
  ServerProcess server_;
  std::string label_key_, read_key_, decide_key_;
};

TEST_F(LabelsServerTest, UnknownRequestIdIsNotFound) {
  auto c = Client();
  auto r = PostLabel(c, LabelBody("never_decided", "fraud", "chargeback"));
  EXPECT_EQ(r.status, 404);
  auto p = json::parse(r.body);
  EXPECT_EQ(p["type"], "urn:vigil:problem:not-found");
  EXPECT_EQ(p["field"], "request_id");
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
}

TEST_F(LabelsServerTest, BadLabelsAreRefusedWithTheirField) {
  auto c = Client();
  Decide(c, Txn("bad_1", 0.1));
  DecideLive(c, "bad_live_1", 0.9);
  struct Case {
    std::string body;
    int status;
    std::string type, field;
  } cases[] = {
      {"{", 400, "malformed-json", ""},
      {R"({"request_id":"bad_1","label":"fraud"})", 422, "missing-field", "source"},
      {R"({"request_id":"bad_1","label":"nope","source":"dispute"})", 422, "invalid-value", "label"},
      {R"({"request_id":"bad_1","label":"fraud","source":"guess"})", 422, "invalid-value", "source"},
      {R"({"request_id":"bad_1","label":"fraud","source":"dispute","extra":1})", 422, "unknown-field", "extra"},
      {R"({"request_id":"bad_1","label":"genuine","source":"dispute"})", 422, "invalid-value", "label"},
      {R"({"request_id":"bad_live_1","label":"attack","source":"red_team"})", 422, "missing-field", "attack_type"},
      {R"({"request_id":"bad_live_1","label":"attack","source":"red_team","attack_type":"x"})", 422, "invalid-value", "attack_type"},
      {R"({"request_id":"bad_live_1","label":"genuine","source":"red_team","labelled_at":"yesterday"})", 422, "invalid-value", "labelled_at"},
      {R"({"request_id":5,"label":"fraud","source":"dispute"})", 422, "wrong-type", "request_id"},
  };
  for (const auto& k : cases) {
    auto r = PostLabel(c, k.body);
    EXPECT_EQ(r.status, k.status) << k.body << " -> " << r.body;
    auto p = json::parse(r.body);
    EXPECT_EQ(p["type"], "urn:vigil:problem:" + k.type) << k.body;
    if (!k.field.empty()) {
      EXPECT_EQ(p["field"], k.field) << k.body;
    }
  }
  // Scope: a read key may not label.
  auto r = c.PostJson("/v1/labels", LabelBody("bad_1", "fraud", "dispute"), read_key_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(Performance(c)["labels_total"], 0);
}

TEST_F(LabelsServerTest, DuplicateIsIdempotentAndConflictKeepsHistory) {
  auto c = Client();
  DecideLive(c, "dup_1", 0.95);
  const std::int64_t audit_before = testing::AuditCount(server_.data_dir());
  auto first = PostLabel(c, LabelBody("dup_1", "attack", "manual_review", "print", "2026-11-30T10:00:00Z"));
  EXPECT_EQ(first.status, 201) << first.body;
  auto again = PostLabel(c, LabelBody("dup_1", "attack", "manual_review", "print", "2026-11-30T10:00:00Z"));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Header("idempotent-replay"), "true");
  EXPECT_EQ(json::parse(again.body)["status"], "duplicate");
  EXPECT_EQ(json::parse(again.body)["history"], 1);
  // One audit event for the label, none for the replay.
  EXPECT_EQ(testing::AuditCount(server_.data_dir()), audit_before + 1);

  // A later, different label: stored, counted as a conflict, and it is the one in force.
  auto conflict = PostLabel(c, LabelBody("dup_1", "genuine", "dispute", "", "2026-11-30T11:00:00Z"));
  EXPECT_EQ(conflict.status, 201) << conflict.body;
  auto cj = json::parse(conflict.body);
  EXPECT_EQ(cj["status"], "conflict");
  EXPECT_EQ(cj["in_force"]["label"], "genuine");
  EXPECT_EQ(cj["history"], 2);
  // An older label arriving late is kept in the history but does not displace the newer one.
  auto late = PostLabel(c, LabelBody("dup_1", "attack", "red_team", "mask", "2026-11-30T09:00:00Z"));
  EXPECT_EQ(late.status, 201) << late.body;
  EXPECT_EQ(json::parse(late.body)["in_force"]["label"], "genuine");

  auto h = c.Get("/v1/labels/dup_1", {{"Authorization", "Bearer " + read_key_}});
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->status, 200) << h->body;
  auto hj = json::parse(h->body);
  EXPECT_EQ(hj["history"].size(), 3u);
  EXPECT_EQ(hj["in_force"]["label"], "genuine");
  EXPECT_EQ(hj["history"][0]["attack_type"], "print");

  auto perf = Performance(c);
  EXPECT_EQ(perf["labels_total"], 3);
  EXPECT_EQ(perf["label_conflicts"], 2);
  EXPECT_EQ(perf["liveness"]["labelled"], 1);
  EXPECT_EQ(perf["liveness"]["performance"]["negatives"], 1);  // genuine counts
}

// Transactions with known scores, labelled; the figures are recomputed here by hand from the
// stored decisions (GET /v1/decisions) and compared.
TEST_F(LabelsServerTest, FiguresMatchHandComputation) {
  auto c = Client();
  const double scores[] = {0.02, 0.10, 0.25, 0.45, 0.60, 0.85, 0.97, 0.99, 0.05, 0.70};
  const bool fraud[] = {false, false, true, false, true, true, true, false, false, true};
  std::int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  double brier = 0.0;
  for (int i = 0; i < 10; ++i) {
    const std::string id = "fig_" + std::to_string(i);
    Decide(c, Txn(id, scores[i], i % 2 ? "ios" : "web"));
    auto r = PostLabel(c, LabelBody(id, fraud[i] ? "fraud" : "legitimate", "chargeback", fraud[i] ? "card_testing" : ""));
    EXPECT_EQ(r.status, 201) << r.body;
    auto stored = c.Get("/v1/decisions/" + id, {{"Authorization", "Bearer " + read_key_}});
    ASSERT_TRUE(stored.ok());
    auto rec = json::parse(stored->body)["record"];
    const bool flagged = rec["decision"]["outcome"] != "pass";
    const double risk = rec["scores"]["fusion"]["score"];
    if (fraud[i]) (flagged ? tp : fn)++; else (flagged ? fp : tn)++;
    brier += (risk - (fraud[i] ? 1.0 : 0.0)) * (risk - (fraud[i] ? 1.0 : 0.0));
  }
  Decide(c, Txn("fig_unlabelled", 0.3));
  auto perf = Performance(c, "1h");
  auto t = perf["transaction"];
  EXPECT_EQ(t["decisions"], 11);
  EXPECT_EQ(t["labelled"], 10);
  EXPECT_NEAR(t["label_coverage"].get<double>(), 10.0 / 11.0, 1e-12);
  auto p = t["performance"];
  EXPECT_EQ(p["confusion"]["tp"], tp);
  EXPECT_EQ(p["confusion"]["fp"], fp);
  EXPECT_EQ(p["confusion"]["tn"], tn);
  EXPECT_EQ(p["confusion"]["fn"], fn);
  ASSERT_GT(fp + tn, 0);
  ASSERT_GT(fn + tp, 0);
  EXPECT_NEAR(p["fpr"].get<double>(), double(fp) / double(fp + tn), 1e-12);
  EXPECT_NEAR(p["fnr"].get<double>(), double(fn) / double(fn + tp), 1e-12);
  EXPECT_NEAR(p["calibration"]["brier"].get<double>(), brier / 10.0, 1e-12);
  EXPECT_EQ(p["miss_rate_by_fraud_type"]["card_testing"]["fraud"], 5);
  // Slices by platform add up.
  std::int64_t sliced = 0;
  for (const auto& s : perf["slices"]) {
    if (s["dimension"] == "platform" && s["kind"] == "transaction") sliced += s["figures"]["labelled"].get<std::int64_t>();
  }
  EXPECT_EQ(sliced, 10);
  EXPECT_EQ(perf["liveness"]["decisions"], 0);
  EXPECT_TRUE(perf["liveness"]["performance"].is_null());

  // The same figures as metrics.
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("vigil_labels_total{label=\"fraud\",source=\"chargeback\"} 5"), std::string::npos);
  EXPECT_NE(m->body.find("vigil_feedback_labelled_decisions{kind=\"transaction\",window=\"1h\"} 10"), std::string::npos);
  char fpr[128];
  std::snprintf(fpr, sizeof fpr, "vigil_feedback_rate{kind=\"transaction\",window=\"1h\",rate=\"fpr\"} ");
  const auto at = m->body.find(fpr);
  ASSERT_NE(at, std::string::npos) << m->body.substr(0, 2000);
  EXPECT_NEAR(std::stod(m->body.substr(at + std::strlen(fpr))), double(fp) / double(fp + tn), 1e-9);
}

// Decisions and labels posted concurrently from several threads; each label follows its decision's
// acknowledgement. Every label must join its decision, with nothing lost or doubled.
TEST_F(LabelsServerTest, JoinUnderConcurrentDecisionsAndLabels) {
  constexpr int kThreads = 4, kPerThread = 40;
  const std::int64_t audit_before = testing::AuditCount(server_.data_dir());
  std::atomic<int> stored{0}, bad{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c("127.0.0.1", server_.port());
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = "conc_" + std::to_string(t) + "_" + std::to_string(i);
        auto d = c.PostJson("/v1/decisions", Txn(id, 0.01 * ((i * 7 + t) % 100)), decide_key_);
        if (!d.ok() || d->status != 200) {
          ++bad;
          continue;
        }
        auto l = c.PostJson("/v1/labels", LabelBody(id, i % 3 == 0 ? "fraud" : "legitimate", "manual_review"), label_key_);
        if (l.ok() && l->status == 201) ++stored; else ++bad;
      }
    });
  }
  std::thread reader([&] {
    HttpClient c("127.0.0.1", server_.port());
    while (!done.load()) {
      auto r = c.Get("/v1/monitor/performance?window=1h", {{"Authorization", "Bearer " + read_key_}});
      if (!r.ok() || r->status != 200) ++bad;
    }
  });
  for (auto& th : threads) th.join();
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(stored.load(), kThreads * kPerThread);
  auto c = Client();
  auto perf = Performance(c);
  EXPECT_EQ(perf["transaction"]["decisions"], kThreads * kPerThread);
  EXPECT_EQ(perf["transaction"]["labelled"], kThreads * kPerThread);
  EXPECT_EQ(perf["labels_total"], kThreads * kPerThread);
  EXPECT_EQ(perf["transaction"]["performance"]["positives"], kThreads * ((kPerThread + 2) / 3));
  // Audit: one record per decision and one event per label.
  EXPECT_EQ(testing::AuditCount(server_.data_dir()), audit_before + 2 * kThreads * kPerThread);
}

TEST_F(LabelsServerTest, LabelsSurviveARestart) {
  auto c = Client();
  Decide(c, Txn("keep_1", 0.9));
  EXPECT_EQ(PostLabel(c, LabelBody("keep_1", "fraud", "chargeback")).status, 201);
  c.Close();
  ASSERT_EQ(server_.Terminate(), 0);
  ASSERT_TRUE(server_.Start({"log_level: warn\n", {}, server_.data_dir()})) << server_.error();
  auto c2 = Client();
  auto perf = Performance(c2);
  EXPECT_EQ(perf["transaction"]["labelled"], 1);
  EXPECT_EQ(perf["labels_total"], 1);
  EXPECT_EQ(PostLabel(c2, LabelBody("keep_1", "fraud", "chargeback")).status, 200);
  auto bad = c2.Get("/v1/monitor/performance?window=soon", {{"Authorization", "Bearer " + read_key_}});
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->status, 422);
}

}  // namespace
}  // namespace vigil
