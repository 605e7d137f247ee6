// A liveness flow's `quality:` block.
#include "core/yaml_reader.h"
#include "policy/policy.h"

namespace vigil {

void ReadQualityPolicy(YamlReader& r, const YAML::Node& node, const std::string& path, QualityPolicy& q) {
  if (!node.IsMap()) {
    r.Fail(node, path, "expected a mapping");
    return;
  }
  r.OnlyKeys(node, path, {"min_face_size", "max_center_offset", "max_blur_score", "min_brightness",
                          "max_brightness", "max_backlight", "min_resolution", "max_faces"});
  auto unit = [&](const char* key, double& out) {
    if (auto v = r.Number(node, key, path, false)) {
      if (*v < 0.0 || *v > 1.0) {
        r.Fail(node[key], path + "." + key, "expected a number from 0 to 1");
      } else {
        out = *v;
      }
    }
  };
  unit("min_face_size", q.min_face_size);
  unit("max_center_offset", q.max_center_offset);
  unit("max_blur_score", q.max_blur_score);
  unit("min_brightness", q.min_brightness);
  unit("max_brightness", q.max_brightness);
  unit("max_backlight", q.max_backlight);
  if (q.min_brightness >= q.max_brightness) {
    r.Fail(node, path, "min_brightness must be below max_brightness");
  }
  if (auto v = r.Number(node, "min_resolution", path, false)) {
    if (*v < 16 || *v > 4096 || static_cast<int>(*v) != *v) {
      r.Fail(node["min_resolution"], path + ".min_resolution", "expected whole pixels from 16 to 4096");
    } else {
      q.min_resolution = static_cast<int>(*v);
    }
  }
  if (auto v = r.Number(node, "max_faces", path, false)) {
    if (*v < 1 || *v > 10 || static_cast<int>(*v) != *v) {
      r.Fail(node["max_faces"], path + ".max_faces", "expected a whole number from 1 to 10");
    } else {
      q.max_faces = static_cast<int>(*v);
    }
  }
}

}  // namespace vigil
