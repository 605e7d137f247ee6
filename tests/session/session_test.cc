#include "session/session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "core/crypto.h"

namespace vigil {
namespace {

constexpr const char* kKey = "ab12cd34";
constexpr const char* kOther = "ffff0000";

class SessionTest : public ::testing::Test {
 protected:
  SessionService svc_{std::shared_ptr<SessionStore>(NewMemorySessionStore(1000)), "session-test-secret-0123456789abcdef"};
};

TEST_F(SessionTest, OpenIssuesChallengeAndToken) {
  auto s = svc_.Open("onboarding", kKey, 180, 1'000'000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->expires_ms, 1'000'000 + 180'000);
  EXPECT_EQ(s->steps.size(), 2u);
  for (const auto& st : s->steps) EXPECT_TRUE(st == "turn_left" || st == "turn_right");
  EXPECT_EQ(s->session_id.size(), 22u);  // 128 random bits
  EXPECT_EQ(s->nonce.size(), 22u);
  auto other = svc_.Open("onboarding", kKey, 180, 1'000'000);
  EXPECT_NE(other->session_id, s->session_id);
  EXPECT_NE(other->nonce, s->nonce);
}

TEST_F(SessionTest, NonceIsSingleUseAndRetryGetsANewOne) {
  auto s = *svc_.Open("onboarding", kKey, 180, 0);
  auto first = svc_.CheckAndConsume(s.token, kKey, "onboarding", 1000);
  ASSERT_TRUE(first.valid);
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.steps, s.steps);
  auto replay = svc_.CheckAndConsume(s.token, kKey, "onboarding", 2000);
  EXPECT_FALSE(replay.valid);
  EXPECT_EQ(replay.reason, ReasonCode::kTokenReplayed);
  std::string next = svc_.NextToken(first, kKey, 2000);
  ASSERT_FALSE(next.empty());
  auto second = svc_.CheckAndConsume(next, kKey, "onboarding", 3000);
  ASSERT_TRUE(second.valid);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_EQ(svc_.CheckAndConsume(s.token, kKey, "onboarding", 3000).reason, ReasonCode::kTokenReplayed);
  svc_.Finish(second);
  std::string after = svc_.NextToken(second, kKey, 3000);
  EXPECT_TRUE(after.empty()) << "a decided session issues no more tokens";
}

TEST_F(SessionTest, EachBadTokenHasItsReason) {
  auto s = *svc_.Open("onboarding", kKey, 60, 0);
  EXPECT_EQ(svc_.CheckAndConsume(s.token, kOther, "onboarding", 1).reason, ReasonCode::kTokenWrongKey);
  EXPECT_EQ(svc_.CheckAndConsume(s.token, kKey, "onboarding", 60'001).reason, ReasonCode::kTokenExpired);
  EXPECT_EQ(svc_.CheckAndConsume(s.token, kKey, "login", 1).reason, ReasonCode::kTokenInvalid);
  std::string tampered = s.token;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(svc_.CheckAndConsume(tampered, kKey, "onboarding", 1).reason, ReasonCode::kTokenInvalid);
  EXPECT_EQ(svc_.CheckAndConsume("garbage", kKey, "onboarding", 1).reason, ReasonCode::kTokenInvalid);
  EXPECT_EQ(svc_.CheckAndConsume("", kKey, "onboarding", 1).reason, ReasonCode::kTokenInvalid);
  // A token signed with another secret (another server) is forged here.
  SessionService other(std::shared_ptr<SessionStore>(NewMemorySessionStore(10)), "another-secret-0123456789abcdef0123");
  auto foreign = *other.Open("onboarding", kKey, 60, 0);
  EXPECT_EQ(svc_.CheckAndConsume(foreign.token, kKey, "onboarding", 1).reason, ReasonCode::kTokenInvalid);
}

TEST_F(SessionTest, TenThousandAttacksNoneValid) {
  std::mt19937_64 rng(7);
  auto s = *svc_.Open("onboarding", kKey, 60, 0);
  ASSERT_TRUE(svc_.CheckAndConsume(s.token, kKey, "onboarding", 1).valid);  // the real use
  int forged = 0, tampered = 0, expired = 0, replayed = 0, cross = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string t;
    std::string key = kKey;
    std::int64_t now = 1;
    switch (i % 5) {
      case 0:
        t = RandomBase64Url(rng() % 120 + 1) + "." + RandomBase64Url(32);
        ++forged;
        break;
      case 1: {
        t = s.token;
        std::size_t pos = rng() % t.size();
        char c = t[pos];
        t[pos] = c == '.' ? 'x' : (c == 'A' ? 'B' : 'A');
        ++tampered;
        break;
      }
      case 2: {
        auto e = *svc_.Open("onboarding", kKey, 10, 0);
        t = e.token;
        now = 10'001 + static_cast<std::int64_t>(rng() % 100000);
        ++expired;
        break;
      }
      case 3:
        t = s.token;
        ++replayed;
        break;
      case 4: {
        auto e = *svc_.Open("onboarding", kKey, 10, 0);
        t = e.token;
        key = kOther;
        ++cross;
        break;
      }
    }
    auto c = svc_.CheckAndConsume(t, key, "onboarding", now);
    ASSERT_FALSE(c.valid) << "attack " << i << " passed";
    ReasonCode want = i % 5 == 2 ? ReasonCode::kTokenExpired
                      : i % 5 == 3 ? ReasonCode::kTokenReplayed
                      : i % 5 == 4 ? ReasonCode::kTokenWrongKey
                                   : ReasonCode::kTokenInvalid;
    ASSERT_EQ(c.reason, want) << "attack " << i;
    svc_.Sweep(30'000, nullptr);  // keep the store small: drops the expired ones, keeps s (expires at 60 s)
  }
  EXPECT_EQ(forged + tampered + expired + replayed + cross, 10000);
}

TEST_F(SessionTest, ConcurrentUseOfOneTokenSucceedsOnce) {
  auto s = *svc_.Open("onboarding", kKey, 60, 0);
  std::atomic<int> ok{0}, replayed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto c = svc_.CheckAndConsume(s.token, kKey, "onboarding", 1);
      (c.valid ? ok : replayed)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
}

TEST_F(SessionTest, SweepCountsAbandonedSessions) {
  auto decided = *svc_.Open("onboarding", kKey, 10, 0);
  auto open = *svc_.Open("login", kKey, 10, 0);
  auto fresh = *svc_.Open("login", kKey, 1000, 0);
  auto c = svc_.CheckAndConsume(decided.token, kKey, "onboarding", 1);
  svc_.Finish(c);
  std::vector<std::string> abandoned;
  std::size_t removed = svc_.Sweep(20'000, [&](std::string_view f) { abandoned.emplace_back(f); });
  EXPECT_EQ(removed, 2u);
  ASSERT_EQ(abandoned.size(), 1u);
  EXPECT_EQ(abandoned[0], "login");
  EXPECT_EQ(svc_.store().size(), 1u);
  (void)open;
  (void)fresh;
}

TEST(SessionStore, BoundedAndSmall) {
  static_assert(sizeof(SessionRecord) <= 128, "a session record stays small");
  SessionService svc(std::shared_ptr<SessionStore>(NewMemorySessionStore(64)), "bounded-secret-0123456789abcdef0123");
  int opened = 0;
  for (int i = 0; i < 200; ++i) opened += svc.Open("login", kKey, 60, 0).ok() ? 1 : 0;
  EXPECT_LE(opened, 64);
  EXPECT_GT(opened, 0);
}

}  // namespace
}  // namespace vigil
