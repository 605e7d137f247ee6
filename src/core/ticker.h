// Ticker: calls a function every `period` on a thread of its own until destroyed (or Stop()).
// The monitors use it as their clock tick, so that windows close, for-durations run out and
// alerts resolve while no traffic arrives. Stop() joins the thread; it is safe to call twice.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/thread_name.h"

namespace vigil {

class Ticker {
 public:
  Ticker(std::chrono::milliseconds period, std::function<void()> fn, std::string_view name = "ticker")
      : period_(period), fn_(std::move(fn)), thread_([this, n = std::string(name)] {
          NameThisThread(n);
          Run();
        }) {}
  ~Ticker() { Stop(); }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, period_, [this] { return stop_; })) {
      lock.unlock();
      fn_();
      lock.lock();
    }
  }
  std::chrono::milliseconds period_;
  std::function<void()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the rest is built
};

}  // namespace vigil
