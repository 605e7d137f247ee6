// Where audit records live. The embedded default is SQLite in the data directory
// (SqliteAuditStore); several replicas share PostgreSQL.
//
// Append() is asynchronous: one writer thread takes records in arrival order, chains them (assigns
// seq, prev and hash), commits them in groups, and only then calls each record's `done`. A
// decision is acknowledged to its client from `done`, so an acknowledged decision is durable.
// All methods are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "audit/audit.h"
#include "core/result.h"

namespace vigil {

struct AppendRequest {
  std::string kind = "decision";
  std::string request_id;   // unique among decisions: a second append with it is a duplicate
  std::string body_sha256;
  std::int64_t time_ms = 0;
  std::string payload;      // canonical JSON
  // The response body, with the evidence id to be filled in at `evidence_offset` (64 characters
  // reserved), or npos when the response does not carry one.
  std::string response;
  std::size_t evidence_offset = std::string::npos;
  // Optional: runs on the completion thread after the `done` of every record in the same group
  // has run, for work that must not delay other clients' answers (the monitors' observations).
  std::function<void()> then;
};

struct AppendResult {
  enum class Status : std::uint8_t { kOk, kDuplicate, kError };
  Status status = Status::kError;
  std::int64_t seq = 0;
  std::string evidence_id;  // the record hash
  std::string response;     // the stored response, evidence id filled in
  std::string error;        // kError: what went wrong (for logs, not for clients)
};

// What the store has done since it was opened (exposed as vigil_audit_* metrics).
struct AuditStoreStats {
  std::uint64_t groups = 0;         // group commits
  std::uint64_t records = 0;        // records committed
  std::uint64_t syncs = 0;          // fsyncs of the log before acknowledging (synchronous: full)
  double sync_seconds = 0;          // time spent in them
  std::uint64_t syncs_peak = 0;     // most of them in progress at once
  std::uint64_t wal_restarts = 0;   // times the WAL was started again from its beginning
  std::uint64_t wal_bytes = 0;      // bytes the commits appended to the WAL (pages and frame headers)
  std::uint64_t commit_failures = 0;  // group commits that failed (disk full, I/O error, locked)
  std::uint64_t log_bytes = 0;        // size of the log's files on disk
  std::uint64_t request_index_bytes = 0;  // memory of the request-id index (idempotency, lookups)
  std::uint64_t request_index_records = 0;  // ids in it
};

class AuditStore {
 public:
  virtual ~AuditStore() = default;
  // Queues a record; `done` runs on the store's completion thread, in commit order, once the
  // record is durable (kOk), or when it cannot be (kDuplicate: the request id is already in the
  // log; kError). When the queue is full, `done` runs at once on the caller's thread (kError).
  virtual void Append(AppendRequest req, std::function<void(AppendResult)> done) = 0;
  // The decision record with this request id, if any.
  virtual Result<std::optional<AuditRecord>> FindByRequestId(const std::string& request_id) = 0;
  // Visits records with seq >= from_seq in order until the visitor returns false.
  virtual Status ForEach(std::int64_t from_seq, const RecordVisitor& visit) = 0;
  // The signed head (last seq and hash committed), or nullopt when absent or unreadable.
  virtual std::optional<ChainHead> SignedHead() = 0;
  // Where the log starts once its oldest records were archived (`vigil audit archive`): the first
  // seq still in it and the hash before it. Nothing when none were; an error when the anchor is
  // not signed by the server secret.
  virtual Result<std::optional<ChainHead>> Anchor() { return std::optional<ChainHead>(); }
  // Blocks until every queued record is committed.
  virtual void Flush() = 0;
  // True while the writer commits successfully.
  virtual bool Healthy() const = 0;
  virtual std::size_t queue_depth() const = 0;
  virtual AuditStoreStats stats() const { return {}; }
};

}  // namespace vigil
