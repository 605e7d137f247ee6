// Webhook delivery to a real HTTP receiver on 127.0.0.1 in this process: a notification that
// fails first (503, then a dropped connection) is retried with backoff and delivered; one that
// always fails stops after max_attempts; Send never waits for the network.
#include "alerts/notifier.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace vigil::alerts {
namespace {

// A one-connection-at-a-time HTTP/1.1 receiver. `script` gives the answer to each request in
// turn: an HTTP status, or 0 to close the connection without answering; past its end, 200.
class Receiver {
 public:
  explicit Receiver(std::vector<int> script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Receiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> l(mu_);
    return bodies_;
  }
  std::vector<std::chrono::steady_clock::time_point> times() {
    std::lock_guard<std::mutex> l(mu_);
    return times_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      char tmp[4096];
      while (!stop_) {
        auto head = buf.find("\r\n\r\n");
        if (head != std::string::npos) {
          std::size_t len = 0;
          auto cl = buf.find("Content-Length: ");
          if (cl == std::string::npos) cl = buf.find("content-length: ");
          if (cl != std::string::npos) len = std::stoul(buf.substr(cl + 16));
          if (buf.size() >= head + 4 + len) {
            std::string body = buf.substr(head + 4, len);
            buf.erase(0, head + 4 + len);
            int status = 200;
            {
              std::lock_guard<std::mutex> l(mu_);
              bodies_.push_back(body);
              times_.push_back(std::chrono::steady_clock::now());
              if (next_ < script_.size()) status = script_[next_++];
            }
            if (status == 0) break;  // drop the connection
            std::string res = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
            (void)!::write(c, res.data(), res.size());
            continue;
          }
        }
        ssize_t n = ::read(c, tmp, sizeof tmp);
        if (n <= 0) break;
        buf.append(tmp, static_cast<std::size_t>(n));
      }
      ::close(c);
    }
  }
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> script_;
  std::size_t next_ = 0;
  std::vector<std::string> bodies_;
  std::vector<std::chrono::steady_clock::time_point> times_;
};

Notification Firing() {
  Notification n;
  n.alert.id = "retry_high/platform=web";
  n.alert.rule = "retry_high";
  n.alert.slice = "platform=web";
  n.alert.state = AlertState::kFiring;
  n.alert.severity = "warning";
  n.alert.metric = "retry_rate";
  n.alert.value = 0.5;
  n.alert.baseline = 0.1;
  n.alert.threshold = 0.125;
  n.alert.action = "check quality, browser, and threshold slices";
  n.alert.evidence_ids = {"abc123"};
  n.alert.fired_at_ms = 1800000000000;
  return n;
}

RouteConfig Hook(int port, int attempts) {
  RouteConfig r;
  r.name = "hook";
  r.kind = RouteConfig::Kind::kWebhook;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/alerts";
  r.timeout_ms = 1000;
  r.max_attempts = attempts;
  r.backoff_ms = 50;
  return r;
}

TEST(Webhook, RetriesAfterFailuresThenDelivers) {
  Receiver rx({503, 0});  // a 503, then a connection dropped mid-request, then 200
  Notifier n({Hook(rx.port(), 4)});
  const auto t0 = std::chrono::steady_clock::now();
  n.Send(Firing());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(20)) << "Send must only queue";
  ASSERT_TRUE(n.Drain(std::chrono::seconds(10)));
  auto bodies = rx.bodies();
  ASSERT_EQ(bodies.size(), 3u);
  EXPECT_EQ(bodies[0], bodies[2]);
  auto j = nlohmann::json::parse(bodies[2]);
  EXPECT_EQ(j["event"], "firing");
  EXPECT_EQ(j["alert"]["rule"], "retry_high");
  EXPECT_EQ(j["alert"]["slice"], "platform=web");
  EXPECT_EQ(j["alert"]["evidence_ids"][0], "abc123");
  EXPECT_EQ(j["alert"]["first_action"], "check quality, browser, and threshold slices");
  EXPECT_DOUBLE_EQ(j["alert"]["baseline"].get<double>(), 0.1);
  // Backoff: 50 ms, then 100 ms.
  auto t = rx.times();
  EXPECT_GE(t[1] - t[0], std::chrono::milliseconds(45));
  EXPECT_GE(t[2] - t[1], std::chrono::milliseconds(95));
  auto st = n.stats();
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].delivered, 1u);
  EXPECT_EQ(st[0].retries, 2u);
  EXPECT_EQ(st[0].failed, 0u);
}

TEST(Webhook, GivesUpAfterMaxAttempts) {
  Receiver rx({500, 500, 500, 500});
  Notifier n({Hook(rx.port(), 3)});
  n.Send(Firing());
  ASSERT_TRUE(n.Drain(std::chrono::seconds(10)));
  EXPECT_EQ(rx.bodies().size(), 3u);
  EXPECT_EQ(n.stats()[0].failed, 1u);
  EXPECT_EQ(n.stats()[0].delivered, 0u);
}

TEST(Webhook, UnreachableReceiverDoesNotBlockSend) {
  int port;
  { Receiver gone({}); port = gone.port(); }  // closed: connections are refused
  Notifier n({Hook(port, 2)});
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) n.Send(Firing());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(50));
  n.Stop();  // returns promptly; what was still queued is dropped
  EXPECT_EQ(n.stats()[0].delivered, 0u);
}

TEST(LogRoute, CountsDeliveries) {
  RouteConfig log;
  log.name = "log";
  Notifier n({log});
  n.Send(Firing());
  EXPECT_EQ(n.stats()[0].delivered, 1u);
}

}  // namespace
}  // namespace vigil::alerts
