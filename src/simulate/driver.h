// Driving a running vigil server with simulated traffic over HTTP (keep-alive connections, one
// per worker), or writing the traffic to a JSONL file. The driver:
//  - paces requests at `rate` events/s (scaled by load_surge incidents), or as fast as the
//    workers go; stops at `count` events, `duration_s` wall seconds, `days` simulated days or
//    when `*stop` turns true (Ctrl-C);
//  - opens a session (POST /v1/sessions) for each liveness journey when the server has the route
//    (checked once at start) and follows `retry` answers with their next_token;
//  - posts late ground-truth labels to /v1/labels when the server has that route, each when the
//    simulated clock passes the label's time (manual review in hours, chargebacks in days).
// Run() blocks until the run ends. The callbacks run on the calling thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"
#include "simulate/stats.h"
#include "simulate/traffic.h"

namespace vigil::sim {

struct DriveOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;             // needs scopes decide and label (an admin key has both)
  int concurrency = 4;
  double rate = 0;                 // events per second; 0: as fast as the workers go
  std::uint64_t count = 0;         // stop after this many events (0: no limit)
  double duration_s = 0;           // stop after this long (0: no limit)
  double days = 0;                 // stop when simulated time passes this many days (0: no limit)
  bool sessions = true;            // use sessions when the server offers them
  bool labels = true;              // post labels when the server offers /v1/labels
  const MediaLibrary* media = nullptr;  // camera frames with liveness attempts (--media)
  double progress_interval_s = 2;  // how often on_progress is called
  std::function<void(const Snapshot&)> on_progress;
  std::atomic<bool>* stop = nullptr;
};

struct DriveReport {
  Snapshot final;
  bool sessions_used = false;
  bool labels_used = false;
};

// Drives the server until the run ends. Errors only when the server cannot be reached at all.
Result<DriveReport> Drive(TrafficGenerator& traffic, const DriveOptions& options);

// Writes `count` events (or until `days` simulated days) as JSONL: one line per event,
// {"request": <decision request>, "truth": {...}}. Returns the number written.
Result<std::uint64_t> WriteJsonl(TrafficGenerator& traffic, const std::string& path, std::uint64_t count, double days,
                                 const MediaLibrary* media = nullptr);

}  // namespace vigil::sim
