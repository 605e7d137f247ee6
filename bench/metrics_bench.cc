// Cost of metrics: counter and histogram updates under contention, label-set lookup, the whole
// per-decision work of MetricsModule::OnDecided, and exposing 10,000 series.
// Issue 6 goals: <= 100 ns of metrics per decision; <= 10 ms to expose 10,000 series.
// Results in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <filesystem>

#include "metrics/metrics.h"
#include "metrics/metrics_module.h"
#include "pipeline/engine.h"

namespace vigil {
namespace {

MetricsRegistry& SharedRegistry() {
  static MetricsRegistry* reg = new MetricsRegistry();
  return *reg;
}

// All threads on one series: the worst case for a single atomic's cache line.
void BM_CounterIncShared(benchmark::State& state) {
  static Counter& c = (*SharedRegistry().AddCounter("bench_shared_total", "h"))->Get({});
  for (auto _ : state) c.Inc();
}
BENCHMARK(BM_CounterIncShared)->Threads(1)->Threads(2)->Threads(4);

// Each thread on its own series of one family.
void BM_CounterIncPerThread(benchmark::State& state) {
  static Family<Counter>* fam =
      *SharedRegistry().AddCounter("bench_per_thread_total", "h", {LabelSpec::TopK("t", 64)});
  Counter& c = fam->Get({std::to_string(state.thread_index())});
  for (auto _ : state) c.Inc();
}
BENCHMARK(BM_CounterIncPerThread)->Threads(1)->Threads(2)->Threads(4);

void BM_HistogramObserveShared(benchmark::State& state) {
  static Histogram& h =
      (*SharedRegistry().AddHistogram("bench_latency_seconds", "h", {}, LatencyBuckets()))->Get({});
  double v = 0.0001 * (state.thread_index() + 1);
  for (auto _ : state) {
    h.Observe(v);
    v = v < 5 ? v * 1.7 : 0.0001;
  }
}
BENCHMARK(BM_HistogramObserveShared)->Threads(1)->Threads(2)->Threads(4);

// Resolving a 10-label set that exists (the decisions family) and incrementing it.
void BM_LookupTenLabels(benchmark::State& state) {
  static Family<Counter>* fam = [] {
    std::vector<LabelSpec> l;
    for (const char* n : {"flow_type", "platform", "device_class", "browser_family", "sdk_version",
                          "app_version", "model_version", "policy_version", "outcome", "band"}) {
      l.push_back(LabelSpec::TopK(n, 20));
    }
    return *SharedRegistry().AddCounter("bench_decisions_total", "h", l);
  }();
  const std::vector<std::string_view> labels = {"onboarding", "web", "mid", "chrome", "web-2.4.1",
                                                "5.2.0", "fusion-0.6.4", "policy-2026-03-10",
                                                "retry", "uncertain"};
  for (auto _ : state) fam->Get(labels).Inc();
}
BENCHMARK(BM_LookupTenLabels)->Threads(1)->Threads(2)->Threads(4);

// Everything MetricsModule::OnDecided records for one decision, as in the server: the engine in
// force read through an atomic shared_ptr (the reason catalogue), events off (the shipped
// config/metrics.yaml). One decision: the 10-label decisions counter, whole latency, 3 stage
// latencies, 3 signal scores and the fused score, disagreement, 1 quality reason (its reasons and
// quality-rejection counters), the retry counter and 2 version markers: 14 series.
struct DecisionFixture {
  MetricsRegistry reg;
  std::atomic<std::shared_ptr<const DecisionEngine>> engine;
  std::unique_ptr<MetricsModule> module;
  std::vector<DecisionRequest> requests;
  Decision decision;
  std::vector<StageTiming> timings = {{"quality", 2.5}, {"passive", 1.0}, {"engine", 0.2}, {"total", 12}};
  std::string error;

  // `slices` distinct client slices (platform x browser x SDK x app version), cycled.
  explicit DecisionFixture(int slices) {
    const std::string config = std::string(VIGIL_SOURCE_DIR) + "/config";
    auto eng = DecisionEngine::Load(EngineFiles::Under(config));
    if (!eng.ok()) {
      error = eng.error().ToString();
      return;
    }
    engine.store(*eng);
    ModuleContext ctx;
    ctx.config_dir = config;
    ctx.data_dir = std::filesystem::temp_directory_path().string();
    ctx.metrics = &reg;
    ctx.engine = [this] { return engine.load(); };
    auto m = MetricsModule::Create(ctx);
    if (!m.ok()) {
      error = m.error().ToString();
      return;
    }
    module = std::move(*m);
    const char* platforms[] = {"web", "ios", "android", "desktop"};
    const char* browsers[] = {"chrome", "safari", "firefox", "edge"};
    for (int i = 0; i < slices; ++i) {
      DecisionRequest req;
      req.request_id = "req_" + std::to_string(i);
      req.flow_type = "onboarding";
      req.context.SetString("platform", platforms[i % 4]);
      req.context.SetString("browser_family", browsers[(i / 4) % 4]);
      req.context.SetString("device_class", "mid");
      req.context.SetString("sdk_version", "web-2.4." + std::to_string((i / 16) % 4));
      req.context.SetString("app_version", "5.2." + std::to_string(i / 64));
      req.context.SetString("country", "DE");
      req.security.SetBool("injection_signal", false);
      requests.push_back(std::move(req));
    }
    Decision& d = decision;
    d.outcome = Outcome::kRetry;
    d.outcome_name = "retry";
    d.band = DecisionBand::kUncertain;
    d.band_name = "uncertain";
    d.model_version = "fusion-0.6.4";
    d.policy_version = "policy-2026-03-10";
    d.fusion.has_score = true;
    d.fusion.score = 0.61;
    d.fusion.disagreement = 0.12;
    d.fusion.signals = {{"passive", "p", 0.58, 0.58, true}, {"active", "a", 0.62, 0.62, true},
                        {"texture", "t", 0.5, 0.5, true}};
    d.reasons.push_back({ReasonCode::kBlurry, 1.0, true, ""});
  }
};

void RunDecisions(benchmark::State& state, int slices) {
  DecisionFixture fx(slices);
  if (!fx.error.empty()) {
    state.SkipWithError(fx.error.c_str());
    return;
  }
  std::size_t i = 0;
  for (auto _ : state) {
    DecisionEvent ev{fx.requests[i], fx.decision, "ev", "key", fx.timings, 12.0, 1773834129000};
    fx.module->OnDecided(ev);
    if (++i == fx.requests.size()) i = 0;
  }
  state.counters["series"] = static_cast<double>(fx.reg.SeriesCount());
}

// One client slice over and over.
void BM_OnDecided(benchmark::State& state) { RunDecisions(state, 1); }
BENCHMARK(BM_OnDecided);

// 256 client slices in turn (4 platforms x 4 browsers x 4 SDK x 4 app versions).
void BM_OnDecidedMixed(benchmark::State& state) { RunDecisions(state, 256); }
BENCHMARK(BM_OnDecidedMixed);

// Exposing a registry of 10,000 series (10 families x 1,000 label sets; counters and histograms).
void BM_Expose10k(benchmark::State& state) {
  MetricsRegistry reg;
  std::size_t series = 0;
  for (int f = 0; f < 8; ++f) {
    auto* fam = *reg.AddCounter("bench_c" + std::to_string(f) + "_total", "help",
                                {LabelSpec::TopK("a", 2000), LabelSpec::TopK("b", 10)});
    for (int i = 0; i < 1125; ++i) fam->Get({"value_" + std::to_string(i), "x"}).Inc(i);
    series += fam->size();
  }
  auto* h = *reg.AddHistogram("bench_h_seconds", "help", {LabelSpec::TopK("a", 1000)}, LatencyBuckets());
  for (int i = 0; i < 1000; ++i) h->Get({"value_" + std::to_string(i)}).Observe(0.01 * i);
  series += h->size();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string text = reg.Expose();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["series"] = static_cast<double>(series);
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Expose10k)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil

BENCHMARK_MAIN();
