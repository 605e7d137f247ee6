#include "store/audit_readers.h"

#include "store/audit_archive.h"

namespace vigil {

AuditRecord RowToRecord(sqlite3_stmt* st) {
  AuditRecord r;
  r.seq = sqlite3_column_int64(st, 0);
  r.kind = ColumnText(st, 1);
  r.request_id = ColumnText(st, 2);
  r.time_ms = sqlite3_column_int64(st, 3);
  r.body_sha256 = ColumnText(st, 4);
  r.prev = ColumnText(st, 5);
  r.hash = ColumnText(st, 6);
  r.payload = ColumnText(st, 7);
  r.response = ColumnText(st, 8);
  return r;
}

std::string ColumnText(sqlite3_stmt* st, int col) {
  const unsigned char* p = sqlite3_column_text(st, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, col)))
           : std::string();
}

AuditReaders::~AuditReaders() {
  for (auto& c : pool_) {
    sqlite3_finalize(c.by_seq);
    sqlite3_close(c.db);
  }
}

Result<std::optional<AuditRecord>> AuditReaders::FindAt(const std::vector<std::int64_t>& seqs,
                                                        const std::string& request_id) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.error();
  Conn c = *conn;
  std::optional<AuditRecord> out;
  int rc = SQLITE_DONE;
  for (std::int64_t seq : seqs) {  // a fingerprint match; the stored id decides
    sqlite3_bind_int64(c.by_seq, 1, seq);
    rc = sqlite3_step(c.by_seq);
    if (rc == SQLITE_ROW) {
      AuditRecord r = RowToRecord(c.by_seq);
      if (r.request_id == request_id) out = std::move(r);
      rc = SQLITE_DONE;
    }
    sqlite3_reset(c.by_seq);
    if (out || rc != SQLITE_DONE) break;
  }
  Release(c);
  if (rc != SQLITE_DONE) return Error::Io("audit lookup failed");
  return out;
}

Status AuditReaders::ForEach(std::int64_t from_seq, const RecordVisitor& visit) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.error();
  sqlite3_stmt* st = nullptr;
  // In slices, each its own read transaction: a scan of the whole log (verify, a report) must not
  // hold one snapshot for minutes, since the checkpointer cannot copy WAL frames past the oldest
  // reader's snapshot, and once the WAL is overdue the writer would wait on that reader.
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq >= ? ORDER BY seq LIMIT " +
                    std::to_string(kScanSlice);
  sqlite3_prepare_v2(conn->db, sql.c_str(), -1, &st, nullptr);
  int rc = SQLITE_DONE;
  for (bool more = true; more;) {
    sqlite3_bind_int64(st, 1, from_seq);
    std::size_t n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      ++n;
      AuditRecord r = RowToRecord(st);
      from_seq = r.seq + 1;
      if (!visit(r)) {
        rc = SQLITE_DONE;
        more = false;
        break;
      }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) break;
    more = more && n == kScanSlice;
  }
  sqlite3_finalize(st);
  Release(*conn);
  if (rc != SQLITE_DONE) return Error::Io("audit scan failed");
  return Status::Ok();
}

Result<std::optional<ChainHead>> AuditReaders::Anchor(const std::string& secret) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.error();
  auto anchor = ReadAuditAnchor(conn->db, secret);
  Release(*conn);
  return anchor;
}

Result<AuditReaders::Conn> AuditReaders::Acquire() {
  {
    std::lock_guard lk(mu_);
    if (!pool_.empty()) {
      Conn c = pool_.back();
      pool_.pop_back();
      return c;
    }
  }
  Conn c;
  if (sqlite3_open_v2(path_.c_str(), &c.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    sqlite3_close(c.db);
    return Error::Io("cannot open audit database for reading", path_);
  }
  sqlite3_busy_timeout(c.db, 5000);
  std::string sql = std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq = ?";
  if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &c.by_seq, nullptr) != SQLITE_OK) {
    sqlite3_close(c.db);
    return Error::Io("prepare failed", path_);
  }
  return c;
}

void AuditReaders::Release(Conn c) {
  std::lock_guard lk(mu_);
  if (pool_.size() < 16) {
    pool_.push_back(c);
    return;
  }
  sqlite3_finalize(c.by_seq);
  sqlite3_close(c.db);
}

}  // namespace vigil
