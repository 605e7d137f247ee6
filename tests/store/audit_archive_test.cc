// Archiving the oldest audit records (store/audit_archive.h, `vigil audit archive`): the live log
// plus its archives verify as one chain; a broken chain is not archived; a forged anchor, a
// changed or cut archive are found; an archiving run killed half way leaves a consistent log and
// can be run again.
#include "store/audit_archive.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <sstream>

#include "store/audit_readers.h"
#include "store/sqlite_audit_store.h"
#include "support/audit_db.h"
#include "test_util.h"

namespace vigil {
namespace {

constexpr const char* kSecret = "0123456789abcdef0123456789abcdef";

class AuditArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() / ("vigil-archive-" + std::to_string(rd()))).string();
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/secret") << kSecret << "\n";  // the CLI signs with the same secret
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<AuditStore> Open() {
    SqliteAuditOptions opt;
    opt.synchronous = "normal";
    opt.head_secret = kSecret;
    auto s = OpenSqliteAuditStore(dir_, opt);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static AppendResult Append(AuditStore& s, const std::string& id, std::int64_t time_ms) {
    std::promise<AppendResult> p;
    AppendRequest r;
    r.request_id = id;
    r.time_ms = time_ms;
    r.payload = "{\"id\":\"" + id + "\",\"x\":\"abc\"}";
    r.response = "{\"evidence_id\":\"" + std::string(64, '0') + "\",\"note\":\"line\\nbreak \\\"quoted\\\"\"}";
    r.evidence_offset = 16;
    s.Append(std::move(r), [&](AppendResult res) { p.set_value(std::move(res)); });
    return p.get_future().get();
  }

  // Records 1..n with request ids req_i, written at i seconds.
  void Fill(int n, int from = 1) {
    auto s = Open();
    for (int i = from; i < from + n; ++i) ASSERT_EQ(Append(*s, "req_" + std::to_string(i), 1000LL * i).seq, i);
  }

  ArchiveOptions Options(const std::string& file, std::int64_t through) {
    ArchiveOptions o;
    o.out_path = dir_ + "/" + file;
    o.through_seq = through;
    o.secret = kSecret;
    o.batch = 7;  // several transactions even in a small log
    return o;
  }

  std::pair<int, std::string> VerifyCli(const std::string& archives = "") {
    return testing::Run(testing::VigilBinary() + " audit verify --data " + dir_ + archives + " 2>&1");
  }

  std::string dir_;
};

TEST_F(AuditArchiveTest, ArchivesAPrefixAndTheWholeHistoryVerifies) {
  Fill(50);
  std::string hash30;
  {
    auto s = Open();
    hash30 = (*s->FindByRequestId("req_30"))->hash;
  }
  std::vector<std::int64_t> progress;
  ArchiveOptions o = Options("a1.jsonl", 30);
  std::vector<std::int64_t> written;
  o.progress = [&](std::string_view phase, std::int64_t done, std::int64_t total) {
    EXPECT_EQ(total, 30);
    (phase == "deleted" ? progress : written).push_back(done);
  };
  auto rep = ArchiveAuditLog(dir_, o);
  ASSERT_TRUE(rep.ok()) << rep.error().ToString();
  EXPECT_EQ(rep->first_seq, 1);
  EXPECT_EQ(rep->last_seq, 30);
  EXPECT_EQ(rep->records, 30);
  EXPECT_EQ(rep->last_hash, hash30);
  EXPECT_EQ(progress, (std::vector<std::int64_t>{7, 14, 21, 28, 30}));  // one per delete transaction
  EXPECT_EQ(written, (std::vector<std::int64_t>{30}));                   // one per slice read
  EXPECT_EQ(testing::AuditCount(dir_), 20);
  EXPECT_EQ(testing::AuditScalar(dir_, "SELECT min(seq) FROM audit"), 31);
  EXPECT_FALSE(std::filesystem::exists(o.out_path + ".tmp"));

  // The archive holds the records byte for byte.
  std::vector<AuditRecord> archived;
  ChainHead start;
  ASSERT_TRUE(ReadAuditArchive(o.out_path, [&](const ChainHead& h) { start = h; },
                               [&](const AuditRecord& r) {
                                 archived.push_back(r);
                                 return true;
                               }).ok());
  ASSERT_EQ(archived.size(), 30u);
  EXPECT_EQ(start.seq, 1);
  EXPECT_EQ(start.hash, std::string(kGenesisHash));
  EXPECT_EQ(archived[4].request_id, "req_5");
  EXPECT_EQ(archived[4].time_ms, 5000);
  EXPECT_EQ(archived[4].payload, "{\"id\":\"req_5\",\"x\":\"abc\"}");
  EXPECT_NE(archived[4].response.find("line\\nbreak \\\"quoted\\\""), std::string::npos) << archived[4].response;
  EXPECT_EQ(archived[29].hash, hash30);

  {
    auto s = Open();
    auto anchor = s->Anchor();
    ASSERT_TRUE(anchor.ok());
    ASSERT_TRUE(anchor->has_value());
    EXPECT_EQ((*anchor)->seq, 31);
    EXPECT_EQ((*anchor)->hash, hash30);
    // Archived ids are no longer in the log; the others are; the chain goes on.
    EXPECT_FALSE(s->FindByRequestId("req_5")->has_value());
    EXPECT_TRUE(s->FindByRequestId("req_40")->has_value());
    EXPECT_EQ(Append(*s, "req_51", 51000).seq, 51);
  }
  auto [code, out] = VerifyCli();
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok: 21 records, chain intact; records before 31 were archived"), std::string::npos) << out;
  auto [acode, aout] = VerifyCli(" --archive " + o.out_path);
  EXPECT_EQ(acode, 0) << aout;
  EXPECT_NE(aout.find("ok: 51 records, chain intact (30 read from 1 archive file(s))"), std::string::npos) << aout;

  // A second archive carries on from the first; both and the log verify as one chain.
  auto [c2, o2] = testing::Run(testing::VigilBinary() + " audit archive --data " + dir_ + " --through 45 --out " +
                               dir_ + "/a2.jsonl 2>&1");
  EXPECT_EQ(c2, 0) << o2;
  EXPECT_NE(o2.find("archived records 31 to 45 (15)"), std::string::npos) << o2;
  auto [c3, o3] = VerifyCli(" --archive " + o.out_path + " --archive " + dir_ + "/a2.jsonl");
  EXPECT_EQ(c3, 0) << o3;
  EXPECT_NE(o3.find("ok: 51 records"), std::string::npos) << o3;
  // The newer archive alone: the history from its start (31) on is whole.
  auto [c4, o4] = VerifyCli(" --archive " + dir_ + "/a2.jsonl");
  EXPECT_EQ(c4, 0) << o4;
  EXPECT_NE(o4.find("ok: 21 records"), std::string::npos) << o4;
  auto [c5, o5] = testing::Run(testing::VigilBinary() + " audit verify --data " + dir_ + " --archive " + dir_ +
                               "/a2.jsonl --archive " + o.out_path + " 2>&1");
  EXPECT_EQ(c5, 0) << o5;  // given after a2, a1's records come before where the chain is: skipped
}

TEST_F(AuditArchiveTest, SelectsByAgeAndAlwaysKeepsTheNewest) {
  Fill(20);
  ArchiveOptions o = Options("age.jsonl", 0);
  o.before_ms = 10500;  // records 1..10 are older
  auto rep = ArchiveAuditLog(dir_, o);
  ASSERT_TRUE(rep.ok()) << rep.error().ToString();
  EXPECT_EQ(rep->first_seq, 1);
  EXPECT_EQ(rep->last_seq, 10);
  // Everything asked for: all but the newest record go.
  ArchiveOptions all = Options("all.jsonl", 1000);
  rep = ArchiveAuditLog(dir_, all);
  ASSERT_TRUE(rep.ok()) << rep.error().ToString();
  EXPECT_EQ(rep->first_seq, 11);
  EXPECT_EQ(rep->last_seq, 19);
  EXPECT_EQ(testing::AuditCount(dir_), 1);
  // Nothing left to archive: no file written.
  ArchiveOptions none = Options("none.jsonl", 1000);
  rep = ArchiveAuditLog(dir_, none);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->records, 0);
  EXPECT_FALSE(std::filesystem::exists(none.out_path));
  // An existing file is never overwritten.
  rep = ArchiveAuditLog(dir_, Options("all.jsonl", 1000));
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("already exists"), std::string::npos);
  auto [code, out] = VerifyCli(" --archive " + o.out_path + " --archive " + all.out_path);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok: 20 records"), std::string::npos) << out;
}

// Scans read the log in slices of kScanSlice records, each its own read transaction; across the
// slices' edges nothing is skipped or read twice.
TEST_F(AuditArchiveTest, LongLogsAreReadAndArchivedInSlices) {
  const int n = static_cast<int>(2 * kScanSlice + 300);
  Fill(n);
  ArchiveOptions o = Options("long.jsonl", 2 * static_cast<std::int64_t>(kScanSlice) + 1);
  o.batch = 500;
  std::vector<std::int64_t> written;
  o.progress = [&](std::string_view phase, std::int64_t done, std::int64_t) {
    if (phase == "written") written.push_back(done);
  };
  auto rep = ArchiveAuditLog(dir_, o);
  ASSERT_TRUE(rep.ok()) << rep.error().ToString();
  EXPECT_EQ(rep->records, 2 * static_cast<std::int64_t>(kScanSlice) + 1);
  const auto slice = static_cast<std::int64_t>(kScanSlice);
  EXPECT_EQ(written, (std::vector<std::int64_t>{slice, 2 * slice, 2 * slice + 1}));  // a read transaction each
  std::int64_t expect = 1;
  ASSERT_TRUE(ReadAuditArchive(o.out_path, [](const ChainHead&) {}, [&](const AuditRecord& r) {
                return r.seq == expect++;
              }).ok());
  EXPECT_EQ(expect, rep->last_seq + 1);
  {
    auto s = Open();
    std::vector<std::int64_t> seen;
    ASSERT_TRUE(s->ForEach(1, [&](const AuditRecord& r) {
                   seen.push_back(r.seq);
                   return true;
                 }).ok());
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(n) - static_cast<std::size_t>(rep->records));
    for (std::size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], rep->last_seq + 1 + static_cast<std::int64_t>(i));
    // A visitor that stops ends the scan there.
    int visits = 0;
    ASSERT_TRUE(s->ForEach(1, [&](const AuditRecord&) { return ++visits < 3; }).ok());
    EXPECT_EQ(visits, 3);
  }
  auto [code, out] = VerifyCli(" --archive " + o.out_path);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok: " + std::to_string(n) + " records"), std::string::npos) << out;
}

// A running server's request-id index gives back the archived ids: once a quarter of it is
// archived, the writer rebuilds it from the live log on a thread of its own and swaps it in, with
// the ids appended meanwhile; idempotency holds for every live id throughout.
TEST_F(AuditArchiveTest, TheRunningStoresIndexLetsGoOfArchivedIds) {
  SqliteAuditOptions opt;
  opt.synchronous = "normal";
  opt.head_secret = kSecret;
  opt.index_compaction_interval = std::chrono::milliseconds(20);
  auto opened = OpenSqliteAuditStore(dir_, opt);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  auto s = std::move(*opened);
  for (int i = 1; i <= 400; ++i) ASSERT_EQ(Append(*s, "req_" + std::to_string(i), 1000LL * i).seq, i);
  EXPECT_EQ(s->stats().request_index_records, 400u);
  ASSERT_TRUE(ArchiveAuditLog(dir_, Options("a.jsonl", 300)).ok());
  int n = 400;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (s->stats().request_index_records >= 400 && std::chrono::steady_clock::now() < deadline) {
    ++n;
    ASSERT_EQ(Append(*s, "req_" + std::to_string(n), 1000LL * n).seq, n);
  }
  for (int i = 0; i < 20; ++i, ++n) ASSERT_EQ(Append(*s, "req_" + std::to_string(n + 1), 1000LL * (n + 1)).seq, n + 1);
  EXPECT_EQ(s->stats().request_index_records, static_cast<std::uint64_t>(n - 300)) << "exactly the live records";
  EXPECT_FALSE(s->FindByRequestId("req_10")->has_value());
  for (int i : {301, 350, 400, n - 25, n}) {
    auto found = s->FindByRequestId("req_" + std::to_string(i));
    ASSERT_TRUE(found.ok() && found->has_value()) << i;
    EXPECT_EQ((*found)->seq, i);
    EXPECT_EQ(Append(*s, "req_" + std::to_string(i), 1).status, AppendResult::Status::kDuplicate) << i;
  }
  s.reset();
  auto [code, out] = VerifyCli(" --archive " + dir_ + "/a.jsonl");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("ok: " + std::to_string(n) + " records"), std::string::npos) << out;
}

TEST_F(AuditArchiveTest, ABrokenChainIsNotArchivedAndNothingChanges) {
  Fill(20);
  ASSERT_TRUE(testing::AuditExec(dir_, "UPDATE audit SET payload = replace(payload, 'abc', 'abd') WHERE seq = 7"));
  auto rep = ArchiveAuditLog(dir_, Options("bad.jsonl", 15));
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("record 7 does not verify"), std::string::npos) << rep.error().message;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bad.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/bad.jsonl.tmp"));
  EXPECT_EQ(testing::AuditCount(dir_), 20);
  EXPECT_EQ(testing::AuditScalar(dir_, "SELECT count(*) FROM audit_anchor"), 0);
}

TEST_F(AuditArchiveTest, AForgedAnchorOrAMissingOneIsFound) {
  Fill(30);
  ASSERT_TRUE(ArchiveAuditLog(dir_, Options("a.jsonl", 10)).ok());
  {
    // Someone removes records 11..15 and moves the anchor past them; they cannot sign it.
    auto s = Open();
    const std::string h15 = ChainHash((*s->FindByRequestId("req_14"))->hash, 15, "{\"id\":\"req_15\",\"x\":\"abc\"}");
    s.reset();
    ASSERT_TRUE(testing::AuditExec(dir_, "DELETE FROM audit WHERE seq BETWEEN 11 AND 15; UPDATE audit_anchor SET "
                                         "first_seq = 16, prev = '" + h15 + "'"));
  }
  auto [code, out] = VerifyCli();
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("BROKEN at the log's start: the audit anchor"), std::string::npos) << out;
  EXPECT_NE(out.find("not signed"), std::string::npos) << out;
  // Archiving refuses to build on it.
  auto rep = ArchiveAuditLog(dir_, Options("b.jsonl", 20));
  ASSERT_FALSE(rep.ok());
  EXPECT_NE(rep.error().message.find("not signed"), std::string::npos);

  // Without the anchor row, the log starts at 16 with nothing to say why: records are missing.
  ASSERT_TRUE(testing::AuditExec(dir_, "DELETE FROM audit_anchor"));
  auto [code2, out2] = VerifyCli();
  EXPECT_EQ(code2, 1) << out2;
  EXPECT_NE(out2.find("BROKEN at record 16"), std::string::npos) << out2;
  EXPECT_NE(out2.find("records 1 to 15 are missing"), std::string::npos) << out2;
}

TEST_F(AuditArchiveTest, AChangedOrCutArchiveIsFound) {
  Fill(20);
  const std::string file = dir_ + "/a.jsonl";
  ASSERT_TRUE(ArchiveAuditLog(dir_, Options("a.jsonl", 12)).ok());
  std::vector<std::string> lines;
  {
    std::ifstream in(file);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), 14u);  // header, 12 records, end
  auto write = [&](const std::vector<std::string>& ls, const std::string& path) {
    std::ofstream out(path, std::ios::trunc);
    for (const auto& l : ls) out << l << "\n";
  };
  // A changed byte in record 5's payload.
  auto changed = lines;
  changed[5].replace(changed[5].find("abc"), 3, "abd");
  write(changed, dir_ + "/changed.jsonl");
  auto [code, out] = VerifyCli(" --archive " + dir_ + "/changed.jsonl");
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("BROKEN at record 5 (request_id req_5)"), std::string::npos) << out;
  // Cut short: the last records and the end line gone.
  std::vector<std::string> cut(lines.begin(), lines.begin() + 10);
  write(cut, dir_ + "/cut.jsonl");
  auto [code2, out2] = VerifyCli(" --archive " + dir_ + "/cut.jsonl");
  EXPECT_NE(code2, 0) << out2;
  EXPECT_NE(out2.find("cut short"), std::string::npos) << out2;
  // Not an archive at all.
  write({"{\"hello\":1}"}, dir_ + "/other.jsonl");
  auto [code3, out3] = VerifyCli(" --archive " + dir_ + "/other.jsonl");
  EXPECT_EQ(code3, 2) << out3;
  EXPECT_NE(out3.find("not a vigil audit archive"), std::string::npos) << out3;
}

TEST_F(AuditArchiveTest, AnArchivingRunKilledHalfWayLeavesAConsistentLogAndRunsAgain) {
  Fill(40);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ArchiveOptions o = Options("first.jsonl", 30);
    o.progress = [](std::string_view phase, std::int64_t done, std::int64_t) {
      if (phase == "deleted" && done >= 14) _exit(0);  // dies after two delete transactions
    };
    (void)ArchiveAuditLog(dir_, o);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(testing::AuditScalar(dir_, "SELECT min(seq) FROM audit"), 15);
  EXPECT_EQ(testing::AuditScalar(dir_, "SELECT first_seq FROM audit_anchor"), 15);
  auto [code, out] = VerifyCli();  // the log alone is consistent
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("records before 15 were archived"), std::string::npos) << out;
  // The first archive holds 1..30, of which 15..30 are still in the log: verified once.
  auto [code2, out2] = VerifyCli(" --archive " + dir_ + "/first.jsonl");
  EXPECT_EQ(code2, 0) << out2;
  EXPECT_NE(out2.find("ok: 40 records"), std::string::npos) << out2;
  // Run again: the rest goes to a second file; all three verify as one history.
  auto rep = ArchiveAuditLog(dir_, Options("second.jsonl", 30));
  ASSERT_TRUE(rep.ok()) << rep.error().ToString();
  EXPECT_EQ(rep->first_seq, 15);
  EXPECT_EQ(rep->last_seq, 30);
  auto [code3, out3] = VerifyCli(" --archive " + dir_ + "/first.jsonl --archive " + dir_ + "/second.jsonl");
  EXPECT_EQ(code3, 0) << out3;
  EXPECT_NE(out3.find("ok: 40 records"), std::string::npos) << out3;
}

}  // namespace
}  // namespace vigil
