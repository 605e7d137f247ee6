// Crash durability and graceful shutdown against the real binary.
//   Crash: under concurrent load, kill -9 at a random moment, then check that every decision
//   acknowledged to a client is in the log with the evidence id it was given, and that the chain
//   verifies; restart on the same data and repeat. VIGIL_CRASH_TRIALS sets the number of trials
//   (20 by default; the soak label runs 200).
//   Shutdown: SIGTERM during load; every request the server took is answered, the process exits
//   0, and the log holds exactly the decisions that were answered.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/audit_db.h"
#include "support/server_harness.h"

namespace vigil {
namespace {

using testing::AuditCount;
using testing::ServerProcess;

std::string Body(const std::string& id, int i) {
  return R"({"request_id":")" + id + R"(","flow_type":"transaction_approval","context":{"platform":"ios","account_id":"a)" +
         std::to_string(i % 97) + R"(","amount":)" + std::to_string(10 + i % 500) +
         R"(,"account_age_days":400},"signals":{"fraud_model":0.)" + std::to_string(10 + i % 80) + R"(}})";
}

// Request id -> evidence id of every record in the log, in one scan (request ids are indexed
// in the server's memory, not on disk, so one query per id would scan the table each time).
std::map<std::string, std::string> StoredEvidence(const std::string& data_dir) {
  sqlite3* db = nullptr;
  std::map<std::string, std::string> out;
  if (sqlite3_open_v2((data_dir + "/audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT request_id, hash FROM audit", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

TEST(CrashDurability, AcknowledgedDecisionsSurviveKill9) {
  int trials = 20;  // CI; VIGIL_CRASH_TRIALS sets more (the soak-labelled run uses 200)
  if (const char* t = std::getenv("VIGIL_CRASH_TRIALS")) trials = std::atoi(t);
  std::mt19937 rng(12345);
  ServerProcess s;
  std::string data_dir;
  std::size_t total_acked = 0;
  for (int trial = 0; trial < trials; ++trial) {
    ASSERT_TRUE(s.Start({"log_level: warn\n", {}, data_dir})) << "trial " << trial << ": " << s.error();
    data_dir = s.data_dir();
    std::mutex mu;
    std::map<std::string, std::string> acked;  // request id -> evidence id
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        HttpClient c("127.0.0.1", s.port(), std::chrono::seconds(2));
        for (int i = 0; !stop.load(); ++i) {
          std::string id = "crash_" + std::to_string(trial) + "_" + std::to_string(t) + "_" + std::to_string(i);
          auto r = c.PostJson("/v1/decisions", Body(id, i), s.admin_key());
          if (!r.ok()) break;  // the server is gone
          if (r->status == 200) {
            std::lock_guard lk(mu);
            acked[id] = nlohmann::json::parse(r->body)["evidence_id"];
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(30, 250)(rng)));
    s.Kill();
    stop = true;
    for (auto& c : clients) c.join();
    const auto stored = StoredEvidence(data_dir);
    for (const auto& [id, evidence] : acked) {
      auto it = stored.find(id);
      ASSERT_EQ(it == stored.end() ? std::string() : it->second, evidence) << "trial " << trial << ": acknowledged " << id << " lost";
    }
    total_acked += acked.size();
    auto [code, out] = testing::Run(testing::VigilBinary() + " audit verify --data " + data_dir);
    ASSERT_EQ(code, 0) << "trial " << trial << ": " << out;
  }
  EXPECT_GT(total_acked, static_cast<std::size_t>(trials));  // the load really ran
  EXPECT_GE(AuditCount(data_dir), static_cast<std::int64_t>(total_acked));
}

TEST(GracefulShutdown, SigtermDuringLoadAnswersEveryAcceptedRequest) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: warn\nshutdown_deadline_ms: 10000\n", {}, ""})) << s.error();
  std::atomic<int> answered{0}, non_200{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 6; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        HttpClient c("127.0.0.1", s.port(), std::chrono::seconds(5));
        int failures = 0;
        for (int j = 0; j < 50 && !stop.load(); ++j) {
          std::string id = "term_" + std::to_string(t) + "_" + std::to_string(i) + "_" + std::to_string(j);
          auto r = c.PostJson("/v1/decisions", Body(id, j), s.admin_key());
          if (!r.ok()) {
            if (++failures > 3) break;
            continue;
          }
          if (r->status == 200) {
            ++answered;
          } else {
            ++non_200;
          }
        }
        if (failures > 3) break;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  s.Signal(SIGTERM);
  int code = s.Wait(std::chrono::seconds(15));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(code, 0) << s.stderr_text();
  EXPECT_GT(answered.load(), 0);
  EXPECT_EQ(non_200.load(), 0);
  EXPECT_EQ(AuditCount(s.data_dir()), answered.load())
      << "every decision the server made was answered, and only those are in the log";
  auto [vcode, vout] = testing::Run(testing::VigilBinary() + " audit verify --data " + s.data_dir());
  EXPECT_EQ(vcode, 0) << vout;
}

// `vigil audit archive` on a running server under load: the server keeps answering (every answer
// a 200: the archiver's short delete transactions never make a commit fail), every acknowledged
// decision is in the archive or the log with the evidence id it was given, and the archive plus
// the log verify as one chain, also after the server restarts and decides again.
TEST(AuditArchiveWhileServing, NothingIsLostAndTheWholeHistoryVerifies) {
  ServerProcess s;
  ASSERT_TRUE(s.Start({"log_level: warn\n", {}, ""})) << s.error();
  const std::string data = s.data_dir();
  std::mutex mu;
  std::map<std::string, std::string> acked;
  std::atomic<int> non_200{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      HttpClient c("127.0.0.1", s.port(), std::chrono::seconds(5));
      for (int i = 0; !stop.load(); ++i) {
        std::string id = "arch_" + std::to_string(t) + "_" + std::to_string(i);
        auto r = c.PostJson("/v1/decisions", Body(id, i), s.admin_key());
        if (!r.ok() || r->status != 200) {
          ++non_200;
          continue;
        }
        std::lock_guard lk(mu);
        acked[id] = nlohmann::json::parse(r->body)["evidence_id"];
      }
    });
  }
  for (int i = 0; i < 200 && AuditCount(data) < 400; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_GE(AuditCount(data), 400);
  const std::string file = data + "/archive-1.jsonl";
  auto [code, out] = testing::Run(testing::VigilBinary() + " audit archive --data " + data +
                                  " --through 300 --batch 50 --out " + file + " 2>&1");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // load goes on after the archive
  stop = true;
  for (auto& c : clients) c.join();
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("archived records 1 to 300 (300)"), std::string::npos) << out;
  EXPECT_NE(out.find("written 300 of 300 records to the archive"), std::string::npos) << out;
  EXPECT_NE(out.find("deleted 300 of 300 archived records from the log"), std::string::npos) << out;
  EXPECT_EQ(non_200.load(), 0);
  EXPECT_EQ(s.Terminate(), 0) << s.stderr_text();

  auto stored = StoredEvidence(data);
  EXPECT_EQ(stored.count("arch_0_0"), 0u) << "archived records left the log";
  {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("request_id")) stored[j["request_id"]] = j["hash"];
    }
  }
  ASSERT_GT(acked.size(), 400u);
  for (const auto& [id, evidence] : acked) {
    auto it = stored.find(id);
    ASSERT_EQ(it == stored.end() ? std::string() : it->second, evidence) << "acknowledged " << id << " lost";
  }
  auto [vcode, vout] = testing::Run(testing::VigilBinary() + " audit verify --data " + data + " --archive " + file);
  EXPECT_EQ(vcode, 0) << vout;
  EXPECT_NE(vout.find("(300 read from 1 archive file(s))"), std::string::npos) << vout;

  ASSERT_TRUE(s.Start({"log_level: warn\n", {}, data})) << s.error();
  auto r = HttpClient("127.0.0.1", s.port()).PostJson("/v1/decisions", Body("arch_after_restart", 1), s.admin_key());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(s.Terminate(), 0);
  auto [v2, o2] = testing::Run(testing::VigilBinary() + " audit verify --data " + data + " --archive " + file);
  EXPECT_EQ(v2, 0) << o2;
  EXPECT_NE(o2.find("ok: " + std::to_string(acked.size() + 1) + " records"), std::string::npos) << o2;
}

}  // namespace
}  // namespace vigil
