#include "metrics/cells.h"

#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace vigil::metrics_detail {
namespace {

struct State {
  std::mutex mu;
  std::vector<CellBlock*> blocks;  // live threads
  CellBlock retired{};             // what exited threads left (written under mu only)
  std::atomic<std::uint32_t> next{0};
  std::atomic<std::uint32_t> freed{0};  // ranges in `free_ranges`
  std::map<std::uint32_t, std::vector<std::uint32_t>> free_ranges;  // size -> first ids
};

// Never destroyed: thread-local destructors of late threads still use it.
State& S() {
  static State* s = new State();
  return *s;
}

void AddChunks(CellBlock& into, CellBlock& from) {
  for (std::uint32_t c = 0; c < kChunks; ++c) {
    CellChunk* src = from.chunks[c].load(std::memory_order_relaxed);
    if (src == nullptr) continue;
    CellChunk* dst = into.chunks[c].load(std::memory_order_relaxed);
    if (dst == nullptr) {
      into.chunks[c].store(src, std::memory_order_release);  // hand the chunk over
    } else {
      for (std::uint32_t i = 0; i < kChunkCells; ++i) {
        double v = src->v[i].load(std::memory_order_relaxed);
        if (v != 0.0) AddToCell(dst->v[i], v);
      }
      delete src;
    }
    from.chunks[c].store(nullptr, std::memory_order_relaxed);
  }
}

// Unregisters the thread's block at thread exit, keeping its values.
struct ThreadCells {
  CellBlock* block = nullptr;
  ~ThreadCells() {
    if (block == nullptr) return;
    State& s = S();
    std::lock_guard lock(s.mu);
    AddChunks(s.retired, *block);
    std::erase(s.blocks, block);
    delete block;
    tls_cells = nullptr;
  }
};

thread_local ThreadCells tls_holder;

}  // namespace

CellBlock* RegisterCellThread() {
  auto* block = new CellBlock();
  for (auto& c : block->chunks) c.store(nullptr, std::memory_order_relaxed);
  State& s = S();
  {
    std::lock_guard lock(s.mu);
    s.blocks.push_back(block);
  }
  tls_holder.block = block;
  tls_cells = block;
  return block;
}

CellChunk* NewCellChunk(CellBlock* block, std::uint32_t chunk) {
  auto* c = new CellChunk();
  for (auto& v : c->v) v.store(0.0, std::memory_order_relaxed);
  block->chunks[chunk].store(c, std::memory_order_release);  // readers load with acquire
  return c;
}

std::uint32_t AllocateCells(std::uint32_t n) {
  State& s = S();
  if (n == 0 || n > kChunkCells) return kNoCells;
  if (s.freed.load(std::memory_order_acquire) > 0) {
    std::lock_guard lock(s.mu);
    auto it = s.free_ranges.find(n);
    if (it != s.free_ranges.end() && !it->second.empty()) {
      std::uint32_t first = it->second.back();
      it->second.pop_back();
      s.freed.fetch_sub(1, std::memory_order_release);
      return first;
    }
  }
  // A range never straddles two chunks (so one chunk lookup serves a whole histogram).
  std::uint32_t first = s.next.load(std::memory_order_relaxed);
  for (;;) {
    std::uint32_t start = first;
    if ((start & (kChunkCells - 1)) + n > kChunkCells) start = (start | (kChunkCells - 1)) + 1;
    if (static_cast<std::uint64_t>(start) + n > static_cast<std::uint64_t>(kChunks) * kChunkCells) {
      return kNoCells;
    }
    if (s.next.compare_exchange_weak(first, start + n, std::memory_order_relaxed)) return start;
  }
}

void FreeCells(std::uint32_t first, std::uint32_t n) {
  if (first == kNoCells) return;
  State& s = S();
  std::lock_guard lock(s.mu);
  auto zero = [&](CellBlock& b) {
    for (std::uint32_t id = first; id < first + n; ++id) {
      CellChunk* c = b.chunks[id >> kChunkBits].load(std::memory_order_relaxed);
      if (c != nullptr) c->v[id & (kChunkCells - 1)].store(0.0, std::memory_order_relaxed);
    }
  };
  for (CellBlock* b : s.blocks) zero(*b);
  zero(s.retired);
  s.free_ranges[n].push_back(first);
  s.freed.fetch_add(1, std::memory_order_release);
}

void SumCells(std::uint32_t first, std::uint32_t n, double* out) {
  for (std::uint32_t i = 0; i < n; ++i) out[i] = 0.0;
  State& s = S();
  std::lock_guard lock(s.mu);
  auto add = [&](const CellBlock& b) {
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t id = first + i;
      const CellChunk* c = b.chunks[id >> kChunkBits].load(std::memory_order_acquire);
      if (c != nullptr) out[i] += c->v[id & (kChunkCells - 1)].load(std::memory_order_relaxed);
    }
  };
  for (const CellBlock* b : s.blocks) add(*b);
  add(s.retired);
}

}  // namespace vigil::metrics_detail
