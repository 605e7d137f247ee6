// A small blocking HTTP/1.1 client on Boost.Beast with keep-alive, for the traffic simulator,
// webhook delivery and tests. One HttpClient is one connection, reconnected on demand; not
// thread-safe (use one per thread).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace vigil {

struct HttpResult {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the response. Errors are transport errors (connect, reset,
  // timeout); any HTTP status is a result.
  Result<HttpResult> Request(std::string_view method, std::string_view target, std::string_view body = {},
                             const std::vector<std::pair<std::string, std::string>>& headers = {});
  Result<HttpResult> Get(std::string_view target, const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Request("GET", target, {}, headers);
  }
  Result<HttpResult> PostJson(std::string_view target, std::string_view body, std::string_view bearer = {});
  // Sends raw bytes and reads one response (for malformed-request tests).
  Result<HttpResult> Raw(std::string_view bytes);
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
