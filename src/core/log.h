// Structured JSON logs: one object per line on stderr,
//   {"ts":"2026-11-22T10:00:00.123Z","level":"info","event":"listening","port":8080}
// Never log secrets, tokens, API keys, raw media or raw subject ids: pass ids through
// SubjectRef() in the audit component instead. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/json_writer.h"

namespace vigil {

enum class LogLevel : std::uint8_t { kDebug, kInfo, kWarn, kError, kOff };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warn", "error", "off".
bool ParseLogLevel(std::string_view s, LogLevel& out);

// Builds one log line; written when the object is destroyed (at the end of the statement):
//   Log(LogLevel::kInfo, "listening").Str("address", addr).Int("port", port);
class Log {
 public:
  Log(LogLevel level, std::string_view event);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  Log& Str(std::string_view key, std::string_view value);
  Log& Num(std::string_view key, double value);
  Log& Int(std::string_view key, std::int64_t value);
  Log& Bool(std::string_view key, bool value);

 private:
  bool enabled_;
  LogLevel level_;
  std::string line_;
  JsonWriter w_;
};

// Wall-clock milliseconds since the Unix epoch.
std::int64_t WallClockMs();
// "2026-11-22T10:00:00.123Z"
std::string FormatRfc3339Ms(std::int64_t ms);

}  // namespace vigil
