// Built-in liveness cues and media checks computed from the decoded frames.
//
//   PerceptualHash   64-bit DCT hash of a frame (32x32 grey, the 8x8 lowest frequencies against
//                    their median); near-identical frames differ in at most a few bits.
//   MeanAbsDiff      mean absolute grey difference of two frames at 64x48: a real camera's
//                    sensor noise alone keeps it above about 1 grey level.
//   MoireScore       screen replay: a screen photographed by a camera shows a periodic pattern,
//                    i.e. isolated peaks in the mid and high frequencies of the face crop's
//                    spectrum. The score maps the strongest peak's height over the spectrum's
//                    local median (in log units) to [0, 1].
//   MotionScore      frame-to-frame motion of the face: box-centre travel in face widths plus
//                    the face region's mean absolute change, the largest over consecutive pairs.
//   VerifyChallenge  an active challenge's head-turn steps, checked in order from the head pose
//                    (BlazeFace keypoints) across frames against the first frame's pose.
// The functions that take a `bgr` frame also take it already in grey (cv::COLOR_BGR2GRAY), with
// the same results: they work on grey, and the analyzer converts each frame once.
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "quality/face_detector.h"

namespace vigil::liveness {

std::uint64_t PerceptualHash(const cv::Mat& bgr);
int HammingDistance(std::uint64_t a, std::uint64_t b);
double MeanAbsDiff(const cv::Mat& bgr_a, const cv::Mat& bgr_b);

struct MoireResult {
  double peak_ratio = 0.0;  // log10 of the strongest peak over the local median magnitude
  double score = 0.0;       // in [0, 1]
};
// `face` may be empty (the whole central region is used).
MoireResult MoireScore(const cv::Mat& bgr, const cv::Rect2f& face);

// One frame's face for motion and challenge checks.
struct FaceTrack {
  bool has_face = false;
  quality::Face face;
  cv::Mat face_gray;  // the face crop, grey, 64x64
};
FaceTrack TrackFace(const cv::Mat& bgr, const quality::Face* face);
double MotionScore(const std::vector<FaceTrack>& tracks);

struct ChallengeResult {
  bool verifiable = false;  // keypoints on at least two frames
  int steps_done = 0;
  int steps_total = 0;
  double score = 0.0;       // steps_done / steps_total
  std::vector<double> yaw;  // per frame (NaN without keypoints)
  std::vector<double> pitch;
};
// Steps: "turn_left", "turn_right", "look_up", "look_down" (the session's challenge). A step is
// done when yaw (or pitch) moves past `yaw_delta` (`pitch_delta`) from the first frame's pose
// the right way, in a frame after the previous step's.
ChallengeResult VerifyChallenge(const std::vector<std::string>& steps, const std::vector<FaceTrack>& tracks,
                                double yaw_delta = 0.25, double pitch_delta = 0.15);

}  // namespace vigil::liveness
