#include "server/io_pool.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <thread>

#include "core/thread_name.h"

namespace vigil {

IoPool::IoPool(int threads) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    // An io_context makes its epoll instance (three descriptors) when its first socket is made.
    // Made here, at start: made on the first connection, with the process out of descriptors,
    // it would throw from inside the accept loop and end the process.
    boost::asio::ip::tcp::socket warm(*contexts_.back());
  }
}

boost::asio::io_context& IoPool::Next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void IoPool::Run(const char* thread_name) {
  // Each context keeps running while it has nothing to do, until Stop().
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards;
  for (auto& c : contexts_) guards.push_back(boost::asio::make_work_guard(*c));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) {
    threads.emplace_back([this, i, thread_name] {
      NameThisThread(thread_name);
      contexts_[i]->run();
    });
  }
  contexts_.front()->run();
  for (auto& t : threads) t.join();
}

void IoPool::Stop() {
  for (auto& c : contexts_) c->stop();
}

}  // namespace vigil
