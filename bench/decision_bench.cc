// One decision through the core: 3 signals calibrated (Platt, isotonic, Platt), fused by the
// logistic meta-model, and a policy flow with 10 rules (6 hard, 4 review) and 3 segments.
// Issue 2 target: <= 2 microseconds on the 2-core CI machine. Results in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>

#include "pipeline/engine.h"

namespace vigil {
namespace {

constexpr const char* kPolicy = R"(version: bench-1
flows:
  payment:
    kind: transaction
    fusion: bench
    thresholds: {allow: 0.30, deny: 0.80}
    uncertain: challenge
    hard_rules:
      - {name: injection, when: 'security.injection_signal', outcome: deny, reason: INJECTION_DETECTED}
      - {name: travel, when: 'reason.IMPOSSIBLE_TRAVEL and context.amount >= 500', outcome: challenge, reason: IMPOSSIBLE_TRAVEL}
      - {name: probe, when: 'reason.PROBE_PATTERN', outcome: deny, reason: PROBE_PATTERN}
      - {name: bot, when: 'reason.AUTOMATION_SIGNATURE and context.amount >= 50', outcome: deny, reason: AUTOMATION_SIGNATURE}
      - {name: country, when: 'context.country in ["XA", "XB", "XC"] and context.amount > 2000', outcome: deny, reason: HIGH_FRAUD_SCORE}
      - {name: drift, when: 'reason.FINGERPRINT_DRIFT and context.platform == "web"', outcome: challenge, reason: FINGERPRINT_DRIFT}
    segments:
      - {name: new_large, when: 'context.account_age_days < 30 and context.amount >= 500', thresholds: {allow: 0.10, deny: 0.50}}
      - {name: trusted_small, when: 'context.account_age_days >= 1095 and context.amount < 50', thresholds: {allow: 0.60, deny: 0.95}}
      - {name: wallet, when: 'context.payment_method in ["wallet", "bnpl"] and context.account_age_days < 90', thresholds: {allow: 0.20, deny: 0.70}}
    review:
      - {name: big, when: 'band == "uncertain" and context.amount >= 5000'}
      - {name: disagree, when: 'scores.disagreement > 0.6 and band != "deny"', reason: MODEL_DISAGREEMENT}
      - {name: velocity, when: 'reason.VELOCITY_ANOMALY and band == "uncertain"', reason: VELOCITY_ANOMALY}
      - {name: integrity, when: 'security.device_integrity == false and band == "allow"', reason: DEVICE_INTEGRITY}
)";

std::shared_ptr<const DecisionEngine> BuildEngine() {
  auto cat = ReasonCatalogue::LoadFile(std::string(VIGIL_SOURCE_DIR) + "/config/reasons.yaml");
  if (!cat.ok()) std::abort();
  auto catalogue = std::make_shared<const ReasonCatalogue>(std::move(*cat));
  auto policy = Policy::Parse(kPolicy, "bench.yaml", *catalogue);
  if (!policy.ok()) {
    std::cerr << policy.error().ToString() << "\n";
    std::abort();
  }
  auto cals = std::make_shared<CalibrationSet>();
  (void)cals->Add(Calibrator::Platt("fraud_model", "m1", {-6.0, 3.0}));
  IsotonicMap iso;
  for (int i = 0; i <= 40; ++i) {
    iso.x.push_back(i / 40.0);
    iso.y.push_back(0.01 + 0.98 * (i / 40.0) * (i / 40.0));
  }
  (void)cals->Add(*Calibrator::Isotonic("device_risk", "m2", iso));
  (void)cals->Add(Calibrator::Platt("behaviour", "m3", {-4.0, 2.0}));
  auto fusion = LogisticFusion::Parse(R"({"name": "bench", "version": "f1", "bias": -0.2,
      "inputs": [{"signal": "fraud_model", "weight": 0.8}, {"signal": "device_risk", "weight": 0.3},
                 {"signal": "behaviour", "weight": 0.4}]})", "bench.json");
  auto fset = std::make_shared<FusionModelSet>();
  (void)fset->Add(std::move(*fusion));
  auto e = DecisionEngine::Create(catalogue, *policy, cals, fset);
  if (!e.ok()) std::abort();
  return *e;
}

DecisionRequest Request() {
  DecisionRequest r;
  r.request_id = "req_bench_0001";
  r.flow_type = "payment";
  r.context.SetString("platform", "web");
  r.context.SetString("country", "DE");
  r.context.SetString("payment_method", "card");
  r.context.SetNumber("amount", 120.0);
  r.context.SetNumber("account_age_days", 400);
  r.signals = {{"fraud_model", 0.42}, {"device_risk", 0.3}, {"behaviour", 0.55}};
  r.security.SetBool("injection_signal", false);
  r.security.SetBool("device_integrity", true);
  return r;
}

void BM_Decision(benchmark::State& state) {
  auto engine = BuildEngine();
  DecisionRequest req = Request();
  for (auto _ : state) {
    auto d = engine->Decide(req);
    benchmark::DoNotOptimize(d);
  }
}
BENCHMARK(BM_Decision);

}  // namespace
}  // namespace vigil

BENCHMARK_MAIN();
