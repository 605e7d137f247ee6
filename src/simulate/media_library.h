// The frames `vigil simulate --media` sends with liveness attempts: for each capture condition
// (good, each kind of capture trouble, each presentation attack) a few sets of consecutive frames
// made from real photographs (photo_frames.h), encoded once at start-up as the request's `media`
// object, so that the server's quality gate, security pre-checks and cues see real pixels.
// Immutable once loaded: safe to share across the driver's threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil::sim {

struct MediaOptions {
  std::string photo_dir;   // astronaut.png and coffee.png; default: Debian's skimage data
  int variants = 3;        // frame sets per condition (different motion and sensor noise)
  int frames = 3;          // frames per attempt
  int frame_interval_ms = 100;
  int jpeg_quality = 85;
};

class MediaLibrary {
 public:
  // Renders and encodes every condition's frame sets (about a second of work).
  static Result<std::unique_ptr<MediaLibrary>> Load(const MediaOptions& options);

  // The conditions, as the traffic generator names them: "good", the capture trouble of genuine
  // users (low_light, blur, backlight, second_face, capture_failure) and the attacks (print,
  // screen_replay, mask, injection, virtual_camera).
  static const std::vector<std::string>& Conditions();

  // The `media` JSON object for an attempt in `condition` (an unknown one gets "good"), with
  // frame timestamps starting at `t0_ms` and the camera label the client reports. `variant`
  // picks one of the frame sets. With the session's challenge `steps`, those who can follow a
  // challenge (a live person, with or without capture trouble; a mask wearer; a real-time
  // deepfake) send a frontal frame and then one frame per step; a print, a replayed video or a
  // broken camera cannot, and send their usual frames.
  std::string Media(std::string_view condition, std::uint64_t variant, std::int64_t t0_ms,
                    std::string_view camera_label, const std::vector<std::string>& steps = {}) const;

  // The encoded frames (JPEG bytes) such a request carries, for tests.
  std::vector<std::string> Frames(std::string_view condition, std::uint64_t variant,
                                  const std::vector<std::string>& steps = {}) const;

 private:
  struct Frame {
    std::string jpeg;    // encoded bytes
    std::string base64;  // what the request carries
  };
  struct FrameSet {
    std::vector<Frame> still;                         // frames without a challenge
    std::map<std::string, Frame, std::less<>> poses;  // one frame per challenge step
  };
  std::vector<const Frame*> Pick(std::string_view condition, std::uint64_t variant,
                                 const std::vector<std::string>& steps) const;
  MediaOptions options_;
  std::map<std::string, std::vector<FrameSet>, std::less<>> sets_;
  const std::vector<FrameSet>& SetsFor(std::string_view condition) const;
};

}  // namespace vigil::sim
