// vigil serve's configuration: YAML with defaults that run with no file at all. Every option is
// documented in config/vigil.yaml and docs/configuration.md.
#pragma once

#include <string>

#include "api/codec.h"
#include "core/result.h"
#include "server/http_server.h"

namespace vigil {

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  int port = 8080;
  std::string data_dir = "./vigil-data";
  std::string config_dir;          // policy, reasons, calibration, fusion; "" = the default search
  int threads = 0;                 // io threads; 0 = one per core
  HttpLimits http;
  RequestLimits request;
  std::string audit_synchronous = "full";
  std::size_t audit_max_batch = 512;
  std::size_t audit_parallel_fsyncs = 3;
  std::size_t audit_wal_pinned_max_bytes = std::size_t{1} << 30;  // SqliteAuditOptions::wal_pinned_max_bytes
  int shutdown_deadline_ms = 10000;
  std::string log_level = "info";
  std::size_t sessions_max_open = 1'000'000;  // open liveness sessions held at once (128 B each)
  bool simulated_clock = false;    // take event time from the request's timestamp_ms
  std::string port_file;           // write the bound port here once listening ("" = none)
};

// Reads a config file; unknown fields and bad values are errors naming file, line and field.
Result<ServerConfig> LoadServerConfig(const std::string& path);
// Applies "ADDR:PORT" (or ":PORT", "PORT").
Status ApplyListen(const std::string& listen, ServerConfig& cfg);

}  // namespace vigil
