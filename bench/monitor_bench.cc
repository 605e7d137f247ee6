// The monitors' cost: the drift window update and the alert engine's observation per decision
// (what DriftModule/AlertModule::OnDecided do), and PSI + KS over 1M against 1M raw samples
// (issue 8 goals: <= 200 ns per decision for the drift update; >= 5x faster than SciPy's
// ks_2samp alone). Results in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <random>

#include "alerts/engine.h"
#include "drift/compare.h"
#include "drift/monitor.h"
#include "drift/psi_ks.h"
#include "drift/stats.h"

namespace vigil {
namespace {

constexpr std::int64_t kT0 = 1800000000000;

struct Traffic {
  std::vector<DecisionRequest> requests;
  std::vector<Decision> decisions;
  Traffic() {
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0, 1);
    const char* platforms[] = {"web", "ios", "android"};
    const char* flows[] = {"onboarding", "login", "transaction_approval"};
    for (int i = 0; i < 1024; ++i) {
      DecisionRequest r;
      r.flow_type = flows[i % 3];
      r.context.SetString("platform", platforms[(i / 3) % 3]);
      r.context.SetString("device_class", i % 5 ? "mid" : "low");
      r.context.SetString("browser_family", i % 2 ? "chrome" : "safari");
      r.context.SetString("sdk_version", "sdk-" + std::to_string(i % 5));
      r.context.SetString("country", "C" + std::to_string(i % 11));
      r.quality.SetNumber("blur_score", u(rng));
      r.quality.SetNumber("brightness_score", u(rng));
      Decision d;
      d.outcome = static_cast<Outcome>(i % 4);
      d.kind = i % 3 == 2 ? FlowKind::kTransaction : FlowKind::kLiveness;
      d.fusion.has_score = true;
      d.fusion.score = u(rng);
      d.fusion.disagreement = u(rng) * 0.5;
      for (const char* s : {"passive", "active", "fraud_model"}) {
        SignalScore sc;
        sc.name = s;
        sc.present = true;
        sc.calibrated = u(rng);
        d.fusion.signals.push_back(sc);
      }
      if (i % 7 == 0) d.reasons.push_back({ReasonCode::kInjectionDetected, 1.0, true, ""});
      requests.push_back(std::move(r));
      decisions.push_back(std::move(d));
    }
  }
};

// 50 decisions per second of event time: windows close as they would in production.
void BM_DriftWindowUpdate(benchmark::State& state) {
  Traffic t;
  drift::DriftMonitor m{drift::MonitorConfig{}};
  std::int64_t i = 0;
  for (auto _ : state) {
    const auto k = static_cast<std::size_t>(i & 1023);
    m.Add(t.requests[k], t.decisions[k], kT0 + i * 20);
    ++i;
  }
}
BENCHMARK(BM_DriftWindowUpdate);

void BM_AlertObserve(benchmark::State& state) {
  Traffic t;
  auto cfg = alerts::LoadAlertsConfig(std::string(VIGIL_SOURCE_DIR) + "/config/alerts.yaml");
  if (!cfg.ok()) {
    state.SkipWithError("config/alerts.yaml");
    return;
  }
  alerts::AlertEngine e(*cfg, nullptr);
  const std::string evidence(64, 'a');
  std::int64_t i = 0;
  for (auto _ : state) {
    const auto k = static_cast<std::size_t>(i & 1023);
    alerts::Observation o;
    o.time_ms = kT0 + i * 20;
    o.flow_type = t.requests[k].flow_type;
    o.platform = t.requests[k].context.GetString("platform");
    o.outcome = t.decisions[k].outcome;
    o.latency_ms = 2.0 + static_cast<double>(k % 50);
    o.disagreement = t.decisions[k].fusion.disagreement;
    o.evidence_id = evidence;
    o.reasons = &t.decisions[k].reasons;
    o.kind = t.decisions[k].kind;
    o.context = &t.requests[k].context;
    o.signals = &t.decisions[k].fusion.signals;
    e.Observe(o);
    ++i;
  }
}
BENCHMARK(BM_AlertObserve);

std::vector<double> Normal(std::size_t n, double mu, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mu, 1.0);
  std::vector<double> x(n);
  for (auto& v : x) v = d(rng);
  return x;
}

// PSI (10 bins) and KS (statistic and asymptotic p-value) on 1M against 1M raw samples:
// the straightforward way (copies, std::sort, a binary search per value) ...
void BM_PsiKs1M_StdSort(benchmark::State& state) {
  auto a = Normal(1000000, 0.0, 1), b = Normal(1000000, 0.01, 2);
  for (auto _ : state) {
    std::vector<double> x = a, y = b;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    auto edges = drift::EqualWidthEdges(x, y, 10);
    double psi = drift::Psi(drift::Shares(drift::Histogram(x, edges)), drift::Shares(drift::Histogram(y, edges)));
    auto ks = drift::KsTwoSampleSorted(x, y);
    benchmark::DoNotOptimize(psi);
    benchmark::DoNotOptimize(ks);
  }
}
BENCHMARK(BM_PsiKs1M_StdSort)->Unit(benchmark::kMillisecond);

// ... and drift::PsiKs (radix sort on the bit patterns, one merge pass for both), with a fresh
// workspace each time and with one kept between calls (as a monitor would keep it).
void BM_PsiKs1M(benchmark::State& state) {
  auto a = Normal(1000000, 0.0, 1), b = Normal(1000000, 0.01, 2);
  for (auto _ : state) {
    auto r = drift::PsiKs(a, b, 10);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PsiKs1M)->Unit(benchmark::kMillisecond);

void BM_PsiKs1M_Workspace(benchmark::State& state) {
  auto a = Normal(1000000, 0.0, 1), b = Normal(1000000, 0.01, 2);
  drift::PsiKsWorkspace ws;
  for (auto _ : state) {
    auto r = drift::PsiKs(a, b, 10, &ws);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PsiKs1M_Workspace)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vigil

BENCHMARK_MAIN();
