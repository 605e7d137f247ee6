// config/drift.yaml and the JSON of GET /v1/monitor/drift.
#include <cmath>
#include <filesystem>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/yaml_reader.h"
#include "drift/monitor.h"

namespace vigil::drift {

Result<MonitorConfig> LoadMonitorConfig(const std::string& path) {
  MonitorConfig cfg;
  if (!std::filesystem::exists(path)) return cfg;
  YamlReader r = YamlReader::FromFile(path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) return Error::Parse("expected a mapping", path);
  r.OnlyKeys(root, "", {"window_seconds", "bins", "trailing_days", "reference", "quality", "mix_fields",
                        "max_features", "max_slice_values", "max_categories", "min_samples"});
  auto whole = [&](const char* key, double lo, double hi, auto& out, double scale = 1.0) {
    if (auto v = r.Number(root, key, "", false)) {
      if (*v < lo || *v > hi || std::floor(*v) != *v) {
        r.Fail(root[key], key, "expected a whole number from " + std::to_string(static_cast<long long>(lo)) + " to " +
                                   std::to_string(static_cast<long long>(hi)));
      } else {
        out = static_cast<std::remove_reference_t<decltype(out)>>(*v * scale);
      }
    }
  };
  whole("window_seconds", 1, 86400, cfg.window_ms, 1000.0);
  whole("bins", 2, 1000, cfg.bins);
  int days = 7;
  whole("trailing_days", 1, 60, days);
  cfg.trailing_hours = days * 24;
  whole("max_features", 1, 1000, cfg.max_features);
  whole("max_slice_values", 1, 10000, cfg.max_slice_values);
  whole("max_categories", 1, 10000, cfg.max_categories);
  whole("min_samples", 1, 1000000, cfg.min_samples);
  if (auto ref = r.String(root, "reference", "", false)) {
    if (*ref == "auto") cfg.reference = MonitorConfig::Reference::kAuto;
    else if (*ref == "trailing") cfg.reference = MonitorConfig::Reference::kTrailing;
    else if (*ref == "frozen") cfg.reference = MonitorConfig::Reference::kFrozen;
    else r.Fail(root["reference"], "reference", "expected auto, trailing or frozen");
  }
  if (auto mix = r.StringList(root, "mix_fields", "", false)) cfg.mix_fields = *mix;
  if (const YAML::Node q = root["quality"]; q.IsDefined()) {
    cfg.quality.clear();
    if (!q.IsSequence()) {
      r.Fail(q, "quality", "expected a list of {name, min, max}");
    } else {
      for (std::size_t i = 0; i < q.size(); ++i) {
        const YAML::Node e = q[i];
        std::string p = "quality[" + std::to_string(i) + "]";
        r.OnlyKeys(e, p, {"name", "min", "max"});
        auto name = r.String(e, "name", p, true);
        auto lo = r.Number(e, "min", p, false), hi = r.Number(e, "max", p, false);
        QualityFeature f{name.value_or(""), lo.value_or(0.0), hi.value_or(1.0)};
        if (!(f.hi > f.lo)) r.Fail(e, p, "max must be greater than min");
        cfg.quality.push_back(f);
      }
    }
  }
  if (!r.ok()) return r.first_error();
  return cfg;
}

namespace {
void Measures(JsonWriter& w, const NumericDrift& d) {
  w.BeginObject()
      .Field("n_reference", static_cast<std::int64_t>(d.n_reference))
      .Field("n_current", static_cast<std::int64_t>(d.n_current))
      .Field("psi", d.psi)
      .Field("ks_statistic", d.ks_statistic)
      .Field("ks_p_value", d.ks_p_value)
      .Field("js_distance", d.js_distance)
      .Field("wasserstein", d.wasserstein)
      .Field("wasserstein_norm", d.wasserstein_norm)
      .Field("reference_mean", d.reference_mean)
      .Field("current_mean", d.current_mean)
      .EndObject();
}
}  // namespace

std::string RenderDriftReport(const DriftReport& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("window_ms", r.window_ms);
  w.Key("current_window");
  if (r.current_start_ms < 0) {
    w.Null();
  } else {
    w.BeginObject().Field("start", FormatRfc3339Ms(r.current_start_ms))
        .Field("end", FormatRfc3339Ms(r.current_start_ms + r.window_ms)).EndObject();
  }
  w.Key("open_window");
  if (r.open_start_ms < 0) {
    w.Null();
  } else {
    w.BeginObject().Field("start", FormatRfc3339Ms(r.open_start_ms)).Field("decisions", static_cast<std::int64_t>(r.open_count)).EndObject();
  }
  w.Key("reference").BeginObject().Field("mode", r.reference_mode);
  if (r.reference_mode == "frozen") w.Field("label", r.frozen_label).Field("frozen_at", FormatRfc3339Ms(r.frozen_at_ms));
  w.EndObject();
  w.Field("conventions", "psi: natural log, empty bins as Evidently; js_distance: base 2; wasserstein_norm: "
                         "Wasserstein-1 over the reference std (ddof 0); ks on binned CDFs, asymptotic p-value");
  w.Key("series").BeginArray();
  for (const auto& s : r.series) {
    w.BeginObject().Field("slice", s.slice).Field("feature", s.feature).Field("enough_data", s.enough).Key("drift");
    Measures(w, s.drift);
    w.EndObject();
  }
  w.EndArray().Key("mix").BeginArray();
  for (const auto& m : r.mix) {
    w.BeginObject().Field("slice", m.slice).Field("field", m.field).Field("enough_data", m.enough);
    std::string inner;
    AppendJson(inner, m.drift);
    w.Key("drift").Raw(inner).EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

}  // namespace vigil::drift
