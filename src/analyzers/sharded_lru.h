// A bounded map from 64-bit keys to small fixed-size states, split into shards with one mutex
// each, so that concurrent requests for different entities rarely meet on a lock and no lock is
// shared by all requests. Each shard holds at most capacity/shards entries; inserting into a full
// shard evicts its least recently updated entry. Memory is bounded by
// capacity * (sizeof(V) + about 48 bytes of index).
// Thread-safety: all members may be called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>
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
  }

  // Runs fn(V& value, bool created) under the key's shard lock and returns what fn returns. A new
  // entry starts as V{}.
  template <typename F>
  auto Update(std::uint64_t key, F&& fn) {
    Shard& s = shard_[key % shards_];
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.index.find(key);
    std::uint32_t slot;
    bool created = false;
    if (it != s.index.end()) {
      slot = it->second;
      s.Unlink(slot);
    } else {
      created = true;
      if (s.entries.size() < per_shard_) {
        slot = static_cast<std::uint32_t>(s.entries.size());
        s.entries.emplace_back();
      } else {
        slot = s.tail;  // least recently updated
        s.Unlink(slot);
        s.index.erase(s.entries[slot].key);
        evictions_.fetch_add(1, std::memory_order_relaxed);
      }
      s.entries[slot].key = key;
      s.entries[slot].value = V{};
      s.index.emplace(key, slot);
    }
    s.PushFront(slot);
    return fn(s.entries[slot].value, created);
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (std::size_t i = 0; i < shards_; ++i) {
      std::lock_guard<std::mutex> lock(shard_[i].mu);
      n += shard_[i].index.size();
    }
    return n;
  }
  std::size_t capacity() const { return per_shard_ * shards_; }
  std::uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  struct Entry {
    std::uint64_t key = 0;
    std::uint32_t prev = kNone, next = kNone;
    V value{};
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::uint64_t, std::uint32_t> index;
    std::vector<Entry> entries;
    std::uint32_t head = kNone, tail = kNone;

    void Unlink(std::uint32_t i) {
      Entry& e = entries[i];
      if (e.prev != kNone) entries[e.prev].next = e.next; else head = e.next;
      if (e.next != kNone) entries[e.next].prev = e.prev; else tail = e.prev;
      e.prev = e.next = kNone;
    }
    void PushFront(std::uint32_t i) {
      Entry& e = entries[i];
      e.prev = kNone;
      e.next = head;
      if (head != kNone) entries[head].prev = i;
      head = i;
      if (tail == kNone) tail = i;
    }
  };

  std::size_t shards_;
  std::size_t per_shard_;
  std::unique_ptr<Shard[]> shard_;
  std::atomic<std::uint64_t> evictions_{0};
};

}  // namespace vigil::analyzers
