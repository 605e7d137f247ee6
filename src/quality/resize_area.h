// Downscaling by whole factors, as cv::resize(INTER_AREA) does it, in fewer cycles.
//
// When both sides shrink by whole factors (640x480 to BlazeFace's 128x96, or to the perceptual
// hash's 32x32), OpenCV 4.6 averages each block in a scalar loop, about 0.3 ms for a 640x480 BGR
// frame on one core. ResizeArea sums the block's rows with SIMD first; the sums are integers and
// the rounding is OpenCV's (sum * (1.f / area), then cvRound), so the pixels are the same
// (tests/liveness/resize_area_test.cc). Any other size, halving (OpenCV's SIMD path already), or
// a depth other than 8-bit goes to cv::resize.
#pragma once

#include <opencv2/core.hpp>

namespace vigil::quality {

// dst = cv::resize(src, size, 0, 0, cv::INTER_AREA); `dst` may be a view into a larger Mat of the
// right size and type (it is written in place then).
void ResizeArea(const cv::Mat& src, cv::Mat& dst, cv::Size size);

}  // namespace vigil::quality
