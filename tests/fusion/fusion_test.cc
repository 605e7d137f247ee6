#include "fusion/fusion.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace vigil {
namespace {

LogisticFusion Model(const std::string& missing_passive, const std::string& missing_active) {
  std::string text = R"({"name": "liveness", "version": "f-1", "bias": -0.5, "feature": "logit",
    "inputs": [{"signal": "passive", "weight": 2.0, "missing": ")" + missing_passive + R"(", "impute": 0.4},
               {"signal": "active", "weight": 1.0, "missing": ")" + missing_active + R"(", "impute": 0.6}]})";
  auto m = LogisticFusion::Parse(text, "mem");
  EXPECT_TRUE(m.ok()) << m.error().ToString();
  return *m;
}

FusionResult Input(const LogisticFusion& m, std::vector<std::pair<bool, double>> vals) {
  FusionResult r;
  for (std::size_t i = 0; i < m.inputs().size(); ++i) {
    SignalScore s;
    s.name = m.inputs()[i].signal;
    s.present = vals[i].first;
    s.calibrated = vals[i].second;
    r.signals.push_back(s);
  }
  return r;
}

double Logit(double p) { return std::log(p / (1 - p)); }
double Sig(double z) { return 1 / (1 + std::exp(-z)); }

TEST(Fusion, AllPresentHandComputed) {
  LogisticFusion m = Model("renormalise", "renormalise");
  FusionResult r = Input(m, {{true, 0.9}, {true, 0.7}});
  m.Fuse(r);
  double z = -0.5 + 2.0 * Logit(0.9) + 1.0 * Logit(0.7);
  EXPECT_TRUE(r.has_score);
  EXPECT_NEAR(r.logit, z, 1e-12);
  EXPECT_NEAR(r.score, Sig(z), 1e-12);
  EXPECT_NEAR(r.disagreement, 0.2, 1e-12);
  EXPECT_NEAR(r.signals[0].contribution, 2.0 * Logit(0.9), 1e-12);
  EXPECT_FALSE(r.force_uncertain);
  EXPECT_EQ(r.version, "f-1");
}

TEST(Fusion, RenormaliseKeepsTotalWeight) {
  LogisticFusion m = Model("renormalise", "renormalise");
  FusionResult r = Input(m, {{false, 0}, {true, 0.7}});
  m.Fuse(r);
  // |w| total 3, present 1: the active weight scales to 3.
  EXPECT_NEAR(r.signals[1].weight, 3.0, 1e-12);
  EXPECT_EQ(r.signals[0].weight, 0.0);
  EXPECT_NEAR(r.logit, -0.5 + 3.0 * Logit(0.7), 1e-12);
  EXPECT_EQ(r.disagreement, 0.0);  // one signal cannot disagree
  EXPECT_FALSE(r.force_uncertain);
}

TEST(Fusion, ImputeUsesDeclaredProbability) {
  LogisticFusion m = Model("impute", "renormalise");
  FusionResult r = Input(m, {{false, 0}, {true, 0.7}});
  m.Fuse(r);
  EXPECT_TRUE(r.signals[0].imputed);
  EXPECT_NEAR(r.signals[0].calibrated, 0.4, 1e-15);
  EXPECT_NEAR(r.logit, -0.5 + 2.0 * Logit(0.4) + 1.0 * Logit(0.7), 1e-12);
}

TEST(Fusion, UncertainForcesBandFlag) {
  LogisticFusion m = Model("renormalise", "uncertain");
  FusionResult r = Input(m, {{true, 0.95}, {false, 0}});
  m.Fuse(r);
  EXPECT_TRUE(r.has_score);
  EXPECT_TRUE(r.force_uncertain);
  EXPECT_NEAR(r.logit, -0.5 + 3.0 * Logit(0.95), 1e-12);
}

TEST(Fusion, NothingPresentHasNoScore) {
  LogisticFusion m = Model("impute", "impute");
  FusionResult r = Input(m, {{false, 0}, {false, 0}});
  m.Fuse(r);
  EXPECT_FALSE(r.has_score);
}

TEST(Fusion, ClipsCalibratedZeroAndOne) {
  LogisticFusion m = Model("renormalise", "renormalise");
  FusionResult r = Input(m, {{true, 1.0}, {true, 0.0}});
  m.Fuse(r);
  EXPECT_TRUE(std::isfinite(r.logit));
  EXPECT_NEAR(r.disagreement, 1.0, 1e-15);
  EXPECT_NEAR(ClippedLogit(1.0), std::log((1 - 1e-6) / 1e-6), 1e-9);
}

TEST(Fusion, ProbabilityFeatures) {
  auto m = LogisticFusion::Parse(R"({"name": "t", "version": "v", "bias": 0.1, "feature": "probability",
      "inputs": [{"signal": "a", "weight": 2}]})", "mem");
  ASSERT_TRUE(m.ok());
  FusionResult r = Input(*m, {{true, 0.25}});
  m->Fuse(r);
  EXPECT_NEAR(r.logit, 0.1 + 0.5, 1e-15);
}

TEST(FusionFile, ClearErrors) {
  auto e = LogisticFusion::Parse("{\"name\": \"x\", \"version\": \"v\", \"bias\": 0,\n"
                                 " \"inputs\": [{\"signal\": \"a\", \"weight\": 1, \"missing\": \"impute\"}]}", "f.json");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("inputs[0].impute"), std::string::npos);
  EXPECT_EQ(e.error().where.substr(0, 8), "f.json:2");

  auto dup = LogisticFusion::Parse(R"({"name": "x", "version": "v", "bias": 0,
      "inputs": [{"signal": "a", "weight": 1}, {"signal": "a", "weight": 2}]})", "d.json");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("twice"), std::string::npos);

  auto empty = LogisticFusion::Parse(R"({"name": "x", "version": "v", "bias": 0, "inputs": []})", "e.json");
  EXPECT_FALSE(empty.ok());
  auto nobias = LogisticFusion::Parse(R"({"name": "x", "version": "v", "inputs": [{"signal": "a", "weight": 1}]})", "b.json");
  ASSERT_FALSE(nobias.ok());
  EXPECT_NE(nobias.error().message.find("bias"), std::string::npos);
  auto badweight = LogisticFusion::Parse(R"({"name": "x", "version": "v", "bias": 0, "inputs": [{"signal": "a", "weight": "heavy"}]})", "w.json");
  ASSERT_FALSE(badweight.ok());
  EXPECT_NE(badweight.error().message.find("inputs[0].weight"), std::string::npos);
}

TEST(FusionSet, LoadsShipped) {
  auto set = FusionModelSet::LoadDirectory(vigil::testing::SourcePath("config/fusion"));
  ASSERT_TRUE(set.ok()) << set.error().ToString();
  EXPECT_NE(set->Find("liveness"), nullptr);
  EXPECT_NE(set->Find("transaction"), nullptr);
}

}  // namespace
}  // namespace vigil
