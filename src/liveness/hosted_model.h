// A hosted passive liveness model: an ONNX classifier run through OpenCV DNN on a crop around the
// face, one slot per model (config/liveness.yaml `models:`). The slot says where the file is, the
// input size and layout, the normalisation ((pixel * scale - mean[c]) / std[c], channels in
// `channels` order), the face-crop scale (2.7x the face box at 80x80, as MiniFASNet-style models
// take) and the index of the live class in the output (softmax applied when `softmax` is set).
// The raw score is the live-class probability averaged over the frames with a face; it becomes the
// slot's signal, calibrated and fused like any other. A slot whose file is absent gives no signal
// (the fusion model's `missing` handling applies) and is reported by /readyz as degraded only in
// the log.
// Thread-safety: HostedModel is immutable; each thread keeps its own OpenCV Net.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/result.h"

namespace vigil::liveness {

struct ModelSlot {
  std::string name;             // for logs and timings
  std::string signal;           // the signal it produces ("passive")
  std::string path;             // absolute, or relative to the config directory
  std::string sha256;           // optional: refuse a file with another hash
  int width = 80;
  int height = 80;
  bool nchw = true;             // else NHWC
  bool rgb = false;             // channel order fed to the model (false: BGR)
  double scale = 1.0;
  std::array<double, 3> mean{0, 0, 0};
  std::array<double, 3> std{1, 1, 1};
  double crop_scale = 2.7;
  int live_index = 1;
  bool softmax = true;
  int max_frames = 3;           // frames scored per request (the first ones with a face)
};

class HostedModel {
 public:
  // Loads the model file. nullptr with no error when the file is absent; an error when it exists
  // but cannot be read, has the wrong hash, or does not load.
  static Result<std::shared_ptr<const HostedModel>> Load(const ModelSlot& slot);

  const ModelSlot& slot() const { return slot_; }
  const std::string& sha256() const { return sha256_; }
  // The live-class probability for one frame and face box (image pixels).
  double ScoreFrame(const cv::Mat& bgr, const cv::Rect2f& face) const;

 private:
  ModelSlot slot_;
  std::vector<std::uint8_t> bytes_;
  std::string sha256_;
  std::uint64_t serial_ = 0;
};

}  // namespace vigil::liveness
