// The audit log's SQLite file: its schema, the writer's connection to it, and where the log ends.
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "store/audit_store.h"

namespace vigil {

// Runs SQL without results on `db`; a failure names `path` and SQLite's message.
Status ExecSql(sqlite3* db, const std::string& sql, const std::string& path);

// Opens (creating if needed) the audit database at `path` for the writer: WAL mode, SQLite's
// `synchronous` level, no automatic checkpoints (WalKeeper runs them), the busy timeout, a WAL cut
// back to `journal_size_limit` bytes when it restarts, and the audit table. The caller closes it.
Result<sqlite3*> OpenAuditDatabase(const std::string& path, const std::string& synchronous, int busy_timeout_ms,
                                   std::size_t journal_size_limit);

// The database's page size in bytes.
std::uint64_t AuditPageSize(sqlite3* db);

// The last record's seq and hash; when every record was archived, the anchor's seq - 1 and the
// hash before it (checked against `secret`); {0, ""} for a new log.
Result<ChainHead> ReadAuditLogEnd(sqlite3* db, const std::string& secret);

}  // namespace vigil
