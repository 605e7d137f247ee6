// JSON forms of the error-rate figures, shared by GET /v1/monitor/performance and `vigil eval`.
// Undefined ratios are written as null.
#pragma once

#include <map>
#include <span>
#include <string>

#include "core/json_writer.h"
#include "feedback/performance.h"

namespace vigil {

// How a decision's outcomes fell by label: {"genuine": {"pass": 10, "retry": 2}, ...}.
using OutcomeTable = std::map<std::string, std::map<std::string, std::int64_t>>;

// One object with counts, confusion, rates, the PAD figures (APCER per attack type, max APCER,
// BPCER, ACER) when `liveness`, fraud-type miss rates otherwise, and calibration.
void WritePerformance(JsonWriter& w, const Performance& p, bool liveness, const OutcomeTable* outcomes = nullptr);
void WriteCalibration(JsonWriter& w, const Calibration& c);
void WriteConfusion(JsonWriter& w, const Confusion& c);
void WriteSweepPoint(JsonWriter& w, const SweepPoint& s);

// The conventions the figures follow, for the reader of a report.
void WriteConventions(JsonWriter& w);

}  // namespace vigil
