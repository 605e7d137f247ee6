// Reads a data directory's audit database directly (read-only), for tests that check what was
// written, or change it to test tamper detection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace vigil::testing {

inline std::int64_t AuditCount(const std::string& data_dir) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2((data_dir + "/audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM audit", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// The first column of the first row of a read-only query as an integer (-1 when it fails).
inline std::int64_t AuditScalar(const std::string& data_dir, const std::string& sql) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2((data_dir + "/audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

// Runs one SQL statement read-write; returns true on success.
inline bool AuditExec(const std::string& data_dir, const std::string& sql) {
  sqlite3* db = nullptr;
  bool ok = sqlite3_open((data_dir + "/audit.db").c_str(), &db) == SQLITE_OK &&
            sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

}  // namespace vigil::testing
