// The native evaluator's two walks on hand-built models with hand-computed sums: unbalanced trees
// (a leaf above the deepest level, padded in the perfect-tree layout), a single-leaf tree, missing
// values taking each default direction, the `x < split` edge, and a model too deep to pad (walked
// node by node). On the demo model the two walks agree bit for bit on 10,000 rows.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "models/tree_ensemble.h"
#include "test_util.h"

namespace vigil {
namespace {

using nlohmann::json;

struct TreeSpec {
  std::vector<int> left, right, feature, default_left;
  std::vector<double> value;  // split condition, or the leaf value
};

std::string ModelJson(const std::vector<TreeSpec>& trees, std::size_t num_feature) {
  json jt = json::array();
  json info = json::array();
  for (const auto& t : trees) {
    jt.push_back({{"tree_param", {{"num_nodes", std::to_string(t.left.size())}, {"size_leaf_vector", "0"}}},
                  {"left_children", t.left},
                  {"right_children", t.right},
                  {"split_indices", t.feature},
                  {"split_conditions", t.value},
                  {"default_left", t.default_left},
                  {"split_type", std::vector<int>(t.left.size(), 0)}});
    info.push_back(0);
  }
  json m = {{"learner",
             {{"learner_model_param", {{"num_feature", std::to_string(num_feature)}, {"base_score", "5E-1"}, {"num_class", "0"}}},
              {"objective", {{"name", "reg:squarederror"}}},
              {"gradient_booster", {{"name", "gbtree"}, {"model", {{"trees", jt}, {"tree_info", info}}}}}}}};
  return m.dump();
}

// Tree 0: f0 < 1 (missing: left) ? 10 : (f1 < 2 (missing: right) ? 20 : 40)   -- unbalanced
// Tree 1: a single leaf, 0.25
// Tree 2: f1 < -1 (missing: right) ? -3 : 3
std::vector<TreeSpec> Unbalanced() {
  return {
      {{1, -1, 3, -1, -1}, {2, -1, 4, -1, -1}, {0, 0, 1, 0, 0}, {1, 0, 0, 0, 0}, {1.0, 10, 2.0, 20, 40}},
      {{-1}, {-1}, {0}, {0}, {0.25}},
      {{1, -1, -1}, {2, -1, -1}, {1, 0, 0}, {0, 0, 0}, {-1.0, -3, 3}},
  };
}

TEST(TreeLayout, UnbalancedTreesAndMissingValuesByHand) {
  auto m = TreeEnsemble::Parse(ModelJson(Unbalanced(), 2), "unbalanced.json");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->info().max_depth, 2);
  ASSERT_TRUE(m->padded());
  const float nan = std::nanf("");
  struct Case {
    float f0, f1, margin;
  };
  const Case cases[] = {
      {0.5f, 0.0f, 0.5f + 10 + 0.25f + 3},   // left leaf at depth 1; tree 2 right
      {1.0f, 1.9f, 0.5f + 20 + 0.25f + 3},   // 1.0 < 1.0 is false: right, then 1.9 < 2: left
      {5.0f, 2.0f, 0.5f + 40 + 0.25f + 3},   // 2.0 < 2.0 is false: right
      {nan, -2.0f, 0.5f + 10 + 0.25f - 3},   // f0 missing: default left; -2 < -1: left
      {5.0f, nan, 0.5f + 40 + 0.25f + 3},    // f1 missing: default right in both trees
      {nan, nan, 0.5f + 10 + 0.25f + 3},
  };
  for (const auto& c : cases) {
    const float row[2] = {c.f0, c.f1};
    EXPECT_EQ(m->NodeMargin(row), c.margin) << c.f0 << "," << c.f1;
    EXPECT_EQ(m->PaddedMargin(row), c.margin) << c.f0 << "," << c.f1;
    EXPECT_EQ(m->Predict(row), c.margin);  // identity link
  }
}

// A chain of 9 splits (depth 9 > kMaxPaddedDepth): f0 < k ? k : next; the last right leaf is 100.
TEST(TreeLayout, TooDeepToPadIsWalkedNodeByNode) {
  TreeSpec t;
  const int splits = 9;
  for (int k = 0; k < splits; ++k) {  // split k at index 2k, its left leaf at 2k+1
    t.left.insert(t.left.end(), {2 * k + 1, -1});
    t.right.insert(t.right.end(), {2 * k + 2, -1});
    t.feature.insert(t.feature.end(), {0, 0});
    t.default_left.insert(t.default_left.end(), {0, 0});
    t.value.insert(t.value.end(), {static_cast<double>(k), static_cast<double>(k)});
  }
  t.left.push_back(-1);
  t.right.push_back(-1);
  t.feature.push_back(0);
  t.default_left.push_back(0);
  t.value.push_back(100);
  auto m = TreeEnsemble::Parse(ModelJson({t}, 1), "chain.json");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->info().max_depth, splits);
  EXPECT_FALSE(m->padded());
  EXPECT_TRUE(std::isnan(m->PaddedMargin(std::array<float, 1>{0}.data())));
  const float r1[1] = {3.5f}, r2[1] = {50.0f}, r3[1] = {std::nanf("")}, r4[1] = {-1.0f};
  EXPECT_EQ(m->Margin(r1), 0.5f + 4);    // 3.5 < 4 at split 4
  EXPECT_EQ(m->Margin(r2), 0.5f + 100);  // past every split
  EXPECT_EQ(m->Margin(r3), 0.5f + 100);  // missing: default right all the way
  EXPECT_EQ(m->Margin(r4), 0.5f + 0);    // -1 < 0 at the root
}

TEST(TreeLayout, BothWalksAgreeBitForBitOnTheDemoModel) {
  auto m = TreeEnsemble::LoadFile(testing::SourcePath("config/models/fraud-demo.json"));
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  ASSERT_TRUE(m->padded());
  const std::size_t nf = m->info().num_feature;
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<float> row(nf);
  std::size_t differ = 0;
  for (int r = 0; r < 10000; ++r) {
    for (auto& v : row) v = u(rng) < 0.15 ? std::nanf("") : static_cast<float>(std::exp(u(rng) * 9) - 1);
    differ += m->NodeMargin(row.data()) != m->PaddedMargin(row.data());
  }
  EXPECT_EQ(differ, 0u);
}

}  // namespace
}  // namespace vigil
