// MetricsModule without a server: decisions counted by slice, scores, reasons, retries, problems,
// bounded labels, and the monitoring events (fields, no subject ids, rotation).
#include "metrics/metrics_module.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "metrics/exposition_parser.h"
#include "test_util.h"

namespace vigil {
namespace {

// A passing decision with no signals, reasons or model: what the slice and name tests decide.
Decision PassDecision() {
  Decision d;
  d.outcome = Outcome::kPass;
  d.outcome_name = "pass";
  d.band_name = "pass";
  return d;
}

using testing::ParseExposition;

class ModuleFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("vigil-metrics-" + std::to_string(rd()));
    std::filesystem::create_directories(dir_ / "config");
    std::filesystem::create_directories(dir_ / "data");
  }
  void TearDown() override {
    module_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Make(const std::string& metrics_yaml) {
    if (!metrics_yaml.empty()) std::ofstream(dir_ / "config" / "metrics.yaml") << metrics_yaml;
    ModuleContext ctx;
    ctx.config_dir = (dir_ / "config").string();
    ctx.data_dir = (dir_ / "data").string();
    ctx.metrics = &registry_;
    auto m = MetricsModule::Create(ctx);
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    module_ = std::move(*m);
  }
  void Decide(const std::string& id, const std::string& sdk, Outcome outcome, const char* outcome_name) {
    DecisionRequest req;
    req.request_id = id;
    req.flow_type = "onboarding";
    req.context.SetString("platform", "web");
    req.context.SetString("browser_family", "chrome");
    req.context.SetString("device_class", "mid");
    req.context.SetString("sdk_version", sdk);
    req.context.SetString("app_version", "5.2.0");
    req.context.SetString("account_id", "acct_secret_42");
    req.context.SetString("country", "DE");
    req.quality.SetNumber("blur_score", 0.31);
    req.security.SetBool("injection_signal", false);
    req.security.SetBool("virtual_camera_signal", outcome == Outcome::kFail);
    Decision d;
    d.request_id = id;
    d.flow_type = "onboarding";
    d.outcome = outcome;
    d.outcome_name = outcome_name;
    d.band = outcome == Outcome::kPass ? DecisionBand::kPass : DecisionBand::kUncertain;
    d.band_name = outcome == Outcome::kPass ? "pass" : "uncertain";
    d.model_version = "fusion-0.6.4";
    d.policy_version = "policy-2026-03-10";
    d.fusion.has_score = true;
    d.fusion.score = 0.61;
    d.fusion.disagreement = 0.04;
    d.fusion.signals = {{"passive", "p1", 0.58, 0.58, true}, {"active", "a1", 0.62, 0.62, true}};
    if (outcome == Outcome::kRetry) d.reasons.push_back({ReasonCode::kBlurry, 1.0, true, ""});
    if (outcome == Outcome::kFail) d.reasons.push_back({ReasonCode::kVirtualCamera, 1.0, true, ""});
    std::vector<StageTiming> timings = {{"quality", 2.5}, {"engine", 0.2}, {"total", 12.0}};
    DecisionEvent ev{req, d, "ab12", "key1", timings, 12.0, 1773834129000};
    module_->OnDecided(ev);
  }
  testing::Exposition Scrape() { return ParseExposition(registry_.Expose()); }

  std::filesystem::path dir_;
  MetricsRegistry registry_;
  std::unique_ptr<MetricsModule> module_;
};

TEST_F(ModuleFixture, CountsDecisionsBySliceAndOutcome) {
  Make("");
  Decide("r1", "web-2.4.1", Outcome::kPass, "pass");
  Decide("r2", "web-2.4.1", Outcome::kRetry, "retry");
  Decide("r3", "web-2.4.1", Outcome::kFail, "fail");
  Decide("r4", "web-2.4.1", Outcome::kReview, "review");
  auto e = Scrape();
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.types["vigil_decisions_total"], "counter");
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"flow_type", "onboarding"}, {"platform", "web"},
                                            {"device_class", "mid"}, {"browser_family", "chrome"},
                                            {"sdk_version", "web-2.4.1"}, {"app_version", "5.2.0"},
                                            {"model_version", "fusion-0.6.4"},
                                            {"policy_version", "policy-2026-03-10"},
                                            {"outcome", "pass"}, {"band", "pass"}}),
            1);
  EXPECT_EQ(e.Sum("vigil_decisions_total"), 4);
  EXPECT_EQ(e.Sum("vigil_retries_total", {{"browser_family", "chrome"}}), 1);
  EXPECT_EQ(e.Sum("vigil_manual_reviews_total"), 1);
  EXPECT_EQ(e.Sum("vigil_quality_rejections_total", {{"reason", "BLURRY"}, {"sdk_version", "web-2.4.1"}}), 1);
  EXPECT_EQ(e.Sum("vigil_security_events_total", {{"reason", "VIRTUAL_CAMERA"}}), 1);
  EXPECT_EQ(e.Sum("vigil_security_signals_total", {{"signal", "virtual_camera_signal"}}), 1);
  EXPECT_EQ(e.Sum("vigil_decision_latency_seconds_count"), 4);
  EXPECT_DOUBLE_EQ(e.Sum("vigil_decision_latency_seconds_sum"), 0.048);
  EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "quality"}}), 4);
  EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "total"}}), 0);
  EXPECT_EQ(e.Sum("vigil_signal_score_count", {{"signal", "fusion"}}), 4);
  EXPECT_EQ(e.Sum("vigil_signal_score_bucket", {{"signal", "passive"}, {"le", "0.6"}}), 4);
  EXPECT_EQ(e.Sum("vigil_signal_score_bucket", {{"signal", "passive"}, {"le", "0.55"}}), 0);
  EXPECT_EQ(e.Sum("vigil_model_disagreement_count"), 4);
  EXPECT_EQ(e.Sum("vigil_build_info"), 1);
  EXPECT_GT(e.Sum("vigil_process_start_time_seconds"), 1.7e9);
  EXPECT_GT(e.Sum("vigil_version_first_seen_timestamp_seconds", {{"kind", "model"}}), 1.7e9);
}

TEST_F(ModuleFixture, RandomVersionsFoldIntoOther) {
  Make("labels:\n  sdk_version: {top_k: 3}\n  app_version: {top_k: 2}\n");
  for (int i = 0; i < 200; ++i) Decide("r" + std::to_string(i), "sdk-" + std::to_string(i), Outcome::kPass, "pass");
  auto e = Scrape();
  EXPECT_EQ(e.Count("vigil_decisions_total"), 4u);  // 3 versions + other
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"sdk_version", "other"}}), 197);
}

TEST_F(ModuleFixture, ProblemsByTypeAndNormalisedRoute) {
  Make("");
  module_->OnProblem(ProblemType::kNotFound, "/v1/decisions/req_123");
  module_->OnProblem(ProblemType::kNotFound, "/v1/decisions/req_456");
  module_->OnProblem(ProblemType::kUnauthorized, "/v1/decisions");
  auto e = Scrape();
  EXPECT_EQ(e.Sum("vigil_problems_total", {{"type", "not-found"}, {"route", "/v1/decisions/{request_id}"}}), 2);
  EXPECT_EQ(e.Sum("vigil_problems_total", {{"type", "unauthorized"}}), 1);
}

TEST_F(ModuleFixture, RefusesABadConfigNamingTheLine) {
  std::ofstream(dir_ / "config" / "metrics.yaml") << "labels:\n  platform: {allow: [web], top_k: 3}\n";
  ModuleContext ctx;
  ctx.config_dir = (dir_ / "config").string();
  ctx.metrics = &registry_;
  auto m = MetricsModule::Create(ctx);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().ToString().find("metrics.yaml:2"), std::string::npos) << m.error().ToString();
}

TEST_F(ModuleFixture, MonitoringEventsCarrySeedFieldsAndNoSubjectIds) {
  Make("events: {sink: file, path: ev/events.jsonl}\n");
  Decide("req_34b9", "web-2.4.1", Outcome::kRetry, "retry");
  module_->FlushEvents();
  std::string text = testing::Slurp((dir_ / "data" / "ev" / "events.jsonl").string());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.find("acct_secret_42"), std::string::npos);
  auto j = nlohmann::json::parse(text);
  for (const char* k : {"request_id", "timestamp", "flow_type", "platform", "browser_family",
                        "sdk_version", "model_version", "policy_version", "decision", "decision_band",
                        "latency_ms", "quality", "scores", "security", "evidence_id"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["timestamp"], "2026-03-18T11:42:09.000Z");
  EXPECT_EQ(j["decision"], "retry");
  EXPECT_EQ(j["decision_band"], "uncertain");
  EXPECT_DOUBLE_EQ(j["quality"]["blur_score"].get<double>(), 0.31);
  EXPECT_DOUBLE_EQ(j["scores"]["fusion"].get<double>(), 0.61);
  EXPECT_EQ(j["security"]["injection_signal"], false);
  EXPECT_EQ(j["reasons"][0], "BLURRY");
  EXPECT_EQ(j["evidence_id"], "ab12");
  EXPECT_EQ(Scrape().Sum("vigil_monitoring_events_total"), 1);
}

TEST_F(ModuleFixture, EventFilesRotate) {
  Make("events: {sink: file, path: ev/events.jsonl, max_bytes: 4096, max_files: 2}\n");
  for (int i = 0; i < 60; ++i) Decide("r" + std::to_string(i), "web-2.4.1", Outcome::kPass, "pass");
  module_->FlushEvents();
  auto base = dir_ / "data" / "ev" / "events.jsonl";
  EXPECT_TRUE(std::filesystem::exists(base));
  EXPECT_TRUE(std::filesystem::exists(base.string() + ".1"));
  EXPECT_TRUE(std::filesystem::exists(base.string() + ".2"));
  EXPECT_FALSE(std::filesystem::exists(base.string() + ".3"));
  EXPECT_LE(std::filesystem::file_size(base), 4096u);
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// The slice cache tests run twice: with the real slice hash, and with every slice forced to one
// hash (one cache set, equal hash words), where only the comparison of the values keeps slices
// apart.
class SliceCacheTest : public ModuleFixture, public ::testing::WithParamInterface<bool> {
 protected:
  void ForceHash() {
    if (GetParam()) SetSliceHashForTests(0x5eed);
  }
  void TearDown() override {
    SetSliceHashForTests(0);
    ModuleFixture::TearDown();
  }
};
INSTANTIATE_TEST_SUITE_P(Hash, SliceCacheTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "forced" : "real"; });

// The slice cache (metrics/decision_recorder.h) must never mix up slices: values that differ only
// in the middle (same length, same first and last 8 bytes: the same cache hash word), values whose
// concatenations agree, and slices taking turns in one cache slot all count in their own series.
TEST_P(SliceCacheTest, SliceCacheKeepsLookAlikeSlicesApart) {
  ForceHash();
  Make("");
  const std::string a = "web-2.4.1-build-AAAA-0001";
  const std::string b = "web-2.4.1-bXild-AAAA-0001";  // differs from `a` only in the middle
  for (int i = 0; i < 5; ++i) {
    Decide("a" + std::to_string(i), a, Outcome::kRetry, "retry");
    Decide("b" + std::to_string(i), b, Outcome::kRetry, "retry");
    Decide("c" + std::to_string(i), b, Outcome::kPass, "pass");
  }
  Decide("d", a, Outcome::kRetry, "retry");
  auto e = Scrape();
  ASSERT_EQ(e.error, "");
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"sdk_version", a}}), 6);
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"sdk_version", b}, {"outcome", "retry"}}), 5);
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"sdk_version", b}, {"outcome", "pass"}}), 5);
  EXPECT_EQ(e.Sum("vigil_retries_total", {{"sdk_version", a}}), 6);
  EXPECT_EQ(e.Sum("vigil_retries_total", {{"sdk_version", b}}), 5);
  EXPECT_EQ(e.Sum("vigil_quality_rejections_total", {{"sdk_version", a}}), 6);
  EXPECT_EQ(e.Sum("vigil_quality_rejections_total", {{"sdk_version", b}}), 5);
  EXPECT_EQ(e.Sum("vigil_decision_latency_seconds_count"), 16);
  EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "quality"}}), 16);
  EXPECT_EQ(e.Sum("vigil_signal_score_count", {{"signal", "fusion"}}), 16);
}

// The slice cache compares values word by word: values of every length that differ in any one
// byte keep their own series.
TEST_P(SliceCacheTest, SliceCacheComparesEveryByte) {
  ForceHash();
  Make("labels:\n  sdk_version: {top_k: 1000}\n");
  std::vector<std::string> values;
  for (std::size_t len : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 25, 31, 32, 33, 40}) {
    const std::string base(len, 'v');
    values.push_back(base);
    for (std::size_t p = 0; p < len; ++p) {
      std::string v = base;
      v[p] = 'w';
      values.push_back(v);
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < values.size(); ++i) Decide("r" + std::to_string(i), values[i], Outcome::kRetry, "retry");
  }
  auto e = Scrape();
  ASSERT_EQ(e.error, "");
  for (const auto& v : values) ASSERT_EQ(e.Sum("vigil_decisions_total", {{"sdk_version", v}}), 2) << v;
  EXPECT_EQ(e.Sum("vigil_decisions_total"), 2.0 * static_cast<double>(values.size()));
}

// The slice key encodes each value in words that are exact only together with its length
// ("abcd" and "abcdabcd" give the same word; "ab" and "abb" the same bytes): values that agree in
// their words but not their lengths, and values shifted across label boundaries, count apart.
TEST_P(SliceCacheTest, SliceCacheKeepsSameWordsOfOtherLengthsApart) {
  ForceHash();
  Make("labels:\n  platform: {top_k: 100}\n  device_class: {top_k: 100}\n");
  const std::vector<std::pair<std::string, std::string>> slices = {
      {"abcd", ""}, {"abcdabcd", ""}, {"ab", "c"}, {"a", "bc"}, {"abc", ""}, {"", "abc"}, {"ab", "b"},
      {"abb", ""}, {"abcdefgh12345678", ""}, {"abcdefgh", "12345678"}, {"12345678abcdefgh", ""}};
  DecisionRequest req;
  req.flow_type = "onboarding";
  Decision d = PassDecision();
  std::vector<StageTiming> timings;
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < slices.size(); ++i) {
      req.context = AttributeMap();
      if (!slices[i].first.empty()) req.context.SetString("platform", slices[i].first);
      if (!slices[i].second.empty()) req.context.SetString("device_class", slices[i].second);
      for (std::size_t k = 0; k <= i; ++k) module_->OnDecided(DecisionEvent{req, d, "e", "k", timings, 1.0, 0});
    }
  }
  auto e = Scrape();
  ASSERT_EQ(e.error, "");
  for (std::size_t i = 0; i < slices.size(); ++i) {
    const std::string platform = slices[i].first.empty() ? "none" : slices[i].first;
    const std::string device = slices[i].second.empty() ? "none" : slices[i].second;
    EXPECT_EQ(e.Sum("vigil_decisions_total", {{"platform", platform}, {"device_class", device}}), 3.0 * (i + 1))
        << platform << "/" << device;
  }
}

// Stage and signal histograms are found by name wherever the name comes: decisions whose stages
// and signals keep their order for a while, then change order, appear and disappear, with names
// of every length class (1-3 bytes, 4-8, 9-16, longer) and names that share words, are each
// counted under their own name.
TEST_F(ModuleFixture, StageAndSignalNamesInAnyOrder) {
  Make("");
  const std::vector<std::string> names = {"q",        "ab",        "ba",          "abc",   "acc",
                                          "abcd",     "abcdabcd",  "quality",     "passive12",
                                          "abcdefgh12345678",      "12345678abcdefgh",    "abcdefgh1234567x",
                                          "a_stage_name_longer_than_16", "a_stage_name_longer_than_1x"};
  std::mt19937 rng(11);
  std::map<std::string, int> stage_count, signal_count;
  int fusion = 0;
  DecisionRequest req;
  req.flow_type = "onboarding";
  Decision d = PassDecision();
  d.model_version = "m";
  std::vector<std::string> order = names;
  for (int i = 0; i < 600; ++i) {
    if (i % 5 == 0) std::shuffle(order.begin(), order.end(), rng);  // same order for 5 decisions
    const std::size_t n = i % 7 == 0 ? rng() % order.size() : order.size();
    std::vector<StageTiming> timings;
    d.fusion.signals.clear();
    for (std::size_t k = 0; k < n; ++k) {
      timings.push_back({order[k], 1.0});
      ++stage_count[order[k]];
      const bool present = (k + static_cast<std::size_t>(i)) % 3 != 0;
      d.fusion.signals.push_back({order[k], "v", 0.5, 0.5, present});
      if (present) ++signal_count[order[k]];
    }
    timings.push_back({"total", 2.0});
    d.fusion.has_score = i % 2 == 0;
    if (d.fusion.has_score) ++fusion;
    module_->OnDecided(DecisionEvent{req, d, "e", "k", timings, 2.0, 0});
  }
  auto e = Scrape();
  ASSERT_EQ(e.error, "");
  for (const auto& name : names) {
    EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", name}}), stage_count[name]) << name;
    EXPECT_EQ(e.Sum("vigil_signal_score_count", {{"signal", name}}), signal_count[name]) << name;
  }
  EXPECT_EQ(e.Sum("vigil_signal_score_count", {{"signal", "fusion"}}), fusion);
  EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "total"}}), 0);
}

// Histogram counts and sums are exact: latencies and scores spread over every bucket, from many
// slices, give the bucket counts and sums worked out here value by value (the count is the +Inf
// bucket, taken from the bucket cells).
TEST_F(ModuleFixture, HistogramCountsAndSumsAreExact) {
  Make("labels:\n  sdk_version: {top_k: 100}\n");
  const std::vector<double> le = LatencyBuckets();
  const std::vector<double> score_le = ScoreBuckets();
  std::vector<double> latency_ms, scores;
  for (int i = 0; i < 400; ++i) {
    latency_ms.push_back(i % 7 == 0 ? le[static_cast<std::size_t>(i / 7) % le.size()] * 1000.0  // on a bound
                                    : 0.01 * std::pow(1.05, i));                                  // 0.01 ms .. 3 s
    scores.push_back(i % 5 == 0 ? score_le[static_cast<std::size_t>(i / 5) % score_le.size()] : (i % 101) / 100.0);
  }
  Decision d = PassDecision();
  d.model_version = "m1";
  d.fusion.has_score = true;
  std::vector<StageTiming> timings = {{"quality", 0.0}};
  double latency_sum = 0.0, stage_sum = 0.0, score_sum = 0.0;
  for (std::size_t i = 0; i < latency_ms.size(); ++i) {
    DecisionRequest req;
    req.flow_type = "onboarding";
    req.context.SetString("sdk_version", "sdk-" + std::to_string(i % 13));
    d.fusion.score = scores[i];
    timings[0].ms = latency_ms[(i * 7) % latency_ms.size()];
    module_->OnDecided(DecisionEvent{req, d, "e", "k", timings, latency_ms[i], 0});
    latency_sum += latency_ms[i] / 1000.0;
    stage_sum += timings[0].ms / 1000.0;
    score_sum += scores[i];
  }
  auto e = Scrape();
  ASSERT_EQ(e.error, "");
  auto le_text = [](double b) {
    std::string s;
    FormatSampleValue(b, s);
    return s;
  };
  for (double b : le) {
    double below = 0;
    for (double ms : latency_ms) below += (ms / 1000.0 <= b) ? 1 : 0;
    EXPECT_EQ(e.Sum("vigil_decision_latency_seconds_bucket", {{"le", le_text(b)}}), below) << b;
    EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_bucket", {{"le", le_text(b)}, {"stage", "quality"}}), below) << b;
  }
  for (double b : score_le) {
    double below = 0;
    for (double v : scores) below += (v <= b) ? 1 : 0;
    EXPECT_EQ(e.Sum("vigil_signal_score_bucket", {{"le", le_text(b)}, {"signal", "fusion"}}), below) << b;
  }
  const auto n = static_cast<double>(latency_ms.size());
  EXPECT_EQ(e.Sum("vigil_decision_latency_seconds_bucket", {{"le", "+Inf"}}), n);
  EXPECT_EQ(e.Sum("vigil_decision_latency_seconds_count"), n);
  EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "quality"}}), n);
  EXPECT_EQ(e.Sum("vigil_signal_score_count", {{"signal", "fusion"}}), n);
  EXPECT_DOUBLE_EQ(e.Sum("vigil_decision_latency_seconds_sum"), latency_sum);
  EXPECT_DOUBLE_EQ(e.Sum("vigil_stage_latency_seconds_sum", {{"stage", "quality"}}), stage_sum);
  EXPECT_DOUBLE_EQ(e.Sum("vigil_signal_score_sum", {{"signal", "fusion"}}), score_sum);
}

// Each thread keeps its own caches (of its last 4 recorders): decisions from threads that come
// and go, into more recorders than a thread keeps, are all counted.
TEST_F(ModuleFixture, ThreadCachesComeAndGo) {
  Make("");
  MetricsRegistry other_registries[5];
  std::vector<std::unique_ptr<MetricsModule>> others;
  for (auto& r : other_registries) {
    ModuleContext ctx;
    ctx.config_dir = (dir_ / "config").string();
    ctx.data_dir = (dir_ / "data").string();
    ctx.metrics = &r;
    auto m = MetricsModule::Create(ctx);
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    others.push_back(std::move(*m));
  }
  DecisionRequest req;
  req.flow_type = "onboarding";
  Decision d = PassDecision();
  std::vector<StageTiming> timings = {{"quality", 1.0}};
  for (int round = 0; round < 3; ++round) {
    std::thread([&] {
      for (int i = 0; i < 10; ++i) {
        Decide("x", "sdk", Outcome::kRetry, "retry");
        for (auto& m : others) m->OnDecided(DecisionEvent{req, d, "e", "k", timings, 1.0, 0});
      }
    }).join();
  }
  Decide("x", "sdk", Outcome::kRetry, "retry");
  EXPECT_EQ(Scrape().Sum("vigil_decisions_total"), 31);
  for (auto& r : other_registries) {
    auto e = ParseExposition(r.Expose());
    EXPECT_EQ(e.Sum("vigil_decisions_total"), 30);
    EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "quality"}}), 30);
  }
  others.clear();
}

// Decisions from many threads at once (each thread with its own cache): nothing is lost.
TEST_F(ModuleFixture, ConcurrentDecisionsLoseNothing) {
  Make("");
  constexpr int kThreads = 4;
  constexpr int kEach = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Decide("t" + std::to_string(t) + "_" + std::to_string(i), "sdk-" + std::to_string(i % 3), Outcome::kRetry,
               "retry");
      }
    });
  }
  for (auto& th : threads) th.join();
  auto e = Scrape();
  EXPECT_EQ(e.Sum("vigil_decisions_total"), kThreads * kEach);
  EXPECT_EQ(e.Sum("vigil_decisions_total", {{"sdk_version", "sdk-1"}}), kThreads * kEach / 3);
  EXPECT_EQ(e.Sum("vigil_retries_total"), kThreads * kEach);
  EXPECT_EQ(e.Sum("vigil_stage_latency_seconds_count", {{"stage", "engine"}}), kThreads * kEach);
}

}  // namespace
}  // namespace vigil
