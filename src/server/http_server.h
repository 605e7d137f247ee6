// A small HTTP/1.1 server on Boost.Beast and Asio: keep-alive, read and idle timeouts, a body-size
// limit, a bound on requests in flight (503 at once beyond it, rather than collapse), and a
// graceful shutdown that stops accepting, lets in-flight requests finish and closes idle
// connections. It knows nothing about decisions: a Handler answers each request, possibly later
// and from another thread. Thread-safe; runs on an IoPool's threads, each connection on one.
#pragma once

#include <boost/beast/http.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "server/io_pool.h"

namespace vigil {

class HttpSession;
namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;
// Sends the response; call exactly once, from any thread.
using Responder = std::function<void(HttpResponse&&)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(HttpRequest&& request, Responder respond) = 0;
  // Responses the transport itself sends (body too large, malformed request, overloaded).
  enum class TransportProblem : std::uint8_t { kBodyTooLarge, kMalformed, kOverloaded };
  virtual HttpResponse Problem(TransportProblem p, unsigned http_version) = 0;
};

struct HttpLimits {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int read_timeout_ms = 10000;   // to read a request body; past it the connection is closed
  int idle_timeout_ms = 60000;   // keep-alive connections idle longer are closed
  int max_in_flight = 1024;      // requests being handled at once, server-wide
};

class HttpServer {
 public:
  // Accepts on pool.main() and places each connection on pool.Next(); the pool outlives the
  // server.
  HttpServer(IoPool& pool, HttpHandler& handler, HttpLimits limits);
  ~HttpServer();

  // Binds and starts accepting; returns the bound port (useful with port 0).
  Result<int> Listen(const std::string& address, int port);
  // Stops accepting; requests in flight finish and are answered with Connection: close; idle
  // connections are closed.
  void BeginShutdown();

  int in_flight() const;
  int connections() const;
  std::uint64_t timeouts() const;

 private:
  friend class HttpSession;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vigil
