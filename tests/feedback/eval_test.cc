// vigil eval, calibrate and fit-fusion: the fusion fit against scikit-learn's LogisticRegression
// (within 1e-4, as issue 9 asks; in practice ~1e-8), the eval command's outputs (JSON figures as
// the library's, policy fragment meeting its target, HTML with inline SVG pictures), and the
// CSV reader's edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "feedback/eval_data.h"
#include "feedback/eval_report.h"
#include "feedback/fit_fusion.h"
#include "test_util.h"

namespace vigil {
namespace {

using nlohmann::json;
using testing::Python;
using testing::Run;
using testing::Slurp;
using testing::SourcePath;
using testing::VigilBinary;

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("vigil-eval-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& f) const { return (path_ / f).string(); }

 private:
  std::filesystem::path path_;
};

// Calibrated liveness signals: genuine captures score high on both, attacks low, with noise.
std::string WriteFusionData(const std::string& path, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::ofstream f(path);
  f.precision(17);
  f << "request_id,label,passive,active\n";
  for (int i = 0; i < n; ++i) {
    const bool genuine = i % 3 != 0;
    const double a = (genuine ? 1.2 : -1.0) + 1.1 * z(rng), b = (genuine ? 0.6 : -0.4) + 1.4 * z(rng);
    f << "r" << i << "," << (genuine ? "genuine" : "attack") << "," << 1 / (1 + std::exp(-a)) << ","
      << 1 / (1 + std::exp(-b)) << "\n";
  }
  return path;
}

TEST(FitFusion, MatchesScikitLearnLogisticRegression) {
  TempDir dir;
  const std::string data = WriteFusionData(dir / "fusion.csv", 2000, 3);
  // scikit-learn needs 0/1 labels in a numeric file: the same rows, genuine = 1.
  {
    std::ifstream in(data);
    std::ofstream out(dir / "fusion01.csv");
    std::string line;
    std::getline(in, line);
    out << "id,label,passive,active\n";
    while (std::getline(in, line)) {
      auto cells = SplitCsvLine(line);
      out << cells[0].substr(1) << "," << (cells[1] == "genuine" ? 1 : 0) << "," << cells[2] << "," << cells[3] << "\n";
    }
  }
  auto [rcode, rout] = vigil::testing::Run(Python() + " " + SourcePath("tests/reference/fusion_fit_ref.py") + " " +
                                           (dir / "fusion01.csv") + " passive,active 0.01,1,100");
  ASSERT_EQ(rcode, 0) << rout;
  json refs = json::parse(rout);
  for (const char* cs : {"0.01", "1", "100"}) {
    const double c = std::stod(cs);
    json ref = refs[cs];
    auto d = ReadFusionCsv(data, {"passive", "active"}, true);
    ASSERT_TRUE(d.ok()) << d.error().ToString();
    auto fit = FitLogisticL2(d->x, d->y, c);
    ASSERT_TRUE(fit.ok()) << fit.error().ToString();
    EXPECT_NEAR(fit->bias, ref["bias"].get<double>(), 1e-4) << "C=" << c;
    EXPECT_NEAR(fit->weights[0], ref["weights"][0].get<double>(), 1e-4) << "C=" << c;
    EXPECT_NEAR(fit->weights[1], ref["weights"][1].get<double>(), 1e-4) << "C=" << c;
  }
  // The command writes a model file the server can load.
  auto [code, out] = vigil::testing::Run(VigilBinary() + " fit-fusion --data " + data + " --signals passive,active --name liveness" +
                         " --version fusion-live-test --C 1 --out " + (dir / "liveness.json") + " 2>&1");
  ASSERT_EQ(code, 0) << out;
  json model = json::parse(Slurp(dir / "liveness.json"));
  EXPECT_EQ(model["inputs"][0]["signal"], "passive");
  EXPECT_EQ(model["fitted"]["rows"], 2000);
}

TEST(FitFusion, RefusesDegenerateData) {
  std::vector<std::vector<double>> x = {{0.1}, {0.2}};
  std::vector<int> y = {1, 1};
  EXPECT_FALSE(FitLogisticL2(x, y, 1.0).ok());
}

// Liveness eval file: genuine-probability scores, decisions, attack types.
std::string WriteEvalData(const std::string& path, int n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const char* types[] = {"print", "screen_replay", "mask"};
  std::ofstream f(path);
  f << "request_id,label,attack_type,score,decision\n";
  for (int i = 0; i < n; ++i) {
    const bool attack = u(rng) < 0.25;
    const double s = attack ? 0.7 * u(rng) * u(rng) : 1.0 - 0.5 * u(rng) * u(rng);
    const double rounded = std::round(s * 1000) / 1000;
    f << "r" << i << "," << (attack ? "attack" : "genuine") << "," << (attack ? types[i % 3] : "") << "," << rounded
      << "," << (rounded >= 0.8 ? "pass" : (rounded < 0.35 ? "fail" : "retry")) << "\n";
  }
  return path;
}

TEST(Eval, CommandWritesFiguresPolicyFragmentAndHtml) {
  TempDir dir;
  const std::string data = WriteEvalData(dir / "eval.csv", 5000, 11);
  auto [code, out] = vigil::testing::Run(VigilBinary() + " eval --data " + data + " --target-bpcer 0.05 --json " + (dir / "r.json") +
                         " --html " + (dir / "r.html") + " --policy-out " + (dir / "frag.yaml") + " --progress 2>&1");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("100%"), std::string::npos) << "progress bar";
  json r = json::parse(Slurp(dir / "r.json"));
  EXPECT_EQ(r["kind"], "liveness");
  EXPECT_EQ(r["rows"], 5000);
  EXPECT_EQ(r["figures_at"], "decisions");

  // The same figures through the library.
  EvalReadOptions ro;
  auto d = ReadEvalCsv(data, ro);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->flipped);
  Performance p = ComputePerformance(d->cases);
  EXPECT_EQ(r["performance"]["confusion"]["tp"], p.confusion.tp);
  EXPECT_NEAR(r["performance"]["bpcer"].get<double>(), p.bpcer, 1e-15);
  EXPECT_NEAR(r["performance"]["max_apcer"].get<double>(), p.max_apcer, 1e-15);
  EXPECT_EQ(r["performance"]["apcer"].size(), 3u);
  // Decisions: pass when score >= 0.8, so flagged = risk > 0.2 -- by hand from the file.
  std::int64_t fp = 0, negatives = 0;
  for (const auto& c : d->cases) {
    if (!c.positive) {
      ++negatives;
      if (1.0 - c.risk < 0.8) ++fp;
    }
  }
  EXPECT_NEAR(p.bpcer, double(fp) / double(negatives), 1e-15);

  // The target: BPCER <= 0.05 at the fragment's pass threshold, recomputed from the file.
  ASSERT_TRUE(r["target"]["met"].get<bool>());
  const double pass = r["target"]["pass_threshold"];
  const double risk_t = r["target"]["risk_threshold"];
  std::int64_t rejected = 0;
  for (const auto& c : d->cases) {
    if (!c.positive && c.risk >= risk_t) ++rejected;
  }
  EXPECT_LE(double(rejected) / double(negatives), 0.05);
  EXPECT_NEAR(pass, 1.0 - risk_t, 1e-12);
  std::string frag = Slurp(dir / "frag.yaml");
  EXPECT_NE(frag.find("flows:\n  onboarding:\n    thresholds: {pass: "), std::string::npos) << frag;
  // ROC/DET data and confusion along the threshold.
  EXPECT_EQ(r["confusion_along_threshold"].size(), 21u);
  EXPECT_EQ(r["roc"]["fpr"].size(), r["det"]["fnr"].size());
  EXPECT_GT(r["roc_auc"].get<double>(), 0.8);

  std::string html = Slurp(dir / "r.html");
  EXPECT_NE(html.find("<title>Reliability diagram</title>"), std::string::npos);
  EXPECT_NE(html.find("<title>DET curve</title>"), std::string::npos);
  EXPECT_NE(html.find("<path d=\"M"), std::string::npos);
  EXPECT_NE(html.find("APCER mask"), std::string::npos);

  // An impossible target: exit 1, no fragment.
  auto [code2, out2] = vigil::testing::Run(VigilBinary() + " eval --data " + data + " --target-bpcer -1 --json " + (dir / "r2.json") + " 2>&1");
  EXPECT_EQ(code2, 1) << out2;
}

TEST(Eval, ReaderRefusesBadFiles) {
  TempDir dir;
  std::ofstream(dir / "mixed.csv") << "label,score\ngenuine,0.9\nfraud,0.8\n";
  std::ofstream(dir / "range.csv") << "label,score\ngenuine,1.5\n";
  std::ofstream(dir / "nolabel.csv") << "score\n0.5\n";
  std::ofstream(dir / "ok.csv") << "label,score,decision\n1,0.9,deny\n0,,allow\n\"0\",0.2,\"allow\"\n";
  EvalReadOptions ro;
  EXPECT_FALSE(ReadEvalCsv(dir / "mixed.csv", ro).ok());
  auto range = ReadEvalCsv(dir / "range.csv", ro);
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().ToString().find("range.csv:2"), std::string::npos);
  EXPECT_FALSE(ReadEvalCsv(dir / "nolabel.csv", ro).ok());
  auto ok = ReadEvalCsv(dir / "ok.csv", ro);
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->flipped);
  EXPECT_EQ(ok->skipped_no_score, 1);
  EXPECT_TRUE(ok->cases[0].flagged);
  EXPECT_FALSE(ok->cases[2].flagged);
}

TEST(Eval, NormalQuantile) {
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.001), -3.090232306167813, 1e-12);
}

}  // namespace
}  // namespace vigil
