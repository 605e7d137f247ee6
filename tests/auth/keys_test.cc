#include "auth/keys.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/file.h"

namespace vigil {
namespace {

class KeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() / ("vigil-keys-" + std::to_string(rd())) / "keys.yaml").string();
  }
  void TearDown() override { std::filesystem::remove_all(std::filesystem::path(path_).parent_path()); }
  std::string path_;
};

TEST_F(KeysTest, StoresOnlyTheHash) {
  auto key = AddKey(path_, kScopeDecide | kScopeRead, 10, 20, "checkout service");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  EXPECT_EQ(key->rfind("vgl_", 0), 0u);
  EXPECT_EQ(key->size(), 4u + 8 + 1 + 43);
  std::string file = *ReadFile(path_);
  EXPECT_EQ(file.find(key->substr(13)), std::string::npos) << "the secret part must not be stored";
  EXPECT_NE(file.find(key->substr(4, 8)), std::string::npos) << "the id is stored";
  EXPECT_EQ(std::filesystem::status(path_).permissions() & std::filesystem::perms::others_read, std::filesystem::perms::none);
  auto ring = KeyRing::LoadFile(path_);
  ASSERT_TRUE(ring.ok());
  ASSERT_EQ((*ring)->records().size(), 1u);
  EXPECT_EQ((*ring)->records()[0].scopes, kScopeDecide | kScopeRead);
  EXPECT_EQ((*ring)->records()[0].name, "checkout service");
}

TEST_F(KeysTest, AuthorizeOutcomes) {
  std::string decide = *AddKey(path_, kScopeDecide, 1000, 1000, "d");
  std::string admin = *AddKey(path_, kScopeAdmin, 1000, 1000, "a");
  Authenticator auth(*KeyRing::LoadFile(path_));
  using O = Authenticator::Outcome;
  EXPECT_EQ(auth.Authorize("", kScopeDecide, 1000).outcome, O::kMissing);
  EXPECT_EQ(auth.Authorize("Basic abc", kScopeDecide, 1000).outcome, O::kInvalid);
  EXPECT_EQ(auth.Authorize("Bearer " + decide, kScopeDecide, 1000).outcome, O::kOk);
  EXPECT_EQ(auth.Authorize("Bearer " + decide, kScopeDecide, 1000).key_id, decide.substr(4, 8));
  EXPECT_EQ(auth.Authorize("Bearer " + decide, kScopeLabel, 1000).outcome, O::kForbidden);
  EXPECT_EQ(auth.Authorize("Bearer " + admin, kScopeLabel, 1000).outcome, O::kOk) << "admin implies every scope";
  std::string tampered = decide;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(auth.Authorize("Bearer " + tampered, kScopeDecide, 1000).outcome, O::kInvalid);
  std::string other_id = decide;
  other_id[5] = other_id[5] == '0' ? '1' : '0';
  EXPECT_EQ(auth.Authorize("Bearer " + other_id, kScopeDecide, 1000).outcome, O::kInvalid);
  EXPECT_EQ(auth.Authorize("Bearer vgl_short", kScopeDecide, 1000).outcome, O::kInvalid);
}

TEST_F(KeysTest, TokenBucket) {
  std::string key = *AddKey(path_, kScopeDecide, 2, 3, "");  // 2 per second, burst 3
  Authenticator auth(*KeyRing::LoadFile(path_));
  using O = Authenticator::Outcome;
  std::string h = "Bearer " + key;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(auth.Authorize(h, kScopeDecide, 10000).outcome, O::kOk) << i;
  auto limited = auth.Authorize(h, kScopeDecide, 10000);
  EXPECT_EQ(limited.outcome, O::kRateLimited);
  EXPECT_NEAR(limited.retry_after_s, 0.5, 1e-9);
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 10400).outcome, O::kRateLimited);  // 0.8 tokens
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 10500).outcome, O::kOk);           // 1.0 token
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 60000).outcome, O::kOk);           // refilled, capped at 3
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 60000).outcome, O::kOk);
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 60000).outcome, O::kOk);
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 60000).outcome, O::kRateLimited);
  // A reload keeps the bucket of a kept key (no free burst by reloading).
  auth.Reload(*KeyRing::LoadFile(path_));
  EXPECT_EQ(auth.Authorize(h, kScopeDecide, 60000).outcome, O::kRateLimited);
}

TEST_F(KeysTest, ReloadAddsKeys) {
  std::string first = *AddKey(path_, kScopeDecide, 10, 10, "");
  Authenticator auth(*KeyRing::LoadFile(path_));
  std::string second = *AddKey(path_, kScopeRead, 10, 10, "");
  EXPECT_EQ(auth.Authorize("Bearer " + second, kScopeRead, 1).outcome, Authenticator::Outcome::kInvalid);
  auth.Reload(*KeyRing::LoadFile(path_));
  EXPECT_EQ(auth.Authorize("Bearer " + second, kScopeRead, 1).outcome, Authenticator::Outcome::kOk);
  EXPECT_EQ(auth.key_count(), 2u);
}

TEST_F(KeysTest, BadFilesAndScopes) {
  EXPECT_FALSE(ParseScopes({"decide", "root"}).ok());
  EXPECT_FALSE(ParseScopes({}).ok());
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  std::ofstream(path_) << "keys:\n  - id: \"zz\"\n    sha256: \"00\"\n    scopes: [decide]\n";
  auto r = KeyRing::LoadFile(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("keys[0].id"), std::string::npos);
  EXPECT_NE(r.error().where.find(":2:"), std::string::npos);
  EXPECT_TRUE(KeyRing::LoadFile(path_ + ".absent").ok()) << "a missing file is an empty ring";
}

}  // namespace
}  // namespace vigil
