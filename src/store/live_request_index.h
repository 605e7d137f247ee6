// The request-id index of the live audit log (store/request_id_index.h), as the SQLite store keeps
// it: built when the store opens, added to by the writer as records commit, read by any thread,
// and rebuilt without archived ids once `vigil audit archive` has moved a quarter of it out (the
// writer looks at the log's anchor every `check_interval`). The rebuild scans the live log on a
// thread of its own, in slices that never pin the WAL; ids the writer adds meanwhile are added to
// the fresh index before it is swapped in, so idempotency holds throughout.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/request_id_index.h"

namespace vigil {

class LiveRequestIndex {
 public:
  // `secret` checks the anchor's MAC; `busy_ms` is the scans' busy timeout.
  LiveRequestIndex(std::string db_path, std::string secret, std::chrono::milliseconds check_interval, int busy_ms);
  ~LiveRequestIndex();  // waits for a rebuild in progress
  LiveRequestIndex(const LiveRequestIndex&) = delete;
  LiveRequestIndex& operator=(const LiveRequestIndex&) = delete;

  // Opening, before the writer starts: every request id of records up to `last_seq`.
  bool Build(std::int64_t last_seq);

  // Any thread: the seqs that may hold `id` (see RequestIdIndex::Candidates).
  std::vector<std::int64_t> Candidates(std::string_view id) const { return ids_.load()->Candidates(id); }
  std::size_t bytes() const { return ids_.load()->bytes(); }
  std::size_t size() const { return ids_.load()->size(); }

  // Writer thread only.
  std::vector<std::int64_t> WriterCandidates(std::string_view id) const { return writer_->Candidates(id); }
  bool Add(std::string_view id, std::int64_t seq);
  // Between groups, on the writer's connection: looks at the anchor when due, starts a rebuild,
  // or swaps in a finished one.
  void MaybeCompact(sqlite3* writer_db, std::int64_t last_seq);

 private:
  // The ids of records from..upto into `into`; `first` gets the lowest seq seen.
  bool ScanIds(std::int64_t from, std::int64_t upto, RequestIdIndex& into, std::int64_t* first) const;
  void SwapInRebuilt();

  const std::string db_path_;
  const std::string secret_;
  const std::chrono::milliseconds check_interval_;
  const int busy_ms_;
  std::atomic<std::shared_ptr<RequestIdIndex>> ids_{std::make_shared<RequestIdIndex>()};
  RequestIdIndex* writer_ = nullptr;  // the writer's view of ids_ (it is the only one to replace it)
  std::int64_t first_seq_ = 1;        // the first seq the index was built from
  std::chrono::steady_clock::time_point next_check_{};
  // A rebuild in progress.
  std::thread rebuilder_;
  std::int64_t rebuild_from_ = 0;
  std::vector<std::pair<std::string, std::int64_t>> pending_;  // ids added while it runs
  std::mutex mu_;
  bool rebuilt_ = false;                    // under mu_
  std::shared_ptr<RequestIdIndex> fresh_;   // under mu_; null when the scan failed
};

}  // namespace vigil
