// A bounded map from 64-bit keys to small fixed-size states, split into shards with one mutex
// each, so that concurrent requests for different entities rarely meet on a lock and no lock is
// shared by all requests. Each shard holds at most capacity/shards entries; inserting into a full
// shard evicts an entry not updated since the clock hand last passed it (CLOCK, the usual
// approximation of least-recently-used: an entry updated often is never the one evicted).
// Per shard the index is an open-addressing table of (key, slot) pairs with linear probing, so an
// update touches the table line, the entry and nothing else (no list neighbours, no hash nodes).
// Memory is bounded by capacity * (sizeof(V) + 16 bytes + 2 x 16 bytes of index).
// Thread-safety: all members may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace vigil::analyzers {

// A 64-bit key for an id string within a namespace (the entity type, say). Raw ids are never
// stored: only this hash.
inline std::uint64_t KeyOf(std::uint64_t ns, std::string_view id) {
  std::uint64_t h = 1469598103934665603ull ^ (ns * 0x9E3779B97F4A7C15ull);  // FNV-1a, seeded
  for (unsigned char c : id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;  // finalizer (murmur3's fmix64) spreads the bits for shard selection
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

template <typename V>
class ShardedLru {
 public:
  explicit ShardedLru(std::size_t capacity, std::size_t shards = 64)
      : shards_(shards), per_shard_(capacity / shards > 0 ? capacity / shards : 1) {
    shard_.reset(new Shard[shards_]);
    std::size_t table = 4;
    while (table < 2 * per_shard_) table *= 2;  // load factor at most 1/2
    for (std::size_t i = 0; i < shards_; ++i) {
      shard_[i].table.assign(table, Cell{0, kNone});
      shard_[i].mask = table - 1;
    }
  }

  // Runs fn(V& value, bool created) under the key's shard lock and returns what fn returns. A new
  // entry starts as V{}.
  template <typename F>
  auto Update(std::uint64_t key, F&& fn) {
    Shard& s = shard_[key % shards_];
    std::lock_guard<std::mutex> lock(s.mu);
    std::size_t pos = s.Home(key);
    while (s.table[pos].slot != kNone && s.table[pos].key != key) pos = (pos + 1) & s.mask;
    if (s.table[pos].slot != kNone) {
      Entry& e = s.entries[s.table[pos].slot];
      e.referenced = true;
      return fn(e.value, false);
    }
    std::uint32_t slot;
    if (s.entries.size() < per_shard_) {
      slot = static_cast<std::uint32_t>(s.entries.size());
      s.entries.emplace_back();
    } else {
      slot = s.Victim();
      s.Erase(s.entries[slot].key);
      evictions_.fetch_add(1, std::memory_order_relaxed);
      // The erase may have shifted cells: find the new key's free cell again.
      pos = s.Home(key);
      while (s.table[pos].slot != kNone) pos = (pos + 1) & s.mask;
    }
    s.table[pos] = Cell{key, slot};
    Entry& e = s.entries[slot];
    e.key = key;
    e.referenced = false;
    e.value = V{};
    return fn(e.value, true);
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < shards_; ++i) {
      std::lock_guard<std::mutex> lock(shard_[i].mu);
      n += shard_[i].entries.size();
    }
    return n;
  }
  std::size_t capacity() const { return per_shard_ * shards_; }
  std::uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Cell {
    std::uint64_t key;
    std::uint32_t slot;  // kNone: empty
  };
  struct Entry {
    std::uint64_t key = 0;
    bool referenced = false;  // updated since the clock hand last passed
    V value{};
  };
  struct Shard {
    mutable std::mutex mu;
    std::vector<Cell> table;
    std::size_t mask = 0;
    std::vector<Entry> entries;
    std::size_t hand = 0;

    // The shard is chosen by key % shards, so the low bits are alike within a shard: take the
    // table position from the high bits of a multiplicative hash.
    std::size_t Home(std::uint64_t key) const {
      return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    }
    std::uint32_t Victim() {
      for (;;) {
        Entry& e = entries[hand];
        const auto at = static_cast<std::uint32_t>(hand);
        hand = hand + 1 == entries.size() ? 0 : hand + 1;
        if (!e.referenced) return at;
        e.referenced = false;
      }
    }
    // Linear probing with backward-shift deletion (no tombstones).
    void Erase(std::uint64_t key) {
      std::size_t i = Home(key);
      while (table[i].slot != kNone && table[i].key != key) i = (i + 1) & mask;
      if (table[i].slot == kNone) return;
      std::size_t j = i;
      for (;;) {
        j = (j + 1) & mask;
        if (table[j].slot == kNone) break;
        const std::size_t home = Home(table[j].key);
        // The cell at j may move back to i unless its home lies cyclically in (i, j].
        const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!stays) {
          table[i] = table[j];
          i = j;
        }
      }
      table[i].slot = kNone;
    }
  };

  std::size_t shards_;
  std::size_t per_shard_;
  std::unique_ptr<Shard[]> shard_;
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace vigil::analyzers
