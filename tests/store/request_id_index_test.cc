// The in-memory request id -> seq index of the audit log: every id added is found at its seq
// (across segments), ids never added rarely match a fingerprint, bad seqs are refused, and readers
// on other threads see every id added before they look.
#include "store/request_id_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>

namespace vigil {
namespace {

bool Has(const std::vector<std::int64_t>& v, std::int64_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

TEST(RequestIdIndex, FindsEveryIdAtItsSeqAcrossSegments) {
  RequestIdIndex idx(1024);  // small first segment: 200,000 ids need 9 segments
  constexpr int kN = 200'000;
  for (int i = 1; i <= kN; ++i) ASSERT_TRUE(idx.Add("req_" + std::to_string(i), i));
  EXPECT_EQ(idx.size(), static_cast<std::size_t>(kN));
  EXPECT_GE(idx.segments(), 8u);
  // 70% fill per segment: the slots are at most 1/0.7 of a power-of-two sum over the ids.
  EXPECT_LE(idx.bytes(), static_cast<std::size_t>(kN) * 8 * 3);
  for (int i = 1; i <= kN; ++i) ASSERT_TRUE(Has(idx.Candidates("req_" + std::to_string(i)), i)) << i;
  // Ids never added: a candidate needs a 24-bit fingerprint match on a probed slot. With 9
  // segments and short probe runs at <= 70% load, expect ~0.01 false candidates per 100,000
  // lookups; allow 5.
  int false_candidates = 0;
  for (int i = 0; i < 100'000; ++i) false_candidates += static_cast<int>(idx.Candidates("other_" + std::to_string(i)).size());
  EXPECT_LE(false_candidates, 5);
}

TEST(RequestIdIndex, TheSameIdTwiceGivesBothSeqs) {
  RequestIdIndex idx;
  ASSERT_TRUE(idx.Add("a", 3));
  ASSERT_TRUE(idx.Add("a", 9));  // e.g. a stale entry from a rolled-back group, then the real one
  auto c = idx.Candidates("a");
  EXPECT_TRUE(Has(c, 3) && Has(c, 9));
  EXPECT_TRUE(idx.Candidates("b").empty());
}

TEST(RequestIdIndex, RefusesSeqsThatDoNotFit) {
  RequestIdIndex idx;
  EXPECT_FALSE(idx.Add("a", 0));
  EXPECT_FALSE(idx.Add("a", -1));
  EXPECT_FALSE(idx.Add("a", RequestIdIndex::kMaxSeq + 1));
  EXPECT_TRUE(idx.Add("a", RequestIdIndex::kMaxSeq));
  EXPECT_TRUE(Has(idx.Candidates("a"), RequestIdIndex::kMaxSeq));
  EXPECT_EQ(idx.size(), 1u);
}

TEST(RequestIdIndex, ReadersSeeWhatWasAddedWhileSegmentsGrow) {
  RequestIdIndex idx(1024);
  std::atomic<int> published{0};
  std::atomic<bool> missing{false};
  std::thread reader([&] {
    for (int round = 0; round < 2000 && !missing; ++round) {
      const int upto = published.load(std::memory_order_acquire);
      for (int i = std::max(1, upto - 50); i <= upto; ++i) {
        if (!Has(idx.Candidates("r" + std::to_string(i)), i)) missing = true;
      }
    }
  });
  for (int i = 1; i <= 100'000; ++i) {
    idx.Add("r" + std::to_string(i), i);
    published.store(i, std::memory_order_release);
  }
  reader.join();
  EXPECT_FALSE(missing.load());
}

}  // namespace
}  // namespace vigil
