#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/log.h"

namespace vigil {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
// A session runs on one io_context of the pool, which one thread runs (IoPool), so it needs no
// strand. The executor is named by its concrete type: beast::tcp_stream's type-erased executor
// (any_io_executor) costs a heap allocation and indirect calls for operations on the stream.
using SessionExecutor = net::io_context::executor_type;
using SessionStream = beast::basic_stream<tcp, SessionExecutor>;
using SessionSocket = net::basic_stream_socket<tcp, SessionExecutor>;

class HttpSession;

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// At most one log line per interval for an event that can repeat thousands of times a second
// (a connection flood, a process out of file descriptors); the next line says how many were
// left out. Used on the acceptor's thread only.
class LogThrottle {
 public:
  // True when a line may be written now; `skipped` is how many were not since the last one.
  bool Allow(std::uint64_t& skipped) {
    auto now = std::chrono::steady_clock::now();
    if (logged_ && now - last_ < std::chrono::seconds(10)) {
      ++skipped_;
      return false;
    }
    logged_ = true;
    last_ = now;
    skipped = skipped_;
    skipped_ = 0;
    return true;
  }

 private:
  bool logged_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t skipped_ = 0;
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(IoPool& p, HttpHandler& h, HttpLimits l)
      : pool(p), handler(h), limits(l), acceptor(p.main()), accept_retry(p.main()) {}

  static constexpr std::size_t kRoomBatch = 16;
  static constexpr std::chrono::milliseconds kPauseRetry{100};
  // A connection idle for less is not closed to make room: it may have just been accepted, its
  // client about to send, or just answered, its client about to send the next request.
  static constexpr std::int64_t kMinIdleForRoomNs = 200'000'000;

  // The accept loop runs on the acceptor's thread (pool.main()), one accept at a time.
  void DoAccept();
  void RetryAcceptIn(std::chrono::milliseconds delay);
  void OnAccepted(beast::error_code ec, SessionSocket socket);
  // Stops accepting at max_connections; false when there was room after all (keep accepting).
  bool PauseAtLimit();
  // A connection closed (any thread): resumes accepting if it had paused at the limit.
  void OnConnectionClosed();
  // Closes up to kRoomBatch of the keep-alive connections idle longest, unless the last batch
  // has not closed yet.
  void MakeRoom();
  void Register(HttpSession* s, std::weak_ptr<HttpSession> w) {
    std::lock_guard lk(mu);
    sessions[s] = std::move(w);
  }
  void Unregister(HttpSession* s) {
    std::lock_guard lk(mu);
    sessions.erase(s);
  }

  IoPool& pool;
  HttpHandler& handler;
  HttpLimits limits;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;  // after an accept error
  // In their own block, which StatsReader() shares: a reader may outlive the server, whose
  // acceptor must not outlive the io_context.
  struct Counters {
    std::atomic<int> in_flight{0};
    std::atomic<int> connections{0};
    std::atomic<std::uint64_t> timeouts{0};
    std::atomic<std::uint64_t> accept_errors{0};
    std::atomic<std::uint64_t> limit_reached{0};
    std::atomic<std::uint64_t> idle_closed{0};
    std::atomic<std::uint64_t> body_bytes{0};
    std::atomic<std::uint64_t> bodies_refused{0};
  };
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  Counters& st = *counters;
  std::atomic<bool> accept_paused{false};
  std::atomic<int> room_pending{0};  // connections asked to close for room, not yet gone
  bool accept_pending = false;       // acceptor's thread only
  std::atomic<bool> shutting_down{false};
  LogThrottle accept_error_log, limit_log;  // acceptor's thread only
  std::mutex mu;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(SessionSocket&& socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    server_->st.connections.fetch_add(1);
  }
  ~HttpSession() {
    ReleaseBody();
    server_->Unregister(this);
    server_->st.connections.fetch_sub(1);
    if (closed_for_room_) server_->room_pending.fetch_sub(1);
    server_->OnConnectionClosed();
  }

  // When the connection started waiting for a request of which nothing has arrived (steady
  // clock, ns), or 0 while a request is being read, handled or answered.
  std::int64_t idle_since() const { return idle_since_.load(std::memory_order_relaxed); }

  // Closes the connection if it is still in the idle wait that began at `since`: nothing of a
  // next request has arrived, so closing loses nothing (HTTP lets either side close an idle
  // keep-alive connection; clients open a new one).
  // Until then (or until it is found not idle) it counts in the server's room_pending.
  void CloseIfIdleSince(std::int64_t since) {
    net::post(stream_.get_executor(), [self = shared_from_this(), since] {
      // idle_since_ is non-zero only while waiting for a request's first bytes (ReadHeader to
      // OnFirstBytes), so the same value means the same wait, with nothing of a request read.
      if (self->idle_since() != since) {
        self->server_->room_pending.fetch_sub(1);
        return;
      }
      self->server_->st.idle_closed.fetch_add(1);
      self->closed_for_room_ = true;
      self->idle_since_.store(0, std::memory_order_relaxed);
      self->stream_.cancel();
    });
  }

  void Start() {
    server_->Register(this, weak_from_this());
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Runs on the session's thread: closes the connection unless a request is being handled.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (!self->busy_) self->stream_.cancel();
    });
  }

 private:
  // A request is read in three steps, each with its own deadline: the wait for its first bytes
  // (http.idle_timeout_ms: a keep-alive connection may sit idle that long), the rest of its
  // header and then its body (http.read_timeout_ms each: a client that has started a request
  // must go on sending it, so a slow trickle of header bytes cannot hold a connection for the
  // idle timeout).
  void ReadHeader() {
    if (server_->shutting_down.load()) return Close();
    parser_.emplace();
    parser_->body_limit(server_->limits.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    if (buffer_.size() != 0) return ReadRestOfHeader();  // pipelined: the next request is here
    idle_since_.store(SteadyNs(), std::memory_order_relaxed);
    stream_.expires_after(std::chrono::milliseconds(server_->limits.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, 65536)),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->OnFirstBytes(ec, n); });
  }

  void OnFirstBytes(beast::error_code ec, std::size_t n) {
    idle_since_.store(0, std::memory_order_relaxed);
    // Chosen to make room just as a request arrived: close rather than handle it (the client
    // sees the connection end with no answer, as when a keep-alive connection times out).
    if (closed_for_room_) return Close();
    if (ec) return OnReadError(ec, false);
    buffer_.commit(n);
    // Most requests arrive whole in their first read: parsed here, they need no further
    // asynchronous operation (each costs a trip through the io_context).
    if (parser_->eager(true); !parser_->is_done()) {
      std::size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec && ec != http::error::need_more) return OnReadError(ec, true);
    }
    if (!parser_->is_header_done()) return ReadRestOfHeader();
    OnHeader({});
  }

  void ReadRestOfHeader() {
    stream_.expires_after(std::chrono::milliseconds(server_->limits.read_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec, true);
    if (!ReserveBody()) {
      // Refused before its body is read; the connection closes, since the unread body would
      // otherwise be taken for the next request.
      server_->st.bodies_refused.fetch_add(1);
      return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kBodiesBuffered, parser_->get().version())), false);
    }
    if (parser_->is_done()) return OnRead({});
    stream_.expires_after(std::chrono::milliseconds(server_->limits.read_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code e, std::size_t) { self->OnRead(e); });
  }

  // `request_started`: some of a request had arrived (a timeout then counts as one).
  void OnReadError(beast::error_code ec, bool request_started) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      return Close();
    }
    unsigned version = 11;
    if (ec == beast::error::timeout) {
      // tcp_stream has closed the socket. A request that had started arriving is counted as a
      // timeout; an idle keep-alive connection simply ends.
      if (request_started) server_->st.timeouts.fetch_add(1);
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kBodyTooLarge, version)), false);
    }
    return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kMalformed, version)), false);
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec, true);
    HttpRequest req = parser_->release();
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    busy_ = true;
    stream_.expires_never();
    if (server_->st.in_flight.fetch_add(1) >= server_->limits.max_in_flight) {
      server_->st.in_flight.fetch_sub(1);
      return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kOverloaded, version)), keep_alive);
    }
    auto self = shared_from_this();
    server_->handler.Handle(std::move(req), [self, keep_alive](HttpResponse&& res) {
      auto r = std::make_shared<HttpResponse>(std::move(res));
      net::post(self->stream_.get_executor(), [self, r, keep_alive] {
        self->server_->st.in_flight.fetch_sub(1);
        self->Send(r, keep_alive);
      });
    });
  }

  // Counts the request's body against max_buffered_body_bytes, from its header to its response.
  bool ReserveBody() {
    const auto length = parser_->content_length();
    // No Content-Length: a chunked body may grow to max_body_bytes; otherwise there is none.
    const std::uint64_t want = length ? *length : parser_->chunked() ? server_->limits.max_body_bytes : 0;
    if (want == 0) return true;
    if (server_->st.body_bytes.fetch_add(want) + want > server_->limits.max_buffered_body_bytes) {
      server_->st.body_bytes.fetch_sub(want);
      return false;
    }
    body_reserved_ = want;
    return true;
  }
  void ReleaseBody() {
    if (body_reserved_ == 0) return;
    server_->st.body_bytes.fetch_sub(body_reserved_);
    body_reserved_ = 0;
  }

  void Send(std::shared_ptr<HttpResponse> res, bool keep_alive) {
    ReleaseBody();
    busy_ = true;
    bool keep = keep_alive && !server_->shutting_down.load();
    res->keep_alive(keep);
    res->prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(server_->limits.read_timeout_ms));
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep](beast::error_code ec, std::size_t) {
      self->busy_ = false;
      if (ec || !keep) return self->Close();
      self->ReadHeader();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  SessionStream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  bool busy_ = false;
  bool closed_for_room_ = false;  // read by the destructor, which runs after the last handler
  std::uint64_t body_reserved_ = 0;
  std::atomic<std::int64_t> idle_since_{0};
};

void HttpServer::Impl::DoAccept() {
  if (accept_pending || shutting_down.load() || !acceptor.is_open()) return;
  if (st.connections.load() >= limits.max_connections && PauseAtLimit()) return;
  accept_pending = true;
  acceptor.async_accept(pool.Next().get_executor(), [self = shared_from_this()](beast::error_code ec, SessionSocket socket) {
    self->accept_pending = false;
    self->OnAccepted(ec, std::move(socket));
  });
}

void HttpServer::Impl::RetryAcceptIn(std::chrono::milliseconds delay) {
  accept_retry.expires_after(delay);
  accept_retry.async_wait([self = shared_from_this()](beast::error_code e) {
    if (!e) self->DoAccept();
  });
}

void HttpServer::Impl::OnAccepted(beast::error_code ec, SessionSocket socket) {
  if (!ec) {
    if (!shutting_down.load()) std::make_shared<HttpSession>(std::move(socket), shared_from_this())->Start();
    return DoAccept();
  }
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  st.accept_errors.fetch_add(1);
  std::uint64_t skipped = 0;
  if (accept_error_log.Allow(skipped)) {
    Log(LogLevel::kWarn, "accept_failed").Str("error", ec.message()).Int("connections", st.connections.load())
        .Int("not_logged_since_last", static_cast<std::int64_t>(skipped));
  }
  const bool out_of_resources = ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
                                ec == net::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
  if (!out_of_resources) return DoAccept();  // this connection failed (reset before accept, ...); take the next
  // The failed connection is still queued, so accepting again at once would fail again, as fast
  // as the thread can loop. Free what idle connections hold and try again shortly.
  MakeRoom();
  RetryAcceptIn(kPauseRetry);
}

bool HttpServer::Impl::PauseAtLimit() {
  const bool was_paused = accept_paused.exchange(true);
  // A connection may have closed between the caller's check and the flag, and seen no pause:
  // look again, and take the resumption back if there is room (unless a closing one already did;
  // then its DoAccept is on its way).
  if (st.connections.load() < limits.max_connections) return !accept_paused.exchange(false);
  if (!was_paused) {
    st.limit_reached.fetch_add(1);
    std::uint64_t skipped = 0;
    if (limit_log.Allow(skipped)) {
      Log(LogLevel::kWarn, "connection_limit_reached").Int("connections", st.connections.load())
          .Int("max_connections", limits.max_connections)
          .Int("not_logged_since_last", static_cast<std::int64_t>(skipped));
    }
  }
  // Connections busy now may be idle later: look again while paused.
  MakeRoom();
  RetryAcceptIn(kPauseRetry);
  return true;
}

void HttpServer::Impl::OnConnectionClosed() {
  if (!accept_paused.load() || st.connections.load() >= limits.max_connections) return;
  if (!accept_paused.exchange(false)) return;  // another closing connection resumed it
  net::post(acceptor.get_executor(), [self = shared_from_this()] { self->DoAccept(); });
}

void HttpServer::Impl::MakeRoom() {
  // The last batch is still closing: its room is on its way.
  if (room_pending.load() > 0) return;
  std::vector<std::pair<std::int64_t, std::shared_ptr<HttpSession>>> idle;
  const std::int64_t idle_before = SteadyNs() - kMinIdleForRoomNs;
  {
    std::lock_guard lk(mu);
    for (auto& [p, w] : sessions) {
      auto s = w.lock();
      if (!s) continue;
      if (std::int64_t since = s->idle_since(); since != 0 && since <= idle_before) idle.emplace_back(since, std::move(s));
    }
  }
  const std::size_t n = std::min(kRoomBatch, idle.size());
  std::partial_sort(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(n), idle.end(),
                    [](const auto& x, const auto& y) { return x.first < y.first; });
  room_pending.fetch_add(static_cast<int>(n));
  for (std::size_t i = 0; i < n; ++i) idle[i].second->CloseIfIdleSince(idle[i].first);
}

int FitConnectionsToDescriptors(int wanted, std::int64_t* descriptor_limit) {
  constexpr rlim_t kReserved = 128;
  rlimit lim{};
  *descriptor_limit = -1;
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY) return wanted;
  *descriptor_limit = static_cast<std::int64_t>(lim.rlim_cur);
  if (static_cast<rlim_t>(wanted) + kReserved <= lim.rlim_cur) return wanted;
  return lim.rlim_cur > kReserved + 1 ? static_cast<int>(lim.rlim_cur - kReserved) : 1;
}

HttpServer::HttpServer(IoPool& pool, HttpHandler& handler, HttpLimits limits)
    : impl_(std::make_shared<Impl>(pool, handler, limits)) {}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::Listen(const std::string& address, int port) {
  beast::error_code ec;
  auto addr = net::ip::make_address(address, ec);
  if (ec) return Error::Invalid("bad listen address '" + address + "'");
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error::Io("cannot listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  int bound = impl_->acceptor.local_endpoint().port();
  impl_->DoAccept();
  return bound;
}

void HttpServer::BeginShutdown() {
  if (impl_->shutting_down.exchange(true)) return;
  net::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->accept_retry.cancel();
  });
  std::vector<std::shared_ptr<HttpSession>> live;
  {
    std::lock_guard lk(impl_->mu);
    for (auto& [p, w] : impl_->sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->CloseIfIdle();
}

int HttpServer::in_flight() const { return impl_->st.in_flight.load(); }
int HttpServer::connections() const { return impl_->st.connections.load(); }

std::function<HttpServerStats()> HttpServer::StatsReader() const {
  return [c = std::shared_ptr<const Impl::Counters>(impl_->counters)] {
    HttpServerStats st;
    st.connections = c->connections.load();
    st.in_flight = c->in_flight.load();
    st.read_timeouts = c->timeouts.load();
    st.accept_errors = c->accept_errors.load();
    st.connection_limit_reached = c->limit_reached.load();
    st.idle_closed_for_room = c->idle_closed.load();
    st.body_bytes_held = c->body_bytes.load();
    st.bodies_refused = c->bodies_refused.load();
    return st;
  };
}

}  // namespace vigil
