// config/metrics.yaml: label bounds for the decision slices and the monitoring-event sink.
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/result.h"
#include "metrics/metrics.h"

namespace vigil {

enum class EventSink : std::uint8_t { kOff, kStdout, kFile };

struct EventSinkConfig {
  EventSink sink = EventSink::kOff;
  std::string path = "monitoring/events.jsonl";  // resolved against data_dir
  std::uint64_t max_bytes = 64ull << 20;
  int max_files = 5;
  std::size_t queue = 65536;
};

struct MetricsConfig {
  std::map<std::string, LabelSpec> labels;  // by label name
  std::size_t max_series_per_family = 20000;
  EventSinkConfig events;

  // The bound for a label; a top-K of 20 for a label the file does not name.
  LabelSpec Label(const std::string& name) const;
};

// Defaults (the file above without the file).
MetricsConfig DefaultMetricsConfig();
// Parses the YAML text; errors name source:line:col. Missing keys keep their defaults.
Result<MetricsConfig> ParseMetricsConfig(std::string_view yaml, std::string source);
// Reads `dir`/metrics.yaml, or the defaults when the file does not exist.
Result<MetricsConfig> LoadMetricsConfig(const std::string& dir);

}  // namespace vigil
