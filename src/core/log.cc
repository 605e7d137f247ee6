#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace vigil {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

spdlog::logger& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("vigil", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

constexpr std::string_view kLevelNames[] = {"debug", "info", "warn", "error", "off"};

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel GetLogLevel() { return g_level.load(std::memory_order_relaxed); }

bool ParseLogLevel(std::string_view s, LogLevel& out) {
  for (std::size_t i = 0; i < std::size(kLevelNames); ++i) {
    if (kLevelNames[i] == s) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

std::int64_t WallClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatRfc3339Ms(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

Log::Log(LogLevel level, std::string_view event)
    : enabled_(level >= GetLogLevel() && GetLogLevel() != LogLevel::kOff), level_(level), w_(line_) {
  if (!enabled_) return;
  w_.BeginObject()
      .Field("ts", FormatRfc3339Ms(WallClockMs()))
      .Field("level", kLevelNames[static_cast<std::size_t>(level)])
      .Field("event", event);
}

Log::~Log() {
  if (!enabled_) return;
  w_.EndObject();
  static constexpr spdlog::level::level_enum kMap[] = {spdlog::level::debug, spdlog::level::info,
                                                       spdlog::level::warn, spdlog::level::err,
                                                       spdlog::level::off};
  Logger().log(kMap[static_cast<std::size_t>(level_)], line_);
}

Log& Log::Str(std::string_view key, std::string_view value) {
  if (enabled_) w_.Field(key, value);
  return *this;
}
Log& Log::Num(std::string_view key, double value) {
  if (enabled_) w_.Field(key, value);
  return *this;
}
Log& Log::Int(std::string_view key, std::int64_t value) {
  if (enabled_) w_.Field(key, value);
  return *this;
}
Log& Log::Bool(std::string_view key, bool value) {
  if (enabled_) w_.Field(key, value);
  return *this;
}

}  // namespace vigil
