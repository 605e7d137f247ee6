// `vigil drift` end to end: numeric and categorical files, JSON out, errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace vigil {
namespace {

using vigil::testing::VigilBinary;

std::string Write(const std::string& name, const std::string& body) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-drift-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string p = (dir / name).string();
  std::ofstream(p) << body;
  return p;
}

TEST(DriftCli, NumericFilesGiveEveryMeasure) {
  std::string a = Write("a", "0.1\n0.2\n0.3\n0.4\n0.5\n"), b = Write("b", "0.3\n0.4\n0.5\n0.6\n0.7\n0.8\n");
  auto [code, out] = vigil::testing::Run(VigilBinary() + " drift --reference " + a + " --current " + b + " --bins 4");
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["kind"], "numeric");
  for (const char* k : {"psi", "ks_statistic", "ks_p_value", "js_distance", "wasserstein", "wasserstein_norm"}) {
    EXPECT_TRUE(j["drift"].contains(k)) << k;
  }
  EXPECT_EQ(j["drift"]["n_reference"], 5);
  EXPECT_EQ(j["drift"]["n_current"], 6);
  EXPECT_EQ(j["drift"]["ks_method"], "exact");
  EXPECT_NEAR(j["drift"]["ks_statistic"].get<double>(), 0.5, 1e-12);  // at 0.2: 2/5 - 0; at 0.5: 1 - 3/6
}

TEST(DriftCli, CategoriesAreDetected) {
  std::string a = Write("ca", "web\nios\nandroid\nweb\n"), b = Write("cb", "web\nweb\nweb\nios\n");
  auto [code, out] = vigil::testing::Run(VigilBinary() + " drift --reference " + a + " --current " + b);
  ASSERT_EQ(code, 0) << out;
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["kind"], "categorical");
  EXPECT_NEAR(j["drift"]["shares"]["web"]["current"].get<double>(), 0.75, 1e-15);
  EXPECT_NEAR(j["drift"]["total_variation"].get<double>(), 0.25, 1e-15);
}

TEST(DriftCli, MissingFileIsAnIoError) {
  auto [code, out] = vigil::testing::Run(VigilBinary() + " drift --reference /nonexistent/x --current /nonexistent/y 2>/dev/null");
  EXPECT_EQ(code, 2);
}

}  // namespace
}  // namespace vigil
