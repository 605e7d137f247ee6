#include "metrics/metrics_config.h"

#include <filesystem>

#include "core/file.h"
#include "core/yaml_reader.h"

namespace vigil {

LabelSpec MetricsConfig::Label(const std::string& name) const {
  auto it = labels.find(name);
  if (it != labels.end()) return it->second;
  return LabelSpec::TopK(name, 20);
}

MetricsConfig DefaultMetricsConfig() {
  MetricsConfig c;
  c.labels["flow_type"] = LabelSpec::TopK("flow_type", 16);
  c.labels["platform"] = LabelSpec::Allow("platform", {"web", "ios", "android", "desktop"});
  c.labels["device_class"] = LabelSpec::Allow("device_class", {"low", "mid", "high"});
  c.labels["browser_family"] = LabelSpec::Allow(
      "browser_family", {"chrome", "safari", "firefox", "edge", "samsung", "opera", "webview", "none"});
  c.labels["sdk_version"] = LabelSpec::TopK("sdk_version", 20);
  c.labels["app_version"] = LabelSpec::TopK("app_version", 20);
  c.labels["model_version"] = LabelSpec::TopK("model_version", 8);
  c.labels["policy_version"] = LabelSpec::TopK("policy_version", 8);
  c.labels["country"] = LabelSpec::TopK("country", 40);
  return c;
}

Result<MetricsConfig> ParseMetricsConfig(std::string_view yaml, std::string source) {
  YamlReader r(yaml, std::move(source));
  MetricsConfig c = DefaultMetricsConfig();
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (!root || root.IsNull()) return c;
  if (!root.IsMap()) {
    r.Fail(root, "", "expected a mapping");
    return r.first_error();
  }
  r.OnlyKeys(root, "", {"labels", "max_series_per_family", "events"});
  if (YAML::Node labels = root["labels"]) {
    if (!labels.IsMap()) {
      r.Fail(labels, "labels", "expected a mapping of label name to {allow} or {top_k}");
    } else {
      for (const auto& kv : labels) {
        std::string name = kv.first.as<std::string>();
        std::string path = JoinPath("labels", name);
        const YAML::Node& spec = kv.second;
        if (!ValidLabelName(name)) r.Fail(kv.first, path, "not a valid label name");
        if (!spec.IsMap()) {
          r.Fail(spec, path, "expected {allow: [...]} or {top_k: N}");
          continue;
        }
        r.OnlyKeys(spec, path, {"allow", "top_k", "max_len"});
        LabelSpec l;
        l.name = name;
        auto allow = r.StringList(spec, "allow", path, false);
        auto top_k = r.Number(spec, "top_k", path, false);
        auto max_len = r.Number(spec, "max_len", path, false);
        if (allow.has_value() == top_k.has_value()) {
          r.Fail(spec, path, "give exactly one of allow or top_k");
          continue;
        }
        if (allow) l.allow = *allow;
        if (allow && allow->empty()) r.Fail(spec, JoinPath(path, "allow"), "must not be empty");
        if (top_k) {
          if (*top_k < 1 || *top_k > 1000) r.Fail(spec["top_k"], JoinPath(path, "top_k"), "must be in 1..1000");
          l.top_k = static_cast<std::size_t>(*top_k);
        }
        if (max_len) {
          if (*max_len < 1 || *max_len > 256) r.Fail(spec["max_len"], JoinPath(path, "max_len"), "must be in 1..256");
          l.max_len = static_cast<std::size_t>(*max_len);
        }
        c.labels[name] = l;
      }
    }
  }
  if (auto n = r.Number(root, "max_series_per_family", "max_series_per_family", false)) {
    if (*n < 100 || *n > 1e6) r.Fail(root["max_series_per_family"], "max_series_per_family", "must be in 100..1000000");
    c.max_series_per_family = static_cast<std::size_t>(*n);
  }
  if (YAML::Node ev = root["events"]) {
    r.OnlyKeys(ev, "events", {"sink", "path", "max_bytes", "max_files", "queue"});
    if (auto sink = r.String(ev, "sink", "events.sink", false)) {
      if (*sink == "off" || *sink == "false") {
        c.events.sink = EventSink::kOff;
      } else if (*sink == "stdout") {
        c.events.sink = EventSink::kStdout;
      } else if (*sink == "file") {
        c.events.sink = EventSink::kFile;
      } else {
        r.Fail(ev["sink"], "events.sink", "must be off, stdout or file");
      }
    }
    if (auto p = r.String(ev, "path", "events.path", false)) {
      if (p->empty()) r.Fail(ev["path"], "events.path", "must not be empty");
      c.events.path = *p;
    }
    if (auto n = r.Number(ev, "max_bytes", "events.max_bytes", false)) {
      if (*n < 4096) r.Fail(ev["max_bytes"], "events.max_bytes", "must be at least 4096");
      c.events.max_bytes = static_cast<std::uint64_t>(*n);
    }
    if (auto n = r.Number(ev, "max_files", "events.max_files", false)) {
      if (*n < 1 || *n > 100) r.Fail(ev["max_files"], "events.max_files", "must be in 1..100");
      c.events.max_files = static_cast<int>(*n);
    }
    if (auto n = r.Number(ev, "queue", "events.queue", false)) {
      if (*n < 1 || *n > 1e7) r.Fail(ev["queue"], "events.queue", "must be in 1..10000000");
      c.events.queue = static_cast<std::size_t>(*n);
    }
  }
  if (!r.ok()) return r.first_error();
  return c;
}

Result<MetricsConfig> LoadMetricsConfig(const std::string& dir) {
  std::string path = dir + "/metrics.yaml";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return DefaultMetricsConfig();
  auto text = ReadFile(path);
  if (!text.ok()) return text.error();
  return ParseMetricsConfig(*text, path);
}

}  // namespace vigil
