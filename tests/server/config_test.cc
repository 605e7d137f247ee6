#include "server/config.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"

namespace vigil {
namespace {

TEST(ServerConfig, ShippedFileLoadsWithItsDefaults) {
  auto c = LoadServerConfig(vigil::testing::SourcePath("config/vigil.yaml"));
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  ServerConfig d;
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->listen_address, "127.0.0.1");
  EXPECT_EQ(c->audit_synchronous, "full");
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
  std::ofstream(path) << "audit: {synchronous: sometimes}\n";
  EXPECT_FALSE(LoadServerConfig(path).ok());
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
