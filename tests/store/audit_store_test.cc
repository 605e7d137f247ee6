// The SQLite audit store and the chain verifier: appends, group commit, duplicates, and each kind
// of tampering (a changed byte, a deleted record, two records swapped, a truncated tail, a
// rewritten tail), found and named.
#include "store/sqlite_audit_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <thread>
#include <filesystem>
#include <mutex>
#include <future>
#include <random>
#include <vector>

#include "support/audit_db.h"
#include "test_util.h"

namespace vigil {
namespace {

class AuditStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() / ("vigil-store-" + std::to_string(rd()))).string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AuditStore> Open(const std::string& sync = "full", std::size_t parallel_syncs = 3) {
    SqliteAuditOptions opt;
    opt.synchronous = sync;
    opt.parallel_syncs = parallel_syncs;
    opt.head_secret = "0123456789abcdef0123456789abcdef";
    auto s = OpenSqliteAuditStore(dir_, opt);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  AppendResult AppendSync(AuditStore& s, const std::string& id, const std::string& payload) {
    std::promise<AppendResult> p;
    AppendRequest r;
    r.request_id = id;
    r.time_ms = 1;
    r.payload = payload;
    r.response = "{\"evidence_id\":\"" + std::string(64, '0') + "\"}";
    r.evidence_offset = 16;
    s.Append(std::move(r), [&](AppendResult res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  }

  void Fill(int n) {
    auto s = Open();
    for (int i = 1; i <= n; ++i) {
      auto r = AppendSync(*s, "req_" + std::to_string(i), "{\"n\":" + std::to_string(i) + ",\"x\":\"abc\"}");
      ASSERT_EQ(r.status, AppendResult::Status::kOk);
      ASSERT_EQ(r.seq, i);
    }
  }

  // 16 clients keep one record each in flight, as keep-alive HTTP clients do, until 800 are in;
  // returns the store's figures after a Flush (the chain verified after closing it).
  AuditStoreStats AppendFromClients(std::unique_ptr<AuditStore> s) {
    constexpr int kClients = 16, kTotal = 800;
    std::atomic<int> next{0}, ok{0};
    std::mutex mu;
    std::condition_variable cv;
    int finished = 0;
    std::function<void()> send = [&] {
      const int n = next.fetch_add(1);
      if (n >= kTotal) return;
      AppendRequest r;
      r.request_id = "g" + std::to_string(n);
      r.payload = "{\"n\":" + std::to_string(n) + "}";
      s->Append(std::move(r), [&](AppendResult res) {
        if (res.status == AppendResult::Status::kOk) ++ok;
        {
          std::lock_guard lk(mu);
          ++finished;
        }
        cv.notify_one();
        send();
      });
    };
    for (int i = 0; i < kClients; ++i) send();
    {
      std::unique_lock lk(mu);
      EXPECT_TRUE(cv.wait_for(lk, std::chrono::seconds(60), [&] { return finished == kTotal; }));
    }
    s->Flush();
    EXPECT_EQ(ok.load(), kTotal);
    const AuditStoreStats st = s->stats();
    EXPECT_EQ(st.records, static_cast<std::uint64_t>(kTotal));
    s.reset();
    EXPECT_TRUE(Verify().ok);
    return st;
  }

  // A store whose WAL restarts every 8 MB (overdue past 32 MB) holding one record, and in
  // `reader` another connection with a read transaction open on it: its snapshot pins the WAL
  // until the caller commits and closes it.
  std::unique_ptr<AuditStore> OpenPinned(std::size_t pinned_max_bytes, sqlite3** reader) {
    SqliteAuditOptions opt;
    opt.synchronous = "normal";
    opt.head_secret = "0123456789abcdef0123456789abcdef";
    opt.wal_restart_bytes = 8u << 20;
    opt.wal_pinned_max_bytes = pinned_max_bytes;
    auto opened = OpenSqliteAuditStore(dir_, opt);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.error().ToString();
      return nullptr;
    }
    EXPECT_EQ(AppendSync(**opened, "first", "{}").status, AppendResult::Status::kOk);
    sqlite3* db = nullptr;
    if (sqlite3_open_v2((dir_ + "/audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN; SELECT count(*) FROM audit;", nullptr, nullptr, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open a reader";
      sqlite3_close(db);
      db = nullptr;
    }
    *reader = db;
    return std::move(*opened);
  }

  VerifyReport Verify() {
    auto s = Open("normal");  // reading only; do not refuse a truncated log
    ChainVerifier v(s->SignedHead());
    EXPECT_TRUE(s->ForEach(1, [&](const AuditRecord& r) { return v.Add(r); }).ok());
    return v.Finish();
  }

  std::string dir_;
};

TEST_F(AuditStoreTest, ChainsRecordsAndFillsTheEvidenceId) {
  auto s = Open();
  auto a = AppendSync(*s, "a", "{\"v\":1}");
  auto b = AppendSync(*s, "b", "{\"v\":2}");
  ASSERT_EQ(a.status, AppendResult::Status::kOk);
  EXPECT_EQ(a.evidence_id, ChainHash(kGenesisHash, 1, "{\"v\":1}"));
  EXPECT_EQ(b.evidence_id, ChainHash(a.evidence_id, 2, "{\"v\":2}"));
  EXPECT_EQ(b.response, "{\"evidence_id\":\"" + b.evidence_id + "\"}");
  auto found = s->FindByRequestId("b");
  ASSERT_TRUE(found.ok() && *found);
  EXPECT_EQ((*found)->prev, a.evidence_id);
  EXPECT_EQ((*found)->response, b.response);
  auto head = s->SignedHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, 2);
  EXPECT_EQ(head->hash, b.evidence_id);
}

TEST_F(AuditStoreTest, DuplicateRequestIdIsRefusedAndTheChainSkipsIt) {
  auto s = Open();
  ASSERT_EQ(AppendSync(*s, "dup", "{\"v\":1}").status, AppendResult::Status::kOk);
  EXPECT_EQ(AppendSync(*s, "dup", "{\"v\":2}").status, AppendResult::Status::kDuplicate);
  auto c = AppendSync(*s, "next", "{\"v\":3}");
  ASSERT_EQ(c.status, AppendResult::Status::kOk);
  EXPECT_EQ(c.seq, 2);
  s.reset();
  EXPECT_TRUE(Verify().ok);
}

// Duplicates are found by the in-memory request id index (there is no UNIQUE index on disk):
// in a burst of appends (one or a few group commits), and after the store is opened again.
TEST_F(AuditStoreTest, DuplicatesAreRefusedInOneGroupAndAfterReopening) {
  {
    auto s = Open();
    std::vector<std::promise<AppendResult>> ps(6);
    const char* ids[] = {"x", "y", "x", "z", "y", "x"};
    for (int i = 0; i < 6; ++i) {
      AppendRequest r;
      r.request_id = ids[i];
      r.time_ms = 1;
      r.payload = "{\"i\":" + std::to_string(i) + "}";
      s->Append(std::move(r), [&ps, i](AppendResult res) { ps[static_cast<std::size_t>(i)].set_value(std::move(res)); });
    }
    std::vector<AppendResult::Status> got;
    for (auto& p : ps) got.push_back(p.get_future().get().status);
    using St = AppendResult::Status;
    EXPECT_EQ(got, (std::vector<St>{St::kOk, St::kOk, St::kDuplicate, St::kOk, St::kDuplicate, St::kDuplicate}));
    auto x = s->FindByRequestId("x");
    ASSERT_TRUE(x.ok() && *x);
    EXPECT_EQ((*x)->payload, "{\"i\":0}");
    EXPECT_EQ((*x)->seq, 1);
  }
  auto s = Open();
  EXPECT_EQ(AppendSync(*s, "z", "{\"v\":9}").status, AppendResult::Status::kDuplicate);
  auto y = s->FindByRequestId("y");
  ASSERT_TRUE(y.ok() && *y);
  EXPECT_EQ((*y)->seq, 2);
  EXPECT_EQ((*y)->payload, "{\"i\":1}");
  auto none = s->FindByRequestId("w");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto w = AppendSync(*s, "w", "{\"v\":10}");
  ASSERT_EQ(w.status, AppendResult::Status::kOk);
  EXPECT_EQ(w.seq, 4);
  s.reset();
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AuditStoreTest, GroupCommitUnderConcurrentAppends) {
  auto s = Open();
  constexpr int kThreads = 8, kEach = 200;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        AppendRequest r;
        r.request_id = "c" + std::to_string(t) + "_" + std::to_string(i);
        r.payload = "{\"t\":" + std::to_string(t) + "}";
        s->Append(std::move(r), [&](AppendResult res) {
          if (res.status == AppendResult::Status::kOk) ++ok;
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  s->Flush();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  s.reset();
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.records, kThreads * kEach);
}

// With synchronous: full and one fsync at a time, a committed group waits for its fsync, and
// records arriving meanwhile are gathered into the next group: each group gets exactly one fsync
// of its own (before, the writer committed whenever it was free, 3-4 groups per fsync).
TEST_F(AuditStoreTest, FullSyncCommitsOneGroupPerFsync) {
  const AuditStoreStats st = AppendFromClients(Open("full", 1));
  EXPECT_EQ(st.syncs, st.groups) << "groups " << st.groups << ", fsyncs " << st.syncs;
  EXPECT_LT(st.groups, 800u) << "no group held more than one record";
  EXPECT_EQ(st.syncs_peak, 1u);
}

// With parallel fsyncs (the default, 3), a group's fsync starts as soon as it is committed while
// the one before is still in progress, never more than three at once, and never more fsyncs than
// groups (jobs that queue while every syncer is busy share one). Every record is still answered
// and the chain verifies; CrashDurability checks that acknowledged records survive kill -9.
TEST_F(AuditStoreTest, FullSyncOverlapsFsyncsUpToTheLimit) {
  const AuditStoreStats st = AppendFromClients(Open("full", 3));
  EXPECT_LE(st.syncs, st.groups);
  EXPECT_GE(st.syncs_peak, 2u) << "fsyncs never overlapped (" << st.groups << " groups, " << st.syncs << " fsyncs)";
  EXPECT_LE(st.syncs_peak, 3u);
}

// Under light load the checkpointer (every 500 ms) copies the whole WAL between two records, and
// SQLite starts the WAL again by itself at the next commit, without the writer's help. Those
// restarts count too: vigil_audit_wal_restarts_total said 0 for a server that restarted its WAL
// twice a second. The WAL's bytes stay those of the last record or two.
TEST_F(AuditStoreTest, WalRestartsThatSqliteMakesByItselfAreCounted) {
  auto s = Open();
  ASSERT_TRUE(s);
  ASSERT_EQ(AppendSync(*s, "light_0", "{\"n\":0}").status, AppendResult::Status::kOk);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int n = 1;
  while (s->stats().wal_restarts < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // past one checkpointer pass
    ASSERT_EQ(AppendSync(*s, "light_" + std::to_string(n), "{\"n\":" + std::to_string(n) + "}").status, AppendResult::Status::kOk);
    ++n;
  }
  EXPECT_GE(s->stats().wal_restarts, 2u) << "after " << n << " records";
  EXPECT_LT(std::filesystem::file_size(dir_ + "/audit.db-wal"), 64u << 10);
  s.reset();
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.records, n);
}

// Under continuous appends a background checkpoint never finds the WAL fully copied, so SQLite
// alone would never restart it and the file would grow with every record. The store finishes the
// checkpoint itself once the WAL is long (here 8 MB): 16,000 records of 3 KB (about 64 MB of WAL
// frames) leave a WAL file of at most four times the threshold and a few groups (it grows while the
// checkpointer catches up; at four times the writer waits for it), and the chain and the signed
// head are intact.
TEST_F(AuditStoreTest, WalIsRestartedUnderContinuousAppends) {
  SqliteAuditOptions opt;
  opt.head_secret = "0123456789abcdef0123456789abcdef";
  opt.wal_restart_bytes = 8u << 20;
  auto opened = OpenSqliteAuditStore(dir_, opt);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  auto s = std::move(*opened);
  constexpr int kRecords = 16000;
  const std::string filler(3000, 'x');
  std::atomic<int> ok{0};
  for (int i = 0; i < kRecords; ++i) {
    AppendRequest r;
    r.request_id = "w" + std::to_string(i);
    r.payload = "{\"i\":" + std::to_string(i) + ",\"f\":\"" + filler + "\"}";
    s->Append(std::move(r), [&](AppendResult res) {
      if (res.status == AppendResult::Status::kOk) ++ok;
    });
    if (i % 500 == 499) s->Flush();  // arrivals in waves, as from clients waiting for answers
  }
  s->Flush();
  EXPECT_EQ(ok.load(), kRecords);
  auto head = s->SignedHead();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->seq, kRecords);
  const AuditStoreStats st = s->stats();
  EXPECT_EQ(st.records, static_cast<std::uint64_t>(kRecords));
  EXPECT_GE(st.wal_restarts, 1u);
  EXPECT_GE(st.syncs, 1u);  // synchronous: full
  EXPECT_LE(st.syncs, st.groups);
  // Each 3 KB record fills most of one 4 KB page (two do not fit in one); the B-tree's interior
  // pages and partly filled right edge add a little per group, and there is no index on disk.
  EXPECT_GE(st.wal_bytes, kRecords * 4120ull);
  EXPECT_LE(st.wal_bytes, kRecords * 4120ull * 2);
  const auto wal_bytes = std::filesystem::file_size(dir_ + "/audit.db-wal");
  EXPECT_LT(wal_bytes, 44u << 20) << "the WAL was not restarted: " << wal_bytes << " bytes";
  s.reset();
  VerifyReport rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(rep.records, kRecords);
}

// A reader that holds an old snapshot (another process's long query or backup) pins the WAL:
// it cannot be restarted past that snapshot. Once the WAL is overdue (4x its restart size) the
// writer used to wait the whole busy timeout (5 s) on that reader after every group; now it waits
// 100 ms and backs off, and the WAL is restarted once the reader is gone.
TEST_F(AuditStoreTest, AReaderPinningTheWalDoesNotStallTheWriter) {
  sqlite3* reader = nullptr;
  auto s = OpenPinned(std::size_t{1} << 30, &reader);
  ASSERT_TRUE(s && reader);

  const std::string filler(3500, 'x');
  std::atomic<long long> slowest_ms{0};
  std::atomic<int> ok{0};
  auto append = [&](int client, int count) {
    for (int i = 0; i < count; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = AppendSync(*s, "p" + std::to_string(client) + "_" + std::to_string(i) + "_" + std::to_string(count),
                          "{\"f\":\"" + filler + "\"}");
      const long long ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (ms > slowest_ms.load()) slowest_ms = ms;
      if (r.status != AppendResult::Status::kOk || ms > 2000) return;  // stalled: stop here
      ++ok;
    }
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) clients.emplace_back(append, c, 1250);
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 10000);
  EXPECT_LT(slowest_ms.load(), 2000) << "an append waited on the reader";
  EXPECT_GT(std::filesystem::file_size(dir_ + "/audit.db-wal"), 32u << 20) << "the WAL was overdue while pinned";
  const std::uint64_t restarts_pinned = s->stats().wal_restarts;

  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  // The next try comes after the back-off (at most 8 s): append until then.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int round = 0; s->stats().wal_restarts == restarts_pinned && std::chrono::steady_clock::now() < deadline; ++round) {
    clients.clear();
    for (int c = 0; c < 8; ++c) clients.emplace_back(append, 100 + round * 8 + c, 100);
    for (auto& t : clients) t.join();
  }
  EXPECT_GT(s->stats().wal_restarts, restarts_pinned) << "the WAL is restarted once the reader is gone";
  EXPECT_LE(std::filesystem::file_size(dir_ + "/audit.db-wal"), 24u << 20)
      << "and cut back towards twice its restart size (journal_size_limit), giving the space back";
  s.reset();
  EXPECT_TRUE(Verify().ok);
}

// ... but not without bound: once a pinned WAL reaches wal_pinned_max_bytes the writer waits for
// the reader (so that the disk does not fill), and goes on once the reader is gone.
TEST_F(AuditStoreTest, APinnedWalPastItsBoundHoldsTheWriterUntilTheReaderEnds) {
  sqlite3* reader = nullptr;
  auto s = OpenPinned(40u << 20, &reader);
  ASSERT_TRUE(s && reader);
  const std::string filler(3500, 'x');
  std::atomic<int> appended{0};
  std::atomic<bool> stop{false};
  std::thread client([&] {
    for (int i = 0; !stop.load(); ++i) {
      if (AppendSync(*s, "b" + std::to_string(i), "{\"f\":\"" + filler + "\"}").status != AppendResult::Status::kOk) return;
      ++appended;
    }
  });
  const std::string wal = dir_ + "/audit.db-wal";
  for (int i = 0; i < 600 && std::filesystem::file_size(wal) < (40u << 20); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const int at_bound = appended.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(appended.load(), at_bound) << "past the bound the writer waits for the reader";
  EXPECT_GE(std::filesystem::file_size(wal), 40u << 20);
  EXPECT_LT(std::filesystem::file_size(wal), 48u << 20) << "the WAL stopped near its bound";
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  for (int i = 0; i < 600 && appended.load() < at_bound + 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_GE(appended.load(), at_bound + 100) << "the writer goes on once the reader is gone";
  stop = true;
  client.join();
  s.reset();
  EXPECT_TRUE(Verify().ok);
}

// `then` runs once per record, after its own `done` and after the `done` of every record
// committed before it, in commit order, on the completion thread.
TEST_F(AuditStoreTest, ThenRunsAfterTheAnswersInCommitOrder) {
  auto s = Open();
  constexpr int kRecords = 400;
  std::mutex mu;
  std::vector<std::int64_t> answered, observed;  // seq, in the order the callbacks ran
  bool answer_after_then = false;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRecords / 4; ++i) {
        auto seq = std::make_shared<std::int64_t>(0);
        AppendRequest r;
        r.request_id = "t" + std::to_string(t) + "_" + std::to_string(i);
        r.payload = "{}";
        r.then = [&, seq] {
          std::lock_guard lk(mu);
          observed.push_back(*seq);
        };
        s->Append(std::move(r), [&, seq](AppendResult res) {
          std::lock_guard lk(mu);
          *seq = res.seq;
          if (std::find(observed.begin(), observed.end(), res.seq) != observed.end()) answer_after_then = true;
          answered.push_back(res.seq);
        });
      }
    });
  }
  for (auto& t : threads) t.join();
  s->Flush();
  std::lock_guard lk(mu);
  ASSERT_EQ(answered.size(), static_cast<std::size_t>(kRecords));
  ASSERT_EQ(observed.size(), static_cast<std::size_t>(kRecords));
  EXPECT_FALSE(answer_after_then);
  EXPECT_TRUE(std::is_sorted(observed.begin(), observed.end()));
  EXPECT_TRUE(std::is_sorted(answered.begin(), answered.end()));
  EXPECT_EQ(observed.front(), 1);
  EXPECT_EQ(observed.back(), kRecords);
}

TEST_F(AuditStoreTest, ReopenContinuesTheChain) {
  Fill(5);
  {
    auto s = Open();
    auto r = AppendSync(*s, "after", "{}");
    EXPECT_EQ(r.seq, 6);
  }
  EXPECT_TRUE(Verify().ok);
}

TEST_F(AuditStoreTest, FindsAChangedByte) {
  Fill(20);
  ASSERT_TRUE(testing::AuditExec(dir_, "UPDATE audit SET payload = replace(payload, 'abc', 'abd') WHERE seq = 7"));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 7);
  EXPECT_EQ(rep.bad_request_id, "req_7");
  EXPECT_NE(rep.problem.find("changed"), std::string::npos) << rep.problem;
  EXPECT_EQ(rep.records, 6);
}

TEST_F(AuditStoreTest, FindsADeletedRecord) {
  Fill(20);
  ASSERT_TRUE(testing::AuditExec(dir_, "DELETE FROM audit WHERE seq = 5"));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 6);
  EXPECT_NE(rep.problem.find("5 to 5 are missing"), std::string::npos) << rep.problem;
}

TEST_F(AuditStoreTest, FindsTwoSwappedRecords) {
  Fill(20);
  ASSERT_TRUE(testing::AuditExec(dir_,
      "UPDATE audit SET seq = -1 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = 4; "
      "UPDATE audit SET seq = 4 WHERE seq = -1;"));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 3);
  EXPECT_NE(rep.problem.find("reordered"), std::string::npos) << rep.problem;
}

TEST_F(AuditStoreTest, FindsATruncatedTail) {
  Fill(20);
  ASSERT_TRUE(testing::AuditExec(dir_, "DELETE FROM audit WHERE seq > 15"));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 16);
  EXPECT_NE(rep.problem.find("truncated"), std::string::npos) << rep.problem;
  // And the server refuses to write on top of it with synchronous=full.
  SqliteAuditOptions opt;
  opt.head_secret = "0123456789abcdef0123456789abcdef";
  auto refused = OpenSqliteAuditStore(dir_, opt);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("truncated"), std::string::npos);
}

TEST_F(AuditStoreTest, FindsARewrittenTailWithAConsistentChain) {
  Fill(10);
  // An attacker rewrites the last record and recomputes its hash, but cannot sign a new head.
  std::string prev;
  {
    auto s = Open("normal");
    auto r = s->FindByRequestId("req_10");
    prev = (*r)->prev;
  }
  std::string payload = "{\"n\":10,\"x\":\"forged\"}";
  ASSERT_TRUE(testing::AuditExec(dir_, "UPDATE audit SET payload = '" + payload + "', hash = '" +
                                           ChainHash(prev, 10, payload) + "' WHERE seq = 10"));
  VerifyReport rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.bad_seq, 10);
  EXPECT_NE(rep.problem.find("signed head"), std::string::npos) << rep.problem;
}

TEST_F(AuditStoreTest, VerifyCommandNamesTheBadRecord) {
  Fill(12);
  ASSERT_TRUE(testing::AuditExec(dir_, "UPDATE audit SET payload = replace(payload, 'abc', 'xyz') WHERE seq = 9"));
  // The CLI needs the same secret the store signed with.
  std::ofstream(dir_ + "/secret") << "0123456789abcdef0123456789abcdef\n";
  auto [code, out] = testing::Run(testing::VigilBinary() + " audit verify --data " + dir_);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("BROKEN at record 9 (request_id req_9)"), std::string::npos) << out;
}

// Pointed at a directory without a log (a wrong --data), the audit commands say so and create
// nothing: before, verify created an empty log and a secret there and reported "ok: 0 records".
TEST_F(AuditStoreTest, AuditCommandsOnADirectoryWithoutALogSaySoAndCreateNothing) {
  std::filesystem::create_directories(dir_);
  const std::vector<std::string> commands = {" audit verify --data ", " audit show some_id --data ",
                                             " audit archive --through 10 --out " + dir_ + "/a.jsonl --data "};
  for (const std::string& cmd : commands) {
    auto [code, out] = testing::Run(testing::VigilBinary() + cmd + dir_ + " 2>&1");
    EXPECT_EQ(code, 2) << cmd << out;
    EXPECT_NE(out.find("no audit log here"), std::string::npos) << cmd << out;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

}  // namespace
}  // namespace vigil
