#include "simulate/scenario.h"

#include <algorithm>
#include <filesystem>

#include "core/yaml_reader.h"

namespace vigil::sim {
namespace {

struct KindName {
  IncidentKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {
    {IncidentKind::kScoreShift, "score_shift"},       {IncidentKind::kAttackSurge, "attack_surge"},
    {IncidentKind::kCaptureFailure, "capture_failure"}, {IncidentKind::kLoadSurge, "load_surge"},
    {IncidentKind::kModelRelease, "model_release"},   {IncidentKind::kAmountDrift, "amount_drift"},
};

constexpr const char* kSelectorKeys[] = {"flow_type", "kind", "platform", "browser_family",
                                         "sdk_version", "device_class", "country"};

void ReadShare(YamlReader& r, const YAML::Node& map, const char* key, std::string_view path, double& out,
               double max = 1.0) {
  if (auto v = r.Number(map, key, path, false)) {
    if (*v < 0.0 || *v > max) {
      r.Fail(map[key], JoinPath(path, key), "must be between 0 and " + std::to_string(max));
    } else {
      out = *v;
    }
  }
}

void ReadNumber(YamlReader& r, const YAML::Node& map, const char* key, std::string_view path, double& out) {
  if (auto v = r.Number(map, key, path, false)) out = *v;
}

void ReadStringMap(YamlReader& r, const YAML::Node& map, const char* key, std::string_view path,
                   std::map<std::string, std::string>& out, const char* const* allowed, std::size_t n_allowed) {
  const YAML::Node node = map[key];
  if (!node) return;
  std::string p = JoinPath(path, key);
  if (!node.IsMap()) return r.Fail(node, p, "must be a mapping of field: value");
  for (const auto& kv : node) {
    auto k = kv.first.as<std::string>();
    if (allowed && std::find_if(allowed, allowed + n_allowed, [&](const char* a) { return k == a; }) ==
                       allowed + n_allowed) {
      r.Fail(kv.first, JoinPath(p, k), "unknown selector field (flow_type, kind, platform, browser_family, "
                                       "sdk_version, device_class, country)");
      continue;
    }
    if (!kv.second.IsScalar()) {
      r.Fail(kv.second, JoinPath(p, k), "must be a single value");
      continue;
    }
    out[k] = kv.second.as<std::string>();
  }
}

void ReadIncident(YamlReader& r, const YAML::Node& node, std::string_view path, Incident& inc) {
  inc.where_text = r.Where(node);
  if (!node.IsMap()) return r.Fail(node, path, "an incident is a mapping with a kind");
  auto kind = r.String(node, "kind", path, true);
  if (!kind) return;
  auto it = std::find_if(std::begin(kKinds), std::end(kKinds), [&](const KindName& k) { return *kind == k.name; });
  if (it == std::end(kKinds)) {
    return r.Fail(node["kind"], JoinPath(path, "kind"),
                  "unknown incident kind '" + *kind +
                      "' (score_shift, attack_surge, capture_failure, load_surge, model_release, amount_drift)");
  }
  inc.kind = it->kind;
  switch (inc.kind) {
    case IncidentKind::kScoreShift:
      r.OnlyKeys(node, path, {"kind", "from_day", "until_day", "ramp_days", "where", "set_context", "genuine_shift",
                              "attack_shift", "legit_fraud_shift"});
      break;
    case IncidentKind::kAttackSurge:
      r.OnlyKeys(node, path, {"kind", "from_day", "until_day", "ramp_days", "where", "set_context", "multiplier",
                              "attack_type"});
      break;
    case IncidentKind::kCaptureFailure:
      r.OnlyKeys(node, path, {"kind", "from_day", "until_day", "ramp_days", "where", "set_context", "failure_share"});
      break;
    case IncidentKind::kLoadSurge:
      r.OnlyKeys(node, path, {"kind", "from_day", "until_day", "ramp_days", "where", "set_context", "multiplier",
                              "payload_pad_bytes"});
      break;
    case IncidentKind::kModelRelease:
      r.OnlyKeys(node, path, {"kind", "from_day", "until_day", "ramp_days", "where", "set_context", "share",
                              "score_scale", "score_offset", "model_version"});
      break;
    case IncidentKind::kAmountDrift:
      r.OnlyKeys(node, path, {"kind", "from_day", "until_day", "ramp_days", "where", "set_context", "amount_factor",
                              "payment_methods", "legit_fraud_shift"});
      break;
  }
  ReadShare(r, node, "from_day", path, inc.from_day, 3650);
  ReadShare(r, node, "until_day", path, inc.until_day, 3650);
  ReadShare(r, node, "ramp_days", path, inc.ramp_days, 3650);
  if (inc.until_day <= inc.from_day) r.Fail(node["until_day"], JoinPath(path, "until_day"), "must be after from_day");
  ReadStringMap(r, node, "where", path, inc.where, kSelectorKeys, std::size(kSelectorKeys));
  ReadStringMap(r, node, "set_context", path, inc.set_context, nullptr, 0);
  ReadNumber(r, node, "genuine_shift", path, inc.genuine_shift);
  ReadNumber(r, node, "attack_shift", path, inc.attack_shift);
  ReadNumber(r, node, "legit_fraud_shift", path, inc.legit_fraud_shift);
  ReadShare(r, node, "multiplier", path, inc.multiplier, 1000);
  if (auto v = r.String(node, "attack_type", path, false)) inc.attack_type = *v;
  ReadShare(r, node, "failure_share", path, inc.failure_share);
  ReadShare(r, node, "payload_pad_bytes", path, inc.payload_pad_bytes, 200);
  ReadShare(r, node, "share", path, inc.share);
  ReadShare(r, node, "score_scale", path, inc.score_scale, 10);
  ReadNumber(r, node, "score_offset", path, inc.score_offset);
  if (auto v = r.String(node, "model_version", path, false)) inc.model_version = *v;
  ReadShare(r, node, "amount_factor", path, inc.amount_factor, 100);
  if (const YAML::Node pm = node["payment_methods"]) {
    std::string p = JoinPath(path, "payment_methods");
    if (!pm.IsMap()) {
      r.Fail(pm, p, "must be a mapping of method: share");
    } else {
      for (const auto& kv : pm) {
        double share = 0;
        ReadShare(r, pm, kv.first.as<std::string>().c_str(), p, share);
        inc.payment_methods[kv.first.as<std::string>()] = share;
      }
    }
  }
}

constexpr const char* kRates[] = {"pass", "retry", "fail", "review", "allow", "challenge", "deny", "answered"};

void ReadExpect(YamlReader& r, const YAML::Node& node, Scenario& s) {
  if (!node) return;
  if (!node.IsMap()) return r.Fail(node, "expect", "must be a mapping of rate: [min, max]");
  for (const auto& kv : node) {
    auto name = kv.first.as<std::string>();
    std::string p = JoinPath("expect", name);
    if (std::find_if(std::begin(kRates), std::end(kRates), [&](const char* k) { return name == k; }) == std::end(kRates)) {
      r.Fail(kv.first, p, "unknown rate (pass, retry, fail, review, allow, challenge, deny, answered)");
      continue;
    }
    auto bounds = r.NumberList(node, name.c_str(), "expect", true);
    if (!bounds) continue;
    if (bounds->size() != 2 || (*bounds)[0] > (*bounds)[1] || (*bounds)[0] < 0 || (*bounds)[1] > 1) {
      r.Fail(kv.second, p, "must be [min, max] with 0 <= min <= max <= 1");
      continue;
    }
    s.expect.push_back({name, (*bounds)[0], (*bounds)[1]});
  }
}

}  // namespace

const char* IncidentKindName(IncidentKind k) {
  for (const auto& e : kKinds) {
    if (e.kind == k) return e.name;
  }
  return "?";
}

Result<Scenario> LoadScenario(const std::string& path) {
  YamlReader r = YamlReader::FromFile(path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  Scenario s;
  s.source = path;
  if (!root.IsMap()) {
    r.Fail(root, "", "a scenario is a mapping (name, days, mix, labels, incidents)");
    return r.first_error();
  }
  r.OnlyKeys(root, "", {"name", "description", "days", "events_per_day", "mix", "labels", "incidents", "expect"});
  if (auto v = r.String(root, "name", "", true)) s.name = *v;
  if (auto v = r.String(root, "description", "", false)) s.description = *v;
  ReadShare(r, root, "days", "", s.days, 3650);
  ReadShare(r, root, "events_per_day", "", s.events_per_day, 1e9);
  if (s.days <= 0) r.Fail(root["days"], "days", "must be positive");
  if (s.events_per_day <= 0) r.Fail(root["events_per_day"], "events_per_day", "must be positive");
  if (const YAML::Node mix = root["mix"]) {
    r.OnlyKeys(mix, "mix", {"liveness_share", "attack_share", "fraud_share", "quality_trouble_share"});
    ReadShare(r, mix, "liveness_share", "mix", s.liveness_share);
    ReadShare(r, mix, "attack_share", "mix", s.attack_share);
    ReadShare(r, mix, "fraud_share", "mix", s.fraud_share);
    ReadShare(r, mix, "quality_trouble_share", "mix", s.quality_trouble_share);
  }
  if (const YAML::Node labels = root["labels"]) {
    r.OnlyKeys(labels, "labels", {"share", "review_hours", "chargeback_days"});
    ReadShare(r, labels, "share", "labels", s.label_share);
    ReadShare(r, labels, "review_hours", "labels", s.review_hours, 24 * 365);
    ReadShare(r, labels, "chargeback_days", "labels", s.chargeback_days, 365);
  }
  if (const YAML::Node incs = root["incidents"]) {
    if (!incs.IsSequence()) {
      r.Fail(incs, "incidents", "must be a list");
    } else {
      for (std::size_t i = 0; i < incs.size(); ++i) {
        Incident inc;
        ReadIncident(r, incs[i], "incidents[" + std::to_string(i) + "]", inc);
        s.incidents.push_back(std::move(inc));
      }
    }
  }
  ReadExpect(r, root["expect"], s);
  if (!r.ok()) return r.first_error();
  return s;
}

std::vector<std::string> ListScenarios(const std::string& config_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(config_dir + "/scenarios", ec)) {
    if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<Scenario> FindScenario(const std::string& name_or_path, const std::string& config_dir) {
  if (name_or_path.find('/') != std::string::npos || name_or_path.ends_with(".yaml")) {
    return LoadScenario(name_or_path);
  }
  std::string path = config_dir + "/scenarios/" + name_or_path + ".yaml";
  if (!std::filesystem::exists(path)) {
    std::string known;
    for (const auto& n : ListScenarios(config_dir)) known += (known.empty() ? "" : ", ") + n;
    return Error::NotFound("no scenario '" + name_or_path + "' in " + config_dir + "/scenarios (known: " + known + ")");
  }
  return LoadScenario(path);
}

}  // namespace vigil::sim
