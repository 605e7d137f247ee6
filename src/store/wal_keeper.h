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
//
// A reader that holds an old snapshot (a long query or a backup of audit.db from another process)
// pins the WAL: no checkpoint can copy past its snapshot, so the WAL cannot be restarted until it
// ends. An overdue checkpoint waits at most 100 ms for such a reader and is tried again only after
// a back-off (250 ms doubling to 8 s), so decisions go on while the WAL grows. Before, it waited
// the full busy timeout (5 s) after every group, and a reader held open for 25 s took a server
// from 8,600 decisions a second to 6 (bench/RESULTS.md, "A reader that pins the WAL"). Once the
// WAL reaches `pinned_max_bytes` (1 GiB), the writer waits as before: the disk must not fill.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace vigil {

class WalKeeper {
 public:
  // `pinned_max_bytes`: past this the writer waits for a reader that pins the WAL however long it
  // takes. `writer_busy_ms`: the writer connection's busy timeout, restored after a shorter wait.
  WalKeeper(std::string db_path, std::size_t restart_bytes, std::size_t pinned_max_bytes, int writer_busy_ms);
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
  // Times a commit started the WAL again from its beginning, however it came about.
  std::uint64_t restarts() const { return restarts_.load(std::memory_order_relaxed); }

 private:
  void Run();
  void NewCycle();  // writer thread: the WAL starts again (or will, with the next commit)
  void LogPinned(std::chrono::steady_clock::time_point now);

  const std::string db_path_;
  const int restart_frames_;
  const int pinned_max_frames_;
  int wal_frames_ = 0;        // writer thread: the WAL's length after the last commit (0 once a restart is due)
  int last_commit_frames_ = 0;  // writer thread: the WAL's length after the last commit
  int frames_at_signal_ = 0;  // writer thread: the length when the checkpointer was last woken
  const int writer_busy_ms_;
  // Writer thread: after an overdue checkpoint found the WAL pinned by a reader, when to try again.
  std::chrono::steady_clock::time_point pinned_retry_at_{};
  std::chrono::milliseconds pinned_backoff_{0};
  bool logged_at_bound_ = false;
  std::chrono::steady_clock::time_point pinned_logged_at_{};

  std::mutex pass_mu_;  // held during a checkpoint call, by either thread
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool wanted_ = false;                      // the writer saw another 512 KB of WAL
  std::atomic<std::uint64_t> frames_written_{0};
  std::atomic<std::uint64_t> restarts_{0};
  std::atomic<int> backfilled_{0};           // frames the checkpointer has copied
  std::atomic<bool> restart_wanted_{false};  // the WAL is long: the writer finishes the checkpoint
  std::thread thread_;
};

}  // namespace vigil
