// Reading config/liveness.yaml.
#include "liveness/liveness_config.h"

#include <filesystem>

#include "core/yaml_reader.h"

namespace vigil::liveness {
namespace {

std::string Resolve(const std::string& p, const std::string& dir) {
  if (p.empty() || p.front() == '/') return p;
  return (std::filesystem::path(dir) / p).lexically_normal().string();
}

template <typename T>
void Bounded(YamlReader& r, const YAML::Node& n, const char* key, const std::string& path, double lo, double hi,
             T& out) {
  if (auto v = r.Number(n, key, path, false)) {
    if (*v < lo || *v > hi) {
      r.Fail(n[key], path + "." + key, "expected a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    } else {
      out = static_cast<T>(*v);
    }
  }
}

void ReadSlot(YamlReader& r, const YAML::Node& n, const std::string& path, const std::string& dir, ModelSlot& s) {
  r.OnlyKeys(n, path, {"name", "signal", "path", "sha256", "input", "scale", "mean", "std", "crop_scale",
                       "live_index", "softmax", "max_frames"});
  if (auto v = r.String(n, "name", path, true)) s.name = *v;
  if (auto v = r.String(n, "signal", path, true)) s.signal = *v;
  if (auto v = r.String(n, "path", path, true)) s.path = Resolve(*v, dir);
  if (auto v = r.String(n, "sha256", path, false)) s.sha256 = *v;
  if (const YAML::Node in = n["input"]; in.IsDefined()) {
    const std::string ip = path + ".input";
    r.OnlyKeys(in, ip, {"width", "height", "layout", "channels"});
    Bounded(r, in, "width", ip, 8, 1024, s.width);
    Bounded(r, in, "height", ip, 8, 1024, s.height);
    if (auto v = r.String(in, "layout", ip, false)) {
      if (*v != "nchw" && *v != "nhwc") r.Fail(in["layout"], ip + ".layout", "expected nchw or nhwc");
      s.nchw = *v == "nchw";
    }
    if (auto v = r.String(in, "channels", ip, false)) {
      if (*v != "bgr" && *v != "rgb") r.Fail(in["channels"], ip + ".channels", "expected bgr or rgb");
      s.rgb = *v == "rgb";
    }
  }
  Bounded(r, n, "scale", path, 1e-6, 1e6, s.scale);
  for (const char* key : {"mean", "std"}) {
    if (auto v = r.NumberList(n, key, path, false)) {
      if (v->size() != 3) {
        r.Fail(n[key], path + "." + key, "expected three numbers, one per channel");
        continue;
      }
      auto& dst = std::string_view(key) == "mean" ? s.mean : s.std;
      for (int i = 0; i < 3; ++i) dst[i] = (*v)[i];
      if (std::string_view(key) == "std" && (dst[0] == 0 || dst[1] == 0 || dst[2] == 0)) {
        r.Fail(n[key], path + ".std", "must not be zero");
      }
    }
  }
  Bounded(r, n, "crop_scale", path, 0.5, 10, s.crop_scale);
  Bounded(r, n, "live_index", path, 0, 1000, s.live_index);
  Bounded(r, n, "max_frames", path, 1, 16, s.max_frames);
  if (auto v = r.Bool(n, "softmax", path, false)) s.softmax = *v;
}

}  // namespace

Result<LivenessConfig> LoadLivenessConfig(const std::string& path, const std::string& config_dir) {
  LivenessConfig c;
  c.detector.blazeface_path = Resolve("../third_party/npm/blazeface/face_detection_front_128x128_barracuda.onnx", config_dir);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return c;
  YamlReader r = YamlReader::FromFile(path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (!root.IsMap()) return Error::Invalid(r.Where(root) + ": expected a mapping");
  r.OnlyKeys(root, "", {"media", "detector", "security", "cues", "models"});
  if (const YAML::Node m = root["media"]; m.IsDefined()) {
    r.OnlyKeys(m, "media", {"max_frames", "max_frame_bytes", "max_width", "max_height", "min_width", "min_height"});
    Bounded(r, m, "max_frames", "media", 1, 64, c.limits.max_frames);
    Bounded(r, m, "max_frame_bytes", "media", 1024, 16 * 1024 * 1024, c.limits.max_frame_bytes);
    Bounded(r, m, "max_width", "media", 16, 8192, c.limits.max_width);
    Bounded(r, m, "max_height", "media", 16, 8192, c.limits.max_height);
    Bounded(r, m, "min_width", "media", 1, 8192, c.limits.min_width);
    Bounded(r, m, "min_height", "media", 1, 8192, c.limits.min_height);
  }
  if (const YAML::Node d = root["detector"]; d.IsDefined()) {
    r.OnlyKeys(d, "detector", {"blazeface", "sha256", "haar", "min_score", "nms_iou"});
    if (auto v = r.String(d, "blazeface", "detector", false)) c.detector.blazeface_path = Resolve(*v, config_dir);
    if (auto v = r.String(d, "sha256", "detector", false)) c.detector.expected_sha256 = *v;
    if (auto v = r.String(d, "haar", "detector", false)) c.detector.haar_path = Resolve(*v, config_dir);
    Bounded(r, d, "min_score", "detector", 0.01, 0.99, c.detector.min_score);
    Bounded(r, d, "nms_iou", "detector", 0.05, 0.95, c.detector.nms_iou);
  }
  if (const YAML::Node s = root["security"]; s.IsDefined()) {
    r.OnlyKeys(s, "security", {"virtual_cameras", "allow_rotated", "min_frame_interval_ms", "max_frame_interval_ms",
                               "flag_exact_intervals", "static_max_hamming", "static_max_mean_diff"});
    if (auto v = r.StringList(s, "virtual_cameras", "security", false)) c.virtual_cameras = *v;
    if (auto v = r.Bool(s, "allow_rotated", "security", false)) c.allow_rotated = *v;
    Bounded(r, s, "min_frame_interval_ms", "security", 0, 10000, c.min_frame_interval_ms);
    Bounded(r, s, "max_frame_interval_ms", "security", 1, 600000, c.max_frame_interval_ms);
    if (auto v = r.Bool(s, "flag_exact_intervals", "security", false)) c.flag_exact_intervals = *v;
    Bounded(r, s, "static_max_hamming", "security", 0, 32, c.static_max_hamming);
    Bounded(r, s, "static_max_mean_diff", "security", 0, 255, c.static_max_mean_diff);
  }
  if (const YAML::Node q = root["cues"]; q.IsDefined()) {
    r.OnlyKeys(q, "cues", {"moire_threshold", "min_motion", "challenge_yaw", "challenge_pitch", "challenge_signal",
                           "moire_signal", "motion_signal"});
    Bounded(r, q, "moire_threshold", "cues", 0, 1, c.moire_threshold);
    Bounded(r, q, "min_motion", "cues", 0, 1, c.min_motion);
    Bounded(r, q, "challenge_yaw", "cues", 0.01, 2, c.challenge_yaw);
    Bounded(r, q, "challenge_pitch", "cues", 0.01, 2, c.challenge_pitch);
    if (auto v = r.String(q, "challenge_signal", "cues", false)) c.challenge_signal = *v;
    if (auto v = r.String(q, "moire_signal", "cues", false)) c.moire_signal = *v;
    if (auto v = r.String(q, "motion_signal", "cues", false)) c.motion_signal = *v;
  }
  if (const YAML::Node ms = root["models"]; ms.IsDefined()) {
    if (!ms.IsSequence()) {
      r.Fail(ms, "models", "expected a list of model slots");
    } else {
      for (std::size_t i = 0; i < ms.size(); ++i) {
        ModelSlot s;
        ReadSlot(r, ms[i], "models[" + std::to_string(i) + "]", config_dir, s);
        c.models.push_back(std::move(s));
      }
    }
  }
  if (!r.ok()) return r.first_error();
  return c;
}

}  // namespace vigil::liveness
