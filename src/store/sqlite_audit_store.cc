#include "store/sqlite_audit_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/crypto.h"
#include "core/log.h"
#include "core/thread_name.h"
#include "store/audit_database.h"
#include "store/audit_readers.h"
#include "store/live_request_index.h"
#include "store/signed_head.h"
#include "store/wal_keeper.h"

namespace vigil {
namespace {

// One row the writer rewrites to find out whether the database takes writes again after a failed
// commit (SqliteAuditOptions::writable_probe_interval). Not part of the chain. Created by the
// first probe, not at open, so that a server upgraded on a full disk still starts.
constexpr const char* kProbeSchema =
    "CREATE TABLE IF NOT EXISTS writable_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at_ms INTEGER NOT NULL)";

// How long a commit waits for the database lock another process holds (an archiving run's delete).
constexpr int kBusyTimeoutMs = 5000;

struct Item {
  AppendRequest req;
  std::function<void(AppendResult)> done;
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
    ids_.reset();  // waits for a rebuild of the request-id index in progress
    {
      std::lock_guard lk(sync_mu_);
      sync_stop_ = true;
    }
    sync_cv_.notify_all();
    for (auto& t : syncers_) t.join();
    {
      std::lock_guard lk(done_mu_);
      done_stop_ = true;
    }
    done_cv_.notify_all();
    if (completer_.joinable()) completer_.join();
    wal_.reset();  // stops the checkpointer
    if (insert_) sqlite3_finalize(insert_);
    if (id_at_seq_) sqlite3_finalize(id_at_seq_);
    // Every statement finalized first: with one left open, close fails (SQLITE_BUSY), and the
    // connection and its last checkpoint would be lost.
    if (db_ && sqlite3_close(db_) != SQLITE_OK) Log(LogLevel::kError, "audit_close_failed").Str("error", sqlite3_errmsg(db_));
  }

  Status Open() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return Error::Io("cannot create data directory: " + ec.message(), dir_);
    std::string path = dir_ + "/audit.db";
    std::string sync = opt_.synchronous;
    if (sync != "off" && sync != "normal" && sync != "full" && sync != "extra") {
      return Error::Invalid("audit.synchronous must be off, normal, full or extra");
    }
    // Checkpoints run on their own thread (WalKeeper), not inside the writer's commits, so a
    // checkpoint's writes never stall an acknowledgement.
    //
    // `full` is a pipelined group commit: SQLite commits each group without waiting for the disk
    // (its NORMAL setting, which keeps the WAL consistent), and a sync thread fsyncs the WAL
    // before the group is acknowledged, while the writer already commits the next one. A
    // record is acknowledged only after an fdatasync that began after its commit returned, which
    // is what SQLite's FULL guarantees; the disk's flush latency is overlapped with the next
    // group's inserts instead of being paid in series with them.
    sync_wal_ = sync == "full";
    // No sync thread would leave every group waiting for an fsync that never comes.
    opt_.parallel_syncs = std::max<std::size_t>(opt_.parallel_syncs, 1);
    // A WAL that grew past twice its restart size (a reader pinned it) is cut back when it
    // restarts, so the space comes back; in steady state it never gets there.
    auto db = OpenAuditDatabase(path, sync_wal_ ? std::string("normal") : sync, kBusyTimeoutMs, 2 * opt_.wal_restart_bytes);
    if (!db.ok()) return db.error();
    db_ = *db;
    page_size_ = AuditPageSize(db_);
    std::string sql = std::string("INSERT INTO audit (") + kAuditColumns + ") VALUES (?,?,?,?,?,?,?,?,?)";
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &insert_, nullptr) != SQLITE_OK) {
      return Error::Io(std::string("prepare failed: ") + sqlite3_errmsg(db_), path);
    }
    if (sqlite3_prepare_v2(db_, "SELECT request_id FROM audit WHERE seq = ?", -1, &id_at_seq_, nullptr) != SQLITE_OK) {
      return Error::Io(std::string("prepare failed: ") + sqlite3_errmsg(db_), path);
    }
    wal_ = std::make_unique<WalKeeper>(path, opt_.wal_restart_bytes, opt_.wal_pinned_max_bytes, kBusyTimeoutMs);
    sqlite3_wal_hook(db_, &WalKeeper::OnCommit, wal_.get());
    auto end = ReadAuditLogEnd(db_, opt_.head_secret);
    if (!end.ok()) return end.error();
    last_seq_ = end->seq;
    last_hash_ = end->hash;
    std::string head_path = dir_ + "/audit.head";
    if (Status hs = head_.Open(head_path, opt_.head_secret); !hs.ok()) return hs;
    // A signed head ahead of the log means records were cut off the end. With synchronous=full
    // that cannot come from a crash, so refuse to write on top of it.
    if (auto head = SignedHead(); head && head->seq > last_seq_) {
      std::string msg = "the audit log ends at record " + std::to_string(last_seq_) +
                        " but its signed head says " + std::to_string(head->seq) +
                        ": the tail was truncated (run `vigil audit verify`)";
      if (sync == "full" || sync == "extra") return Error::Invalid(msg, path);
      Log(LogLevel::kWarn, "audit_head_ahead").Str("detail", msg);
    }
    // Every request id already in the log goes into the index the idempotency check consults.
    ids_ = std::make_unique<LiveRequestIndex>(path, opt_.head_secret, opt_.index_compaction_interval, kBusyTimeoutMs);
    if (!ids_->Build(last_seq_)) return Error::Io("cannot read the request ids of the audit log", path);
    healthy_ = true;
    writer_ = std::thread([this] {
      NameThisThread("audit-writer");
      Run();
    });
    if (sync_wal_) {
      for (std::size_t i = 0; i < opt_.parallel_syncs; ++i) {
        syncers_.emplace_back([this] {
          NameThisThread("audit-sync");
          Sync();
        });
      }
    }
    completer_ = std::thread([this] {
      NameThisThread("audit-done");
      Complete();
    });
    wal_->Start();
    return Status::Ok();
  }

  void Append(AppendRequest req, std::function<void(AppendResult)> done) override {
    {
      std::lock_guard lk(mu_);
      if (queue_.size() < opt_.max_queue && !stopping_) {
        queue_.push_back({std::move(req), std::move(done)});
        // Wake the writer only when it sleeps and may commit; while it commits, it takes the
        // queue next.
        if (writer_waiting_ && (syncs_in_flight_ < opt_.parallel_syncs || queue_.size() >= opt_.max_batch)) cv_.notify_one();
        return;
      }
    }
    AppendResult r;
    r.error = "audit queue full";
    done(std::move(r));
  }

  Result<std::optional<AuditRecord>> FindByRequestId(const std::string& request_id) override {
    const std::vector<std::int64_t> seqs = ids_->Candidates(request_id);
    if (seqs.empty()) return std::optional<AuditRecord>();  // never seen: no read
    return readers_.FindAt(seqs, request_id);
  }

  Status ForEach(std::int64_t from_seq, const RecordVisitor& visit) override { return readers_.ForEach(from_seq, visit); }

  std::optional<ChainHead> SignedHead() override { return head_.Read(); }
  Result<std::optional<ChainHead>> Anchor() override { return readers_.Anchor(opt_.head_secret); }

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
    s.syncs_peak = syncs_peak_.load(std::memory_order_relaxed);
    s.wal_restarts = wal_ ? wal_->restarts() : 0;
    s.wal_bytes = wal_ ? wal_->frames_written() * (page_size_ + 24) : 0;
    s.commit_failures = commit_failures_.load(std::memory_order_relaxed);
    for (const char* f : {"/audit.db", "/audit.db-wal"}) {
      struct stat sb {};
      if (::stat((dir_ + f).c_str(), &sb) == 0) s.log_bytes += static_cast<std::uint64_t>(sb.st_size);
    }
    s.request_index_bytes = ids_ ? ids_->bytes() : 0;
    s.request_index_records = ids_ ? ids_->size() : 0;
    return s;
  }

  std::size_t queue_depth() const override {
    std::lock_guard lk(mu_);
    return queue_.size() + batch_size_;
  }

 private:
  Status Exec(const std::string& sql) { return ExecSql(db_, sql, dir_ + "/audit.db"); }

  // Whether a record with this request id is in the log, including this transaction's inserts
  // (the writer's own connection sees them).
  bool InLog(const std::string& request_id) {
    for (std::int64_t seq : ids_->WriterCandidates(request_id)) {
      sqlite3_bind_int64(id_at_seq_, 1, seq);
      bool same = false;
      if (sqlite3_step(id_at_seq_) == SQLITE_ROW) {
        const auto* t = sqlite3_column_text(id_at_seq_, 0);
        same = t != nullptr && std::string_view(reinterpret_cast<const char*>(t),
                                                static_cast<std::size_t>(sqlite3_column_bytes(id_at_seq_, 0))) == request_id;
      }
      sqlite3_reset(id_at_seq_);
      if (same) return true;
    }
    return false;
  }

  void Run() {
    std::vector<Item> batch;
    while (true) {
      {
        std::unique_lock lk(mu_);
        writer_waiting_ = true;
        // With `full`, records that arrive while `parallel_syncs` groups wait for their fsyncs
        // are gathered and committed as one group once one of those ends, instead of a commit
        // each whenever the writer is free: SQLite's fixed cost per commit (the B-tree's right
        // edge rewritten, WAL frame headers, locks) is paid at most once per fsync.
        const auto work = [&] {
          return stopping_ || (!queue_.empty() && (syncs_in_flight_ < opt_.parallel_syncs || queue_.size() >= opt_.max_batch));
        };
        if (!healthy_.load() && !sync_failed_.load()) {
          // Not ready after a failed commit: with nothing to write, find out by a write of its own
          // whether the database takes writes again.
          if (!cv_.wait_for(lk, opt_.writable_probe_interval, work)) {
            writer_waiting_ = false;
            lk.unlock();
            ProbeWritable();
            continue;
          }
        } else {
          cv_.wait(lk, work);
        }
        writer_waiting_ = false;
        if (queue_.empty()) break;  // stopping and drained
        std::size_t n = std::min(queue_.size(), opt_.max_batch);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        batch_size_ = n;
      }
      const auto began = std::chrono::steady_clock::now();
      WriteBatch(batch);
      batch.clear();
      wal_->RestartIfLong(db_);
      if (opt_.on_commit) opt_.on_commit(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
      ids_->MaybeCompact(db_, last_seq_);
      {
        std::lock_guard lk(mu_);
        batch_size_ = 0;
      }
      drained_.notify_all();
    }
  }

  // A one-row write transaction: when it commits, the store is ready again.
  void ProbeWritable() {
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
    Status s = Exec("BEGIN IMMEDIATE");
    if (s.ok()) s = Exec(kProbeSchema);
    if (s.ok()) s = Exec("INSERT OR REPLACE INTO writable_probe (id, at_ms) VALUES (1, " + std::to_string(now_ms) + ")");
    if (s.ok()) s = Exec("COMMIT");
    if (!s.ok()) {
      (void)Exec("ROLLBACK");
      return;
    }
    MarkWritable(last_seq_);
  }

  // A commit went through: ready again if a failed one had made the store not ready.
  void MarkWritable(std::int64_t last_seq) {
    if (healthy_.load(std::memory_order_relaxed) || healthy_.exchange(true)) return;
    Log(LogLevel::kInfo, "audit_store_writable_again").Int("last_seq", last_seq);
  }

  void WriteBatch(std::vector<Item>& batch) {
    std::vector<AppendResult> results(batch.size());
    std::int64_t seq = last_seq_;
    std::string prev = last_hash_.empty() ? std::string(kGenesisHash) : last_hash_;
    Status begun = Exec("BEGIN IMMEDIATE");
    Status failed = Status::Ok();
    for (std::size_t i = 0; i < batch.size() && begun.ok(); ++i) {
      AppendRequest& q = batch[i].req;
      AppendResult& res = results[i];
      if (!q.request_id.empty() && InLog(q.request_id)) {
        res.status = AppendResult::Status::kDuplicate;
        continue;
      }
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
        if (!q.request_id.empty() && !ids_->Add(q.request_id, s)) {
          Log(LogLevel::kError, "audit_index_full").Int("seq", s);  // past 2^40 records
        }
        seq = s;
        prev = h;
        res.status = AppendResult::Status::kOk;
        res.seq = s;
        res.evidence_id = std::move(h);
      } else if ((rc & 0xff) == SQLITE_CONSTRAINT) {
        res.status = AppendResult::Status::kDuplicate;
      } else {
        // The disk full, an I/O error: SQLite may have rolled the whole transaction back already,
        // so the group fails as a whole (nothing of it is acknowledged) rather than going on in
        // autocommit mode with seqs the chain no longer agrees with.
        failed = Error::Io(std::string("sqlite: ") + sqlite3_errmsg(db_), dir_ + "/audit.db");
        break;
      }
    }
    Status committed = !begun.ok() ? begun : !failed.ok() ? failed : Exec("COMMIT");
    if (!committed.ok()) {
      if (begun.ok()) (void)Exec("ROLLBACK");
      healthy_ = false;
      commit_failures_.fetch_add(1, std::memory_order_relaxed);
      Log(LogLevel::kError, "audit_commit_failed").Str("error", committed.error().message).Int("records", static_cast<std::int64_t>(batch.size()));
      for (auto& r : results) {
        r.status = AppendResult::Status::kError;
        r.error = committed.error().message;
      }
    } else {
      MarkWritable(seq);
      if (seq != last_seq_) {
        records_.fetch_add(static_cast<std::uint64_t>(seq - last_seq_), std::memory_order_relaxed);
        groups_.fetch_add(1, std::memory_order_relaxed);
        last_seq_ = seq;
        last_hash_ = prev;
      }
    }
    // With `full`, the group now waits for an fsync, which counts against `parallel_syncs` until
    // it ends (counted before a sync thread can see the group).
    const bool any_ok = std::any_of(results.begin(), results.end(),
                                    [](const AppendResult& r) { return r.status == AppendResult::Status::kOk; });
    const bool needs_sync = sync_wal_ && any_ok;
    const std::uint64_t group = ++group_id_;
    if (needs_sync) {
      {
        std::lock_guard lk(mu_);
        ++syncs_in_flight_;
      }
      {
        std::lock_guard lk(sync_mu_);
        sync_jobs_.push_back(group);
      }
      sync_cv_.notify_one();
    }
    // The callbacks (the client's answer, the modules' observations) run on the completer thread,
    // so the writer starts the next group commit at once.
    {
      std::lock_guard lk(done_mu_);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (results[i].status == AppendResult::Status::kOk) results[i].response = std::move(batch[i].req.response);
        done_queue_.push_back({std::move(batch[i].done), std::move(results[i]), std::move(batch[i].req.then), group, needs_sync});
      }
    }
    done_cv_.notify_one();
  }

  // Runs the `done` callbacks of committed groups in commit order, each once its group is
  // durable (with `full`, once an fdatasync that began after its commit has ended), after moving
  // the signed head to the last durable record (never ahead of what is on disk).
  void Complete() {
    std::vector<Completion> work;
    std::unique_lock lk(done_mu_);
    const auto ready = [&](const Completion& c) { return !c.needs_sync || c.group <= durable_group_ || sync_failed_.load(); };
    while (true) {
      done_cv_.wait(lk, [&] { return (done_stop_ && done_queue_.empty()) || (!done_queue_.empty() && ready(done_queue_.front())); });
      if (done_queue_.empty()) break;  // stopping and drained
      const std::uint64_t durable = durable_group_;
      while (!done_queue_.empty() && ready(done_queue_.front())) {
        work.push_back(std::move(done_queue_.front()));
        done_queue_.pop_front();
      }
      completing_ = true;
      lk.unlock();
      const AppendResult* last = nullptr;
      for (auto& c : work) {
        if (c.result.status != AppendResult::Status::kOk) continue;
        if (c.needs_sync && c.group > durable) {
          // In the log but not known to be on disk (an fsync failed): refuse to acknowledge it
          // (a retry with the same request id returns the stored decision).
          c.result = AppendResult{};
          c.result.error = sync_error_;
          continue;
        }
        last = &c.result;
      }
      if (last != nullptr) head_.Write(ChainHead{last->seq, last->evidence_id});
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
    std::uint64_t group = 0;
    bool needs_sync = false;
  };

  // With `full`, `parallel_syncs` threads fdatasync the WAL, each through its own descriptor (so
  // that a writeback error is reported to every one of them, not only to the first that asks).
  // A group's fsync starts as soon as it is committed, even while an earlier group's is still in
  // progress: a decision waits for one fsync, not for the rest of another one first. An fsync
  // that ends makes durable every group committed before it began.
  void Sync() {
    std::string path = dir_ + "/audit.db-wal";
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    const std::string open_error = fd < 0 ? std::string("cannot open the WAL to sync it: ") + std::strerror(errno) : "";
    std::unique_lock lk(sync_mu_);
    while (true) {
      sync_cv_.wait(lk, [&] { return sync_stop_ || !sync_jobs_.empty(); });
      if (sync_jobs_.empty()) break;  // stopping and drained
      // Jobs that queued while every syncer was busy are all covered by one fsync.
      const std::uint64_t group = sync_jobs_.back();
      const std::size_t jobs = sync_jobs_.size();
      sync_jobs_.clear();
      syncs_peak_.store(std::max<std::uint64_t>(syncs_peak_.load(std::memory_order_relaxed), ++syncs_running_), std::memory_order_relaxed);
      lk.unlock();
      std::string error = open_error;
      const auto t0 = std::chrono::steady_clock::now();
      if (error.empty() && ::fdatasync(fd) != 0) error = std::string("fdatasync of the WAL failed: ") + std::strerror(errno);
      const auto took = std::chrono::steady_clock::now() - t0;
      syncs_.fetch_add(1, std::memory_order_relaxed);
      sync_ns_.fetch_add(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()),
                         std::memory_order_relaxed);
      if (opt_.on_fsync) opt_.on_fsync(std::chrono::duration<double>(took).count());
      {
        std::lock_guard dl(done_mu_);
        if (!error.empty()) {
          // After a failed fsync the kernel may have dropped the dirty pages: no later fsync can
          // vouch for them, so this store stays not ready (restart to recover) and acknowledges
          // nothing past what was durable before.
          if (!sync_failed_.exchange(true)) {
            sync_error_ = error;
            Log(LogLevel::kError, "audit_sync_failed").Str("error", error).Int("group", static_cast<std::int64_t>(group));
          }
        } else if (!sync_failed_.load()) {
          durable_group_ = std::max(durable_group_, group);
        }
      }
      done_cv_.notify_one();
      bool wake = false;
      {
        std::lock_guard ml(mu_);
        syncs_in_flight_ -= jobs;
        wake = writer_waiting_ && !queue_.empty();
      }
      if (wake) cv_.notify_one();
      lk.lock();
      --syncs_running_;
    }
    lk.unlock();
    if (fd >= 0) ::close(fd);
  }

  std::string dir_;
  SqliteAuditOptions opt_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* id_at_seq_ = nullptr;  // the writer's: request id of a seq
  SignedHeadFile head_;
  std::uint64_t page_size_ = 4096;
  bool sync_wal_ = false;  // `full`: the WAL is fsynced before a group is acknowledged
  std::int64_t last_seq_ = 0;
  std::string last_hash_;
  std::atomic<bool> healthy_{false};
  std::atomic<std::uint64_t> commit_failures_{0};
  std::atomic<bool> sync_failed_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_, drained_;
  std::deque<Item> queue_;
  std::size_t batch_size_ = 0;
  bool stopping_ = false;
  bool writer_waiting_ = false;
  std::size_t syncs_in_flight_ = 0;  // committed groups whose fsync has not ended (synchronous: full)
  std::uint64_t group_id_ = 0;  // the writer's: groups committed
  std::thread writer_;

    std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<std::uint64_t> sync_jobs_;  // groups committed, waiting for an fsync to start
  bool sync_stop_ = false;
  std::uint64_t syncs_running_ = 0;  // under sync_mu_
  std::atomic<std::uint64_t> syncs_peak_{0};
  std::vector<std::thread> syncers_;

  std::mutex done_mu_;
  std::condition_variable done_cv_, done_drained_;
  std::deque<Completion> done_queue_;
  bool completing_ = false;
  bool done_stop_ = false;
  std::uint64_t durable_group_ = 0;  // every group up to this one is on disk
  std::string sync_error_;          // the first failed fsync's error
  std::thread completer_;

  std::atomic<std::uint64_t> groups_{0}, records_{0}, syncs_{0}, sync_ns_{0};
  std::unique_ptr<WalKeeper> wal_;

  std::unique_ptr<LiveRequestIndex> ids_;  // made in Open
  AuditReaders readers_{dir_ + "/audit.db"};
};

}  // namespace

Result<std::unique_ptr<AuditStore>> OpenSqliteAuditStore(const std::string& dir, const SqliteAuditOptions& options) {
  auto store = std::make_unique<SqliteAuditStore>(dir, options);
  if (Status s = store->Open(); !s.ok()) return s.error();
  return std::unique_ptr<AuditStore>(std::move(store));
}

}  // namespace vigil
