// Monitoring events: one JSON line per durable decision with the fields of seed 000's example
// event (request id, timestamp, flow type, platform, browser family, SDK/app/model/policy
// versions, decision, band, latency, quality, scores, security) plus the evidence id, attempt,
// reasons and the stage timings. Never raw subject ids (context fields that identify a person,
// account or device are left out), tokens or media.
//
// EventWriter takes lines from any thread without waiting on I/O: a bounded queue feeds a thread
// of its own that writes to stdout or to a size-rotated file. When the queue is full, events are
// dropped and counted (the decision path never waits for a disk).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "metrics/metrics_config.h"
#include "reasons/catalogue.h"
#include "server/module.h"

namespace vigil {

// The event's JSON object, one line with a trailing '\n'. `catalogue` names the reason codes
// (nullptr: built-in names only).
std::string BuildMonitoringEvent(const DecisionEvent& ev, const ReasonCatalogue* catalogue);

class EventWriter {
 public:
  // `path` is used for EventSink::kFile (parent directories are created). Starts the thread
  // unless the sink is off. `written` and `dropped` may be null.
  EventWriter(EventSinkConfig cfg, std::string path, Counter* written, Counter* dropped);
  ~EventWriter();  // Stop()
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  bool enabled() const { return cfg_.sink != EventSink::kOff; }
  // Queues one line; false (and counted as dropped) when the queue is full or the writer stopped.
  bool Push(std::string line);
  // Writes what is queued, then stops the thread. Idempotent.
  void Stop();
  // Blocks until everything queued so far is written and flushed (tests, shutdown).
  void Flush();

 private:
  void Run();
  bool OpenFile();
  void WriteLine(const std::string& line);
  void Rotate();

  EventSinkConfig cfg_;
  std::string path_;
  Counter* written_;
  Counter* dropped_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_;
  std::deque<std::string> queue_;
  std::uint64_t pushed_ = 0;
  std::uint64_t done_ = 0;
  bool stop_ = false;
  bool finished_ = false;  // the thread has written everything and ended
  std::FILE* file_ = nullptr;
  std::uint64_t file_bytes_ = 0;
  std::thread thread_;
};

}  // namespace vigil
