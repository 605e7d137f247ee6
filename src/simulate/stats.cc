#include "simulate/stats.h"

#include <algorithm>
#include <cmath>

namespace vigil::sim {
namespace {
constexpr double kMinMs = 0.01;
const double kLogStep = std::log(1.02);
}  // namespace

void LatencyHistogram::Add(double ms) {
  int i = ms <= kMinMs ? 0 : static_cast<int>(std::log(ms / kMinMs) / kLogStep);
  buckets_[static_cast<std::size_t>(std::clamp(i, 0, kBuckets - 1))]++;
  ++count_;
  sum_ += ms;
}

void LatencyHistogram::Merge(const LatencyHistogram& o) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  sum_ += o.sum_;
}

double LatencyHistogram::Quantile(double q) const {
  if (count_ == 0) return 0.0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return kMinMs * std::exp((i + 0.5) * kLogStep);
  }
  return kMinMs * std::exp(kBuckets * kLogStep);
}

double Snapshot::Rate(const std::string& outcome, bool liveness) const {
  const std::uint64_t total = liveness ? liveness_decisions : transaction_decisions;
  const auto& m = liveness ? liveness_outcomes : transaction_outcomes;
  auto it = m.find(outcome);
  return total == 0 || it == m.end() ? 0.0 : static_cast<double>(it->second) / static_cast<double>(total);
}

std::uint64_t Snapshot::Errors() const {
  std::uint64_t n = 0;
  for (const auto& [k, v] : http_errors) n += v;
  return n;
}

void RunStats::Event(std::int64_t sim_time_ms) {
  std::lock_guard lock(mu_);
  s_.events++;
  s_.sim_time_ms = std::max(s_.sim_time_ms, sim_time_ms);
}

void RunStats::Decision(bool liveness, const std::string& outcome, double latency_ms, const std::string& platform) {
  std::lock_guard lock(mu_);
  s_.decisions++;
  (liveness ? s_.liveness_decisions : s_.transaction_decisions)++;
  s_.outcomes[outcome]++;
  (liveness ? s_.liveness_outcomes : s_.transaction_outcomes)[outcome]++;
  if (liveness && !platform.empty()) {
    auto& m = s_.liveness_by_platform[platform];
    m[outcome]++;
    m[""]++;  // the platform's total
  }
  s_.latency.Add(latency_ms);
}

void RunStats::Error(const std::string& what) {
  std::lock_guard lock(mu_);
  s_.http_errors[what]++;
}

void RunStats::Session() {
  std::lock_guard lock(mu_);
  s_.sessions++;
}

void RunStats::Journey(const std::string& label, const std::string& final_outcome) {
  std::lock_guard lock(mu_);
  if (label == "genuine") {
    s_.genuine++;
    s_.genuine_passed += final_outcome == "pass";
  } else if (label == "attack") {
    s_.attacks++;
    s_.attacks_passed += final_outcome == "pass";
  } else if (label == "legitimate") {
    s_.legitimate++;
    s_.legitimate_denied += final_outcome == "deny";
    s_.legitimate_challenged += final_outcome == "challenge";
  } else if (label == "fraud") {
    s_.fraud++;
    s_.fraud_allowed += final_outcome == "allow";
  }
}

void RunStats::Label(bool accepted) {
  std::lock_guard lock(mu_);
  (accepted ? s_.labels_posted : s_.labels_rejected)++;
}

void RunStats::SetLabelsPending(std::uint64_t n) {
  std::lock_guard lock(mu_);
  s_.labels_pending = n;
}

Snapshot RunStats::Take(double elapsed_s) const {
  std::lock_guard lock(mu_);
  Snapshot s = s_;
  s.elapsed_s = elapsed_s;
  return s;
}

}  // namespace vigil::sim
