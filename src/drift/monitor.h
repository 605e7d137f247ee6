// DriftMonitor: drift of scores, quality features and traffic mix on the decision path
// (SPEC.md 2.12). Each decision adds its calibrated signal scores, the fused score and the
// configured quality features into fixed-bin histograms, per slice ("all", "flow_type=<f>",
// "platform=<p>"), and its platform, device class and browser family into category counts per
// flow slice. Counts go into tumbling windows of event time (one minute by default, so simulated
// clocks work); each closed window is also added to an hourly ring of 7 days. The last closed
// window is compared with the reference: the trailing 7 days of complete hours before it, or a
// frozen reference (taken at a release or on request, stored in the data directory).
//
// Event time that goes backwards is counted in the open window. Cardinality is bounded: at most
// `max_features` numeric features, `max_slice_values` values per slice field and
// `max_categories` per mix field; the rest fold into "other".
//
// Thread-safety: all methods are safe to call concurrently. Add() takes one mutex that only
// Snapshot()/Freeze() also take (the decision path's observer runs one call at a time, so the
// lock is uncontended except while a report is being built); Add() allocates only when a new
// slice, feature or category first appears.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/decision.h"
#include "core/result.h"
#include "drift/compare.h"

namespace vigil::drift {

struct QualityFeature {
  std::string name;   // key in the request's quality block
  double lo = 0.0, hi = 1.0;
};

struct MonitorConfig {
  std::int64_t window_ms = 60000;
  int bins = 20;                       // equal-width bins for scores over [0, 1]
  int trailing_hours = 168;            // the trailing reference: 7 days
  enum class Reference : std::uint8_t { kAuto, kTrailing, kFrozen } reference = Reference::kAuto;
  std::vector<QualityFeature> quality = {{"blur_score", 0.0, 1.0}, {"brightness_score", 0.0, 1.0}};
  std::vector<std::string> mix_fields = {"platform", "device_class", "browser_family"};
  int max_features = 24;
  int max_slice_values = 32;
  int max_categories = 32;
  std::size_t min_samples = 30;        // below this in either side, measures are not reported
};

// Reads config/drift.yaml (every field optional); errors name file:line:col.
Result<MonitorConfig> LoadMonitorConfig(const std::string& path);

struct SeriesReport {
  std::string slice, feature;
  bool enough = false;  // both sides have min_samples
  NumericDrift drift;
};
struct MixReport {
  std::string slice, field;
  bool enough = false;
  MixDrift drift;
};
struct DriftReport {
  std::int64_t window_ms = 0;
  std::int64_t current_start_ms = -1;   // the compared (last closed) window; -1: none yet
  std::int64_t open_start_ms = -1;
  std::uint64_t open_count = 0;
  std::string reference_mode;           // "trailing_7d" or "frozen"
  std::string frozen_label;
  std::int64_t frozen_at_ms = 0;
  std::vector<SeriesReport> series;
  std::vector<MixReport> mix;
};

class DriftMonitor {
 public:
  explicit DriftMonitor(MonitorConfig cfg);
  ~DriftMonitor();

  // One durable decision at event time `time_ms`.
  void Add(const DecisionRequest& request, const Decision& decision, std::int64_t time_ms);
  // Closes the open window if `time_ms` is past it (a clock tick with no traffic).
  void Advance(std::int64_t time_ms);

  DriftReport Snapshot() const;
  // Freezes the reference: everything seen so far (the hourly ring and the open window).
  void Freeze(std::string label, std::int64_t at_ms);
  void Unfreeze();
  bool frozen() const;

  // The frozen reference as JSON (to store), and back.
  std::string FrozenJson() const;
  Status LoadFrozenJson(std::string_view json);

  void Reconfigure(MonitorConfig cfg);  // keeps the data when bins and window are unchanged
  MonitorConfig config() const;

 private:
  struct State;
  mutable std::mutex mu_;
  std::unique_ptr<State> s_;
};

// JSON body of GET /v1/monitor/drift.
std::string RenderDriftReport(const DriftReport& r);

}  // namespace vigil::drift
