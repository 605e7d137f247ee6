#include "simulate/media_library.h"

#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "core/json_writer.h"
#include "media/media.h"
#include "simulate/photo_frames.h"

namespace vigil::sim {
namespace {

// A frame of the attempt: how the scene looks in this condition, before the camera's motion
// and noise. `i` is the frame index within the attempt.
using Scene = cv::Mat (*)(const cv::Mat& portrait, const cv::Mat& two_faces, const cv::Mat& no_face);

struct Condition {
  const char* name;
  Scene scene;
  bool moves;     // a live person moves a little between frames; a photograph held still does not
  bool performs;  // can follow a head-turn challenge
};

cv::Mat Good(const cv::Mat& p, const cv::Mat&, const cv::Mat&) { return p; }
cv::Mat LowLight(const cv::Mat& p, const cv::Mat&, const cv::Mat&) { return Darken(p); }
cv::Mat Blurred(const cv::Mat& p, const cv::Mat&, const cv::Mat&) { return Blur(p); }
cv::Mat Backlight(const cv::Mat& p, const cv::Mat&, const cv::Mat&) { return Backlit(p); }
cv::Mat SecondFace(const cv::Mat&, const cv::Mat& two, const cv::Mat&) { return two; }
cv::Mat CaptureFailure(const cv::Mat&, const cv::Mat&, const cv::Mat& none) { return none; }
cv::Mat Print(const cv::Mat& p, const cv::Mat&, const cv::Mat&) { return Printed(p); }
cv::Mat Screen(const cv::Mat& p, const cv::Mat&, const cv::Mat&) { return Moire(p); }

// A mask, an injected stream and a virtual camera show a face that looks live to the pixels:
// the passive model, the SDK's injection signal and the camera label are what catch them.
constexpr Condition kConditions[] = {
    {"good", Good, true, true},
    {"low_light", LowLight, true, true},
    {"blur", Blurred, true, true},
    {"backlight", Backlight, true, true},
    {"second_face", SecondFace, true, false},
    {"capture_failure", CaptureFailure, true, false},
    {"print", Print, false, false},
    {"screen_replay", Screen, true, false},
    {"mask", Good, true, true},
    {"injection", Good, true, true},
    {"virtual_camera", Good, true, true},
};

// The steps the frames can show (vigil's sessions ask for head turns); a challenge with another
// step gets the still frames, and fails.
constexpr const char* kSteps[] = {"turn_left", "turn_right"};

}  // namespace

const std::vector<std::string>& MediaLibrary::Conditions() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& c : kConditions) v.emplace_back(c.name);
    return v;
  }();
  return names;
}

Result<std::unique_ptr<MediaLibrary>> MediaLibrary::Load(const MediaOptions& options) {
  auto lib = std::unique_ptr<MediaLibrary>(new MediaLibrary());
  lib->options_ = options;
  if (lib->options_.photo_dir.empty()) lib->options_.photo_dir = kSkimageDataDir;
  if (options.variants < 1 || options.frames < 1 || options.frames > 8) {
    return Error::Invalid("media: variants must be >= 1 and frames between 1 and 8");
  }
  const std::string dir = lib->options_.photo_dir;
  cv::Mat astronaut = cv::imread(dir + "/astronaut.png", cv::IMREAD_COLOR);
  cv::Mat coffee = cv::imread(dir + "/coffee.png", cv::IMREAD_COLOR);
  if (astronaut.empty() || coffee.empty()) {
    return Error::Io("media: cannot read astronaut.png and coffee.png (install python3-skimage, or pass "
                     "--media-dir)", dir);
  }
  const cv::Mat portrait = Portrait(astronaut), two = TwoFaces(astronaut), none = NoFace(coffee);
  const int quality = options.jpeg_quality;
  auto encode = [quality](const cv::Mat& m) {
    Frame f;
    f.jpeg = EncodeJpeg(m, quality);
    f.base64 = media::Base64Encode(f.jpeg);
    return f;
  };
  std::map<std::string, cv::Mat> turned;
  for (const char* step : kSteps) turned[step] = TurnHead(portrait, step);
  for (const auto& c : kConditions) {
    const cv::Mat scene = c.scene(portrait, two, none);
    auto& sets = lib->sets_[c.name];
    for (int v = 0; v < options.variants; ++v) {
      FrameSet set;
      // Each variant moves in its own direction; the noise differs in every frame of a live
      // capture and is frozen in a held-up print (re-captured, but the same photograph).
      const double dx = 1.5 + v, dy = (v % 2 == 0) ? 1.0 : -1.0;
      for (int i = 0; i < options.frames; ++i) {
        set.still.push_back(encode(c.moves ? Noisy(Shift(scene, dx * i, dy * i), 1000 * v + i + 1)
                                           : Noisy(scene, 1000 * v + 1, 1.0)));
      }
      if (c.performs) {
        int i = 0;
        for (const char* step : kSteps) {
          const cv::Mat pose = c.scene(turned[step], two, none);
          set.poses[step] = encode(Noisy(Shift(pose, dx * (i + 1), dy), 1000 * v + 100 + i));
          ++i;
        }
      }
      sets.push_back(std::move(set));
    }
  }
  return lib;
}

const std::vector<MediaLibrary::FrameSet>& MediaLibrary::SetsFor(std::string_view condition) const {
  auto it = sets_.find(condition);
  if (it == sets_.end()) it = sets_.find("good");
  return it->second;
}

std::vector<const MediaLibrary::Frame*> MediaLibrary::Pick(std::string_view condition, std::uint64_t variant,
                                                          const std::vector<std::string>& steps) const {
  const auto& sets = SetsFor(condition);
  const FrameSet& set = sets[variant % sets.size()];
  std::vector<const Frame*> out;
  bool follow = !set.poses.empty() && !steps.empty();
  for (const auto& s : steps) follow = follow && set.poses.count(s) > 0;
  if (!follow) {
    for (const auto& f : set.still) out.push_back(&f);
    return out;
  }
  out.push_back(&set.still.front());  // frontal, then one frame per step (at most 8 frames)
  for (std::size_t i = 0; i < steps.size() && out.size() < 8; ++i) out.push_back(&set.poses.find(steps[i])->second);
  return out;
}

std::vector<std::string> MediaLibrary::Frames(std::string_view condition, std::uint64_t variant,
                                              const std::vector<std::string>& steps) const {
  std::vector<std::string> out;
  for (const Frame* f : Pick(condition, variant, steps)) out.push_back(f->jpeg);
  return out;
}

std::string MediaLibrary::Media(std::string_view condition, std::uint64_t variant, std::int64_t t0_ms,
                                std::string_view camera_label, const std::vector<std::string>& steps) const {
  const std::vector<const Frame*> frames = Pick(condition, variant, steps);
  std::string out;
  std::size_t bytes = 128;
  for (const Frame* f : frames) bytes += f->base64.size() + 64;
  out.reserve(bytes);
  JsonWriter w(out);
  w.BeginObject().Key("capture").BeginObject().Field("width", 640).Field("height", 480);
  if (!camera_label.empty()) w.Field("camera_label", camera_label);
  w.EndObject();
  w.Key("frames").BeginArray();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    w.BeginObject().Field("data", frames[i]->base64)
        .Field("timestamp_ms", t0_ms + static_cast<std::int64_t>(i * options_.frame_interval_ms + (i * 13) % 9))
        .EndObject();  // a real camera's cadence jitters by a few milliseconds
  }
  w.EndArray().EndObject();
  return out;
}

}  // namespace vigil::sim
