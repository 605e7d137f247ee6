// What the audit store does when an fsync of its WAL fails (synchronous: full): no record that the
// failed fsync was to make durable is acknowledged, nor any after it (after a failed fsync the
// kernel may have dropped the dirty pages, so a later fsync that succeeds vouches for nothing), the
// store reports not ready, and what was acknowledged before is in the log with an intact chain.
//
// The failure is real at the system-call boundary: this binary defines fdatasync(), which the
// store's calls resolve to, and fails it with EIO on the store's sync threads while `g_fail` is
// set; every other call goes to the kernel.
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "store/sqlite_audit_store.h"

namespace {
std::atomic<bool> g_fail{false};
std::atomic<int> g_failed_calls{0};
}  // namespace

extern "C" int fdatasync(int fd) {
  char name[16] = {};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  if (g_fail.load() && std::strcmp(name, "audit-sync") == 0) {
    g_failed_calls.fetch_add(1);
    errno = EIO;
    return -1;
  }
  return static_cast<int>(syscall(SYS_fdatasync, fd));
}

namespace vigil {
namespace {

class AuditSyncFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() / ("vigil-syncfail-" + std::to_string(rd()))).string();
    g_fail = false;
    g_failed_calls = 0;
  }
  void TearDown() override {
    g_fail = false;
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<AuditStore> Open(const std::string& sync) {
    SqliteAuditOptions opt;
    opt.synchronous = sync;
    opt.parallel_syncs = 3;
    opt.head_secret = "0123456789abcdef0123456789abcdef";
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

  std::string dir_;
};

TEST_F(AuditSyncFailureTest, NothingPastAFailedFsyncIsAcknowledged) {
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
  ChainVerifier v(again->SignedHead());
  std::int64_t seen = 0, before = 0;
  ASSERT_TRUE(again->ForEach(1, [&](const AuditRecord& r) {
                     ++seen;
                     if (r.request_id.rfind("before_", 0) == 0) ++before;
                     return v.Add(r);
                   }).ok());
  EXPECT_TRUE(v.Finish().ok);
  EXPECT_EQ(before, acknowledged);
  EXPECT_GE(seen, acknowledged);
  for (const AppendResult& r : AppendMany(*again, "restarted_", 10)) EXPECT_EQ(r.status, AppendResult::Status::kOk);
}

}  // namespace
}  // namespace vigil
