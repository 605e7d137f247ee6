#include "audit/audit.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/crypto.h"
#include "pipeline/engine.h"
#include "test_util.h"

namespace vigil {
namespace {

TEST(ChainHash, IsSha256OfPrevSeqPayload) {
  // Independent of our helper: the digest of the literal concatenation.
  std::string expected = Hex(Sha256(std::string(kGenesisHash) + "\n1\n{\"a\":1}"));
  EXPECT_EQ(ChainHash(kGenesisHash, 1, "{\"a\":1}"), expected);
  EXPECT_NE(ChainHash(kGenesisHash, 2, "{\"a\":1}"), expected);
}

TEST(SubjectRef, StableKeyedAndNotTheId) {
  std::string a = SubjectRef("secret-1", "acct_42");
  EXPECT_EQ(a, SubjectRef("secret-1", "acct_42"));
  EXPECT_NE(a, SubjectRef("secret-2", "acct_42"));
  EXPECT_NE(a, SubjectRef("secret-1", "acct_43"));
  EXPECT_EQ(a.find("acct_42"), std::string::npos);
  EXPECT_EQ(a.size(), 3u + 24);
}

class PayloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = DecisionEngine::Load(EngineFiles::Under(vigil::testing::SourcePath("config")));
    ASSERT_TRUE(e.ok());
    engine_ = *e;
  }
  std::string Payload(const DecisionRequest& r) {
    auto d = engine_->Decide(r);
    EXPECT_TRUE(d.ok());
    AuditContext ctx;
    ctx.key_id = "abcd1234";
    ctx.time_ms = 1763800000000;
    ctx.media_sha256 = {std::string(64, 'f')};
    return BuildDecisionPayload(r, *d, ctx, engine_->catalogue(), "secret");
  }
  std::shared_ptr<const DecisionEngine> engine_;
};

TEST_F(PayloadTest, CanonicalRegardlessOfFieldOrderAndPseudonymised) {
  DecisionRequest a;
  a.request_id = "r1";
  a.flow_type = "transaction_approval";
  a.context.SetString("platform", "web");
  a.context.SetString("account_id", "acct_42");
  a.context.SetNumber("amount", 10.5);
  a.signals = {{"fraud_model", 0.3}};
  DecisionRequest b = a;
  b.context = AttributeMap();
  b.context.SetNumber("amount", 10.5);
  b.context.SetString("account_id", "acct_42");
  b.context.SetString("platform", "web");
  std::string pa = Payload(a), pb = Payload(b);
  EXPECT_EQ(pa, pb);
  EXPECT_EQ(pa.find("acct_42"), std::string::npos);
  auto j = nlohmann::json::parse(pa);
  EXPECT_EQ(j["request"]["context"]["account_id"], SubjectRef("secret", "acct_42"));
  EXPECT_EQ(j["request"]["context"]["platform"], "web");
  EXPECT_EQ(j["request"]["media"][0], std::string(64, 'f'));
  EXPECT_EQ(j["decision"]["outcome_name"], "allow");
  EXPECT_EQ(j["decision"]["reasons"][0]["code"], "LOW_FRAUD_RISK");
  EXPECT_EQ(j["versions"]["policy"], "policy-2026-11-22");
  EXPECT_EQ(j["scores"]["signals"][0]["raw"], 0.3);
  EXPECT_EQ(j["key_id"], "abcd1234");
}

}  // namespace
}  // namespace vigil
