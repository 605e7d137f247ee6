// Reading the SQLite audit log: a small pool of read-only connections (WAL mode lets them read
// while the writer commits), records by seq and in order.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/audit_store.h"

namespace vigil {

// The audit table's columns, in the order RowToRecord reads them.
inline constexpr const char* kAuditColumns = "seq, kind, request_id, time_ms, body_sha256, prev, hash, payload, response";

// Records a scan reads per read transaction (AuditReaders::ForEach, archiving).
inline constexpr std::size_t kScanSlice = 1024;

// A column as a string (empty for NULL).
std::string ColumnText(sqlite3_stmt* st, int col);
// The current row of a statement that selects kAuditColumns.
AuditRecord RowToRecord(sqlite3_stmt* st);

class AuditReaders {
 public:
  explicit AuditReaders(std::string db_path) : path_(std::move(db_path)) {}
  ~AuditReaders();
  AuditReaders(const AuditReaders&) = delete;
  AuditReaders& operator=(const AuditReaders&) = delete;

  // The first record among `seqs` whose request id is `request_id` (the seqs come from the
  // in-memory index, whose fingerprints may match other ids).
  Result<std::optional<AuditRecord>> FindAt(const std::vector<std::int64_t>& seqs, const std::string& request_id);
  Status ForEach(std::int64_t from_seq, const RecordVisitor& visit);
  // The archive anchor, checked against `secret` (store/audit_archive.h).
  Result<std::optional<ChainHead>> Anchor(const std::string& secret);

 private:
  struct Conn {
    sqlite3* db = nullptr;
    sqlite3_stmt* by_seq = nullptr;
  };
  Result<Conn> Acquire();
  void Release(Conn c);

  const std::string path_;
  std::mutex mu_;
  std::vector<Conn> pool_;
};

}  // namespace vigil
