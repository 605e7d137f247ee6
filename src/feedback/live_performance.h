// Live error rates: an in-memory index of decisions (read incrementally from the audit store)
// joined by request id to the label in force for each, and the report served at
// GET /v1/monitor/performance. Windows are on decision time.
//
// Memory: one compact row per decision (about 150 bytes with its request id); slice values are
// interned. The index is rebuilt from the audit store at the first report after a start.
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "feedback/decision_facts.h"
#include "feedback/label.h"
#include "feedback/performance_json.h"
#include "store/audit_store.h"

namespace vigil {

struct PerformanceQuery {
  std::string window = "24h";   // as asked ("1h", "7d", "all")
  std::int64_t from_ms = 0;     // decision time, inclusive
  std::int64_t to_ms = 0;       // exclusive
  std::size_t max_slice_values = 20;  // per dimension, the values with the most decisions
};

// "30m", "1h", "24h", "7d", "all" (0). Returns false on anything else.
bool ParseWindow(std::string_view text, std::int64_t* ms);

// Labelled decisions of one group (a kind, or a kind within a slice value) in a window.
struct LiveGroup {
  std::int64_t decisions = 0;
  std::vector<LabelledCase> cases;  // the labelled ones
  OutcomeTable outcomes;
};

// The window's decisions and labels, grouped; figures are computed from the groups' cases.
struct LiveSnapshot {
  std::int64_t decisions = 0, labelled = 0;
  std::vector<double> delays_s;  // label delay of each labelled decision
  std::array<LiveGroup, 2> overall;  // by FlowKind (liveness, transaction)
  struct Slice {
    std::size_t dimension = 0;  // index into kSliceDimensions
    std::string value;
    int kind = 0;               // FlowKind
    LiveGroup group;
  };
  std::vector<Slice> slices;  // per dimension and kind, the values with the most decisions
  // numpy-style linear interpolation; NaN without labels.
  double DelayQuantile(double q) const;
};

class LivePerformance {
 public:
  explicit LivePerformance(AuditStore* store) : store_(store) {}

  // The label in force for its request id (replacing the previous one).
  void SetLabel(const Label& in_force);
  // Reads decision records appended since the last call.
  Status Refresh();
  // The window's figures (call Refresh first to include the newest decisions).
  LiveSnapshot Compute(const PerformanceQuery& q) const;
  // The report as JSON. `labels_total` and `conflicts` come from the label store.
  std::string Report(const PerformanceQuery& q, std::int64_t labels_total, std::int64_t conflicts);

  // The latest decision time indexed (0 when none): "now" for a server on a simulated clock.
  std::int64_t latest_decision_ms() const;

  struct Totals {
    std::int64_t decisions = 0, labelled = 0;
  };
  Totals totals() const;

 private:
  struct Row {
    std::int64_t time_ms = 0;
    double risk = 0.0;
    bool has_score = false;
    bool flagged = false;
    FlowKind kind = FlowKind::kLiveness;
    std::uint32_t outcome = 0;
    std::array<std::uint32_t, kSliceDimensions.size()> slices{};
  };
  struct LabelFacts {
    LabelClass label = LabelClass::kGenuine;
    std::string attack_type;
    std::int64_t labelled_at_ms = 0;
  };
  std::uint32_t Intern(const std::string& s);

  AuditStore* store_;
  std::mutex refresh_mu_;  // one refresh at a time
  mutable std::mutex mu_;  // the index and the labels
  std::int64_t last_seq_ = 0;
  std::int64_t latest_ms_ = 0;
  std::vector<Row> rows_;
  std::unordered_map<std::string, std::uint32_t> row_by_request_;
  std::unordered_map<std::string, LabelFacts> labels_;
  std::vector<std::string> strings_;
  std::unordered_map<std::string, std::uint32_t> string_ids_;
};

}  // namespace vigil
