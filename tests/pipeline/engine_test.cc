#include "pipeline/engine.h"

#include <gtest/gtest.h>

#include <ostream>

#include <cmath>

#include "api/codec.h"
#include "core/file.h"
#include "test_util.h"

namespace vigil {
namespace {

using vigil::testing::SourcePath;

std::shared_ptr<const DecisionEngine> Engine() {
  static auto e = DecisionEngine::Load(EngineFiles::Under(SourcePath("config")));
  EXPECT_TRUE(e.ok()) << e.error().ToString();
  return *e;
}

Decision DecideFile(const std::string& name) {
  auto body = ReadFile(SourcePath("config/examples/" + name));
  EXPECT_TRUE(body.ok());
  auto parsed = ParseDecisionRequest(*body);
  EXPECT_TRUE(parsed.ok()) << parsed.error().detail;
  auto d = Engine()->Decide(parsed->request);
  EXPECT_TRUE(d.ok()) << d.error().ToString();
  return *d;
}

struct Example {
  const char* file;
  const char* outcome;
  const char* band;
  const char* segment;
};
void PrintTo(const Example& v, std::ostream* os) { *os << v.file; }

class ShippedExamples : public ::testing::TestWithParam<Example> {};

TEST_P(ShippedExamples, DecideAsDocumented) {
  Decision d = DecideFile(GetParam().file);
  EXPECT_EQ(d.outcome_name, GetParam().outcome);
  EXPECT_EQ(d.band_name, GetParam().band);
  EXPECT_EQ(d.explanation.segment, GetParam().segment);
  EXPECT_EQ(d.policy_version, "policy-2026-11-22");
  EXPECT_FALSE(d.model_version.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Config, ShippedExamples,
    ::testing::Values(Example{"liveness-pass.json", "pass", "pass", ""},
                      Example{"liveness-uncertain.json", "retry", "uncertain", ""},
                      Example{"liveness-injection.json", "fail", "pass", ""},
                      Example{"liveness-spoof.json", "fail", "fail", ""},
                      Example{"transaction-trusted-small.json", "allow", "allow", "trusted_small_amount"},
                      Example{"transaction-new-account-large.json", "challenge", "uncertain", "new_account_large_amount"},
                      Example{"transaction-high-risk.json", "deny", "deny", ""}),
    [](const auto& param_info) { return vigil::testing::Sanitize(param_info.param.file); });

TEST(DecisionEngine, CalibratesThenFuses) {
  DecisionRequest req;
  req.request_id = "r";
  req.flow_type = "onboarding";
  req.signals = {{"passive", 0.58}, {"active", 0.62}};
  auto d = Engine()->Decide(req);
  ASSERT_TRUE(d.ok());
  // passive: Platt a=-8, b=4; active: isotonic through (0.6, 0.7) and (0.8, 0.92).
  double p = 1 / (1 + std::exp(-8 * 0.58 + 4));
  double a = 0.7 + (0.92 - 0.7) * (0.62 - 0.6) / 0.2;
  double z = 0.65 * std::log(p / (1 - p)) + 0.35 * std::log(a / (1 - a));
  EXPECT_NEAR(d->fusion.signals[0].calibrated, p, 1e-12);
  EXPECT_NEAR(d->fusion.signals[1].calibrated, a, 1e-12);
  EXPECT_NEAR(d->fusion.score, 1 / (1 + std::exp(-z)), 1e-12);
  EXPECT_NEAR(d->fusion.disagreement, std::fabs(p - a), 1e-12);
}

TEST(DecisionEngine, UnfusedSignalsAreRecordedNotFused) {
  DecisionRequest req;
  req.request_id = "r";
  req.flow_type = "onboarding";
  req.signals = {{"passive", 0.9}, {"active", 0.9}, {"fraud_model", 0.5}};
  auto d = Engine()->Decide(req);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->fusion.signals.size(), 3u);
  EXPECT_EQ(d->fusion.signals[2].name, "fraud_model");
  EXPECT_EQ(d->fusion.signals[2].weight, 0.0);
}

TEST(DecisionEngine, UnknownFlowAndSignal) {
  DecisionRequest req;
  req.request_id = "r";
  req.flow_type = "nope";
  auto d = Engine()->Decide(req);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, Error::Kind::kNotFound);
  req.flow_type = "onboarding";
  req.signals = {{"mystery", 0.5}};
  d = Engine()->Decide(req);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().where, "signals.mystery");
}

TEST(DecisionEngine, RefusesPartsThatDoNotFit) {
  const DecisionEngine& e = *Engine();
  auto cat = std::make_shared<const ReasonCatalogue>(e.catalogue());
  auto pol = Policy::LoadFile(SourcePath("config/policy.yaml"), *cat);
  ASSERT_TRUE(pol.ok());
  // No fusion models at all: every flow names a missing one.
  auto r = DecisionEngine::Create(cat, *pol, std::make_shared<const CalibrationSet>(e.calibrations()),
                                  std::make_shared<const FusionModelSet>());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("fusion model"), std::string::npos);
  // Fusion present, calibrations missing.
  r = DecisionEngine::Create(cat, *pol, std::make_shared<const CalibrationSet>(),
                             std::make_shared<const FusionModelSet>(e.fusion_models()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no calibration"), std::string::npos);
}

}  // namespace
}  // namespace vigil
