#include "store/audit_archive.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/crypto.h"
#include "core/json_writer.h"
#include "store/audit_database.h"
#include "store/audit_readers.h"

namespace vigil {
namespace {

constexpr const char* kAnchorSchema =
    "CREATE TABLE IF NOT EXISTS audit_anchor (id INTEGER PRIMARY KEY CHECK (id = 1), first_seq INTEGER NOT NULL, "
    "prev TEXT NOT NULL, mac TEXT NOT NULL)";

std::string AnchorMac(const std::string& secret, std::int64_t first_seq, const std::string& prev) {
  return Hex(HmacSha256(secret, "audit-anchor\n" + std::to_string(first_seq) + "\n" + prev));
}

// A database connection closed on every path.
class Db {
 public:
  ~Db() {
    for (sqlite3_stmt* st : stmts_) sqlite3_finalize(st);
    if (db_) sqlite3_close(db_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      return Error::Io(std::string("cannot open the audit database: ") + sqlite3_errmsg(db_), path);
    }
    sqlite3_busy_timeout(db_, 10000);  // a running server's commits hold the lock for milliseconds
    return Exec("PRAGMA synchronous=FULL");
  }
  Status Exec(const std::string& sql) { return ExecSql(db_, sql, path_); }
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return nullptr;
    stmts_.push_back(st);
    return st;
  }
  // The first column of a one-row query, or nothing when it is NULL or has no row.
  std::optional<std::int64_t> Int(const std::string& sql, std::int64_t bind = 0) {
    sqlite3_stmt* st = Prepare(sql);
    if (!st) return std::nullopt;
    if (sqlite3_bind_parameter_count(st) > 0) sqlite3_bind_int64(st, 1, bind);
    std::optional<std::int64_t> out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return out;
  }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::vector<sqlite3_stmt*> stmts_;
};

void WriteRecordLine(std::string& out, const AuditRecord& r) {
  JsonWriter w(out);
  w.BeginObject().Field("seq", r.seq).Field("kind", r.kind).Field("request_id", r.request_id)
      .Field("time_ms", r.time_ms).Field("body_sha256", r.body_sha256).Field("prev", r.prev).Field("hash", r.hash)
      .Field("payload", r.payload).Field("response", r.response).EndObject();
  out += '\n';
}

// Writes everything or fails.
bool WriteAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

Status SyncDirOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::Io(std::string("cannot open directory: ") + std::strerror(errno), dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::Io(std::string("cannot sync directory: ") + std::strerror(errno), dir);
  return Status::Ok();
}

// Writes the records first..last to `tmp`, checking the chain from `start` as it goes; fills
// `batch_end_hash` with the hash of every record that ends a delete batch.
Status WriteArchive(Db& db, const std::string& tmp, const ChainHead& start, std::int64_t last, const ArchiveOptions& opt,
                    std::vector<std::string>& batch_end_hash, std::string& last_hash) {
  const std::size_t batch = opt.batch;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Io(std::string("cannot create the archive: ") + std::strerror(errno), tmp);
  std::string buf;
  JsonWriter(buf).BeginObject().Field("vigil_audit_archive", 1).Field("first_seq", start.seq)
      .Field("prev", start.hash).EndObject();
  buf += '\n';
  ChainVerifier v(std::nullopt);
  v.StartAt(start.seq, start.hash);
  // In slices, each its own read transaction (see AuditReaders::ForEach): a long archive must not
  // hold one snapshot while the server's checkpointer waits for it.
  sqlite3_stmt* st = db.Prepare(std::string("SELECT ") + kAuditColumns +
                                " FROM audit WHERE seq BETWEEN ? AND ? ORDER BY seq LIMIT " + std::to_string(kScanSlice));
  Status status = Status::Ok();
  if (!st) status = Error::Io(std::string("audit database: ") + sqlite3_errmsg(db.get()));
  std::int64_t n = 0;
  if (status.ok()) {
    int rc = SQLITE_DONE;
    bool ok = true;  // false once a record is wrong or a write fails
    for (std::int64_t from = start.seq; ok && from <= last;) {
      sqlite3_bind_int64(st, 1, from);
      sqlite3_bind_int64(st, 2, last);
      std::size_t got = 0;
      while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ++got;
        AuditRecord r = RowToRecord(st);
        from = r.seq + 1;
        if (!v.Add(r)) {
          ok = false;
          break;
        }
        ++n;
        if ((r.seq - start.seq + 1) % static_cast<std::int64_t>(batch) == 0 || r.seq == last) batch_end_hash.push_back(r.hash);
        last_hash = r.hash;
        WriteRecordLine(buf, r);
        if (buf.size() >= (1u << 20)) {
          ok = WriteAll(fd, buf);
          buf.clear();
        }
      }
      sqlite3_reset(st);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) ok = false;
      if (ok && opt.progress) opt.progress("written", n, last - start.seq + 1);
      if (got < kScanSlice) break;  // the end of the range
    }
    VerifyReport rep = v.Finish();
    if (!rep.ok) {
      status = Error::Invalid("record " + std::to_string(rep.bad_seq) + " does not verify (" + rep.problem +
                              "); run `vigil audit verify`. Nothing was archived");
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      status = Error::Io(std::string("reading the audit log failed: ") + sqlite3_errmsg(db.get()));
    } else if (!ok) {
      status = Error::Io(std::string("cannot write the archive: ") + std::strerror(errno), tmp);
    } else if (n != last - start.seq + 1) {
      status = Error::Invalid("only " + std::to_string(n) + " of the records " + std::to_string(start.seq) + " to " +
                              std::to_string(last) + " are in the log; run `vigil audit verify`. Nothing was archived");
    }
  }
  if (status.ok()) {
    JsonWriter(buf).BeginObject().Field("end", true).Field("records", n).Field("last_seq", last)
        .Field("last_hash", last_hash).EndObject();
    buf += '\n';
    if (!WriteAll(fd, buf) || ::fsync(fd) != 0) {
      status = Error::Io(std::string("cannot write the archive: ") + std::strerror(errno), tmp);
    }
  }
  ::close(fd);
  if (!status.ok()) ::unlink(tmp.c_str());
  return status;
}

}  // namespace

Result<std::optional<ChainHead>> ReadAuditAnchor(sqlite3* db, const std::string& secret) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT first_seq, prev, mac FROM audit_anchor WHERE id = 1", -1, &st, nullptr) != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_finalize(st);
    if (msg.find("no such table") != std::string::npos) return std::optional<ChainHead>();  // never archived
    return Error::Io("cannot read the audit anchor: " + msg);
  }
  std::optional<ChainHead> out;
  std::string mac;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    out = ChainHead{sqlite3_column_int64(st, 0), ColumnText(st, 1)};
    mac = ColumnText(st, 2);
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error::Io(std::string("cannot read the audit anchor: ") + sqlite3_errmsg(db));
  if (out && !ConstantTimeEqual(mac, AnchorMac(secret, out->seq, out->hash))) {
    return Error::Invalid("the audit anchor (where the log starts after archiving) is not signed by this server's "
                          "secret: it was forged or changed");
  }
  return out;
}

Result<ArchiveReport> ArchiveAuditLog(const std::string& data_dir, const ArchiveOptions& opt) {
  if (opt.out_path.empty()) return Error::Invalid("an archive file is required");
  if (opt.through_seq <= 0 && opt.before_ms <= 0) {
    return Error::Invalid("choose the records to archive: a last seq or an age");
  }
  if (opt.secret.empty()) return Error::Invalid("the server secret is required to sign the anchor");
  if (opt.batch == 0) return Error::Invalid("the batch must hold at least one record");
  std::error_code ec;
  if (std::filesystem::exists(opt.out_path, ec)) return Error::Invalid("the archive file already exists", opt.out_path);
  const std::string db_path = data_dir + "/audit.db";
  if (!std::filesystem::exists(db_path, ec)) return Error::Invalid("no audit log here", db_path);
  Db db;
  if (Status s = db.Open(db_path); !s.ok()) return s.error();
  if (Status s = db.Exec(kAnchorSchema); !s.ok()) return s.error();
  auto anchor = ReadAuditAnchor(db.get(), opt.secret);
  if (!anchor.ok()) return anchor.error();
  const ChainHead start_expected = *anchor ? **anchor : ChainHead{1, std::string(kGenesisHash)};

  ArchiveReport report;
  const auto first = db.Int("SELECT min(seq) FROM audit");
  const auto newest = db.Int("SELECT max(seq) FROM audit");
  if (!first || !newest) return report;  // an empty log
  if (*first != start_expected.seq) {
    return Error::Invalid("the log starts at record " + std::to_string(*first) + " but its anchor says " +
                          std::to_string(start_expected.seq) + "; run `vigil audit verify`. Nothing was archived");
  }
  std::int64_t last = opt.through_seq;
  if (last <= 0) {
    auto young = db.Int("SELECT min(seq) FROM audit WHERE time_ms >= ?", opt.before_ms);
    last = young ? *young - 1 : *newest;
  }
  last = std::min(last, *newest - 1);  // the newest record stays: a restarted server chains on from it
  if (last < *first) return report;

  const std::string tmp = opt.out_path + ".tmp";
  std::vector<std::string> batch_end_hash;
  std::string last_hash;
  if (Status s = WriteArchive(db, tmp, start_expected, last, opt, batch_end_hash, last_hash); !s.ok()) {
    return s.error();
  }
  if (std::rename(tmp.c_str(), opt.out_path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error::Io(std::string("cannot rename the archive: ") + std::strerror(errno), opt.out_path);
  }
  if (Status s = SyncDirOf(opt.out_path); !s.ok()) return s.error();

  // The archive is durable; now the records leave the log, a batch per transaction, each moving
  // the anchor with them.
  sqlite3_stmt* hash_at = db.Prepare("SELECT hash FROM audit WHERE seq = ?");
  sqlite3_stmt* del = db.Prepare("DELETE FROM audit WHERE seq BETWEEN ? AND ?");
  sqlite3_stmt* put = db.Prepare("INSERT OR REPLACE INTO audit_anchor (id, first_seq, prev, mac) VALUES (1, ?, ?, ?)");
  if (!hash_at || !del || !put) return Error::Io(std::string("audit database: ") + sqlite3_errmsg(db.get()));
  const std::int64_t total = last - *first + 1;
  std::size_t k = 0;
  for (std::int64_t b = *first; b <= last; b += static_cast<std::int64_t>(opt.batch), ++k) {
    const std::int64_t e = std::min(b + static_cast<std::int64_t>(opt.batch) - 1, last);
    if (Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s.error();
    // The records deleted must be the ones archived.
    sqlite3_bind_int64(hash_at, 1, e);
    const bool same = sqlite3_step(hash_at) == SQLITE_ROW && ColumnText(hash_at, 0) == batch_end_hash[k];
    sqlite3_reset(hash_at);
    if (!same) {
      (void)db.Exec("ROLLBACK");
      return Error::Invalid("record " + std::to_string(e) + " changed while it was archived; records from " +
                            std::to_string(b) + " on are still in the log");
    }
    sqlite3_bind_int64(del, 1, b);
    sqlite3_bind_int64(del, 2, e);
    int rc = sqlite3_step(del);
    sqlite3_reset(del);
    sqlite3_bind_int64(put, 1, e + 1);
    sqlite3_bind_text(put, 2, batch_end_hash[k].c_str(), -1, SQLITE_TRANSIENT);
    const std::string mac = AnchorMac(opt.secret, e + 1, batch_end_hash[k]);
    sqlite3_bind_text(put, 3, mac.c_str(), -1, SQLITE_TRANSIENT);
    if (rc == SQLITE_DONE) rc = sqlite3_step(put);
    sqlite3_reset(put);
    if (rc != SQLITE_DONE) {
      std::string msg = sqlite3_errmsg(db.get());
      (void)db.Exec("ROLLBACK");
      return Error::Io("deleting archived records failed: " + msg + "; records from " + std::to_string(b) +
                       " on are still in the log (run again to archive them)");
    }
    if (Status s = db.Exec("COMMIT"); !s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s.error();
    }
    if (opt.progress) opt.progress("deleted", e - *first + 1, total);
  }
  report.first_seq = *first;
  report.last_seq = last;
  report.records = total;
  report.last_hash = last_hash;
  return report;
}

Status ReadAuditArchive(const std::string& path, const std::function<void(const ChainHead& start)>& on_start,
                        const RecordVisitor& visit) {
  std::ifstream in(path);
  if (!in) return Error::Io("cannot open the archive", path);
  simdjson::dom::parser parser;
  std::string line;
  std::int64_t line_no = 0, count = 0, expect_records = -1;
  bool stopped = false;
  auto bad = [&](const std::string& what) {
    return Error::Invalid("line " + std::to_string(line_no) + ": " + what, path);
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (expect_records >= 0) return bad("data after the end line");
    simdjson::dom::object o;
    if (parser.parse(line).get(o) != simdjson::SUCCESS) return bad("not a JSON object");
    if (line_no == 1) {
      std::int64_t version = 0, first = 0;
      std::string_view prev;
      if (o["vigil_audit_archive"].get(version) || version != 1 || o["first_seq"].get(first) || o["prev"].get(prev)) {
        return bad("not a vigil audit archive (no header)");
      }
      on_start(ChainHead{first, std::string(prev)});
      continue;
    }
    bool end = false;
    if (o["end"].get(end) == simdjson::SUCCESS && end) {
      if (o["records"].get(expect_records) || expect_records != count) {
        return bad("the end line counts " + std::to_string(expect_records) + " records, the file holds " +
                   std::to_string(count));
      }
      continue;
    }
    AuditRecord r;
    std::string_view kind, request_id, body, prev, hash, payload, response;
    if (o["seq"].get(r.seq) || o["kind"].get(kind) || o["request_id"].get(request_id) || o["time_ms"].get(r.time_ms) ||
        o["body_sha256"].get(body) || o["prev"].get(prev) || o["hash"].get(hash) || o["payload"].get(payload) ||
        o["response"].get(response)) {
      return bad("not an audit record");
    }
    r.kind = kind;
    r.request_id = request_id;
    r.body_sha256 = body;
    r.prev = prev;
    r.hash = hash;
    r.payload = payload;
    r.response = response;
    ++count;
    if (!stopped && !visit(r)) stopped = true;
  }
  if (line_no == 0) return Error::Invalid("the archive is empty", path);
  if (expect_records < 0) return Error::Invalid("the archive has no end line: it was cut short", path);
  return Status::Ok();
}

}  // namespace vigil
