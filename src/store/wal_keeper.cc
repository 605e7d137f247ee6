#include "store/wal_keeper.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "core/log.h"
#include "core/thread_name.h"

namespace vigil {
namespace {

constexpr int kPageBytes = 4096;
// One checkpoint pass per 512 KB of WAL. Each pass ends with an fdatasync of the database file
// that writes what the pass copied, and a WAL fsync that a decision waits for queues behind it on
// the disk: with 4 MB passes those syncs took 4-5 ms and were the decisions' latency tail (p99 at
// half rate 7-26 ms, 1.2-1.9% of decisions over 5 ms); with 512 KB passes 3.8-5.4 ms and 0.1-0.5%
// (bench/RESULTS.md, "Checkpoints in 512 KB passes"). Smaller passes (256 KB) measured no better.
constexpr int kCheckpointFrames = 128;  // 512 KB of 4 KB pages
constexpr int kMinRestartFrames = 2048;  // the WAL is never restarted more often than every 8 MB
constexpr int kRestartBacklog = 512;
// An overdue checkpoint that finds the WAL pinned by a reader of an old snapshot: how long the
// writer waits for it, and how long before it tries again (doubling).
constexpr int kPinnedWaitMs = 100;
constexpr std::chrono::milliseconds kPinnedBackoffMin{250};
constexpr std::chrono::milliseconds kPinnedBackoffMax{8000};

}  // namespace

WalKeeper::WalKeeper(std::string db_path, std::size_t restart_bytes, std::size_t pinned_max_bytes, int writer_busy_ms)
    : db_path_(std::move(db_path)),
      restart_frames_(static_cast<int>(std::max<std::size_t>(restart_bytes / kPageBytes, kMinRestartFrames))),
      pinned_max_frames_(static_cast<int>(std::min<std::size_t>(pinned_max_bytes / kPageBytes, 1u << 30))),
      writer_busy_ms_(writer_busy_ms) {}

WalKeeper::~WalKeeper() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalKeeper::Start() {
  thread_ = std::thread([this] {
    NameThisThread("audit-ckpt");
    Run();
  });
}

int WalKeeper::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* k = static_cast<WalKeeper*>(self);
  // Every commit that calls this appended at least one frame, so a WAL no longer than after the
  // last commit was started again from its beginning by this one: after the writer finished a
  // checkpoint (RestartIfLong), or by SQLite itself when the checkpointer had copied every frame
  // before the commit began (under light load, most restarts).
  const bool restarted = frames <= k->last_commit_frames_;
  k->last_commit_frames_ = frames;
  if (restarted) {
    k->restarts_.fetch_add(1, std::memory_order_relaxed);
    k->NewCycle();
  }
  const int added = frames - k->wal_frames_;
  k->frames_written_.fetch_add(static_cast<std::uint64_t>(added), std::memory_order_relaxed);
  k->wal_frames_ = frames;
  if (frames - k->frames_at_signal_ >= kCheckpointFrames || frames < k->frames_at_signal_) {
    k->frames_at_signal_ = frames;
    {
      std::lock_guard lk(k->mu_);
      k->wanted_ = true;
    }
    k->cv_.notify_one();
  }
  return SQLITE_OK;
}

bool WalKeeper::RestartIfLong(sqlite3* writer) {
  if (wal_frames_ < restart_frames_) return false;
  restart_wanted_.store(true, std::memory_order_relaxed);
  // Wait for the checkpointer to come close, unless it cannot keep up at all: then wait for it
  // (a FULL checkpoint waits on the busy handler for a running checkpoint or old readers). Busy
  // otherwise (the checkpointer is at work, or a reader holds an old snapshot): try after the
  // next group.
  const auto now = std::chrono::steady_clock::now();
  // Overdue: the checkpointer cannot keep up, so wait for it; but after a reader was found pinning
  // the WAL, not again before a back-off has passed (waiting cannot help while the reader lasts).
  // At the bound for a pinned WAL, wait for the reader, however long (the busy timeout, every group).
  const bool at_bound = wal_frames_ >= pinned_max_frames_;
  const bool overdue = wal_frames_ >= 4 * restart_frames_ && (now >= pinned_retry_at_ || at_bound);
  if (!overdue && wal_frames_ - backfilled_.load(std::memory_order_relaxed) > kRestartBacklog) return false;
  // SQLite runs one checkpoint at a time and answers BUSY at once (no busy handler) to a second
  // one: when overdue, wait for the checkpointer's pass to end instead of trying again after the
  // next group, which a starved machine can repeat until the WAL is far past its bound.
  std::unique_lock pass(pass_mu_, std::defer_lock);
  if (overdue) {
    pass.lock();
  } else if (!pass.try_lock()) {
    return false;
  }
  int log = 0, copied = 0;
  const int mode = overdue ? SQLITE_CHECKPOINT_FULL : SQLITE_CHECKPOINT_PASSIVE;
  // A FULL checkpoint waits on the busy handler for readers of old snapshots: briefly.
  const bool brief = overdue && !at_bound;
  if (brief) sqlite3_busy_timeout(writer, kPinnedWaitMs);
  const int rc = sqlite3_wal_checkpoint_v2(writer, nullptr, mode, &log, &copied);
  if (brief) sqlite3_busy_timeout(writer, writer_busy_ms_);
  if (rc != SQLITE_OK || log != copied) {
    if (overdue) {  // a reader of an old snapshot pins the WAL: try again after a back-off
      pinned_backoff_ = std::min(std::max(2 * pinned_backoff_, kPinnedBackoffMin), kPinnedBackoffMax);
      pinned_retry_at_ = std::chrono::steady_clock::now() + pinned_backoff_;
      if (now - pinned_logged_at_ >= std::chrono::seconds(60) || (at_bound && !logged_at_bound_)) LogPinned(now);
      logged_at_bound_ = logged_at_bound_ || at_bound;
    }
    return false;
  }
  NewCycle();
  return true;
}

void WalKeeper::NewCycle() {
  pinned_backoff_ = std::chrono::milliseconds(0);
  pinned_retry_at_ = {};
  logged_at_bound_ = false;
  wal_frames_ = 0;
  frames_at_signal_ = 0;
  backfilled_.store(0, std::memory_order_relaxed);
  restart_wanted_.store(false, std::memory_order_relaxed);
}

void WalKeeper::LogPinned(std::chrono::steady_clock::time_point now) {
  pinned_logged_at_ = now;
  Log(LogLevel::kWarn, "audit_wal_pinned")
      .Int("wal_bytes", static_cast<std::int64_t>(wal_frames_) * (kPageBytes + 24))
      .Str("detail", wal_frames_ >= pinned_max_frames_
                         ? "a reader holds an old snapshot of audit.db (a long query or a backup) and the WAL "
                           "has reached its bound (audit.wal_pinned_max_bytes): decisions wait until that reader ends"
                         : "a reader holds an old snapshot of audit.db (a long query or a backup); the WAL cannot be "
                           "restarted and grows until that reader ends");
}

// Copies committed WAL frames into the database (PASSIVE: never blocks the writer or readers)
// with its own connection, then syncs what it copied.
void WalKeeper::Run() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    Log(LogLevel::kError, "audit_checkpointer_failed").Str("error", sqlite3_errmsg(db));
    sqlite3_close(db);
    return;
  }
  sqlite3_busy_timeout(db, 1000);
  // A connection learns that the database is in WAL mode when it first reads it; until then a
  // checkpoint call does nothing (and reports -1 frames).
  sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  // Its own descriptor of the database file: syncing what each pass copied leaves the writer's
  // final checkpoint little to write to disk.
  int db_fd = ::open(db_path_.c_str(), O_RDWR | O_CLOEXEC);
  std::unique_lock lk(mu_);
  bool behind = false;  // the last pass left another 512 KB: go again at once
  // The last pass's frames copied and the WAL cycle it saw: a pass that copied nothing new (the
  // server idle, or a reader pinning the WAL) flushes nothing. It used to flush the database file
  // twice a second for as long as the server was idle. (A pass that misses a restart made during
  // it flushes at the next one; SQLite itself syncs the database before the WAL can restart.)
  int last_copied = 0;
  std::uint64_t last_cycle = 0;
  while (!stop_) {
    if (!behind) cv_.wait_for(lk, std::chrono::milliseconds(500), [&] { return stop_ || wanted_; });
    wanted_ = false;
    lk.unlock();
    int log = 0, copied = 0;
    const std::uint64_t cycle = restarts();
    std::unique_lock pass(pass_mu_);
    const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    pass.unlock();
    if (rc == SQLITE_OK) {
      const bool copied_new = copied > 0 && (copied != last_copied || cycle != last_cycle);
      if (copied_new && db_fd >= 0) ::fdatasync(db_fd);
      last_copied = copied;
      last_cycle = cycle;
      backfilled_.store(copied, std::memory_order_relaxed);
      // Behind: go again at once, unless the writer waits to finish the checkpoint itself.
      behind = log - copied >= kCheckpointFrames && !restart_wanted_.load(std::memory_order_relaxed);
    } else {
      behind = false;
    }
    lk.lock();
  }
  lk.unlock();
  if (db_fd >= 0) ::close(db_fd);
  sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  sqlite3_close(db);
}

}  // namespace vigil
