#include "client/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace vigil {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string HttpResult::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

struct HttpClient::Impl {
  std::string host;
  int port;
  std::chrono::milliseconds timeout;
  net::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  Status Connect() {
    if (stream && stream->socket().is_open()) return Status::Ok();
    // The io_context's first stream makes its epoll instance and the resolver its thread; either
    // throws when the process is out of descriptors or threads.
    try {
      return ConnectOrThrow();
    } catch (const boost::system::system_error& e) {
      stream.reset();
      return Error::Io("connect " + host + ":" + std::to_string(port) + ": " + e.code().message());
    }
  }

  Status ConnectOrThrow() {
    stream.emplace(ioc);
    buffer.clear();
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return Error::Io("resolve " + host + ": " + ec.message());
    stream->expires_after(timeout);
    stream->connect(results, ec);
    if (ec) {
      stream.reset();
      return Error::Io("connect " + host + ":" + std::to_string(port) + ": " + ec.message());
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    return Status::Ok();
  }

  Result<HttpResult> ReadResponse() {
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    stream->expires_after(timeout);
    http::read(*stream, buffer, parser, ec);
    if (ec) {
      stream.reset();
      return Error::Io("read: " + ec.message());
    }
    auto res = parser.release();
    HttpResult out;
    out.status = static_cast<int>(res.result_int());
    out.body = std::move(res.body());
    for (const auto& f : res) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      out.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    if (!res.keep_alive()) stream.reset();
    return out;
  }
};

HttpClient::HttpClient(std::string host, int port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (impl_->stream) {
    beast::error_code ec;
    impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    impl_->stream.reset();
  }
}

Result<HttpResult> HttpClient::Request(std::string_view method, std::string_view target, std::string_view body,
                                       const std::vector<std::pair<std::string, std::string>>& headers) {
  // One retry on a stale keep-alive connection the server closed while idle.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = impl_->stream.has_value();
    if (Status s = impl_->Connect(); !s.ok()) return s.error();
    http::request<http::string_body> req{http::string_to_verb(std::string(method)),
                                         std::string(target), 11};
    req.set(http::field::host, impl_->host);
    req.set(http::field::user_agent, "vigil-client");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = std::string(body);
    req.prepare_payload();
    beast::error_code ec;
    impl_->stream->expires_after(impl_->timeout);
    http::write(*impl_->stream, req, ec);
    if (ec) {
      impl_->stream.reset();
      if (reused) continue;
      return Error::Io("write: " + ec.message());
    }
    auto r = impl_->ReadResponse();
    if (!r.ok() && reused && attempt == 0) continue;
    return r;
  }
  return Error::Io("connection closed");
}

Result<HttpResult> HttpClient::PostJson(std::string_view target, std::string_view body, std::string_view bearer) {
  std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"}};
  if (!bearer.empty()) h.emplace_back("Authorization", "Bearer " + std::string(bearer));
  return Request("POST", target, body, h);
}

Result<HttpResult> HttpClient::Raw(std::string_view bytes) {
  if (Status s = impl_->Connect(); !s.ok()) return s.error();
  beast::error_code ec;
  net::write(impl_->stream->socket(), net::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return Error::Io("write: " + ec.message());
  return impl_->ReadResponse();
}

}  // namespace vigil
