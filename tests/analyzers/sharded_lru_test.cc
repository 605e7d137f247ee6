// The analyzers' bounded state store: capacity, eviction of entries not updated lately (CLOCK),
// and the open-addressing index staying consistent through many evictions (backward-shift
// deletion), checked against a reference map.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "analyzers/sharded_lru.h"

namespace vigil::analyzers {
namespace {

struct Counted {
  std::uint64_t key = 0;
  int updates = 0;
};

// Returns {created, updates after this one}; checks the entry is the key's own.
std::pair<bool, int> Touch(ShardedLru<Counted>& lru, std::uint64_t key) {
  return lru.Update(key, [&](Counted& c, bool created) {
    if (created) {
      EXPECT_EQ(c.updates, 0);  // a fresh entry starts as V{}
      c.key = key;
    } else {
      EXPECT_EQ(c.key, key) << "the index led to another key's entry";
    }
    return std::make_pair(created, ++c.updates);
  });
}

TEST(ShardedLru, HoldsAtMostItsCapacityAndKeepsWhatIsUpdatedOften) {
  ShardedLru<Counted> lru(8, 1);
  EXPECT_EQ(lru.capacity(), 8u);
  for (std::uint64_t k = 1; k <= 8; ++k) EXPECT_TRUE(Touch(lru, k).first);
  EXPECT_EQ(lru.size(), 8u);
  EXPECT_EQ(lru.evictions(), 0u);
  EXPECT_EQ(Touch(lru, 3), std::make_pair(false, 2));
  // 100 new keys, key 3 updated between each: it is never the one evicted.
  for (std::uint64_t k = 100; k < 200; ++k) {
    EXPECT_TRUE(Touch(lru, k).first);
    EXPECT_FALSE(Touch(lru, 3).first);
  }
  EXPECT_EQ(lru.size(), 8u);
  EXPECT_EQ(lru.evictions(), 100u);
  EXPECT_EQ(Touch(lru, 3).second, 103);
  // The first keys (other than 3) are long gone: they come back as new entries.
  EXPECT_TRUE(Touch(lru, 1).first);
  EXPECT_TRUE(Touch(lru, 8).first);
}

TEST(ShardedLru, IndexStaysConsistentThroughManyEvictions) {
  // 4 shards of 8 entries (index tables of 16 cells) and 60 keys: collisions and evictions on
  // nearly every insert exercise the probing and the backward shifts.
  ShardedLru<Counted> lru(32, 4);
  std::map<std::uint64_t, int> ref;  // updates since the key's entry was created
  std::mt19937_64 rng(3);
  std::size_t created = 0;
  for (int i = 0; i < 200000; ++i) {
    const std::uint64_t key = (rng() % 60) * 0x10001ull;  // also keys whose low bits agree
    auto [fresh, updates] = Touch(lru, key);
    if (fresh) {
      ++created;
      ref[key] = 1;
    } else {
      ASSERT_TRUE(ref.count(key)) << "found a key never inserted";
      ASSERT_EQ(updates, ++ref[key]) << "key " << key << " at step " << i;
    }
    ASSERT_LE(lru.size(), 32u);
  }
  EXPECT_EQ(lru.size(), 32u);
  EXPECT_EQ(lru.evictions(), created - 32);
  EXPECT_GT(lru.evictions(), 1000u);
}

}  // namespace
}  // namespace vigil::analyzers
