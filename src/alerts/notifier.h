// Delivery of alert notifications to routes, off the decision path. A Notifier owns one thread
// per webhook route and a bounded queue for each; Send() only queues (the oldest notification is
// dropped, and counted, when a queue is full), so it never blocks the caller. A webhook POSTs
// the JSON of RenderNotification with a timeout; a failure (transport error or a non-2xx status)
// is retried after backoff_ms, doubled each time, up to max_attempts in all. The log route
// writes one structured log line. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "alerts/engine.h"
#include "alerts/rules.h"

namespace vigil::alerts {

struct RouteStats {
  std::string name;
  std::uint64_t delivered = 0, failed = 0, retries = 0, dropped = 0;
};

class Notifier {
 public:
  explicit Notifier(std::vector<RouteConfig> routes);
  ~Notifier();  // Stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues `n` for its routes (every route when the alert names none).
  void Send(const Notification& n);
  // Waits until every queue is empty and nothing is in flight, or the timeout passes.
  bool Drain(std::chrono::milliseconds timeout);
  // Stops the threads; queued notifications that were not sent are dropped.
  void Stop();
  std::vector<RouteStats> stats() const;

 private:
  struct Route;
  void Run(Route& r);
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace vigil::alerts
