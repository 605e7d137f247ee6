#include "server/config.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>

#include "server/http_server.h"
#include "server/responses.h"
#include "test_util.h"

namespace vigil {
namespace {

// What FitConnectionsToDescriptors returns in a child process started with the given descriptor
// limits (a lowered hard limit cannot be raised again, so not in this process): the connections,
// the descriptor limit it reports, and the soft limit afterwards.
std::array<std::int64_t, 3> FitInChild(rlim_t soft, rlim_t hard, int wanted) {
  int fds[2];
  if (::pipe(fds) != 0) return {-2, -2, -2};
  pid_t pid = ::fork();
  if (pid == 0) {
    rlimit lim{soft, hard};
    std::array<std::int64_t, 3> out{-3, -3, -3};
    if (::setrlimit(RLIMIT_NOFILE, &lim) == 0) {
      out[0] = FitConnectionsToDescriptors(wanted, &out[1]);
      rlimit after{};
      ::getrlimit(RLIMIT_NOFILE, &after);
      out[2] = static_cast<std::int64_t>(after.rlim_cur);
    }
    (void)!::write(fds[1], out.data(), sizeof out);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::array<std::int64_t, 3> out{-4, -4, -4};
  (void)!::read(fds[0], out.data(), sizeof out);
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  return out;
}

TEST(ServerConfig, MaxConnectionsFitTheDescriptorLimit) {
  // The soft limit is raised to the hard one, and the connections fit under it less 128.
  EXPECT_EQ(FitInChild(500, 2000, 10000), (std::array<std::int64_t, 3>{1872, 2000, 2000}));
  EXPECT_EQ(FitInChild(500, 2000, 100), (std::array<std::int64_t, 3>{100, 2000, 2000}));
  EXPECT_EQ(FitInChild(1000, 1000, 872), (std::array<std::int64_t, 3>{872, 1000, 1000}));
  EXPECT_EQ(FitInChild(1000, 1000, 873), (std::array<std::int64_t, 3>{872, 1000, 1000}));
  EXPECT_EQ(FitInChild(100, 100, 10000), (std::array<std::int64_t, 3>{1, 100, 100}));
}

TEST(ServerConfig, ShippedFileLoadsWithItsDefaults) {
  auto c = LoadServerConfig(vigil::testing::SourcePath("config/vigil.yaml"));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ServerConfig d;
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->listen_address, "127.0.0.1");
  EXPECT_EQ(c->audit_synchronous, "full");
  EXPECT_EQ(c->audit_parallel_fsyncs, d.audit_parallel_fsyncs);
  EXPECT_EQ(c->http.max_body_bytes, d.http.max_body_bytes);
  EXPECT_EQ(c->http.max_in_flight, d.http.max_in_flight);
  EXPECT_EQ(c->request.max_signals, d.request.max_signals);
}

TEST(ServerConfig, ErrorsNameFileLineAndField) {
  std::string path = ::testing::TempDir() + "/bad_vigil.yaml";
  std::ofstream(path) << "listen: 127.0.0.1:8080\nhttp:\n  max_in_flight: -3\n";
  auto c = LoadServerConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("http.max_in_flight"), std::string::npos);
  EXPECT_EQ(c.error().where.rfind(path + ":3:", 0), 0u) << c.error().where;
  // The bound on bodies held at once must take at least one body of the largest size.
  std::ofstream(path) << "http: {max_body_bytes: 65536, max_buffered_body_bytes: 65535}\n";
  auto bodies = LoadServerConfig(path);
  ASSERT_FALSE(bodies.ok());
  EXPECT_NE(bodies.error().message.find("at least http.max_body_bytes"), std::string::npos) << bodies.error().message;
  std::ofstream(path) << "http: {max_body_bytes: 65536, max_buffered_body_bytes: 65536, max_connections: 50}\n";
  auto fits = LoadServerConfig(path);
  ASSERT_TRUE(fits.ok()) << fits.error().ToString();
  EXPECT_EQ(fits->http.max_buffered_body_bytes, 65536u);
  EXPECT_EQ(fits->http.max_connections, 50);
  std::ofstream(path) << "audit: {synchronous: sometimes}\n";
  EXPECT_FALSE(LoadServerConfig(path).ok());
  std::ofstream(path) << "audit: {parallel_fsyncs: 0}\n";
  auto zero = LoadServerConfig(path);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("audit.parallel_fsyncs"), std::string::npos) << zero.error().message;
  std::ofstream(path) << "audit: {parallel_fsyncs: 2}\n";
  auto two = LoadServerConfig(path);
  ASSERT_TRUE(two.ok()) << two.error().ToString();
  EXPECT_EQ(two->audit_parallel_fsyncs, 2u);
  std::ofstream(path) << "audit: {wal_pinned_max_bytes: 1048576}\n";  // below 256 MiB
  auto small = LoadServerConfig(path);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.error().message.find("audit.wal_pinned_max_bytes"), std::string::npos) << small.error().message;
  std::ofstream(path) << "audit: {wal_pinned_max_bytes: 4294967296}\n";
  auto four = LoadServerConfig(path);
  ASSERT_TRUE(four.ok()) << four.error().ToString();
  EXPECT_EQ(four->audit_wal_pinned_max_bytes, std::size_t{4} << 30);
  std::ofstream(path) << "lisen: 1\n";
  auto typo = LoadServerConfig(path);
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("unknown field"), std::string::npos);
}

TEST(ServerConfig, ListenForms) {
  ServerConfig c;
  ASSERT_TRUE(ApplyListen("0.0.0.0:9000", c).ok());
  EXPECT_EQ(c.listen_address, "0.0.0.0");
  EXPECT_EQ(c.port, 9000);
  ASSERT_TRUE(ApplyListen(":0", c).ok());
  EXPECT_EQ(c.port, 0);
  EXPECT_FALSE(ApplyListen("host:99999", c).ok());
  EXPECT_FALSE(ApplyListen("host:http", c).ok());
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// The request helpers every module's routes share (server/responses.h).
TEST(RequestHelpers, QueryParam) {
  EXPECT_EQ(QueryParam("/v1/monitor/alerts?state=firing", "state"), "firing");
  EXPECT_EQ(QueryParam("/x?a=1&window=24h&b=2", "window"), "24h");
  EXPECT_EQ(QueryParam("/x?windows=1&window=7d", "window"), "7d");  // a longer name is not a match
  EXPECT_EQ(QueryParam("/x?window", "window"), "");
  EXPECT_EQ(QueryParam("/x?a=1", "window"), "");
  EXPECT_EQ(QueryParam("/x", "window"), "");
}

TEST(RequestHelpers, IsJsonRequest) {
  HttpRequest req;
  EXPECT_FALSE(IsJsonRequest(req));
  req.set(http::field::content_type, "application/json");
  EXPECT_TRUE(IsJsonRequest(req));
  req.set(http::field::content_type, "application/json ; charset=utf-8");
  EXPECT_TRUE(IsJsonRequest(req));
  req.set(http::field::content_type, "text/plain");
  EXPECT_FALSE(IsJsonRequest(req));
  req.set(http::field::content_type, "application/jsonp");
  EXPECT_FALSE(IsJsonRequest(req));
}

}  // namespace
}  // namespace vigil
