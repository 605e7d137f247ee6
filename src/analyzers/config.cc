#include "analyzers/config.h"

#include <filesystem>

#include "core/file.h"
#include "core/yaml_reader.h"

namespace vigil::analyzers {
namespace {

void ReadSize(YamlReader& r, const YAML::Node& m, const char* key, std::string_view path, std::size_t& out,
              double min) {
  if (auto v = r.Number(m, key, path, false)) {
    if (*v < min || *v > 1e8 || *v != static_cast<double>(static_cast<std::size_t>(*v))) {
      r.Fail(m[key], JoinPath(path, key), "expected a whole number from " + std::to_string(static_cast<long>(min)));
    } else {
      out = static_cast<std::size_t>(*v);
    }
  }
}

void ReadPositive(YamlReader& r, const YAML::Node& m, const char* key, std::string_view path, double& out) {
  if (auto v = r.Number(m, key, path, false)) {
    if (!(*v > 0)) r.Fail(m[key], JoinPath(path, key), "must be positive");
    else out = *v;
  }
}

void ReadInt(YamlReader& r, const YAML::Node& m, const char* key, std::string_view path, int& out, int lo, int hi) {
  if (auto v = r.Number(m, key, path, false)) {
    if (*v < lo || *v > hi || *v != static_cast<double>(static_cast<int>(*v))) {
      r.Fail(m[key], JoinPath(path, key), "expected a whole number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    } else {
      out = static_cast<int>(*v);
    }
  }
}

void ReadEnabled(YamlReader& r, const YAML::Node& m, std::string_view path, bool& out) {
  if (auto v = r.Bool(m, "enabled", path, false)) out = *v;
}

void ReadVelocity(YamlReader& r, const YAML::Node& m, VelocityConfig& c) {
  r.OnlyKeys(m, "velocity", {"enabled", "max_entities", "limits"});
  ReadEnabled(r, m, "velocity", c.enabled);
  ReadSize(r, m, "max_entities", "velocity", c.max_entities, 64);
  const YAML::Node limits = m["limits"];
  if (!limits) return;
  if (!limits.IsMap()) return r.Fail(limits, "velocity.limits", "expected a map of entity to limits");
  for (auto it = limits.begin(); it != limits.end(); ++it) {
    const std::string entity = it->first.as<std::string>();
    std::size_t e = kEntityCount;
    for (std::size_t i = 0; i < kEntityCount; ++i) {
      if (kEntityNames[i] == entity) e = i;
    }
    const std::string p = "velocity.limits." + entity;
    if (e == kEntityCount) {
      r.Fail(it->first, p, "unknown entity (expected account, card, device or ip)");
      continue;
    }
    const YAML::Node lm = it->second;
    if (!lm.IsMap()) {
      r.Fail(lm, p, "expected {count_1m, count_1h, count_24h, amount_1m, amount_1h, amount_24h}");
      continue;
    }
    r.OnlyKeys(lm, p, {"count_1m", "count_1h", "count_24h", "amount_1m", "amount_1h", "amount_24h"});
    for (std::size_t w = 0; w < kWindowCount; ++w) {
      const std::string ck = "count_" + std::string(kWindowNames[w]);
      const std::string ak = "amount_" + std::string(kWindowNames[w]);
      ReadPositive(r, lm, ck.c_str(), p, c.limits[e].count[w]);
      ReadPositive(r, lm, ak.c_str(), p, c.limits[e].amount[w]);
    }
  }
}

void ReadTravel(YamlReader& r, const YAML::Node& m, TravelConfig& c) {
  r.OnlyKeys(m, "travel", {"enabled", "max_speed_kmh", "min_distance_km", "min_gap_seconds", "max_accounts"});
  ReadEnabled(r, m, "travel", c.enabled);
  ReadPositive(r, m, "max_speed_kmh", "travel", c.max_speed_kmh);
  if (auto v = r.Number(m, "min_distance_km", "travel", false)) {
    if (*v < 0) r.Fail(m["min_distance_km"], "travel.min_distance_km", "must not be negative");
    else c.min_distance_km = *v;
  }
  ReadPositive(r, m, "min_gap_seconds", "travel", c.min_gap_seconds);
  ReadSize(r, m, "max_accounts", "travel", c.max_accounts, 64);
}

void ReadSession(YamlReader& r, const YAML::Node& m, SessionConfig& c) {
  r.OnlyKeys(m, "trajectory", {"enabled", "model", "min_transition_probability", "spike_sigmas",
                               "min_events_for_rate", "min_events_for_mix", "automation_min_intervals",
                               "automation_max_cv", "session_ttl_minutes", "max_sessions"});
  ReadEnabled(r, m, "trajectory", c.enabled);
  if (auto v = r.String(m, "model", "trajectory", false)) c.model = *v;
  ReadPositive(r, m, "min_transition_probability", "trajectory", c.min_transition_probability);
  ReadPositive(r, m, "spike_sigmas", "trajectory", c.spike_sigmas);
  ReadInt(r, m, "min_events_for_rate", "trajectory", c.min_events_for_rate, 2, 1000000);
  ReadInt(r, m, "min_events_for_mix", "trajectory", c.min_events_for_mix, 2, 1000000);
  ReadInt(r, m, "automation_min_intervals", "trajectory", c.automation_min_intervals, 2, SessionAnalyzer::kIntervals);
  ReadPositive(r, m, "automation_max_cv", "trajectory", c.automation_max_cv);
  ReadPositive(r, m, "session_ttl_minutes", "trajectory", c.session_ttl_minutes);
  ReadSize(r, m, "max_sessions", "trajectory", c.max_sessions, 64);
}

void ReadProbe(YamlReader& r, const YAML::Node& m, ProbeConfig& c) {
  r.OnlyKeys(m, "probe", {"enabled", "small_amount_max", "window_minutes", "min_events", "max_entities"});
  ReadEnabled(r, m, "probe", c.enabled);
  if (auto v = r.Number(m, "small_amount_max", "probe", false)) {
    if (*v < 0) r.Fail(m["small_amount_max"], "probe.small_amount_max", "must not be negative");
    else c.small_amount_max = *v;
  }
  ReadInt(r, m, "window_minutes", "probe", c.window_minutes, 1, ProbeAnalyzer::kMaxWindow);
  ReadInt(r, m, "min_events", "probe", c.min_events, 2, 65535);
  ReadSize(r, m, "max_entities", "probe", c.max_entities, 64);
}

void ReadModel(YamlReader& r, const YAML::Node& m, FraudModelConfig& c) {
  r.OnlyKeys(m, "fraud_model", {"enabled", "schema", "evaluator", "client_signal"});
  ReadEnabled(r, m, "fraud_model", c.enabled);
  if (auto v = r.String(m, "schema", "fraud_model", c.enabled)) c.schema = *v;
  if (auto v = r.String(m, "evaluator", "fraud_model", false)) {
    if (*v != "native" && *v != "c_api" && *v != "auto") {
      r.Fail(m["evaluator"], "fraud_model.evaluator", "expected native, c_api or auto");
    }
    c.evaluator = *v;
  }
  if (auto v = r.String(m, "client_signal", "fraud_model", false)) {
    if (*v != "hosted" && *v != "client") r.Fail(m["client_signal"], "fraud_model.client_signal", "expected hosted or client");
    c.client_signal = *v;
  }
}

}  // namespace

Result<AnalyzersConfig> ParseAnalyzersConfig(std::string_view text, const std::string& source) {
  YamlReader r(text, source);
  if (!r.ok()) return r.first_error();
  AnalyzersConfig c;
  const YAML::Node& root = r.root();
  if (root.IsNull()) return c;
  if (!root.IsMap()) return Error::Invalid("expected a map of sections", source);
  r.OnlyKeys(root, "", {"version", "velocity", "travel", "trajectory", "probe", "fraud_model"});
  auto section = [&](const char* name, auto&& read) {
    const YAML::Node n = root[name];
    if (!n) return;
    if (!n.IsMap()) return r.Fail(n, name, "expected a map");
    read(n);
  };
  section("velocity", [&](const YAML::Node& n) { ReadVelocity(r, n, c.velocity); });
  section("travel", [&](const YAML::Node& n) { ReadTravel(r, n, c.travel); });
  section("trajectory", [&](const YAML::Node& n) { ReadSession(r, n, c.session); });
  section("probe", [&](const YAML::Node& n) { ReadProbe(r, n, c.probe); });
  if (root["fraud_model"]) {
    section("fraud_model", [&](const YAML::Node& n) { ReadModel(r, n, c.fraud_model); });
  } else {
    c.fraud_model.enabled = false;
  }
  if (!r.ok()) return r.first_error();
  return c;
}

Result<AnalyzersConfig> LoadAnalyzersConfig(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    AnalyzersConfig c;
    c.fraud_model.enabled = false;
    return c;
  }
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return ParseAnalyzersConfig(*text, path);
}

}  // namespace vigil::analyzers
