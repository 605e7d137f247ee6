// WAL housekeeping for the SQLite audit store.
//
// Under continuous load a passive checkpoint never finds the WAL fully copied (the writer appends
// while it runs), so SQLite never restarts the WAL from its beginning and the file grows without
// end; every commit then extends the file, and on ext4 each fsync also has to write the new
// blocks' metadata (measured: 8 ms per fdatasync on a 40 MB WAL against about 1 ms when the WAL is
// rewritten in place). So a checkpointer thread, with its own connection, copies frames once 512 KB
// have accumulated (and every 500 ms) and then syncs the database file; once the WAL holds
// `restart_bytes`, the writer finishes the checkpoint itself between two groups (at most 512
// frames left to copy; if the checkpointer is 4x behind, it waits for it), after which SQLite's
// next commit starts the WAL again at its beginning.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace vigil {

class WalKeeper {
 public:
  WalKeeper(std::string db_path, std::size_t restart_bytes);
  ~WalKeeper();  // stops the checkpointer after one last passive checkpoint
  WalKeeper(const WalKeeper&) = delete;
  WalKeeper& operator=(const WalKeeper&) = delete;

  // Starts the checkpointer thread (once the database exists and is in WAL mode).
  void Start();
  // Writer thread: install as the writer connection's sqlite3_wal_hook (`self` is this keeper).
  static int OnCommit(void* self, sqlite3*, const char*, int frames);
  // Writer thread, between two groups, on the writer's connection. True when the checkpoint was
  // finished, so that the next commit restarts the WAL.
  bool RestartIfLong(sqlite3* writer);
  // Pages (frames) appended to the WAL by all commits so far: the log's write volume.
  std::uint64_t frames_written() const { return frames_written_.load(std::memory_order_relaxed); }

 private:
  void Run();

  const std::string db_path_;
  const int restart_frames_;
  int wal_frames_ = 0;        // writer thread: the WAL's length after the last commit
  int frames_at_signal_ = 0;  // writer thread: the length when the checkpointer was last woken

  std::mutex pass_mu_;  // held during a checkpoint call, by either thread
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wanted_ = false;                      // the writer saw another 512 KB of WAL
  std::atomic<std::uint64_t> frames_written_{0};
  std::atomic<int> backfilled_{0};           // frames the checkpointer has copied
  std::atomic<bool> restart_wanted_{false};  // the WAL is long: the writer finishes the checkpoint
  std::thread thread_;
};

}  // namespace vigil
