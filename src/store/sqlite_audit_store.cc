#include "store/sqlite_audit_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "core/crypto.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "core/yaml_reader.h"
#include "store/id_filter.h"
#include "store/wal_keeper.h"

namespace vigil {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS audit (
  seq         INTEGER PRIMARY KEY,
  kind        TEXT NOT NULL,
  request_id  TEXT UNIQUE,
  time_ms     INTEGER NOT NULL,
  body_sha256 TEXT,
  prev        TEXT NOT NULL,
  hash        TEXT NOT NULL,
  payload     TEXT NOT NULL,
  response    TEXT
);
)sql";

constexpr std::size_t kHeadSize = 256;

std::string Text(sqlite3_stmt* st, int col) {
  const unsigned char* p = sqlite3_column_text(st, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(st, col)))
           : std::string();
}

AuditRecord RowToRecord(sqlite3_stmt* st) {
  AuditRecord r;
  r.seq = sqlite3_column_int64(st, 0);
  r.kind = Text(st, 1);
  r.request_id = Text(st, 2);
  r.time_ms = sqlite3_column_int64(st, 3);
  r.body_sha256 = Text(st, 4);
  r.prev = Text(st, 5);
  r.hash = Text(st, 6);
  r.payload = Text(st, 7);
  r.response = Text(st, 8);
  return r;
}

constexpr const char* kColumns = "seq, kind, request_id, time_ms, body_sha256, prev, hash, payload, response";

struct Item {
  AppendRequest req;
  std::function<void(AppendResult)> done;
};

struct ReaderConn {
  sqlite3* db = nullptr;
  sqlite3_stmt* by_request = nullptr;
};

class SqliteAuditStore final : public AuditStore {
 public:
  SqliteAuditStore(std::string dir, SqliteAuditOptions opt) : dir_(std::move(dir)), opt_(std::move(opt)) {}

  ~SqliteAuditStore() override {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();
    {
      std::lock_guard lk(done_mu_);
      done_stop_ = true;
    }
    done_cv_.notify_all();
    if (completer_.joinable()) completer_.join();
    wal_.reset();  // stops the checkpointer
    if (insert_) sqlite3_finalize(insert_);
    if (db_) sqlite3_close(db_);
    for (auto& c : pool_) {
      sqlite3_finalize(c.by_request);
      sqlite3_close(c.db);
    }
    if (head_fd_ >= 0) ::close(head_fd_);
    if (wal_fd_ >= 0) ::close(wal_fd_);
  }

  Status Open() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return Error::Io("cannot create data directory: " + ec.message(), dir_);
    std::string path = dir_ + "/audit.db";
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      return Error::Io(std::string("cannot open audit database: ") + sqlite3_errmsg(db_), path);
    }
    std::string sync = opt_.synchronous;
    if (sync != "off" && sync != "normal" && sync != "full" && sync != "extra") {
      return Error::Invalid("audit.synchronous must be off, normal, full or extra");
    }
    // Checkpoints run on their own thread (WalKeeper), not inside the writer's commits, so a
    // checkpoint's writes never stall an acknowledgement.
    //
    // `full` is a pipelined group commit: SQLite commits each group without waiting for the disk
    // (its NORMAL setting, which keeps the WAL consistent), and the completion thread fsyncs the
    // WAL before it acknowledges the group, while the writer already commits the next one. A
    // record is acknowledged only after an fdatasync that began after its commit returned, which
    // is what SQLite's FULL guarantees; the disk's flush latency is overlapped with the next
    // group's inserts instead of being paid in series with them.
    sync_wal_ = sync == "full";
    std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + (sync_wal_ ? std::string("normal") : sync) +
                          "; PRAGMA busy_timeout=5000; PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-16384;";
    if (Status s = Exec(pragmas); !s.ok()) return s;
    if (Status s = Exec(kSchema); !s.ok()) return s;
    std::string sql = std::string("INSERT INTO audit (") + kColumns + ") VALUES (?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &insert_, nullptr) != SQLITE_OK) {
      return Error::Io(std::string("prepare failed: ") + sqlite3_errmsg(db_), path);
    }
    wal_ = std::make_unique<WalKeeper>(path, opt_.wal_restart_bytes);
    sqlite3_wal_hook(db_, &WalKeeper::OnCommit, wal_.get());
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db_, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) {
      last_seq_ = sqlite3_column_int64(st, 0);
      last_hash_ = Text(st, 1);
    }
    sqlite3_finalize(st);
    std::string head_path = dir_ + "/audit.head";
    head_fd_ = ::open(head_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (head_fd_ < 0) return Error::Io(std::string("cannot open head: ") + std::strerror(errno), head_path);
    // A signed head ahead of the log means records were cut off the end. With synchronous=full
    // that cannot come from a crash, so refuse to write on top of it.
    if (auto head = SignedHead(); head && head->seq > last_seq_) {
      std::string msg = "the audit log ends at record " + std::to_string(last_seq_) +
                        " but its signed head says " + std::to_string(head->seq) +
                        ": the tail was truncated (run `vigil audit verify`)";
      if (sync == "full" || sync == "extra") return Error::Invalid(msg, path);
      Log(LogLevel::kWarn, "audit_head_ahead").Str("detail", msg);
    }
    // Every request id already in the log goes into the filter the idempotency check consults.
    sqlite3_prepare_v2(db_, "SELECT request_id FROM audit WHERE request_id IS NOT NULL", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      ids_.Add(std::string_view(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(st, 0))));
    }
    sqlite3_finalize(st);
    healthy_ = true;
    writer_ = std::thread([this] {
      NameThisThread("audit-writer");
      Run();
    });
    completer_ = std::thread([this] {
      NameThisThread("audit-done");
      Complete();
    });
    wal_->Start();
    return Status::Ok();
  }

  void Append(AppendRequest req, std::function<void(AppendResult)> done) override {
    if (!req.request_id.empty()) ids_.Add(req.request_id);  // before it can be committed
    {
      std::lock_guard lk(mu_);
      if (queue_.size() < opt_.max_queue && !stopping_) {
        queue_.push_back({std::move(req), std::move(done)});
        // Wake the writer only when it sleeps; while it commits, it takes the queue next.
        if (writer_waiting_) cv_.notify_one();
        return;
      }
    }
    AppendResult r;
    r.error = "audit queue full";
    done(std::move(r));
  }

  Result<std::optional<AuditRecord>> FindByRequestId(const std::string& request_id) override {
    if (!ids_.MayContain(request_id)) return std::optional<AuditRecord>();  // never seen: no read
    auto conn = Acquire();
    if (!conn.ok()) return conn.error();
    ReaderConn c = *conn;
    sqlite3_bind_text(c.by_request, 1, request_id.data(), static_cast<int>(request_id.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(c.by_request);
    std::optional<AuditRecord> out;
    if (rc == SQLITE_ROW) out = RowToRecord(c.by_request);
    sqlite3_reset(c.by_request);
    sqlite3_clear_bindings(c.by_request);
    Release(c);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error::Io("audit lookup failed");
    return out;
  }

  Status ForEach(std::int64_t from_seq, const RecordVisitor& visit) override {
    auto conn = Acquire();
    if (!conn.ok()) return conn.error();
    sqlite3_stmt* st = nullptr;
    std::string sql = std::string("SELECT ") + kColumns + " FROM audit WHERE seq >= ? ORDER BY seq";
    sqlite3_prepare_v2(conn->db, sql.c_str(), -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, from_seq);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      if (!visit(RowToRecord(st))) {
        rc = SQLITE_DONE;
        break;
      }
    }
    sqlite3_finalize(st);
    Release(*conn);
    if (rc != SQLITE_DONE) return Error::Io("audit scan failed");
    return Status::Ok();
  }

  std::optional<ChainHead> SignedHead() override {
    char buf[kHeadSize + 1] = {0};
    ssize_t n = ::pread(head_fd_, buf, kHeadSize, 0);
    if (n <= 0) return std::nullopt;
    YamlReader r(std::string_view(buf, static_cast<std::size_t>(n)), "audit.head");
    if (!r.ok() || !r.root().IsMap()) return std::nullopt;
    auto seq = r.Number(r.root(), "seq", "", true);
    auto hash = r.String(r.root(), "hash", "", true);
    auto mac = r.String(r.root(), "mac", "", true);
    if (!seq || !hash || !mac) return std::nullopt;
    ChainHead h{static_cast<std::int64_t>(*seq), *hash};
    if (!ConstantTimeEqual(*mac, HeadMac(h))) return std::nullopt;
    return h;
  }

  void Flush() override {
    {
      std::unique_lock lk(mu_);
      drained_.wait(lk, [&] { return queue_.empty() && batch_size_ == 0; });
    }
    std::unique_lock lk(done_mu_);
    done_drained_.wait(lk, [&] { return done_queue_.empty() && !completing_; });
  }

  bool Healthy() const override { return healthy_.load() && !sync_failed_.load(); }
  AuditStoreStats stats() const override {
    AuditStoreStats s;
    s.groups = groups_.load(std::memory_order_relaxed);
    s.records = records_.load(std::memory_order_relaxed);
    s.syncs = syncs_.load(std::memory_order_relaxed);
    s.sync_seconds = static_cast<double>(sync_ns_.load(std::memory_order_relaxed)) * 1e-9;
    s.wal_restarts = wal_restarts_.load(std::memory_order_relaxed);
    return s;
  }

  std::size_t queue_depth() const override {
    std::lock_guard lk(mu_);
    return queue_.size() + batch_size_;
  }

 private:
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      return Error::Io("sqlite: " + msg, dir_ + "/audit.db");
    }
    return Status::Ok();
  }

  std::string HeadMac(const ChainHead& h) const {
    return Hex(HmacSha256(opt_.head_secret, std::to_string(h.seq) + "\n" + h.hash));
  }

  void WriteHead(const ChainHead& h) {
    std::string text;
    JsonWriter w(text);
    w.BeginObject().Field("seq", h.seq).Field("hash", h.hash).Field("mac", HeadMac(h)).EndObject();
    text.resize(kHeadSize, ' ');
    text.back() = '\n';
    // One small positioned write; no fsync: a head that lags the log is harmless (verify only
    // flags a head that is ahead of it), and the log itself is synced by SQLite.
    if (::pwrite(head_fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
      Log(LogLevel::kWarn, "audit_head_write_failed").Str("error", std::strerror(errno));
    }
  }

  Result<ReaderConn> Acquire() {
    {
      std::lock_guard lk(pool_mu_);
      if (!pool_.empty()) {
        ReaderConn c = pool_.back();
        pool_.pop_back();
        return c;
      }
    }
    ReaderConn c;
    std::string path = dir_ + "/audit.db";
    if (sqlite3_open_v2(path.c_str(), &c.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      sqlite3_close(c.db);
      return Error::Io("cannot open audit database for reading", path);
    }
    sqlite3_busy_timeout(c.db, 5000);
    std::string sql = std::string("SELECT ") + kColumns + " FROM audit WHERE request_id = ?";
    if (sqlite3_prepare_v2(c.db, sql.c_str(), -1, &c.by_request, nullptr) != SQLITE_OK) {
      sqlite3_close(c.db);
      return Error::Io("prepare failed", path);
    }
    return c;
  }

  void Release(ReaderConn c) {
    std::lock_guard lk(pool_mu_);
    if (pool_.size() < 16) {
      pool_.push_back(c);
      return;
    }
    sqlite3_finalize(c.by_request);
    sqlite3_close(c.db);
  }

  void Run() {
    std::vector<Item> batch;
    while (true) {
      {
        std::unique_lock lk(mu_);
        writer_waiting_ = true;
        cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
        writer_waiting_ = false;
        if (queue_.empty()) break;  // stopping and drained
        std::size_t n = std::min(queue_.size(), opt_.max_batch);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        batch_size_ = n;
      }
      WriteBatch(batch);
      batch.clear();
      if (wal_->RestartIfLong(db_)) wal_restarts_.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard lk(mu_);
        batch_size_ = 0;
      }
      drained_.notify_all();
    }
  }

  void WriteBatch(std::vector<Item>& batch) {
    std::vector<AppendResult> results(batch.size());
    std::int64_t seq = last_seq_;
    std::string prev = last_hash_.empty() ? std::string(kGenesisHash) : last_hash_;
    Status begun = Exec("BEGIN IMMEDIATE");
    for (std::size_t i = 0; i < batch.size() && begun.ok(); ++i) {
      AppendRequest& q = batch[i].req;
      AppendResult& res = results[i];
      std::int64_t s = seq + 1;
      std::string h = ChainHash(prev, s, q.payload);
      if (q.evidence_offset != std::string::npos && q.evidence_offset + h.size() <= q.response.size()) {
        std::memcpy(q.response.data() + q.evidence_offset, h.data(), h.size());
      }
      sqlite3_bind_int64(insert_, 1, s);
      sqlite3_bind_text(insert_, 2, q.kind.data(), static_cast<int>(q.kind.size()), SQLITE_STATIC);
      if (q.request_id.empty()) {
        sqlite3_bind_null(insert_, 3);
      } else {
        sqlite3_bind_text(insert_, 3, q.request_id.data(), static_cast<int>(q.request_id.size()), SQLITE_STATIC);
      }
      sqlite3_bind_int64(insert_, 4, q.time_ms);
      sqlite3_bind_text(insert_, 5, q.body_sha256.data(), static_cast<int>(q.body_sha256.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 6, prev.data(), static_cast<int>(prev.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 7, h.data(), static_cast<int>(h.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 8, q.payload.data(), static_cast<int>(q.payload.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 9, q.response.data(), static_cast<int>(q.response.size()), SQLITE_STATIC);
      int rc = sqlite3_step(insert_);
      sqlite3_reset(insert_);
      sqlite3_clear_bindings(insert_);
      if (rc == SQLITE_DONE) {
        seq = s;
        prev = h;
        res.status = AppendResult::Status::kOk;
        res.seq = s;
        res.evidence_id = std::move(h);
      } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        res.status = AppendResult::Status::kDuplicate;
      } else {
        res.status = AppendResult::Status::kError;
        res.error = sqlite3_errmsg(db_);
      }
    }
    Status committed = begun.ok() ? Exec("COMMIT") : begun;
    if (!committed.ok()) {
      if (begun.ok()) (void)Exec("ROLLBACK");
      healthy_ = false;
      Log(LogLevel::kError, "audit_commit_failed").Str("error", committed.error().message).Int("records", static_cast<std::int64_t>(batch.size()));
      for (auto& r : results) {
        r.status = AppendResult::Status::kError;
        r.error = committed.error().message;
      }
    } else {
      healthy_ = true;
      if (seq != last_seq_) {
        records_.fetch_add(static_cast<std::uint64_t>(seq - last_seq_), std::memory_order_relaxed);
        groups_.fetch_add(1, std::memory_order_relaxed);
        last_seq_ = seq;
        last_hash_ = prev;
      }
    }
    // The callbacks (the client's answer, the modules' observations) run on the completer thread,
    // so the writer starts the next group commit at once.
    {
      std::lock_guard lk(done_mu_);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (results[i].status == AppendResult::Status::kOk) results[i].response = std::move(batch[i].req.response);
        done_queue_.push_back({std::move(batch[i].done), std::move(results[i]), std::move(batch[i].req.then)});
      }
    }
    done_cv_.notify_one();
  }

  // Runs the `done` callbacks of committed groups in commit order; with `full`, first makes every
  // group taken durable with one fdatasync of the WAL, then moves the signed head to the last
  // record (never ahead of what is on disk).
  void Complete() {
    std::vector<Completion> work;
    std::unique_lock lk(done_mu_);
    while (true) {
      done_cv_.wait(lk, [&] { return done_stop_ || !done_queue_.empty(); });
      if (done_queue_.empty()) break;  // stopping and drained
      work.assign(std::make_move_iterator(done_queue_.begin()), std::make_move_iterator(done_queue_.end()));
      done_queue_.clear();
      completing_ = true;
      lk.unlock();
      MakeDurable(work);
      for (auto& c : work) c.done(std::move(c.result));  // every answer of the groups first
      for (auto& c : work) {
        if (c.then) c.then();
      }
      work.clear();
      lk.lock();
      completing_ = false;
      if (done_queue_.empty()) done_drained_.notify_all();
    }
  }

  struct Completion {
    std::function<void(AppendResult)> done;
    AppendResult result;
    std::function<void()> then;
  };

  void MakeDurable(std::vector<Completion>& work) {
    const AppendResult* last = nullptr;
    for (const auto& c : work) {
      if (c.result.status == AppendResult::Status::kOk) last = &c.result;
    }
    if (last == nullptr) return;
    if (sync_wal_) {
      std::string error;
      if (wal_fd_ < 0) {
        std::string path = dir_ + "/audit.db-wal";
        wal_fd_ = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (wal_fd_ < 0) error = std::string("cannot open the WAL to sync it: ") + std::strerror(errno);
      }
      const auto t0 = std::chrono::steady_clock::now();
      if (error.empty() && ::fdatasync(wal_fd_) != 0) error = std::string("fdatasync of the WAL failed: ") + std::strerror(errno);
      syncs_.fetch_add(1, std::memory_order_relaxed);
      sync_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()),
                         std::memory_order_relaxed);
      if (!error.empty()) {
        // The group is in the log but not known to be on disk: refuse to acknowledge it (a retry
        // with the same request id returns the stored decision) and report not ready.
        // After a failed fsync the kernel may have dropped the dirty pages: this store stays not
        // ready (a later commit succeeding does not clear it); restart to recover.
        sync_failed_ = true;
        Log(LogLevel::kError, "audit_sync_failed").Str("error", error).Int("records", static_cast<std::int64_t>(work.size()));
        for (auto& c : work) {
          if (c.result.status != AppendResult::Status::kOk) continue;
          c.result = AppendResult{};
          c.result.error = error;
        }
        return;
      }
    }
    WriteHead(ChainHead{last->seq, last->evidence_id});
  }

  std::string dir_;
  SqliteAuditOptions opt_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  int head_fd_ = -1;
  bool sync_wal_ = false;  // `full`: the completion thread fsyncs the WAL before acknowledging
  int wal_fd_ = -1;        // the completion thread's own descriptor of audit.db-wal
  std::int64_t last_seq_ = 0;
  std::string last_hash_;
  std::atomic<bool> healthy_{false};
  std::atomic<bool> sync_failed_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::deque<Item> queue_;
  std::size_t batch_size_ = 0;
  bool stopping_ = false;
  bool writer_waiting_ = false;
  std::thread writer_;

  std::mutex done_mu_;
  std::condition_variable done_cv_, done_drained_;
  std::deque<Completion> done_queue_;
  bool completing_ = false;
  bool done_stop_ = false;
  std::thread completer_;

  std::atomic<std::uint64_t> groups_{0}, records_{0}, syncs_{0}, sync_ns_{0}, wal_restarts_{0};
  std::unique_ptr<WalKeeper> wal_;

  RequestIdFilter ids_;
  std::mutex pool_mu_;
  std::vector<ReaderConn> pool_;
};

}  // namespace

Result<std::unique_ptr<AuditStore>> OpenSqliteAuditStore(const std::string& dir, const SqliteAuditOptions& options) {
  auto store = std::make_unique<SqliteAuditStore>(dir, options);
  if (Status s = store->Open(); !s.ok()) return s.error();
  return std::unique_ptr<AuditStore>(std::move(store));
}

}  // namespace vigil
