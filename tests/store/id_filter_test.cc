// The request-id filter: never a false negative; false positives at the documented rate.
#include "store/id_filter.h"

#include <gtest/gtest.h>

#include <string>

namespace vigil {
namespace {

TEST(RequestIdFilter, NoFalseNegativesAndFewFalsePositivesAtOneMillion) {
  RequestIdFilter f;
  constexpr int kN = 1'000'000;
  for (int i = 0; i < kN; ++i) f.Add("req_" + std::to_string(i));
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(f.MayContain("req_" + std::to_string(i))) << i;
  int fp = 0;
  constexpr int kProbe = 1'000'000;
  for (int i = 0; i < kProbe; ++i) fp += f.MayContain("other_" + std::to_string(i)) ? 1 : 0;
  // Theory for m = 2^26, k = 4, n = 1e6: (1 - e^(-kn/m))^k = 1.3e-4; allow 3x for the hash.
  EXPECT_LT(fp, 400) << "false positives per million: " << fp;
}

TEST(RequestIdFilter, EmptyFilterContainsNothing) {
  RequestIdFilter f;
  EXPECT_FALSE(f.MayContain(""));
  EXPECT_FALSE(f.MayContain("req_1"));
  f.Add("req_1");
  EXPECT_TRUE(f.MayContain("req_1"));
  EXPECT_FALSE(f.MayContain("req_2"));
}

}  // namespace
}  // namespace vigil
