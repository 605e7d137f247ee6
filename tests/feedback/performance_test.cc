// Error-rate figures against scikit-learn (tests/reference/feedback_ref.py, run on the same data)
// and against small hand-computed cases. Tolerance 1e-12: the same sums in a different order.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "feedback/label.h"
#include "feedback/performance.h"
#include "test_util.h"

namespace vigil {
namespace {

using nlohmann::json;
using testing::Python;
using testing::Run;
using testing::SourcePath;

const char* kAttackTypes[] = {"print", "screen_replay", "mask", "deepfake"};

std::vector<LabelledCase> MakeCases(int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<LabelledCase> out;
  for (int i = 0; i < n; ++i) {
    LabelledCase c;
    c.positive = u(rng) < 0.3;
    // Risk: informative but imperfect, rounded to 3 decimals so ties occur.
    double r = c.positive ? 0.35 + 0.65 * u(rng) * u(rng) + 0.2 * u(rng) : 0.6 * u(rng) * u(rng);
    c.risk = std::round(std::min(r, 1.0) * 1000.0) / 1000.0;
    c.has_risk = true;
    c.flagged = c.risk >= 0.5 || u(rng) < 0.05;
    if (c.positive) c.attack_type = kAttackTypes[i % 4];
    out.push_back(c);
  }
  return out;
}

json Reference(const std::vector<LabelledCase>& cases) {
  auto path = std::filesystem::temp_directory_path() / ("feedback_ref_" + std::to_string(::getpid()) + ".csv");
  {
    std::ofstream f(path);
    f.precision(17);
    f << "risk,y,flagged,attack\n";
    for (const auto& c : cases) {
      int a = -1;
      for (int k = 0; k < 4; ++k) {
        if (c.attack_type == kAttackTypes[k]) a = k;
      }
      f << c.risk << "," << (c.positive ? 1 : 0) << "," << (c.flagged ? 1 : 0) << "," << a << "\n";
    }
  }
  auto [code, out] = vigil::testing::Run(Python() + " " + SourcePath("tests/reference/feedback_ref.py") + " " + path.string());
  std::filesystem::remove(path);
  EXPECT_EQ(code, 0) << out;
  return json::parse(out);
}

TEST(PerformanceReference, MatchesScikitLearn) {
  auto cases = MakeCases(3000, 7);
  json ref = Reference(cases);
  Performance p = ComputePerformance(cases);
  EXPECT_EQ(p.confusion.tp, ref["tp"]);
  EXPECT_EQ(p.confusion.fp, ref["fp"]);
  EXPECT_EQ(p.confusion.tn, ref["tn"]);
  EXPECT_EQ(p.confusion.fn, ref["fn"]);
  EXPECT_NEAR(p.rates.precision, ref["precision"].get<double>(), 1e-12);
  EXPECT_NEAR(p.rates.recall, ref["recall"].get<double>(), 1e-12);
  EXPECT_NEAR(p.rates.f1, ref["f1"].get<double>(), 1e-12);
  EXPECT_NEAR(p.rates.mcc, ref["mcc"].get<double>(), 1e-12);
  EXPECT_NEAR(p.calibration.brier, ref["brier"].get<double>(), 1e-12);
  EXPECT_NEAR(p.calibration.ece, ref["ece"].get<double>(), 1e-12);
  EXPECT_NEAR(p.bpcer, ref["bpcer"].get<double>(), 1e-12);
  EXPECT_NEAR(p.acer, ref["acer"].get<double>(), 1e-12);
  // Reliability bins: scikit-learn lists the non-empty ones.
  std::size_t k = 0;
  for (std::size_t b = 0; b < p.calibration.bins.size(); ++b) {
    const auto& bin = p.calibration.bins[b];
    EXPECT_EQ(bin.count, ref["counts"][b]) << "bin " << b;
    if (bin.count == 0) continue;
    EXPECT_NEAR(bin.mean_risk, ref["prob_pred"][k].get<double>(), 1e-12);
    EXPECT_NEAR(bin.positive_rate, ref["prob_true"][k].get<double>(), 1e-12);
    ++k;
  }
  EXPECT_EQ(k, ref["prob_true"].size());
  for (const auto& t : p.by_attack_type) {
    int a = 0;
    while (t.attack_type != kAttackTypes[a]) ++a;
    EXPECT_NEAR(t.apcer, ref["apcer"][std::to_string(a)].get<double>(), 1e-12) << t.attack_type;
  }

  auto sweep = SweepThresholds(cases);
  ASSERT_EQ(sweep.size(), ref["roc"]["fpr"].size());
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    EXPECT_DOUBLE_EQ(sweep[i].threshold, ref["roc"]["thresholds"][i].get<double>());
    EXPECT_NEAR(sweep[i].fpr, ref["roc"]["fpr"][i].get<double>(), 1e-12);
    EXPECT_NEAR(sweep[i].tpr, ref["roc"]["tpr"][i].get<double>(), 1e-12);
  }
  EXPECT_NEAR(RocAuc(sweep), ref["auc"].get<double>(), 1e-12);
  // DET: every point scikit-learn returns is on our sweep, at the same threshold.
  std::map<double, const SweepPoint*> by_threshold;
  for (const auto& s : sweep) by_threshold[s.threshold] = &s;
  for (std::size_t i = 0; i < ref["det"]["thresholds"].size(); ++i) {
    auto it = by_threshold.find(ref["det"]["thresholds"][i].get<double>());
    ASSERT_NE(it, by_threshold.end());
    EXPECT_NEAR(it->second->fpr, ref["det"]["fpr"][i].get<double>(), 1e-12);
    EXPECT_NEAR(it->second->fnr, ref["det"]["fnr"][i].get<double>(), 1e-12);
  }
  // Confusion at arbitrary thresholds agrees with the sweep.
  std::vector<double> ts = {0.0, 0.25, sweep[10].threshold, 0.5, 0.999, 2.0};
  auto at = ConfusionAt(cases, ts);
  for (std::size_t i = 0; i < ts.size(); ++i) {
    std::int64_t tp = 0, fp = 0;
    for (const auto& c : cases) {
      if (c.risk >= ts[i]) (c.positive ? tp : fp)++;
    }
    EXPECT_EQ(at[i].confusion.tp, tp);
    EXPECT_EQ(at[i].confusion.fp, fp);
  }
}

TEST(Performance, HandComputedCase) {
  // 4 genuine (one rejected), 4 attacks: 2 print (one accepted), 2 mask (none accepted).
  std::vector<LabelledCase> cases = {
      {false, "", true, 0.1, false, "pass", 0, 0}, {false, "", true, 0.2, false, "pass", 0, 0},
      {false, "", true, 0.3, false, "pass", 0, 0}, {false, "", true, 0.6, true, "retry", 0, 0},
      {true, "print", true, 0.4, false, "pass", 0, 0}, {true, "print", true, 0.9, true, "fail", 0, 0},
      {true, "mask", true, 0.8, true, "fail", 0, 0}, {true, "mask", true, 0.95, true, "fail", 0, 0},
  };
  Performance p = ComputePerformance(cases);
  EXPECT_EQ(p.confusion.tp, 3);
  EXPECT_EQ(p.confusion.fp, 1);
  EXPECT_EQ(p.confusion.tn, 3);
  EXPECT_EQ(p.confusion.fn, 1);
  EXPECT_DOUBLE_EQ(p.bpcer, 0.25);
  ASSERT_EQ(p.by_attack_type.size(), 2u);
  EXPECT_EQ(p.by_attack_type[0].attack_type, "mask");
  EXPECT_DOUBLE_EQ(p.by_attack_type[0].apcer, 0.0);
  EXPECT_DOUBLE_EQ(p.by_attack_type[1].apcer, 0.5);
  EXPECT_DOUBLE_EQ(p.max_apcer, 0.5);
  EXPECT_DOUBLE_EQ(p.acer, 0.375);
  EXPECT_DOUBLE_EQ(p.rates.precision, 0.75);
  EXPECT_DOUBLE_EQ(p.rates.f1, 0.75);
  EXPECT_DOUBLE_EQ(p.rates.mcc, 0.5);  // (9 - 1) / sqrt(4^4)
  // Brier: (0.01 + 0.04 + 0.09 + 0.36 + 0.36 + 0.01 + 0.04 + 0.0025) / 8
  EXPECT_NEAR(p.calibration.brier, 0.9125 / 8.0, 1e-15);
  // Undefined ratios: no positives.
  std::vector<LabelledCase> genuine_only = {cases[0], cases[3]};
  Performance g = ComputePerformance(genuine_only);
  EXPECT_TRUE(std::isnan(g.rates.fnr));
  EXPECT_TRUE(std::isnan(g.max_apcer));
  EXPECT_TRUE(std::isnan(g.acer));
  EXPECT_DOUBLE_EQ(g.rates.mcc, 0.0);
  // Bin edges: 0.1 falls in the first bin, (0, 0.1], as numpy's searchsorted.
  EXPECT_EQ(p.calibration.bins[0].count, 1);
  EXPECT_EQ(p.calibration.bins[1].count, 1);
}

TEST(Performance, ThresholdForTargetFpr) {
  std::vector<LabelledCase> cases;
  for (int i = 0; i < 10; ++i) cases.push_back({false, "", true, i / 10.0, false, "", 0, 0});
  for (int i = 0; i < 10; ++i) cases.push_back({true, "", true, 0.5 + i / 20.0, false, "", 0, 0});
  auto sweep = SweepThresholds(cases);
  auto t = ThresholdForMaxFpr(sweep, 0.1);  // at most one genuine of ten flagged
  ASSERT_FALSE(std::isnan(t.threshold));
  EXPECT_LE(t.point.fpr, 0.1);
  EXPECT_EQ(t.point.confusion.fp, 1);
  // The lowest such threshold: the next lower one flags a second genuine case.
  std::size_t i = 0;
  while (sweep[i].threshold != t.threshold) ++i;
  ASSERT_LT(i + 1, sweep.size());
  EXPECT_GT(sweep[i + 1].fpr, 0.1);
  EXPECT_TRUE(std::isnan(ThresholdForMaxFpr(sweep, -1.0).threshold));
}

TEST(Label, Vocabulary) {
  EXPECT_TRUE(IsAttackType("virtual_camera"));
  EXPECT_FALSE(IsAttackType("card_testing"));
  EXPECT_TRUE(IsLabelSource("customer_support"));
  EXPECT_EQ(LabelKind(LabelClass::kFraud), FlowKind::kTransaction);
  EXPECT_EQ(ParseRfc3339Ms("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(ParseRfc3339Ms("2026-11-30T10:00:00.250+01:00"), ParseRfc3339Ms("2026-11-30T09:00:00.25Z"));
  EXPECT_EQ(ParseRfc3339Ms("2026-11-30T10:00:00Z"), 1796032800000);
  EXPECT_FALSE(ParseRfc3339Ms("2026-11-30 10:00"));
  EXPECT_FALSE(ParseRfc3339Ms("2026-13-30T10:00:00Z"));
}

// Every day of four years (a leap year, a century that is not one, one that is) and the day after
// each month's last, against Python's own calendar (datetime, computed here when the test runs);
// offsets out of RFC 3339's range are refused.
TEST(Label, Rfc3339DatesAreCheckedAgainstTheCalendar) {
  const char* script = R"py(
import datetime
for y in (2024, 2026, 1900, 2000):
    for m in range(1, 13):
        for d in range(1, 33):
            s = "%04d-%02d-%02dT12:34:56.789+05:30" % (y, m, d)
            try:
                t = datetime.datetime.fromisoformat(s)
                epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
                print(s, (t - epoch) // datetime.timedelta(milliseconds=1))
            except ValueError:
                print(s, "invalid")
)py";
  FILE* p = ::popen(("/usr/bin/python3 -c '" + std::string(script) + "'").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char text[64], expect[32];
  int valid = 0, invalid = 0;
  while (std::fscanf(p, "%63s %31s", text, expect) == 2) {
    const auto got = ParseRfc3339Ms(text);
    if (std::string_view(expect) == "invalid") {
      EXPECT_FALSE(got) << text;
      ++invalid;
    } else {
      ASSERT_TRUE(got) << text;
      EXPECT_EQ(*got, std::stoll(expect)) << text;
      ++valid;
    }
  }
  EXPECT_EQ(::pclose(p), 0);
  EXPECT_EQ(valid, 366 + 365 + 365 + 366);  // 2024, 2026, 1900 (not a leap year), 2000 (one)
  EXPECT_EQ(invalid, 4 * 12 * 32 - valid);
  EXPECT_FALSE(ParseRfc3339Ms("2026-11-30T10:00:00+24:00"));
  EXPECT_FALSE(ParseRfc3339Ms("2026-11-30T10:00:00+05:60"));
  EXPECT_EQ(ParseRfc3339Ms("2026-11-30T10:00:00-23:59"), ParseRfc3339Ms("2026-12-01T09:59:00Z"));
}

}  // namespace
}  // namespace vigil
