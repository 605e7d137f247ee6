// The native tree evaluator against XGBoost itself: the C API on 10,000 rows, Debian's
// python3-xgboost on 1,000 rows (run from the test), concurrent C API use, and model files the
// loaders must refuse.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "core/file.h"
#include "models/tree_ensemble.h"
#include "models/xgb_capi.h"
#include "test_util.h"

namespace vigil {
namespace {

using testing::SourcePath;

const std::string kModel = SourcePath("config/models/fraud-demo.json");

// Rows mixing plausible values, exact split thresholds of the model (the `x < split` edge) and
// missing values, so that every branch kind is taken.
std::vector<float> MakeRows(std::size_t n, std::size_t nf, unsigned seed) {
  auto model = nlohmann::json::parse(*ReadFile(kModel));
  std::vector<std::vector<float>> splits(nf);
  for (const auto& t : model["learner"]["gradient_booster"]["model"]["trees"]) {
    const auto& left = t["left_children"];
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (left[i].get<int>() == -1) continue;
      splits[t["split_indices"][i].get<std::size_t>()].push_back(t["split_conditions"][i].get<float>());
    }
  }
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> rows(n * nf);
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t f = 0; f < nf; ++f) {
      double p = u(rng);
      float v;
      if (p < 0.12) {
        v = std::nanf("");
      } else if (p < 0.45 && !splits[f].empty()) {
        v = splits[f][rng() % splits[f].size()];  // exactly on a threshold
        if (p < 0.2) v = std::nextafter(v, -INFINITY);
      } else {
        v = static_cast<float>(std::exp(u(rng) * 9.0) - 1.0) * (f == 13 ? -0.001f : 1.0f);
      }
      rows[r * nf + f] = v;
    }
  }
  return rows;
}

TEST(TreeEnsemble, LoadsTheDemoModel) {
  auto m = TreeEnsemble::LoadFile(kModel);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->info().objective, "binary:logistic");
  EXPECT_EQ(m->info().num_feature, 18u);
  EXPECT_EQ(m->info().num_trees, 200u);
  EXPECT_LE(m->info().max_depth, 6);
  ASSERT_EQ(m->info().feature_names.size(), 18u);
  EXPECT_EQ(m->info().feature_names[0], "amount");
}

// The proof the issue asks for: native == C API on 10,000 rows. Both sum float leaf values in
// tree order, so the results agree to float rounding of the final sigmoid (observed: exact).
TEST(TreeEnsemble, EqualsTheCApiOn10000Rows) {
  auto native = TreeEnsemble::LoadFile(kModel);
  ASSERT_TRUE(native.ok()) << native.error().ToString();
  auto capi = XgbCApiModel::LoadFile(kModel);
  ASSERT_TRUE(capi.ok()) << capi.error().ToString();
  const std::size_t nf = native->info().num_feature, n = 10000;
  ASSERT_EQ((*capi)->num_feature(), nf);
  auto rows = MakeRows(n, nf, 42);
  std::vector<float> ref(n);
  ASSERT_TRUE((*capi)->PredictBatch(rows.data(), n, ref.data()));
  double max_diff = 0;
  std::size_t exact = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const float mine = native->Predict(rows.data() + r * nf);
    const double d = std::abs(static_cast<double>(mine) - ref[r]);
    max_diff = std::max(max_diff, d);
    exact += mine == ref[r];
    // One row at a time through the C API gives the same as the batch.
    if (r < 200) {
      EXPECT_EQ((*capi)->Predict(rows.data() + r * nf), ref[r]);
    }
  }
  EXPECT_LE(max_diff, 1e-6) << "exact " << exact << " of " << n;
  std::printf("native vs C API on %zu rows: max |diff| = %.3g, %zu exactly equal\n", n, max_diff, exact);
}

TEST(TreeEnsemble, EqualsPythonXgboostOn1000Rows) {
  auto native = TreeEnsemble::LoadFile(kModel);
  ASSERT_TRUE(native.ok());
  const std::size_t nf = native->info().num_feature, n = 1000;
  auto rows = MakeRows(n, nf, 7);
  const std::string csv = std::filesystem::temp_directory_path() / ("vigil-xgb-rows-" + std::to_string(::getpid()) + ".csv");
  {
    std::ofstream out(csv);
    char buf[32];
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t f = 0; f < nf; ++f) {
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(rows[r * nf + f]));
        out << (f ? "," : "") << buf;
      }
      out << "\n";
    }
  }
  auto [code, text] = vigil::testing::Run("/usr/bin/python3 " + SourcePath("tests/reference/xgb_predict.py") + " " + kModel + " " + csv);
  std::filesystem::remove(csv);
  ASSERT_EQ(code, 0) << "reference script failed (python3-xgboost installed?)";
  std::istringstream in(text);
  double max_diff = 0;
  std::size_t count = 0;
  for (double p; in >> p; ++count) {
    ASSERT_LT(count, n);
    max_diff = std::max(max_diff, std::abs(native->Predict(rows.data() + count * nf) - p));
  }
  EXPECT_EQ(count, n);
  EXPECT_LE(max_diff, 1e-6);
  std::printf("native vs python3-xgboost on %zu rows: max |diff| = %.3g\n", n, max_diff);
}

TEST(XgbCApi, ConcurrentPredictionsMatchSerial) {
  auto capi = XgbCApiModel::LoadFile(kModel);
  ASSERT_TRUE(capi.ok());
  const std::size_t nf = (*capi)->num_feature(), n = 400;
  auto rows = MakeRows(n, nf, 3);
  std::vector<float> serial(n);
  for (std::size_t r = 0; r < n; ++r) serial[r] = (*capi)->Predict(rows.data() + r * nf);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        for (std::size_t i = 0; i < n; ++i) {
          std::size_t r = (i * 7 + static_cast<std::size_t>(t) * 13) % n;
          if ((*capi)->Predict(rows.data() + r * nf) != serial[r]) mismatches.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

std::string Mutate(const std::string& from, const std::string& to) {
  std::string text = *ReadFile(kModel);
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(TreeEnsemble, RefusesWhatItCannotEvaluate) {
  EXPECT_FALSE(TreeEnsemble::Parse("not json", "x.json").ok());
  EXPECT_FALSE(TreeEnsemble::Parse("{}", "x.json").ok());
  auto multi = TreeEnsemble::Parse(Mutate(R"("name":"binary:logistic")", R"("name":"multi:softprob")"), "m.json");
  ASSERT_FALSE(multi.ok());
  EXPECT_NE(multi.error().message.find("not evaluated natively"), std::string::npos);
  auto cat = TreeEnsemble::Parse(Mutate(R"("split_type":[0,)", R"("split_type":[1,)"), "c.json");
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.error().message.find("categorical"), std::string::npos);
  auto range = TreeEnsemble::Parse(Mutate(R"("left_children":[1,)", R"("left_children":[9999,)"), "r.json");
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.error().message.find("out of range"), std::string::npos);
  EXPECT_EQ(range.error().where, "r.json");
  auto dart = TreeEnsemble::Parse(Mutate(R"("name":"gbtree")", R"("name":"dart")"), "d.json");
  EXPECT_FALSE(dart.ok());
}

TEST(XgbCApi, RefusesAMissingOrBrokenFile) {
  EXPECT_FALSE(XgbCApiModel::LoadFile("/nonexistent/model.json").ok());
  const std::string bad = std::filesystem::temp_directory_path() / ("vigil-bad-model-" + std::to_string(::getpid()) + ".json");
  std::ofstream(bad) << R"({"learner": 1})";
  auto m = XgbCApiModel::LoadFile(bad);
  std::filesystem::remove(bad);
  EXPECT_FALSE(m.ok());
}

}  // namespace
}  // namespace vigil
