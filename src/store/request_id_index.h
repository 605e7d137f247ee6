// Where each request id sits in the audit log, kept in memory: request id -> seq.
//
// The idempotency check and GET /v1/decisions/{request_id} need the record of a request id. A
// UNIQUE index on the audit table would answer that from disk, but request ids are random, so each
// insert dirties a random leaf of that index: measured with this schema and 3.4 KB records, the
// index alone added 1.3 WAL pages (5.3 KB) per record at any group size, more than the record
// itself (bench/RESULTS.md, issue 3). This table replaces it, and the Bloom filter that fronted it.
// It is rebuilt from the log when the store opens (one scan of seq and request_id).
//
// A slot is one 64-bit word: a 24-bit fingerprint of the id (never 0) above a 40-bit seq; 0 is
// empty. Open addressing, linear probing, in segments: when the newest segment is 70% full a new
// one twice its size is started, and old segments are never rehashed (the full hash is not kept),
// so a lookup probes each segment (about log2(records / 1M) + 1 of them). A lookup returns the
// seqs whose fingerprint matches; the caller reads those records and compares the id, so a
// fingerprint collision costs a read, never a wrong answer (about 1 in 5 million lookups of a new
// id at 10 million records). Memory: 8 bytes a slot, 11-16 bytes per record in the log.
//
// One writer (the audit writer thread) adds; any thread looks up.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <vector>

namespace vigil {

class RequestIdIndex {
 public:
  static constexpr std::int64_t kMaxSeq = (std::int64_t{1} << 40) - 1;

  explicit RequestIdIndex(std::size_t first_segment_slots = std::size_t{1} << 20)
      : first_slots_(RoundUp(first_segment_slots)) {}

  // The seqs that may hold `id` (its fingerprint matches), in no particular order.
  std::vector<std::int64_t> Candidates(std::string_view id) const {
    std::vector<std::int64_t> out;
    const std::uint64_t h = Hash(id);
    const std::uint64_t fp = Fingerprint(h);
    std::shared_lock lk(mu_);
    for (const Segment& s : segments_) {
      for (std::size_t i = h & s.mask;; i = (i + 1) & s.mask) {
        const std::uint64_t slot = s.slots[i].load(std::memory_order_acquire);
        if (slot == 0) break;
        if ((slot >> kSeqBits) == fp) out.push_back(static_cast<std::int64_t>(slot & kSeqMask));
      }
    }
    return out;
  }

  // Records that `id` is at `seq`. Only one thread adds. False if seq does not fit in 40 bits.
  bool Add(std::string_view id, std::int64_t seq) {
    if (seq <= 0 || seq > kMaxSeq) return false;
    if (segments_.empty() || used_ + 1 > (segments_.back().mask + 1) / 10 * 7) AddSegment();
    const std::uint64_t h = Hash(id);
    const Segment& s = segments_.back();  // only this thread changes the segment list
    std::size_t i = h & s.mask;
    while (s.slots[i].load(std::memory_order_relaxed) != 0) i = (i + 1) & s.mask;
    s.slots[i].store((Fingerprint(h) << kSeqBits) | static_cast<std::uint64_t>(seq), std::memory_order_release);
    ++used_;
    ++count_;
    return true;
  }

  std::size_t size() const { return count_; }
  std::size_t bytes() const {
    std::shared_lock lk(mu_);
    std::size_t b = 0;
    for (const Segment& s : segments_) b += (s.mask + 1) * sizeof(std::uint64_t);
    return b;
  }
  std::size_t segments() const {
    std::shared_lock lk(mu_);
    return segments_.size();
  }

  // FNV-1a then a splitmix64 finaliser: ids are short ASCII strings, often with common prefixes.
  static std::uint64_t Hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    return h ^ (h >> 31);
  }

 private:
  static constexpr int kSeqBits = 40;
  static constexpr std::uint64_t kSeqMask = (std::uint64_t{1} << kSeqBits) - 1;

  struct Segment {
    std::unique_ptr<std::atomic<std::uint64_t>[]> slots;
    std::size_t mask = 0;
  };

  // The top 24 bits of the hash (buckets use the low bits), never 0.
  static std::uint64_t Fingerprint(std::uint64_t h) {
    const std::uint64_t fp = h >> kSeqBits;
    return fp == 0 ? 1 : fp;
  }
  static std::size_t RoundUp(std::size_t n) {
    std::size_t s = 1024;
    while (s < n) s <<= 1;
    return s;
  }
  void AddSegment() {
    Segment s;
    const std::size_t n = segments_.empty() ? first_slots_ : (segments_.back().mask + 1) * 2;
    s.slots.reset(new std::atomic<std::uint64_t>[n]);
    for (std::size_t i = 0; i < n; ++i) s.slots[i].store(0, std::memory_order_relaxed);
    s.mask = n - 1;
    std::unique_lock lk(mu_);
    segments_.push_back(std::move(s));
    used_ = 0;
  }

  const std::size_t first_slots_;
  mutable std::shared_mutex mu_;  // guards the segment list; slots are atomic words
  std::vector<Segment> segments_;
  std::size_t used_ = 0;  // slots taken in the newest segment (writer only)
  std::atomic<std::size_t> count_{0};
};

}  // namespace vigil
