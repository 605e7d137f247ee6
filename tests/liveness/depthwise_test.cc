// Our 3x3 depthwise convolution layer (src/quality/depthwise_conv.h) against OpenCV DNN's own:
// single layers on random tensors (strides 1 and 2, padding 0 to 2, odd sizes; OpenCV 4.6 refuses
// one-sided padding),
// the whole BlazeFace model, and the faces found on the test images.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <opencv2/dnn.hpp>

#include "liveness/test_images.h"
#include "quality/depthwise_conv.h"
#include "quality/face_detector.h"

namespace vigil::quality {
namespace {

using testing::BlazeFaceModel;

// One layer added through the API (rather than a hand-written ONNX file) goes through the same
// LayerFactory constructor.
struct Case {
  int channels, h, w, stride, pad_t, pad_l, pad_b, pad_r;
};

cv::Mat RunOne(const Case& c, const cv::Mat& weights, const cv::Mat& bias, const cv::Mat& input,
               bool ours) {
  cv::dnn::LayerParams p;
  p.name = "dw";
  p.type = "Convolution";
  p.set("kernel_size", cv::dnn::DictValue::arrayInt(std::vector<int>{3, 3}.data(), 2));
  p.set("stride", cv::dnn::DictValue::arrayInt(std::vector<int>{c.stride, c.stride}.data(), 2));
  p.set("pad", cv::dnn::DictValue::arrayInt(
                   std::vector<int>{c.pad_t, c.pad_l, c.pad_b, c.pad_r}.data(), 4));
  p.set("dilation", cv::dnn::DictValue::arrayInt(std::vector<int>{1, 1}.data(), 2));
  p.set("group", c.channels);
  p.set("num_output", c.channels);
  p.set("bias_term", true);
  p.blobs = {weights, bias};
  cv::dnn::Net net;
  net.addLayerToPrev(p.name, p.type, p);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setInput(input);
  if (!ours) return net.forward().clone();
  FastDepthwiseScope scope;  // the layer is created at the first forward()
  cv::Mat out = net.forward().clone();
  EXPECT_EQ(scope.replaced(), 1);
  return out;
}

TEST(DepthwiseConv, MatchesOpenCvOnRandomTensors) {
  cv::RNG rng(42);
  const Case cases[] = {{24, 64, 64, 1, 1, 1, 1, 1}, {80, 16, 16, 1, 1, 1, 1, 1},
                        {96, 8, 8, 1, 1, 1, 1, 1},   {28, 66, 66, 2, 0, 0, 0, 0},
                        {42, 34, 34, 2, 0, 0, 0, 0}, {5, 13, 11, 2, 1, 1, 1, 1},
                        {3, 7, 9, 1, 2, 2, 2, 2},    {7, 5, 23, 2, 1, 1, 1, 1}};
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << c.channels << "x" << c.h << "x" << c.w << " stride " << c.stride);
    cv::Mat weights(std::vector<int>{c.channels, 1, 3, 3}, CV_32F), bias(1, c.channels, CV_32F);
    cv::Mat input(std::vector<int>{2, c.channels, c.h, c.w}, CV_32F);
    rng.fill(weights, cv::RNG::UNIFORM, -1, 1);
    rng.fill(bias, cv::RNG::UNIFORM, -1, 1);
    rng.fill(input, cv::RNG::UNIFORM, -3, 3);
    const cv::Mat want = RunOne(c, weights, bias, input, false);
    const cv::Mat got = RunOne(c, weights, bias, input, true);
    ASSERT_EQ(want.size, got.size);
    EXPECT_LE(cv::norm(want, got, cv::NORM_INF),
              1e-5 * std::max(1.0, cv::norm(want, cv::NORM_INF)));
  }
}

std::vector<std::uint8_t> ModelBytes() {
  std::ifstream in(BlazeFaceModel(), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(DepthwiseConv, BlazeFaceOutputsMatchOpenCv) {
  if (!std::filesystem::exists(BlazeFaceModel()))
    GTEST_SKIP() << "run scripts/install-deps.sh (BlazeFace)";
  const auto onnx = ModelBytes();
  int replaced = 0;
  cv::dnn::Net ours = ReadOnnxWithFastDepthwise(onnx, &replaced);
  cv::dnn::Net stock = cv::dnn::readNetFromONNX(onnx);
  EXPECT_EQ(replaced, 32);  // the front model's 16 depthwise convolutions and 16 residual sums
  cv::Mat input(std::vector<int>{1, 128, 128, 3}, CV_32F);
  cv::RNG(7).fill(input, cv::RNG::UNIFORM, -1, 1);
  std::vector<cv::Mat> a, b;
  const auto names = stock.getUnconnectedOutLayersNames();
  stock.setInput(input);
  stock.forward(a, names);
  ours.setInput(input);
  ours.forward(b, names);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_LE(cv::norm(a[i], b[i], cv::NORM_INF),
              1e-5 * std::max(1.0, cv::norm(a[i], cv::NORM_INF)))
        << "output " << i;
  }
}

TEST(DepthwiseConv, SameFacesOnTheTestImages) {
  if (!std::filesystem::exists(BlazeFaceModel()))
    GTEST_SKIP() << "run scripts/install-deps.sh (BlazeFace)";
  const auto onnx = ModelBytes();
  auto ours = NewBlazeFace(onnx, 0.6f, 0.3f, true);
  auto stock = NewBlazeFace(onnx, 0.6f, 0.3f, false);
  const cv::Mat images[] = {testing::Portrait(),
                            testing::TwoFaces(),
                            testing::OffCenter(),
                            testing::SmallFace(),
                            testing::NoFace(),
                            testing::Darken(testing::Portrait(), 0.3),
                            testing::Backlit(testing::Portrait()),
                            testing::Blur(testing::Portrait(), 9)};
  int faces = 0;
  for (const cv::Mat& img : images) {
    const auto want = stock->Detect(img);
    const auto got = ours->Detect(img);
    ASSERT_EQ(want.size(), got.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      EXPECT_NEAR(want[i].score, got[i].score, 1e-5);
      EXPECT_NEAR(want[i].box.x, got[i].box.x, 1e-2);
      EXPECT_NEAR(want[i].box.y, got[i].box.y, 1e-2);
      EXPECT_NEAR(want[i].box.width, got[i].box.width, 1e-2);
      EXPECT_NEAR(want[i].box.height, got[i].box.height, 1e-2);
      for (int k = 0; k < 6; ++k)
        EXPECT_NEAR(cv::norm(want[i].keypoints[k] - got[i].keypoints[k]), 0.0, 1e-2);
    }
    faces += static_cast<int>(want.size());
  }
  EXPECT_GE(faces, 6);
}

}  // namespace
}  // namespace vigil::quality
