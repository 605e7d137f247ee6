// A small HTTP/1.1 server on Boost.Beast and Asio: keep-alive, read and idle timeouts, a body-size
// limit, a bound on requests in flight (503 at once beyond it, rather than collapse), a bound on
// open connections (at it, the keep-alive connections idle longest are closed to make room and
// accepting waits for one to close), accept errors such as running out of file descriptors met
// with a pause rather than a busy loop, and a graceful shutdown that stops accepting, lets
// in-flight requests finish and closes idle connections. It knows nothing about decisions: a Handler answers each request, possibly later
// and from another thread. Thread-safe; runs on an IoPool's threads, each connection on one.
#pragma once

#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdint>
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
  // kBodiesBuffered: the bodies of requests being read or handled would pass
  // HttpLimits::max_buffered_body_bytes.
  enum class TransportProblem : std::uint8_t { kBodyTooLarge, kMalformed, kOverloaded, kBodiesBuffered };
  virtual HttpResponse Problem(TransportProblem p, unsigned http_version) = 0;
};

struct HttpLimits {
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  int read_timeout_ms = 10000;   // for the rest of a request's header once it has started, then
                                 // for its body; past either the connection is closed
  int idle_timeout_ms = 60000;   // for the first bytes of a request (keep-alive connections wait)
  int max_in_flight = 1024;      // requests being handled at once, server-wide
  int max_connections = 10000;   // open connections, server-wide (see HttpServer)
  // Request bodies held at once, server-wide: those being read and those being handled, each
  // counted at its Content-Length (max_body_bytes when it has none) from its header until its
  // response. A request past it gets 503 at once, before its body is read.
  std::size_t max_buffered_body_bytes = std::size_t{128} << 20;
};

// What the transport has done, for metrics. Counters only grow.
struct HttpServerStats {
  int connections = 0;
  int in_flight = 0;
  std::uint64_t read_timeouts = 0;
  std::uint64_t accept_errors = 0;             // accept() failed: out of file descriptors or memory, ...
  std::uint64_t connection_limit_reached = 0;  // times accepting paused at max_connections
  std::uint64_t idle_closed_for_room = 0;      // idle keep-alive connections closed to make room
  std::uint64_t body_bytes_held = 0;           // counted against max_buffered_body_bytes
  std::uint64_t bodies_refused = 0;            // requests refused at max_buffered_body_bytes
};

// Each connection holds a file descriptor. Raises this process's soft descriptor limit to its
// hard one (Asio uses epoll, so descriptors above FD_SETSIZE are fine) and returns `wanted`, or
// less if the limit leaves less room: 128 descriptors are kept for the store's files, the log and
// outgoing connections. `descriptor_limit` gets the soft limit (-1: unlimited). Running out of
// descriptors is then the connection limit (idle keep-alives make room), not a failing accept().
int FitConnectionsToDescriptors(int wanted, std::int64_t* descriptor_limit);

class HttpServer {
 public:
  // Accepts on pool.main() and places each connection on pool.Next(); the pool outlives the
  // server.
  HttpServer(IoPool& pool, HttpHandler& handler, HttpLimits limits);
  ~HttpServer();

  // Connections: at max_connections, or when accept() fails for want of file descriptors or
  // memory, the keep-alive connections waiting longest for their next request (up to 16 at a
  // time, each idle for at least 200 ms) are closed, and accepting waits: until a connection closes at the limit, 100 ms after
  // an accept error (never a busy retry). New connections meanwhile wait in the listen backlog.

  // Binds and starts accepting; returns the bound port (useful with port 0).
  Result<int> Listen(const std::string& address, int port);
  // Stops accepting; requests in flight finish and are answered with Connection: close; idle
  // connections are closed.
  void BeginShutdown();

  int in_flight() const;
  int connections() const;
  // Reads the transport's figures; safe to call from any thread, also after the server is
  // destroyed.
  std::function<HttpServerStats()> StatsReader() const;

 private:
  friend class HttpSession;
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace vigil
