#include "calibration/calibration.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

#include "test_util.h"

namespace vigil {
namespace {

using vigil::testing::Python;
using vigil::testing::ReadCsvColumns;
using vigil::testing::Run;
using vigil::testing::SourcePath;

struct Data {
  std::vector<double> scores;
  std::vector<int> labels;
  std::vector<double> labels_d;
};

Data LoadData() {
  auto cols = ReadCsvColumns(SourcePath("tests/data/calibration_scores.csv"));
  Data d;
  d.scores = cols.at(0);
  for (double l : cols.at(1)) {
    d.labels.push_back(static_cast<int>(l));
    d.labels_d.push_back(l);
  }
  return d;
}

// The scikit-learn reference, computed now from the same data file.
nlohmann::json Reference() {
  auto [code, out] = Run(Python() + " " + SourcePath("tests/reference/calibration_ref.py") + " " +
                         SourcePath("tests/data/calibration_scores.csv"));
  EXPECT_EQ(code, 0) << "reference script failed";
  return nlohmann::json::parse(out);
}

TEST(CalibrationReference, PlattMatchesScikitLearnWithin1e4) {
  Data d = LoadData();
  ASSERT_EQ(d.scores.size(), 2000u);
  nlohmann::json ref = Reference();
  auto p = FitPlatt(d.scores, d.labels);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  // Tolerance from the issue: A and B within 1e-4 (sklearn stops BFGS at gtol 1e-5).
  EXPECT_NEAR(p->a, ref["platt"]["a"].get<double>(), 1e-4);
  EXPECT_NEAR(p->b, ref["platt"]["b"].get<double>(), 1e-4);
}

TEST(CalibrationReference, IsotonicMatchesScikitLearnWithin1e9) {
  Data d = LoadData();
  nlohmann::json ref = Reference();
  auto m = FitIsotonic(d.scores, d.labels_d);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  auto rx = ref["isotonic"]["x"].get<std::vector<double>>();
  auto ry = ref["isotonic"]["y"].get<std::vector<double>>();
  ASSERT_EQ(m->x.size(), rx.size());
  for (std::size_t i = 0; i < rx.size(); ++i) {
    EXPECT_NEAR(m->x[i], rx[i], 1e-12) << i;
    EXPECT_NEAR(m->y[i], ry[i], 1e-9) << i;
  }
  auto cal = Calibrator::Isotonic("passive", "v1", *m);
  ASSERT_TRUE(cal.ok());
  auto q = ref["queries"].get<std::vector<double>>();
  auto pred = ref["predictions"].get<std::vector<double>>();
  for (std::size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(cal->Apply(q[i]), pred[i], 1e-9) << "x=" << q[i];
}

TEST(Platt, HandComputedApply) {
  Calibrator c = Calibrator::Platt("s", "v", {-2.0, 1.0});
  // p = 1 / (1 + exp(-2 f + 1))
  EXPECT_NEAR(c.Apply(0.5), 0.5, 1e-15);
  EXPECT_NEAR(c.Apply(1.0), 1.0 / (1.0 + std::exp(-1.0)), 1e-15);
  EXPECT_NEAR(c.Apply(-400.0), 0.0, 1e-300);  // no overflow
  EXPECT_NEAR(c.Apply(400.0), 1.0, 1e-15);
}

TEST(Platt, RejectsOneClassAndBadInput) {
  std::vector<double> s = {0.1, 0.2};
  std::vector<int> one = {1, 1};
  EXPECT_FALSE(FitPlatt(s, one).ok());
  std::vector<int> bad = {0, 2};
  EXPECT_FALSE(FitPlatt(s, bad).ok());
  std::vector<double> nan = {0.1, std::nan("")};
  std::vector<int> ok = {0, 1};
  EXPECT_FALSE(FitPlatt(nan, ok).ok());
}

TEST(Platt, SeparableDataStaysFinite) {
  std::vector<double> s = {0.1, 0.2, 0.3, 0.7, 0.8, 0.9};
  std::vector<int> l = {0, 0, 0, 1, 1, 1};
  auto p = FitPlatt(s, l);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(std::isfinite(p->a) && std::isfinite(p->b));
  EXPECT_LT(p->a, 0);  // higher score, higher probability
  Calibrator c = Calibrator::Platt("s", "v", *p);
  // Platt's smoothed targets keep the fit away from 0 and 1: T+ = 4/5, T- = 1/5.
  EXPECT_LT(c.Apply(0.9), 0.95);
  EXPECT_GT(c.Apply(0.1), 0.05);
}

TEST(Isotonic, PoolsViolatorsHandComputed) {
  // y = 1, 3, 2, 4 at x = 1..4: 3 and 2 pool to 2.5.
  std::vector<double> x = {1, 2, 3, 4}, y = {1, 3, 2, 4};
  auto m = FitIsotonic(x, y);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->x, (std::vector<double>{1, 2, 3, 4}));
  EXPECT_EQ(m->y, (std::vector<double>{1, 2.5, 2.5, 4}));
  auto c = Calibrator::Isotonic("s", "v", *m);
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->Apply(0), 1);    // clipped below
  EXPECT_DOUBLE_EQ(c->Apply(9), 4);    // clipped above
  EXPECT_DOUBLE_EQ(c->Apply(1.5), 1.75);
  EXPECT_DOUBLE_EQ(c->Apply(2.7), 2.5);
}

TEST(Isotonic, TrimsFlatRunsAndPoolsTies) {
  // Ties at x=2 average to 0.5; the run 0.5, 0.5, 0.5 keeps only its ends.
  std::vector<double> x = {1, 2, 2, 3, 4, 5}, y = {0, 0, 1, 0.5, 0.5, 1};
  auto m = FitIsotonic(x, y);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->x, (std::vector<double>{1, 2, 4, 5}));
  EXPECT_EQ(m->y, (std::vector<double>{0, 0.5, 0.5, 1}));
}

TEST(Isotonic, WeightsAndErrors) {
  std::vector<double> x = {1, 2}, y = {1, 0}, w = {3, 1};
  auto m = FitIsotonic(x, y, w);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->y[0], 0.75);
  EXPECT_FALSE(FitIsotonic(std::vector<double>{}, std::vector<double>{}).ok());
  std::vector<double> neg = {-1, 1};
  EXPECT_FALSE(FitIsotonic(x, y, neg).ok());
}

TEST(CalibrationFile, RoundTripsExactly) {
  Data d = LoadData();
  auto m = FitIsotonic(d.scores, d.labels_d);
  ASSERT_TRUE(m.ok());
  auto iso = Calibrator::Isotonic("passive", "passive-2.0", *m);
  ASSERT_TRUE(iso.ok());
  auto back = ParseCalibration(SerializeCalibration(*iso), "mem");
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->isotonic().x, m->x);
  EXPECT_EQ(back->isotonic().y, m->y);
  EXPECT_EQ(back->model_version(), "passive-2.0");

  Calibrator platt = Calibrator::Platt("passive", "p1", {-10.856792912782481, 5.285634967187441});
  auto pb = ParseCalibration(SerializeCalibration(platt), "mem");
  ASSERT_TRUE(pb.ok());
  EXPECT_EQ(pb->platt().a, platt.platt().a);
  EXPECT_EQ(pb->platt().b, platt.platt().b);
}

TEST(CalibrationFile, ErrorsNameFileLineAndField) {
  auto e = ParseCalibration("{\"signal\": \"p\",\n \"model_version\": \"v\",\n \"method\": \"platt\",\n \"platt\": {\"a\": \"x\", \"b\": 1}}", "cal.json");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().where.substr(0, 11), "cal.json:4:");
  EXPECT_NE(e.error().message.find("platt.a"), std::string::npos);

  auto m = ParseCalibration("{\"signal\": \"p\", \"model_version\": \"v\", \"method\": \"spline\"}", "c.json");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("method"), std::string::npos);

  auto iso = ParseCalibration("{\"signal\": \"p\", \"model_version\": \"v\", \"method\": \"isotonic\",\n"
                              " \"isotonic\": {\"x\": [0, 0.5, 0.4], \"y\": [0, 0.5, 1]}}", "i.json");
  ASSERT_FALSE(iso.ok());
  EXPECT_NE(iso.error().message.find("strictly increasing"), std::string::npos);
  EXPECT_EQ(iso.error().where.substr(0, 8), "i.json:2");

  auto missing = ParseCalibration("{\"signal\": \"p\", \"method\": \"identity\"}", "m.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("model_version"), std::string::npos);

  auto typo = ParseCalibration("{\"signal\": \"p\", \"model_version\": \"v\", \"methd\": \"identity\"}", "t.json");
  ASSERT_FALSE(typo.ok());
}

TEST(CalibrationSet, LoadsShippedDirectory) {
  auto set = CalibrationSet::LoadDirectory(SourcePath("config/calibration"));
  ASSERT_TRUE(set.ok()) << set.error().ToString();
  ASSERT_NE(set->Find("passive"), nullptr);
  EXPECT_EQ(set->Find("passive")->method(), CalibrationMethod::kPlatt);
  EXPECT_EQ(set->Find("nope"), nullptr);
  EXPECT_FALSE(CalibrationSet::LoadDirectory("/nonexistent/dir").ok());
}

}  // namespace
}  // namespace vigil
