// RunStats: what a simulator run saw, for the live summary and the final report: decisions by
// outcome, client-side latency percentiles, HTTP errors, sessions, labels, and the ground truth
// against the final outcome of each journey (spoof acceptance, good customers blocked).
// Thread-safe: workers record concurrently; Snapshot() copies under the lock.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace vigil::sim {

// Latency histogram with 2% wide logarithmic buckets from 10 us to about 60 s.
class LatencyHistogram {
 public:
  void Add(double ms);
  void Merge(const LatencyHistogram& o);
  // The q-quantile (0..1) in milliseconds, 0 when empty; within the 2% bucket width.
  double Quantile(double q) const;
  std::uint64_t count() const { return count_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }

 private:
  static constexpr int kBuckets = 800;
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

struct Snapshot {
  double elapsed_s = 0;
  std::uint64_t events = 0;           // first attempts and transactions sent
  std::uint64_t decisions = 0;        // answered 200 with a decision (retries included)
  std::map<std::string, std::uint64_t> outcomes;      // pass, retry, ... allow, deny (both kinds)
  std::map<std::string, std::uint64_t> liveness_outcomes, transaction_outcomes;
  // Liveness outcomes per platform (the slice seed 000 says hides regressions in averages).
  std::map<std::string, std::map<std::string, std::uint64_t>> liveness_by_platform;
  std::map<std::string, std::uint64_t> http_errors;   // "429", "422 session", "transport", ...
  std::uint64_t liveness_decisions = 0, transaction_decisions = 0;
  std::uint64_t sessions = 0;
  std::uint64_t labels_posted = 0, labels_rejected = 0, labels_pending = 0;
  // Ground truth against the journey's final outcome.
  std::uint64_t genuine = 0, genuine_passed = 0, attacks = 0, attacks_passed = 0;
  std::uint64_t legitimate = 0, legitimate_denied = 0, legitimate_challenged = 0, fraud = 0, fraud_allowed = 0;
  std::int64_t sim_time_ms = 0;       // latest simulated event time sent
  LatencyHistogram latency;

  // The share of liveness (or transaction) decisions with this outcome.
  double Rate(const std::string& outcome, bool liveness) const;
  double Throughput() const { return elapsed_s > 0 ? static_cast<double>(decisions) / elapsed_s : 0.0; }
  std::uint64_t Errors() const;
};

class RunStats {
 public:
  void Event(std::int64_t sim_time_ms);
  void Decision(bool liveness, const std::string& outcome, double latency_ms, const std::string& platform = {});
  void Error(const std::string& what);
  void Session();
  void Journey(const std::string& label, const std::string& final_outcome);
  void Label(bool accepted);
  void SetLabelsPending(std::uint64_t n);
  Snapshot Take(double elapsed_s) const;

 private:
  mutable std::mutex mu_;
  Snapshot s_;
};

}  // namespace vigil::sim
