#include "server/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>

#include <mutex>
#include <optional>
#include <unordered_map>

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

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(IoPool& p, HttpHandler& h, HttpLimits l) : pool(p), handler(h), limits(l), acceptor(p.main()) {}

  void DoAccept();
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
  std::atomic<int> in_flight{0};
  std::atomic<int> connections{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<bool> shutting_down{false};
  std::mutex mu;
  std::unordered_map<HttpSession*, std::weak_ptr<HttpSession>> sessions;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(SessionSocket&& socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    server_->connections.fetch_add(1);
  }
  ~HttpSession() {
    server_->Unregister(this);
    server_->connections.fetch_sub(1);
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
  void ReadHeader() {
    if (server_->shutting_down.load()) return Close();
    parser_.emplace();
    parser_->body_limit(server_->limits.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.max_header_bytes));
    stream_.expires_after(std::chrono::milliseconds(server_->limits.idle_timeout_ms));
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_after(std::chrono::milliseconds(server_->limits.read_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code e, std::size_t) { self->OnRead(e); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      return Close();
    }
    unsigned version = 11;
    if (ec == beast::error::timeout) {
      // tcp_stream has closed the socket. A request that had started arriving is counted as a
      // timeout; an idle keep-alive connection simply ends.
      if (parser_ && parser_->got_some()) server_->timeouts.fetch_add(1);
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kBodyTooLarge, version)), false);
    }
    return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kMalformed, version)), false);
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    HttpRequest req = parser_->release();
    bool keep_alive = req.keep_alive();
    unsigned version = req.version();
    busy_ = true;
    stream_.expires_never();
    if (server_->in_flight.fetch_add(1) >= server_->limits.max_in_flight) {
      server_->in_flight.fetch_sub(1);
      return Send(std::make_shared<HttpResponse>(server_->handler.Problem(HttpHandler::TransportProblem::kOverloaded, version)), keep_alive);
    }
    auto self = shared_from_this();
    server_->handler.Handle(std::move(req), [self, keep_alive](HttpResponse&& res) {
      auto r = std::make_shared<HttpResponse>(std::move(res));
      net::post(self->stream_.get_executor(), [self, r, keep_alive] {
        self->server_->in_flight.fetch_sub(1);
        self->Send(r, keep_alive);
      });
    });
  }

  void Send(std::shared_ptr<HttpResponse> res, bool keep_alive) {
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
};

void HttpServer::Impl::DoAccept() {
  acceptor.async_accept(pool.Next().get_executor(), [self = shared_from_this()](beast::error_code ec, SessionSocket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !self->acceptor.is_open()) return;
      Log(LogLevel::kWarn, "accept_failed").Str("error", ec.message());
    } else if (!self->shutting_down.load()) {
      std::make_shared<HttpSession>(std::move(socket), self)->Start();
    }
    if (!self->shutting_down.load()) self->DoAccept();
  });
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

int HttpServer::in_flight() const { return impl_->in_flight.load(); }
int HttpServer::connections() const { return impl_->connections.load(); }
std::uint64_t HttpServer::timeouts() const { return impl_->timeouts.load(); }

}  // namespace vigil
