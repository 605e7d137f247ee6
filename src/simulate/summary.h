// Text summaries of a simulator run for people: one progress line, and the full table the demo
// shows live and both commands print at the end. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simulate/stats.h"

namespace vigil::sim {

// "12.0s  3456 decisions  288/s  sim day 2.41  liveness pass 81.2% ...  p95 3.1 ms  errors 0"
std::string ProgressLine(const Snapshot& s, double start_day_ms);
// The multi-line summary; `alerts` are lines describing firing alerts (may be empty).
std::string SummaryTable(const Snapshot& s, std::int64_t start_ms, const std::vector<std::string>& alerts);

}  // namespace vigil::sim

namespace vigil::sim {

// The final snapshot as one JSON object (for scripts and tests).
std::string SnapshotJson(const Snapshot& s);

// How much simulated time each event stands for. With a simulated span (`days`) and a budget
// (`count` events, or `rate` x `duration_s`), the span is spread over the budget so that a week
// fits in the run; otherwise the scenario's events_per_day holds. `speed` (simulated seconds per
// wall second) gives the rate when none is set. Returns {ms_per_event, rate}.
struct TimePlan {
  double ms_per_event = 0;
  double rate = 0;
};
TimePlan PlanTime(double events_per_day, double days, std::uint64_t count, double duration_s, double rate,
                  double speed);

}  // namespace vigil::sim
