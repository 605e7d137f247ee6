#include "store/live_request_index.h"

#include <algorithm>

#include "core/log.h"
#include "core/thread_name.h"
#include "store/audit_archive.h"
#include "store/audit_readers.h"

namespace vigil {

LiveRequestIndex::LiveRequestIndex(std::string db_path, std::string secret, std::chrono::milliseconds check_interval,
                                   int busy_ms)
    : db_path_(std::move(db_path)), secret_(std::move(secret)), check_interval_(check_interval), busy_ms_(busy_ms) {
  writer_ = ids_.load().get();
}

LiveRequestIndex::~LiveRequestIndex() {
  if (rebuilder_.joinable()) rebuilder_.join();
}

bool LiveRequestIndex::Build(std::int64_t last_seq) {
  first_seq_ = last_seq + 1;
  return ScanIds(1, last_seq, *writer_, &first_seq_);
}

bool LiveRequestIndex::Add(std::string_view id, std::int64_t seq) {
  if (rebuilder_.joinable()) pending_.emplace_back(id, seq);
  return writer_->Add(id, seq);
}

void LiveRequestIndex::MaybeCompact(sqlite3* writer_db, std::int64_t last_seq) {
  if (rebuilder_.joinable()) {
    SwapInRebuilt();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (now < next_check_) return;
  next_check_ = now + check_interval_;
  auto anchor = ReadAuditAnchor(writer_db, secret_);
  if (!anchor.ok() || !*anchor) return;
  const std::int64_t from = (*anchor)->seq;
  const std::int64_t gone = from - first_seq_;
  if (gone <= 0 || static_cast<std::size_t>(gone) * 4 < writer_->size()) return;  // under a quarter archived
  rebuild_from_ = from;
  const std::size_t live = writer_->size() - std::min(writer_->size(), static_cast<std::size_t>(gone));
  rebuilder_ = std::thread([this, from, last_seq, live] {
    NameThisThread("audit-index");
    auto fresh = std::make_shared<RequestIdIndex>(std::max<std::size_t>(live * 2, 1024));
    std::int64_t first = from;
    const bool ok = ScanIds(from, last_seq, *fresh, &first);
    std::lock_guard lk(mu_);
    fresh_ = ok ? std::move(fresh) : nullptr;
    rebuilt_ = true;
  });
}

void LiveRequestIndex::SwapInRebuilt() {
  {
    std::lock_guard lk(mu_);
    if (!rebuilt_) return;  // still scanning
    rebuilt_ = false;
  }
  rebuilder_.join();
  std::shared_ptr<RequestIdIndex> fresh = std::move(fresh_);
  std::vector<std::pair<std::string, std::int64_t>> pending = std::move(pending_);
  pending_.clear();
  if (!fresh) {
    Log(LogLevel::kWarn, "audit_index_compaction_failed");
    return;
  }
  for (const auto& [id, seq] : pending) fresh->Add(id, seq);
  const std::size_t bytes_before = writer_->bytes(), records_before = writer_->size();
  writer_ = fresh.get();
  ids_.store(std::move(fresh));
  first_seq_ = rebuild_from_;
  Log(LogLevel::kInfo, "audit_index_compacted")
      .Int("records_before", static_cast<std::int64_t>(records_before))
      .Int("records", static_cast<std::int64_t>(writer_->size()))
      .Int("bytes_before", static_cast<std::int64_t>(bytes_before))
      .Int("bytes", static_cast<std::int64_t>(writer_->bytes()));
}

// In slices, each its own read transaction, on a connection of its own: the scan never pins the WAL.
bool LiveRequestIndex::ScanIds(std::int64_t from, std::int64_t upto, RequestIdIndex& into, std::int64_t* first) const {
  sqlite3* db = nullptr;
  sqlite3_stmt* st = nullptr;
  bool ok = sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK;
  if (ok) sqlite3_busy_timeout(db, busy_ms_);
  ok = ok && sqlite3_prepare_v2(db, ("SELECT seq, request_id FROM audit WHERE seq >= ? AND seq <= ? AND request_id IS NOT NULL "
                                     "ORDER BY seq LIMIT " + std::to_string(kScanSlice)).c_str(), -1, &st, nullptr) == SQLITE_OK;
  for (std::int64_t next = from; ok;) {
    sqlite3_bind_int64(st, 1, next);
    sqlite3_bind_int64(st, 2, upto);
    std::size_t got = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const std::int64_t seq = sqlite3_column_int64(st, 0);
      const auto* t = sqlite3_column_text(st, 1);
      if (got++ == 0 && next == from) *first = std::min(*first, seq);
      into.Add(std::string_view(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(st, 1))), seq);
      next = seq + 1;
    }
    sqlite3_reset(st);
    ok = rc == SQLITE_DONE;
    if (got < kScanSlice) break;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return ok;
}

}  // namespace vigil
