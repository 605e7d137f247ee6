// Every example in api/openapi.yaml, sent to the running server, answered as the document says.
#include <gtest/gtest.h>

#include "support/server_harness.h"

namespace vigil {
namespace {

TEST(OpenApiContract, EveryExampleMatchesItsSchema) {
  testing::ServerProcess s;
  ASSERT_TRUE(s.Start()) << s.error();
  auto [code, out] = testing::Run(testing::Python() + " " + testing::SourcePath("tests/api/openapi_contract.py") + " " +
                                  testing::SourcePath("api/openapi.yaml") + " http://127.0.0.1:" +
                                  std::to_string(s.port()) + " " + s.admin_key() + " 2>&1");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(" 0 failures"), std::string::npos) << out;
  EXPECT_EQ(s.Terminate(), 0);
}

}  // namespace
}  // namespace vigil
