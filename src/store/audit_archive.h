// Moving the oldest audit records out of the live log into an archive file, so that the log's
// disk use stops growing while the chain stays verifiable from its first record to its last.
//
// An archive file is JSON lines: a header naming the first archived record and the hash before
// it, one line per record (every column; payload and response as JSON strings, byte for byte),
// and an end line with the count and the last record's hash (so a file cut short is told from a
// complete one). After the file is durable, the archived records are deleted from the database in
// small transactions; each also moves the anchor (audit_anchor: the first record still in the
// log and the hash before it, with an HMAC under the server secret) so that the log plus its
// anchor is always consistent, even if the archiving process dies half way. A running server
// keeps answering meanwhile: each delete holds the write lock for a few milliseconds.
//
// Retention is the operator's: archived request ids are no longer idempotency keys (a retry of one
// is decided again) and GET /v1/decisions/{id} no longer finds them, so archive only records older
// than any client retries (days, not minutes). The newest record is never archived.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit.h"
#include "core/result.h"

namespace vigil {

struct ArchiveOptions {
  std::string out_path;             // refused if it exists
  std::int64_t through_seq = 0;     // archive records with seq <= this ...
  std::int64_t before_ms = 0;       // ... or the records older than this (unix ms), oldest first
  std::string secret;               // the server secret: signs the anchor
  std::size_t batch = 2000;         // records deleted per transaction
  // Progress: `phase` is "written" (records written to the archive, every kScanSlice) or "deleted"
  // (records deleted from the log, every batch).
  std::function<void(std::string_view phase, std::int64_t done, std::int64_t total)> progress;
};

struct ArchiveReport {
  std::int64_t first_seq = 0;  // 0 when there was nothing to archive
  std::int64_t last_seq = 0;
  std::int64_t records = 0;
  std::string last_hash;       // the anchor's prev: the live log's first record follows it
};

// Archives the records of DATA_DIR's audit log that `opt` selects. Refuses (and changes nothing)
// when the records to archive do not verify, or the anchor is not signed by `opt.secret`.
Result<ArchiveReport> ArchiveAuditLog(const std::string& data_dir, const ArchiveOptions& opt);

// The live log's anchor: {first seq still in the log, the hash before it}. Nothing when no record
// was ever archived; an error when the anchor's MAC does not match `secret` (forged or changed).
Result<std::optional<ChainHead>> ReadAuditAnchor(sqlite3* db, const std::string& secret);

// Reads an archive file: its header's start ({first seq, hash before it}) and then each record
// in order. An error for a file that is not an archive, cannot be parsed, or has no end line or
// the wrong count (cut short).
Status ReadAuditArchive(const std::string& path, const std::function<void(const ChainHead& start)>& on_start,
                        const RecordVisitor& visit);

}  // namespace vigil
