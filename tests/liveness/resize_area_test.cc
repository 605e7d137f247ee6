// quality::ResizeArea against cv::resize(INTER_AREA): the same pixels, bit for bit.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "quality/resize_area.h"
#include "liveness/test_images.h"

namespace vigil::quality {
namespace {

void ExpectSame(const cv::Mat& src, cv::Size size) {
  SCOPED_TRACE(::testing::Message()
               << src.cols << "x" << src.rows << "x" << src.channels() << " -> " << size);
  cv::Mat want, got;
  cv::resize(src, want, size, 0, 0, cv::INTER_AREA);
  ResizeArea(src, got, size);
  ASSERT_EQ(want.size(), got.size());
  ASSERT_EQ(want.type(), got.type());
  EXPECT_EQ(cv::norm(want, got, cv::NORM_INF), 0.0);
}

TEST(ResizeArea, SameAsOpenCvOnRandomImages) {
  cv::RNG rng(3);
  const struct {
    int w, h, fx, fy;
  } cases[] = {{640, 480, 5, 5}, {640, 480, 20, 15}, {1280, 720, 10, 10}, {1920, 1080, 15, 15},
               {37, 29, 37, 29}, {48, 40, 2, 2},     {60, 45, 3, 5},      {17, 300, 1, 3},
               {300, 17, 3, 1},  {514, 514, 2, 257}};
  for (int cn : {1, 3, 4}) {
    for (const auto& c : cases) {
      cv::Mat src(c.h, c.w, CV_8UC(cn));
      rng.fill(src, cv::RNG::UNIFORM, 0, 256);
      ExpectSame(src, cv::Size(c.w / c.fx, c.h / c.fy));
      src.setTo(cv::Scalar::all(255));  // the largest sums
      ExpectSame(src, cv::Size(c.w / c.fx, c.h / c.fy));
    }
  }
}

TEST(ResizeArea, OtherSizesGoToOpenCv) {
  cv::RNG rng(4);
  cv::Mat src(480, 640, CV_8UC3);
  rng.fill(src, cv::RNG::UNIFORM, 0, 256);
  ExpectSame(src, cv::Size(128, 128));   // factors 5 and 3.75
  ExpectSame(src, cv::Size(200, 150));   // 3.2
  ExpectSame(src, cv::Size(640, 480));   // 1
  ExpectSame(src, cv::Size(1280, 960));  // upscaling
  cv::Mat f;
  src.convertTo(f, CV_32F);
  ExpectSame(f, cv::Size(128, 96));  // not 8-bit
}

TEST(ResizeArea, WritesIntoAView) {
  const cv::Mat frame = testing::Portrait();
  cv::Mat canvas(128, 128, CV_8UC3, cv::Scalar::all(0)), want;
  cv::Mat roi = canvas(cv::Rect(0, 16, 128, 96));
  ResizeArea(frame, roi, cv::Size(128, 96));
  cv::resize(frame, want, cv::Size(128, 96), 0, 0, cv::INTER_AREA);
  EXPECT_EQ(cv::norm(want, canvas(cv::Rect(0, 16, 128, 96)), cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::countNonZero(canvas.reshape(1)(cv::Rect(0, 0, 384, 16))), 0);
}

}  // namespace
}  // namespace vigil::quality
