// The embedded audit store: SQLite in WAL mode in the data directory, written by one writer
// thread with group commit, read through a small pool of read-only connections.
//
// Durability follows `synchronous` (README.md, "Durability"): FULL (the default) survives power
// loss for every acknowledged decision; NORMAL survives a crash of vigil but may lose the last
// commits on power loss; OFF may lose them on an operating-system crash too.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "store/audit_store.h"

namespace vigil {

struct SqliteAuditOptions {
  std::string synchronous = "full";  // off | normal | full | extra
  std::size_t max_batch = 512;       // records per group commit
  // With `full`: fsyncs of the WAL that may be in progress at once. A group's fsync starts as soon
  // as it is committed unless this many are running; 1 makes each group wait for the fsync in
  // progress to end first (bench/RESULTS.md, "Overlapping fsyncs").
  std::size_t parallel_syncs = 3;
  std::size_t max_queue = 100000;    // appends beyond this are refused (kError)
  std::string head_secret;           // MAC key for the signed head (the server secret)
  // Once the WAL holds this much, the writer finishes the checkpoint between two groups (a pause
  // of a few milliseconds) so that the WAL is rewritten from its start instead of growing.
  std::size_t wal_restart_bytes = 64u << 20;
  // A reader of an old snapshot (another process's long query or backup) keeps the WAL from being
  // restarted. The writer goes on meanwhile and the WAL grows, up to this bound; past it the writer
  // waits for that reader (decisions queue, then get 503), so that the disk does not fill.
  std::size_t wal_pinned_max_bytes = std::size_t{1} << 30;
  // How often the writer looks whether records were archived (the anchor moved); once a quarter
  // of the request-id index is archived ids, the index is rebuilt from the live log and swapped in.
  std::chrono::milliseconds index_compaction_interval{60000};
  // After a failed commit (the disk full, an I/O error, the database locked by another process)
  // the store is not ready. While no record arrives to try again, the writer tries a small write
  // of its own this often, so that readiness comes back once the disk does, even when a load
  // balancer has stopped sending it decisions. (A failed fsync is different: the store stays not
  // ready until it is restarted.)
  std::chrono::milliseconds writable_probe_interval{1000};
  // Observers of the disk work behind each acknowledgement (the server's latency histograms);
  // either may be empty. Called on the writer and sync threads: cheap and thread-safe.
  std::function<void(double seconds)> on_commit;  // a group: its inserts, its commit, and the
                                                  // checkpoint that restarts the WAL when due
  std::function<void(double seconds)> on_fsync;   // an fdatasync of the WAL (synchronous: full)
};

// Opens (creating if needed) DIR/audit.db and DIR/audit.head and starts the writer thread.
Result<std::unique_ptr<AuditStore>> OpenSqliteAuditStore(const std::string& dir,
                                                         const SqliteAuditOptions& options);

}  // namespace vigil
