#include "store/audit_database.h"

#include "store/audit_archive.h"
#include "store/audit_readers.h"

namespace vigil {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit (
  seq         INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  request_id  TEXT,        -- looked up through RequestIdIndex (in memory), not a disk index
  time_ms     INTEGER NOT NULL,
  body_sha256 TEXT,
  prev        TEXT NOT NULL,
  hash        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  response    TEXT
);
)sql";

}  // namespace

Status ExecSql(sqlite3* db, const std::string& sql, const std::string& path) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Error::Io("sqlite: " + msg, path);
  }
  return Status::Ok();
}

Result<sqlite3*> OpenAuditDatabase(const std::string& path, const std::string& synchronous, int busy_timeout_ms,
                                   std::size_t journal_size_limit) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    Error e = Error::Io(std::string("cannot open audit database: ") + sqlite3_errmsg(db), path);
    sqlite3_close(db);
    return e;
  }
  const std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + synchronous +
                              "; PRAGMA busy_timeout=" + std::to_string(busy_timeout_ms) +
                              "; PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-16384; PRAGMA journal_size_limit=" +
                              std::to_string(journal_size_limit) + ";";
  Status s = ExecSql(db, pragmas, path);
  if (s.ok()) s = ExecSql(db, kSchema, path);
  if (!s.ok()) {
    sqlite3_close(db);
    return s.error();
  }
  return db;
}

std::uint64_t AuditPageSize(sqlite3* db) {
  std::uint64_t size = 4096;
  sqlite3_stmt* ps = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &ps, nullptr);
  if (sqlite3_step(ps) == SQLITE_ROW) size = static_cast<std::uint64_t>(sqlite3_column_int64(ps, 0));
  sqlite3_finalize(ps);
  return size;
}

Result<ChainHead> ReadAuditLogEnd(sqlite3* db, const std::string& secret) {
  ChainHead end{0, ""};
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st, nullptr);
  if (sqlite3_step(st) == SQLITE_ROW) end = ChainHead{sqlite3_column_int64(st, 0), ColumnText(st, 1)};
  sqlite3_finalize(st);
  if (end.seq == 0) {  // every record archived (the archive keeps the newest, but be sure)
    auto anchor = ReadAuditAnchor(db, secret);
    if (!anchor.ok()) return anchor.error();
    if (*anchor) end = ChainHead{(*anchor)->seq - 1, (*anchor)->hash};
  }
  return end;
}

}  // namespace vigil
