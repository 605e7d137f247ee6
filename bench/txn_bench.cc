// The transaction flow's cost per decision (issue 5): the hosted model alone through XGBoost's C
// API and through the native evaluator, side by side; the analyzers alone; and a whole in-process
// transaction decision (analyzers + model + calibration + fusion + policy) with each evaluator;
// and the engine's part alone.
// The model is config/models/fraud-demo.json (200 trees, depth <= 6, 18 features); goal for the
// whole decision: <= 20 microseconds. Results and commands in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>

#include "analyzers/features.h"
#include "api/codec.h"
#include "audit/audit.h"
#include "pipeline/engine.h"
#include "server/module.h"
#include "transaction/transaction_analysis.h"

namespace vigil {
namespace {

const std::string kConfig = std::string(VIGIL_SOURCE_DIR) + "/config";

std::shared_ptr<const DecisionEngine> Engine() {
  static auto engine = [] {
    auto e = DecisionEngine::Load(EngineFiles::Under(kConfig));
    if (!e.ok()) {
      std::cerr << e.error().ToString() << "\n";
      std::abort();
    }
    return *e;
  }();
  return engine;
}

std::shared_ptr<const TransactionAnalysis::Loaded> Loaded(Evaluator evaluator) {
  auto l = TransactionAnalysis::LoadConfig(kConfig, &Engine()->calibrations());
  if (!l.ok()) {
    std::cerr << l.error().ToString() << "\n";
    std::abort();
  }
  auto copy = std::make_shared<TransactionAnalysis::Loaded>(**l);
  const auto& names = analyzers::OutputNames();
  auto m = HostedModel::Load(kConfig + "/" + copy->config.fraud_model.schema, evaluator,
                             std::span<const std::string_view>(names.data(), names.size()));
  if (!m.ok()) std::abort();
  copy->model = *m;
  return copy;
}

// Feature rows like the traffic's: plausible values, some missing.
std::vector<float> Rows(std::size_t n, std::size_t nf) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> rows(n * nf);
  for (auto& v : rows) v = u(rng) < 0.15 ? std::nanf("") : static_cast<float>(std::exp(u(rng) * 7) - 1);
  return rows;
}

void BM_ModelCApi(benchmark::State& state) {
  auto l = Loaded(Evaluator::kCApi);
  const std::size_t nf = l->model->num_features(), n = 1024;
  auto rows = Rows(n, nf);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(l->model->ScoreCApi(rows.data() + (i++ % n) * nf));
  }
}
BENCHMARK(BM_ModelCApi);

void BM_ModelNative(benchmark::State& state) {
  auto l = Loaded(Evaluator::kNative);
  const std::size_t nf = l->model->num_features(), n = 1024;
  auto rows = Rows(n, nf);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(l->model->ScoreNative(rows.data() + (i++ % n) * nf));
  }
}
BENCHMARK(BM_ModelNative);

// A stream of payments over 10,000 accounts, cards, devices and IPs with geography and sessions.
struct Traffic {
  std::vector<DecisionRequest> requests;
  explicit Traffic(std::size_t n) {
    std::mt19937 rng(9);
    const char* actions[] = {"login", "browse", "view_item", "add_to_cart", "checkout", "payment"};
    for (std::size_t i = 0; i < n; ++i) {
      DecisionRequest r;
      r.request_id = "b" + std::to_string(i);
      r.flow_type = "transaction_approval";
      const auto a = rng() % 10000;
      r.context.SetString("account_id", "acct_" + std::to_string(a));
      r.context.SetString("card_id", "card_" + std::to_string(a));
      r.context.SetString("device_id", "dev_" + std::to_string(a));
      r.context.SetString("ip", "10.1." + std::to_string(a % 250) + "." + std::to_string(a / 250));
      r.context.SetString("session_id", "sess_" + std::to_string(a));
      r.context.SetString("action", actions[i % 6]);
      r.context.SetNumber("geo.lat", 40 + static_cast<double>(rng() % 1000) / 100);
      r.context.SetNumber("geo.lon", static_cast<double>(rng() % 2000) / 100);
      r.context.SetNumber("amount", static_cast<double>(rng() % 50000) / 100);
      r.context.SetNumber("account_age_days", rng() % 2000);
      r.signals.push_back({"device_risk", 0.1});
      r.time_ms = 1.8e12 + static_cast<double>(i) * 50;
      requests.push_back(std::move(r));
    }
  }
};

// Copies of the requests are made outside the timed region, a batch at a time (each round moves
// event time on, so windows slide as in live traffic). Timed: the analysis, with stage timings
// recorded as the server does, and for whole decisions engine.Decide.
void Run(benchmark::State& state, TransactionAnalysis& a, const DecisionEngine* engine) {
  Traffic t(4096);
  std::vector<DecisionRequest> batch;
  std::vector<StageTiming> timings;
  timings.reserve(16);
  std::size_t i = 0, round = 0;
  for (auto _ : state) {
    if (i % t.requests.size() == 0) {
      state.PauseTiming();
      batch = t.requests;
      for (auto& r : batch) r.time_ms += static_cast<double>(round) * 4096 * 50;
      ++round;
      state.ResumeTiming();
    }
    DecisionRequest& r = batch[i++ % batch.size()];
    timings.clear();
    a.Run(r, &timings);
    if (engine) {
      auto d = engine->Decide(r);
      benchmark::DoNotOptimize(d);
    }
    benchmark::DoNotOptimize(r.findings.data());
  }
}

void BM_Analyzers(benchmark::State& state) {
  auto l = std::make_shared<TransactionAnalysis::Loaded>(*Loaded(Evaluator::kNative));
  l->model = nullptr;
  TransactionAnalysis a(l);
  Run(state, a, nullptr);
}
BENCHMARK(BM_Analyzers);

void BM_TransactionDecisionNative(benchmark::State& state) {
  TransactionAnalysis a(Loaded(Evaluator::kNative));
  Run(state, a, Engine().get());
}
void BM_TransactionDecisionCApi(benchmark::State& state) {
  TransactionAnalysis a(Loaded(Evaluator::kCApi));
  Run(state, a, Engine().get());
}
// The rest of a decision: calibration, fusion, policy on a request that already carries the
// analyzers' findings and the hosted model's score (what BM_TransactionDecision* adds to the two
// above).
void BM_EngineOnly(benchmark::State& state) {
  TransactionAnalysis a(Loaded(Evaluator::kNative));
  Traffic t(4096);
  for (auto& r : t.requests) a.Run(r, nullptr);
  const DecisionEngine* engine = Engine().get();
  std::size_t i = 0;
  for (auto _ : state) {
    auto d = engine->Decide(t.requests[i++ % t.requests.size()]);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_EngineOnly);

// What the server writes for each decision after deciding it: the audit record's canonical payload
// (subject ids pseudonymised) and the response body, for the 40th payment in 40 seconds from one
// account, card, device and IP: over their velocity limits, with trajectory findings too (four
// findings with evidence, the "findings" counter), as in the HTTP benchmark's traffic, where every
// account comes back many times a minute.
void BM_AuditRecordAndResponse(benchmark::State& state) {
  TransactionAnalysis a(Loaded(Evaluator::kNative));
  Traffic t(1);
  DecisionRequest r;
  for (int k = 0; k < 40; ++k) {
    r = t.requests[0];
    r.request_id = "bench-" + std::to_string(k);
    r.time_ms += k * 1000.0;
    a.Run(r, nullptr);
  }
  const DecisionEngine* engine = Engine().get();
  auto d = engine->Decide(r);
  if (!d.ok() || r.findings.empty()) std::abort();
  AuditContext ctx;
  ctx.key_id = "a94d1dec";
  ctx.time_ms = static_cast<std::int64_t>(r.time_ms);
  ctx.decision_latency_ms = 0.026249;  // as in a record of the HTTP benchmark
  for (const auto& s : d->fusion.signals) ctx.calibration_versions.emplace_back(s.name, s.model_version);
  DecisionMeta meta;
  meta.latency_ms = 0.026249;
  meta.evidence_id = std::string(64, '0');
  const std::string secret(32, 's');
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string payload = BuildDecisionPayload(r, *d, ctx, engine->catalogue(), secret);
    std::size_t at = 0;
    std::string response = RenderDecision(r, *d, engine->catalogue(), meta, &at);
    bytes = payload.size() + response.size();
    benchmark::DoNotOptimize(payload.data());
    benchmark::DoNotOptimize(response.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["findings"] = static_cast<double>(r.findings.size());
}
BENCHMARK(BM_AuditRecordAndResponse);
BENCHMARK(BM_TransactionDecisionNative);
BENCHMARK(BM_TransactionDecisionCApi);

}  // namespace
}  // namespace vigil

BENCHMARK_MAIN();
