// What the audit store does when the disk fails it.
//
// A failed fsync of the WAL (synchronous: full): no record that the failed fsync was to make
// durable is acknowledged, nor any after it (after a failed fsync the kernel may have dropped the
// dirty pages, so a later fsync that succeeds vouches for nothing), the store reports not ready
// until it is restarted, and what was acknowledged before is in the log with an intact chain.
//
// A full disk (a write fails with ENOSPC): the group being committed fails as a whole and none of
// it is acknowledged; the store reports not ready, and ready again once the disk takes writes,
// found by a write of its own even when no decision arrives (a load balancer stops sending
// decisions to a server that is not ready); the decisions that failed are not in the log, so
// their retries are decided anew, and the chain has no gap.
//
// And an idle store leaves the disk alone: no flush while nothing is written.
//
// The failures are real at the system-call boundary: this binary defines fdatasync() and
// pwrite64(), which the store's and SQLite's calls resolve to, and fails them on the store's own
// threads while `g_fail` (EIO from fdatasync) or `g_full` (ENOSPC from pwrite64) is set; every
// other call goes to the kernel.
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "audit/audit.h"
#include "store/sqlite_audit_store.h"

namespace {
std::atomic<bool> g_fail{false};
std::atomic<int> g_failed_calls{0};
std::atomic<bool> g_full{false};
std::atomic<int> g_full_calls{0};
std::atomic<int> g_store_syncs{0};  // fdatasync calls on the store's threads

bool OnThread(const char* want) {
  char name[16] = {};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  return std::strcmp(name, want) == 0;
}
}  // namespace

extern "C" int fdatasync(int fd) {
  char name[16] = {};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  if (std::strncmp(name, "audit-", 6) == 0) g_store_syncs.fetch_add(1);
  if (g_fail.load() && OnThread("audit-sync")) {
    g_failed_calls.fetch_add(1);
    errno = EIO;
    return -1;
  }
  return static_cast<int>(syscall(SYS_fdatasync, fd));
}

// SQLite writes its WAL and database with pwrite64 (the writer's commits, the checkpointer's
// passes). A full ext4 answers a write that needs a new block with ENOSPC.
extern "C" ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) {
  if (g_full.load() && (OnThread("audit-writer") || OnThread("audit-ckpt"))) {
    g_full_calls.fetch_add(1);
    errno = ENOSPC;
    return -1;
  }
  return static_cast<ssize_t>(syscall(SYS_pwrite64, fd, buf, n, offset));
}

namespace vigil {
namespace {

class AuditDiskFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() / ("vigil-diskfail-" + std::to_string(rd()))).string();
    g_fail = false;
    g_failed_calls = 0;
    g_full = false;
    g_full_calls = 0;
  }
  void TearDown() override {
    g_fail = false;
    g_full = false;
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<AuditStore> Open(const std::string& sync) {
    SqliteAuditOptions opt;
    opt.synchronous = sync;
    opt.parallel_syncs = 3;
    opt.head_secret = "0123456789abcdef0123456789abcdef";
    opt.writable_probe_interval = std::chrono::milliseconds(50);
    auto s = OpenSqliteAuditStore(dir_, opt);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Appends `n` records at once (they share groups and fsyncs) and waits for every answer.
  std::vector<AppendResult> AppendMany(AuditStore& s, const std::string& prefix, int n) {
    std::vector<std::promise<AppendResult>> done(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      AppendRequest r;
      r.request_id = prefix + std::to_string(i);
      r.time_ms = 1;
      r.payload = "{\"n\":" + std::to_string(i) + "}";
      s.Append(std::move(r), [&done, i](AppendResult res) { done[static_cast<std::size_t>(i)].set_value(std::move(res)); });
    }
    std::vector<AppendResult> out;
    for (auto& p : done) out.push_back(p.get_future().get());
    return out;
  }

  // Every record's request id in log order, and whether the chain and the signed head verify.
  static std::pair<std::vector<std::string>, bool> ReadBack(AuditStore& s) {
    ChainVerifier v(s.SignedHead());
    std::vector<std::string> ids;
    const bool read = s.ForEach(1, [&](const AuditRecord& r) {
                         ids.push_back(r.request_id);
                         return v.Add(r);
                       }).ok();
    return {std::move(ids), read && v.Finish().ok};
  }

  std::string dir_;
};

TEST_F(AuditDiskFailureTest, NothingPastAFailedFsyncIsAcknowledged) {
  auto s = Open("full");
  ASSERT_TRUE(s);
  for (const AppendResult& r : AppendMany(*s, "before_", 40)) ASSERT_EQ(r.status, AppendResult::Status::kOk);
  EXPECT_TRUE(s->Healthy());
  const std::int64_t acknowledged = 40;

  g_fail = true;
  for (const AppendResult& r : AppendMany(*s, "during_", 40)) {
    EXPECT_EQ(r.status, AppendResult::Status::kError) << "acknowledged although its fsync failed";
    EXPECT_NE(r.error.find("fdatasync of the WAL failed"), std::string::npos) << r.error;
  }
  EXPECT_GE(g_failed_calls.load(), 1);
  EXPECT_FALSE(s->Healthy());

  // The disk works again, but the pages the failed fsync covered may be gone: still nothing is
  // acknowledged, and the store stays not ready until it is restarted.
  g_fail = false;
  for (const AppendResult& r : AppendMany(*s, "after_", 20)) EXPECT_EQ(r.status, AppendResult::Status::kError);
  EXPECT_FALSE(s->Healthy());
  const std::optional<ChainHead> head = s->SignedHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, acknowledged) << "the signed head moved past the last durable record";
  s.reset();

  // Reopened: every acknowledged record is there and the chain verifies (records that were
  // written but never acknowledged may be there too: their clients were told to retry).
  auto again = Open("full");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->Healthy());
  const auto [ids, chain_ok] = ReadBack(*again);
  EXPECT_TRUE(chain_ok);
  const auto before = std::count_if(ids.begin(), ids.end(), [](const std::string& id) { return id.rfind("before_", 0) == 0; });
  EXPECT_EQ(before, acknowledged);
  EXPECT_GE(static_cast<std::int64_t>(ids.size()), acknowledged);
  for (const AppendResult& r : AppendMany(*again, "restarted_", 10)) EXPECT_EQ(r.status, AppendResult::Status::kOk);
}

TEST_F(AuditDiskFailureTest, AFullDiskFailsWholeGroupsAndReadinessComesBackWithTheDisk) {
  auto s = Open("full");
  ASSERT_TRUE(s);
  for (const AppendResult& r : AppendMany(*s, "before_", 40)) ASSERT_EQ(r.status, AppendResult::Status::kOk);
  ASSERT_TRUE(s->Healthy());

  g_full = true;
  for (const AppendResult& r : AppendMany(*s, "during_", 40)) {
    EXPECT_EQ(r.status, AppendResult::Status::kError) << "acknowledged although its commit could not be written";
    EXPECT_NE(r.error.find("full"), std::string::npos) << r.error;
  }
  EXPECT_GE(g_full_calls.load(), 1);
  EXPECT_FALSE(s->Healthy());
  // Still full: the writer's own probes (every 50 ms here) try to write and fail, so it stays not
  // ready.
  const int calls_after_appends = g_full_calls.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(s->Healthy());
  EXPECT_GT(g_full_calls.load(), calls_after_appends) << "no write was tried while idle";

  // Space again, and no decision arrives: the writer finds out by itself.
  g_full = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!s->Healthy() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(s->Healthy()) << "not ready again although the disk takes writes";

  // The failed decisions are not in the log: their retries are new records, not duplicates, and
  // take the next seqs.
  std::vector<AppendResult> retried = AppendMany(*s, "during_", 40);
  for (std::size_t i = 0; i < retried.size(); ++i) {
    ASSERT_EQ(retried[i].status, AppendResult::Status::kOk) << retried[i].error;
    EXPECT_EQ(retried[i].seq, 41 + static_cast<std::int64_t>(i));
  }
  ASSERT_TRUE(s->SignedHead().has_value());
  EXPECT_EQ(s->SignedHead()->seq, 80);
  s.reset();

  auto again = Open("full");
  ASSERT_TRUE(again);
  const auto [ids, chain_ok] = ReadBack(*again);
  EXPECT_TRUE(chain_ok);
  ASSERT_EQ(ids.size(), 80u) << "a record of a failed group is in the log, or one is missing";
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(ids[static_cast<std::size_t>(i)], "before_" + std::to_string(i));
    EXPECT_EQ(ids[static_cast<std::size_t>(40 + i)], "during_" + std::to_string(i));
  }
}

// The checkpointer looks at the WAL every 500 ms; while nothing is written it has nothing to copy
// and must not flush the disk (it did, twice a second, for as long as the server was idle: on a
// cloud disk every flush is an I/O operation, and it queues in front of other flushes).
TEST_F(AuditDiskFailureTest, AnIdleStoreDoesNotFlushTheDisk) {
  auto s = Open("full");
  ASSERT_TRUE(s);
  for (const AppendResult& r : AppendMany(*s, "idle_", 5)) ASSERT_EQ(r.status, AppendResult::Status::kOk);
  // The records' own flushes, then a checkpointer pass that copies them and flushes the database.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int before = g_store_syncs.load();
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    const int now = g_store_syncs.load();
    if (now == before) break;  // a quiet stretch of two passes: copied and flushed
    before = now;
  }
  const int idle_from = g_store_syncs.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));  // three more passes
  EXPECT_EQ(g_store_syncs.load(), idle_from) << "flushes while nothing was written";
  // And a record after the quiet stretch is flushed as before.
  for (const AppendResult& r : AppendMany(*s, "after_idle_", 1)) ASSERT_EQ(r.status, AppendResult::Status::kOk);
  EXPECT_GT(g_store_syncs.load(), idle_from);
}

}  // namespace
}  // namespace vigil
