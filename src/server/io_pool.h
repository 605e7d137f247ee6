// The io threads: one io_context per thread, each run by exactly that thread. A connection is
// placed on one context (round-robin) and stays there, so its handlers never run at the same
// time and need no strand, and the threads share no scheduler queue (one shared io_context with
// N threads made them take turns on its mutex and condition variable for every completion).
// Other threads hand work to a connection with post() on its context's executor.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace vigil {

class IoPool {
 public:
  explicit IoPool(int threads);
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  // The first context; it is run by the thread that calls Run() (signals, timers, accepting).
  boost::asio::io_context& main() { return *contexts_.front(); }
  // The context for the next connection, round-robin.
  boost::asio::io_context& Next();
  std::size_t size() const { return contexts_.size(); }

  // Runs every context, each on its own thread (`main()` on the caller's), until Stop(); the
  // other threads are named `thread_name`.
  void Run(const char* thread_name);
  void Stop();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace vigil
