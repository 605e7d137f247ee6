// Test images for the liveness tests: real photographs from Debian's python3-skimage data and
// the degradations of them that the simulator's `--media` frames use (src/simulate/photo_frames.h).
#pragma once

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>

#include "simulate/photo_frames.h"
#include "test_util.h"

namespace vigil::testing {

inline std::string SkimageData(const std::string& name) { return std::string(sim::kSkimageDataDir) + "/" + name; }
inline std::string BlazeFaceModel() {
  return SourcePath("third_party/npm/blazeface/face_detection_front_128x128_barracuda.onnx");
}

inline cv::Mat Astronaut() { return cv::imread(SkimageData("astronaut.png"), cv::IMREAD_COLOR); }
inline cv::Mat Portrait() { return sim::Portrait(Astronaut()); }
inline cv::Mat NoFace() { return sim::NoFace(cv::imread(SkimageData("coffee.png"), cv::IMREAD_COLOR)); }
inline cv::Mat TwoFaces() { return sim::TwoFaces(Astronaut()); }
inline cv::Mat OffCenter() { return sim::OffCenter(Astronaut()); }
inline cv::Mat Placed(double scale, cv::Point2d at) { return sim::Placed(Astronaut(), scale, at); }
inline cv::Mat SmallFace() { return Placed(1.1, {320, 240}); }

using sim::Backlit;
using sim::Blur;
using sim::Brighten;
using sim::Darken;
using sim::Downscale;
using sim::EncodeJpeg;
using sim::EncodePng;
using sim::Moire;
using sim::Noisy;
using sim::Shift;

}  // namespace vigil::testing
