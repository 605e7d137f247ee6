#include "server/config.h"

#include <cmath>

#include "core/yaml_reader.h"

namespace vigil {

Status ApplyListen(const std::string& listen, ServerConfig& cfg) {
  auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  std::string port = colon == std::string::npos ? listen : listen.substr(colon + 1);
  try {
    std::size_t used = 0;
    int p = std::stoi(port, &used);
    if (used != port.size() || p < 0 || p > 65535) throw std::out_of_range("port");
    cfg.port = p;
  } catch (const std::exception&) {
    return Error::Invalid("listen must be ADDRESS:PORT with a port from 0 to 65535, got '" + listen + "'");
  }
  if (!host.empty()) cfg.listen_address = host;
  return Status::Ok();
}

Result<ServerConfig> LoadServerConfig(const std::string& path) {
  ServerConfig cfg;
  YamlReader r = YamlReader::FromFile(path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) return Error::Parse("expected a mapping", path);
  r.OnlyKeys(root, "", {"listen", "data_dir", "config_dir", "threads", "http", "request", "audit",
                        "shutdown_deadline_ms", "log_level", "simulated_clock", "sessions"});
  auto whole = [&](const YAML::Node& n, const char* key, std::string_view p, double lo, double hi, auto& out) {
    if (auto v = r.Number(n, key, p, false)) {
      if (*v < lo || *v > hi || std::floor(*v) != *v) {
        r.Fail(n[key], JoinPath(p, key), "expected a whole number from " + std::to_string(static_cast<long long>(lo)) +
                                             " to " + std::to_string(static_cast<long long>(hi)));
      } else {
        out = static_cast<std::remove_reference_t<decltype(out)>>(*v);
      }
    }
  };
  if (auto l = r.String(root, "listen", "", false)) {
    if (Status s = ApplyListen(*l, cfg); !s.ok()) r.Fail(root["listen"], "listen", s.error().message);
  }
  if (auto d = r.String(root, "data_dir", "", false)) cfg.data_dir = *d;
  if (auto d = r.String(root, "config_dir", "", false)) cfg.config_dir = *d;
  whole(root, "threads", "", 0, 256, cfg.threads);
  whole(root, "shutdown_deadline_ms", "", 100, 600000, cfg.shutdown_deadline_ms);
  if (auto l = r.String(root, "log_level", "", false)) cfg.log_level = *l;
  if (auto s = r.Bool(root, "simulated_clock", "", false)) cfg.simulated_clock = *s;
  if (const YAML::Node h = root["http"]; h.IsDefined()) {
    r.OnlyKeys(h, "http", {"max_body_bytes", "max_header_bytes", "read_timeout_ms", "idle_timeout_ms", "max_in_flight",
                          "max_connections", "max_buffered_body_bytes"});
    whole(h, "max_body_bytes", "http", 1024, 64 << 20, cfg.http.max_body_bytes);
    whole(h, "max_header_bytes", "http", 1024, 1 << 20, cfg.http.max_header_bytes);
    whole(h, "read_timeout_ms", "http", 100, 600000, cfg.http.read_timeout_ms);
    whole(h, "idle_timeout_ms", "http", 100, 3600000, cfg.http.idle_timeout_ms);
    whole(h, "max_in_flight", "http", 1, 1000000, cfg.http.max_in_flight);
    whole(h, "max_connections", "http", 1, 1000000, cfg.http.max_connections);
    whole(h, "max_buffered_body_bytes", "http", 1024, std::size_t{64} << 30, cfg.http.max_buffered_body_bytes);
    if (cfg.http.max_buffered_body_bytes < cfg.http.max_body_bytes) {
      r.Fail(h["max_buffered_body_bytes"], "http.max_buffered_body_bytes",
             "must be at least http.max_body_bytes (" + std::to_string(cfg.http.max_body_bytes) + "), or no request of the largest size is taken");
    }
  }
  if (const YAML::Node q = root["request"]; q.IsDefined()) {
    r.OnlyKeys(q, "request", {"max_context_fields", "max_string_bytes", "max_signals"});
    whole(q, "max_context_fields", "request", 1, 1024, cfg.request.max_context_fields);
    whole(q, "max_string_bytes", "request", 16, 65536, cfg.request.max_string_bytes);
    whole(q, "max_signals", "request", 1, 256, cfg.request.max_signals);
  }
  if (const YAML::Node se = root["sessions"]; se.IsDefined()) {
    r.OnlyKeys(se, "sessions", {"max_open"});
    whole(se, "max_open", "sessions", 1, 100000000, cfg.sessions_max_open);
  }
  if (const YAML::Node a = root["audit"]; a.IsDefined()) {
    r.OnlyKeys(a, "audit", {"synchronous", "max_batch", "parallel_fsyncs", "wal_pinned_max_bytes"});
    if (auto s = r.String(a, "synchronous", "audit", false)) {
      if (*s != "off" && *s != "normal" && *s != "full" && *s != "extra") {
        r.Fail(a["synchronous"], "audit.synchronous", "expected off, normal, full or extra");
      } else {
        cfg.audit_synchronous = *s;
      }
    }
    whole(a, "max_batch", "audit", 1, 100000, cfg.audit_max_batch);
    whole(a, "parallel_fsyncs", "audit", 1, 16, cfg.audit_parallel_fsyncs);
    whole(a, "wal_pinned_max_bytes", "audit", std::size_t{256} << 20, std::size_t{1} << 42, cfg.audit_wal_pinned_max_bytes);
  }
  if (!r.ok()) return r.first_error();
  return cfg;
}

}  // namespace vigil
