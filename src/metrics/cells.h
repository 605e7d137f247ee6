// Per-thread cells behind counters and histograms (internal to src/metrics).
//
// Each series owns a range of cell ids. Every thread that updates a series writes its own copy of
// the cells: a plain load and store (no lock prefix, no cache line shared between writers), found
// through a thread-local directory of chunks. Readers (exposition, Value()) add up the copies of
// all threads under the cells' mutex, plus what threads that exited left behind. The update path
// takes no lock; a thread's first update registers it (once, under the mutex).
//
// Ids come from an atomic bump counter; a destroyed series returns its range, zeroed in every
// thread, to a free list reused for ranges of the same size. When the id space is used up,
// Allocate returns kNoCells and the series falls back to shared atomics.
#pragma once

#include <atomic>
#include <cstdint>

namespace vigil::metrics_detail {

inline constexpr std::uint32_t kNoCells = 0xffffffffu;
inline constexpr std::uint32_t kChunkBits = 10;                 // 1,024 cells (8 KiB) a chunk
inline constexpr std::uint32_t kChunkCells = 1u << kChunkBits;
inline constexpr std::uint32_t kChunks = 4096;                  // 4 Mi cells in all

struct CellChunk {
  std::atomic<double> v[kChunkCells];
};

// One thread's cells.
struct CellBlock {
  std::atomic<CellChunk*> chunks[kChunks];
};

// The calling thread's block (registered on first use).
CellBlock* RegisterCellThread();
CellChunk* NewCellChunk(CellBlock* block, std::uint32_t chunk);

inline thread_local CellBlock* tls_cells = nullptr;

inline std::atomic<double>& Cell(std::uint32_t id) {
  CellBlock* b = tls_cells;
  if (b == nullptr) b = RegisterCellThread();
  CellChunk* c = b->chunks[id >> kChunkBits].load(std::memory_order_relaxed);
  if (c == nullptr) c = NewCellChunk(b, id >> kChunkBits);
  return c->v[id & (kChunkCells - 1)];
}

// Only the owning thread writes its cells: no read-modify-write instruction is needed.
inline void AddToCell(std::atomic<double>& cell, double v) {
  cell.store(cell.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

// `n` consecutive cell ids, or kNoCells.
std::uint32_t AllocateCells(std::uint32_t n);
// Returns a range (its cells are zeroed in every thread).
void FreeCells(std::uint32_t first, std::uint32_t n);
// out[i] = the sum over threads of cell first + i, for i < n.
void SumCells(std::uint32_t first, std::uint32_t n, double* out);

}  // namespace vigil::metrics_detail
