// GET /metrics on the real server: the scrape passes `promtool check metrics`, parses back with
// counts matching the requests sent, and random client versions do not grow the series count.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <chrono>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "metrics/exposition_parser.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::ParseExposition;
using testing::ServerProcess;

std::string Txn(const std::string& id, const std::string& sdk, const std::string& app,
                const std::string& platform = "web") {
  return R"({"request_id":")" + id + R"(","flow_type":"transaction_approval","context":{"platform":")" +
         platform + R"(","browser_family":"chrome","device_class":"mid","sdk_version":")" + sdk +
         R"(","app_version":")" + app +
         R"(","account_id":"acct_)" + id + R"(","amount":120,"account_age_days":30},"signals":{"fraud_model":0.12,"device_risk":0.1,"behaviour":0.2}})";
}

class MetricsServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess();
    ASSERT_TRUE(server_->Start()) << server_->error();
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Terminate(), 0);
    delete server_;
  }
  HttpClient Client() { return HttpClient("127.0.0.1", server_->port()); }
  std::string Scrape() {
    auto r = Client().Get("/metrics");
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return "";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    return r->body;
  }
  // Decisions reach the metrics once durable, just after the response: poll briefly.
  testing::Exposition ScrapeUntil(const std::string& name, double at_least) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto e = ParseExposition(Scrape());
      if (e.Sum(name) >= at_least || std::chrono::steady_clock::now() > deadline) return e;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  static ServerProcess* server_;
};
ServerProcess* MetricsServerTest::server_ = nullptr;

TEST_F(MetricsServerTest, ScrapeParsesBackWithTheRequestsSent) {
  auto c = Client();
  const auto first = ParseExposition(Scrape());
  const double before = first.Sum("vigil_decisions_total");
  for (int i = 0; i < 20; ++i) {
    auto r = c.PostJson("/v1/decisions", Txn("m_parse_" + std::to_string(i), "web-2.4.1", "5.2.0"),
                        server_->admin_key());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto bad = c.PostJson("/v1/decisions", "{not json", server_->admin_key());
  ASSERT_TRUE(bad.ok());
  auto unauth = c.PostJson("/v1/decisions", Txn("m_unauth", "x", "y"), "vgl_wrong");
  ASSERT_TRUE(unauth.ok());
  auto e = ScrapeUntil("vigil_decisions_total", before + 20);
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.Sum("vigil_decisions_total") - before, 20);
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"flow_type", "transaction_approval"},
                                            {"sdk_version", "web-2.4.1"},
                                            {"app_version", "5.2.0"},
                                            {"platform", "web"}}),
            20);
  EXPECT_GE(e.Sum("vigil_decision_latency_seconds_count"), before + 20);
  EXPECT_GE(e.Sum("vigil_signal_score_count", {{"signal", "fraud_model"}}), 20);
  EXPECT_GE(e.Sum("vigil_problems_total", {{"type", "malformed-json"}}), 1);
  EXPECT_GE(e.Sum("vigil_problems_total", {{"type", "unauthorized"}}), 1);
  EXPECT_EQ(e.Sum("vigil_build_info"), 1);
  // The audit log's own work: 20 records, in 1 to 20 group commits, fsynced before the answers
  // (synchronous: full, the default), and nothing left in the queue.
  EXPECT_EQ(e.Sum("vigil_audit_records_total") - first.Sum("vigil_audit_records_total"), 20);
  const double groups = e.Sum("vigil_audit_commit_groups_total") - first.Sum("vigil_audit_commit_groups_total");
  EXPECT_GE(groups, 1);
  EXPECT_LE(groups, 20);
  const double syncs = e.Sum("vigil_audit_syncs_total") - first.Sum("vigil_audit_syncs_total");
  EXPECT_GE(syncs, 1);  // one fsync covers every group committed before it began
  EXPECT_LE(syncs, groups);
  EXPECT_GT(e.Sum("vigil_audit_sync_seconds_total"), first.Sum("vigil_audit_sync_seconds_total"));
  EXPECT_EQ(e.types["vigil_audit_syncs_total"], "counter");
  EXPECT_EQ(e.Sum("vigil_audit_queue_depth"), 0);
  // The log takes writes; the data disk's free space and the log's size are real figures.
  EXPECT_EQ(e.Sum("vigil_audit_writable"), 1);
  EXPECT_EQ(e.Sum("vigil_audit_commit_failures_total"), 0);
  EXPECT_EQ(e.types["vigil_audit_commit_failures_total"], "counter");
  EXPECT_GT(e.Sum("vigil_data_dir_free_bytes"), 0);
  EXPECT_GE(e.Sum("vigil_audit_log_bytes"), 4096);
  // The request-id index starts with one segment of 2^20 slots of 8 bytes (store/request_id_index.h).
  EXPECT_EQ(e.Sum("vigil_audit_request_index_bytes"), 8.0 * (1 << 20));
  EXPECT_EQ(e.types["vigil_audit_request_index_bytes"], "gauge");
  // The container's memory limit, when there is one (NaN otherwise), is above what the process uses.
  const double limit = e.Sum("vigil_memory_limit_bytes");
  EXPECT_EQ(e.types["vigil_memory_limit_bytes"], "gauge");
  EXPECT_TRUE(std::isnan(limit) || limit > e.Sum("process_resident_memory_bytes")) << limit;
  // 20 records of 1-4 KB each: at least one 4 KB page per group and at most a few per record.
  const double wal = e.Sum("vigil_audit_wal_bytes_total") - first.Sum("vigil_audit_wal_bytes_total");
  EXPECT_GE(wal, groups * 4096);
  EXPECT_LE(wal, 20 * 4 * 4120.0);
  // The audit stage (queued until durable) is part of each decision's whole latency.
  const std::map<std::string, std::string> txn_audit = {{"flow_type", "transaction_approval"}, {"stage", "audit"}};
  const auto audit_n = [&] {
    return e.Sum("vigil_stage_latency_seconds_count", txn_audit) - first.Sum("vigil_stage_latency_seconds_count", txn_audit);
  };
  for (int i = 0; i < 100 && audit_n() < 20; ++i) {  // the scrape may fall inside the last OnDecided
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    e = ParseExposition(Scrape());
  }
  EXPECT_EQ(audit_n(), 20);
  // The same fsyncs and group commits as distributions: one observation each (a group's commit is
  // observed just after its answers went out, so the scrape may come first), the fsyncs' sum the
  // counter's seconds (the same measured durations; 1 us for rounding), buckets from 50 us
  // doubling to 1.6 s, cumulative.
  const auto delta = [&](const std::string& name) { return e.Sum(name) - first.Sum(name); };
  for (int i = 0; i < 100 && delta("vigil_audit_commit_duration_seconds_count") < groups; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    e = ParseExposition(Scrape());
  }
  EXPECT_EQ(e.types["vigil_audit_fsync_duration_seconds"], "histogram");
  EXPECT_EQ(e.types["vigil_audit_commit_duration_seconds"], "histogram");
  EXPECT_EQ(delta("vigil_audit_fsync_duration_seconds_count"), syncs);
  EXPECT_NEAR(delta("vigil_audit_fsync_duration_seconds_sum"), delta("vigil_audit_sync_seconds_total"), 1e-6);
  EXPECT_EQ(delta("vigil_audit_commit_duration_seconds_count"), groups);
  EXPECT_GT(delta("vigil_audit_commit_duration_seconds_sum"), 0);
  for (const char* h : {"vigil_audit_fsync_duration_seconds", "vigil_audit_commit_duration_seconds"}) {
    std::vector<std::pair<double, double>> buckets;  // (le, count)
    for (const auto& smp : e.samples) {
      if (smp.name != std::string(h) + "_bucket") continue;
      const std::string& le = smp.labels.at("le");
      buckets.emplace_back(le == "+Inf" ? INFINITY : std::stod(le), smp.value);
    }
    std::sort(buckets.begin(), buckets.end());
    ASSERT_EQ(buckets.size(), 17u) << h;
    EXPECT_DOUBLE_EQ(buckets.front().first, 50e-6) << h;
    EXPECT_DOUBLE_EQ(buckets[15].first, 50e-6 * (1 << 15)) << h;
    for (std::size_t i = 1; i < buckets.size(); ++i) EXPECT_LE(buckets[i - 1].second, buckets[i].second) << h;
    EXPECT_EQ(buckets.back().second, e.Sum(std::string(h) + "_count")) << h;
  }
  const double audit_s = e.Sum("vigil_stage_latency_seconds_sum", txn_audit) -
                         first.Sum("vigil_stage_latency_seconds_sum", txn_audit);
  EXPECT_GT(audit_s, 0);
  EXPECT_LT(audit_s, e.Sum("vigil_decision_latency_seconds_sum", {{"flow_type", "transaction_approval"}}) -
                         first.Sum("vigil_decision_latency_seconds_sum", {{"flow_type", "transaction_approval"}}));
  EXPECT_EQ(e.types["vigil_decision_latency_seconds"], "histogram");
  // Every bucket series ends with +Inf equal to _count.
  for (const auto& s : e.samples) {
    if (s.name == "vigil_decision_latency_seconds_bucket" && s.labels.at("le") == "+Inf") {
      EXPECT_EQ(s.value, e.Sum("vigil_decision_latency_seconds_count", {{"flow_type", s.labels.at("flow_type")}}));
    }
  }
}

TEST_F(MetricsServerTest, PromtoolFindsNothingToSay) {
#ifndef VIGIL_PROMTOOL
  GTEST_SKIP() << "promtool not found at configure time (scripts/install-deps.sh installs it)";
#else
  auto c = Client();
  for (int i = 0; i < 3; ++i) {
    (void)c.PostJson("/v1/decisions", Txn("m_lint_" + std::to_string(i), "web-\"odd\\ver", "a\nb"),
                     server_->admin_key());
  }
  std::string text = ScrapeUntil("vigil_decisions_total", 3).samples.empty() ? "" : Scrape();
  ASSERT_FALSE(text.empty());
  std::string path = ::testing::TempDir() + "/vigil_scrape.txt";
  std::ofstream(path) << text;
  auto [code, out] = testing::Run(std::string(VIGIL_PROMTOOL) + " check metrics < " + path + " 2>&1");
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << out;
#endif
}

// Every vigil_* metric the shipped rules and dashboard read is one the server exports (the
// families are registered at start, with or without series), e.g. the feedback component's
// false-positive rate behind seed 004's alerts.
TEST_F(MetricsServerTest, DeployRulesAndDashboardReadExportedMetrics) {
  auto e = ParseExposition(Scrape());
  ASSERT_EQ(e.error, "");
  ASSERT_EQ(e.types.count("vigil_feedback_version_rate"), 1u);
  const std::regex name(R"((^|[^A-Za-z0-9_:])(vigil_[a-z0-9_]+))");
  std::set<std::string> referenced;
  for (const char* file : {"deploy/prometheus/recording_rules.yml", "deploy/prometheus/alerting_rules.yml",
                           "deploy/grafana/vigil-dashboard.json"}) {
    const std::string text = testing::Slurp(testing::SourcePath(file));
    ASSERT_FALSE(text.empty()) << file;
    for (std::sregex_iterator it(text.begin(), text.end(), name), end; it != end; ++it) {
      referenced.insert((*it)[2].str());
    }
  }
  EXPECT_GT(referenced.size(), 10u);
  EXPECT_EQ(referenced.count("vigil_feedback_version_rate"), 1u);
  for (const std::string& n : referenced) {
    std::string family = n;
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (family.size() > suffix.size() && family.ends_with(suffix) &&
          e.types.count(family.substr(0, family.size() - suffix.size())) > 0) {
        family.resize(family.size() - suffix.size());
        break;
      }
    }
    EXPECT_EQ(e.types.count(family), 1u) << n << " is read by deploy/ but not exported";
  }
}

TEST_F(MetricsServerTest, RandomClientVersionsDoNotGrowTheSeriesCount) {
  auto c = Client();
  std::mt19937 rng(7);
  auto random_version = [&] { return "v" + std::to_string(rng()) + "." + std::to_string(rng() % 100); };
  // Fill every top-K slot first, then measure: the count must not move however many new values come.
  for (int i = 0; i < 60; ++i) {
    (void)c.PostJson("/v1/decisions", Txn("m_card_a" + std::to_string(i), random_version(), random_version(),
                                          i % 2 ? "web" : "platform-" + random_version()),
                     server_->admin_key());
  }
  auto first = ScrapeUntil("vigil_decisions_total", 60);
  const std::size_t series_before = first.Count("vigil_decisions_total");
  for (int i = 0; i < 150; ++i) {
    auto r = c.PostJson("/v1/decisions", Txn("m_card_b" + std::to_string(i), random_version(), random_version(),
                                             i % 2 ? "web" : "platform-" + random_version()),
                        server_->admin_key());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  }
  auto after = ScrapeUntil("vigil_decisions_total", first.Sum("vigil_decisions_total") + 150);
  EXPECT_EQ(after.Sum("vigil_decisions_total"), first.Sum("vigil_decisions_total") + 150);
  // Distinct (sdk, app, platform) combinations: none new once the slots are full.
  auto combos = [](const testing::Exposition& e, std::set<std::string>* sdks) {
    std::set<std::string> out;
    for (const auto& s : e.samples) {
      if (s.name != "vigil_decisions_total") continue;
      out.insert(s.labels.at("sdk_version") + "|" + s.labels.at("app_version") + "|" + s.labels.at("platform"));
      if (sdks) sdks->insert(s.labels.at("sdk_version"));
    }
    return out;
  };
  std::set<std::string> sdks;
  EXPECT_EQ(combos(after, &sdks), combos(first, nullptr));
  EXPECT_LE(sdks.size(), 21u);
  EXPECT_LE(after.Count("vigil_decisions_total"), series_before + 4) << "only outcome/band changes";
  // The bound: sdk_version and app_version top-20 each, platform allow-list + other.
  EXPECT_LE(after.Count("vigil_decisions_total"), 21u * 21u * 5u);
  EXPECT_GT(after.Sum("vigil_decisions_total", {{"sdk_version", "other"}}), 0);
  EXPECT_GT(after.Sum("vigil_decisions_total", {{"platform", "other"}}), 0);
}

}  // namespace
}  // namespace vigil
