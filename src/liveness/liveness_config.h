// config/liveness.yaml: media bounds, the face detector, security pre-checks, cue thresholds and
// the hosted-model slots. Quality thresholds are per flow in the policy (`quality:` blocks).
// An absent file means the defaults below. Relative paths are relative to the config directory.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "liveness/hosted_model.h"
#include "media/media.h"
#include "quality/face_detector.h"

namespace vigil::liveness {

struct LivenessConfig {
  media::MediaLimits limits;
  quality::DetectorOptions detector;
  // Security pre-checks.
  std::vector<std::string> virtual_cameras;  // case-insensitive substrings of camera labels
  bool allow_rotated = true;                 // declared 640x480 matches decoded 480x640
  double min_frame_interval_ms = 8.0;        // faster than 125 fps: MEDIA_TIMING
  double max_frame_interval_ms = 2000.0;     // a gap over 2 s between frames: MEDIA_TIMING
  bool flag_exact_intervals = true;          // >= 4 intervals all exactly equal: MEDIA_TIMING (weak)
  int static_max_hamming = 4;                // STATIC_IMAGE_REPLAY: perceptual hashes this close
  double static_max_mean_diff = 0.5;         //   and mean grey difference below this, every pair
  // Cues.
  double moire_threshold = 0.5;              // SCREEN_REPLAY_SUSPECTED at or above this score
  double min_motion = 0.02;                  // NO_MOTION below this with 3 frames or more
  double challenge_yaw = 0.25;
  double challenge_pitch = 0.15;
  std::string challenge_signal = "active";   // the signal a verified challenge produces
  std::string moire_signal = "screen_replay";// recorded as a signal when it has a calibration
  std::string motion_signal = "motion";      //   (likewise)
  std::vector<ModelSlot> models;
};

Result<LivenessConfig> LoadLivenessConfig(const std::string& path, const std::string& config_dir);

}  // namespace vigil::liveness
