// Test images for the liveness tests: real photographs from Debian's python3-skimage data
// (astronaut.png: Eileen Collins, NASA, public domain; coffee.png: a cup of coffee, no face) and
// synthetic degradations of them. OpenCV drawings are not faces: every face here is a photograph.
#pragma once

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "test_util.h"

namespace vigil::testing {

inline std::string SkimageData(const std::string& name) {
  return "/usr/lib/python3/dist-packages/skimage/data/" + name;
}
inline std::string BlazeFaceModel() {
  return SourcePath("third_party/npm/blazeface/face_detection_front_128x128_barracuda.onnx");
}

inline cv::Mat Astronaut() { return cv::imread(SkimageData("astronaut.png"), cv::IMREAD_COLOR); }

// A 640x480 selfie-like frame: the astronaut's face centred, about a third of the width.
inline cv::Mat Portrait() {
  cv::Mat a = Astronaut(), out;
  cv::resize(a(cv::Rect(83, 13, 280, 210)), out, cv::Size(640, 480), 0, 0, cv::INTER_CUBIC);
  return out;
}

inline cv::Mat NoFace() {
  cv::Mat c = cv::imread(SkimageData("coffee.png"), cv::IMREAD_COLOR), out;
  cv::resize(c, out, cv::Size(640, 480), 0, 0, cv::INTER_AREA);
  return out;
}

inline cv::Mat Darken(const cv::Mat& m, double gain = 0.18) {
  cv::Mat out;
  m.convertTo(out, -1, gain, 0);
  return out;
}

inline cv::Mat Brighten(const cv::Mat& m) {
  cv::Mat out;
  m.convertTo(out, -1, 0.5, 150);
  return out;
}

inline cv::Mat Blur(const cv::Mat& m, double sigma = 7.0) {
  cv::Mat out;
  cv::GaussianBlur(m, out, cv::Size(0, 0), sigma);
  return out;
}

// Strong light behind the subject: the face darkened, everything around it washed out.
inline cv::Mat Backlit(const cv::Mat& m) {
  cv::Mat out = m.clone();
  cv::Mat mask(m.size(), CV_32F, cv::Scalar(0));
  cv::ellipse(mask, cv::Point(m.cols / 2, m.rows / 2 + 10), cv::Size(m.cols / 5, m.rows / 3), 0, 0, 360, cv::Scalar(1), -1);
  cv::GaussianBlur(mask, mask, cv::Size(0, 0), 15);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      const float a = mask.at<float>(y, x);
      for (int c = 0; c < 3; ++c) {
        const float v = m.at<cv::Vec3b>(y, x)[c];
        const float face = v * 0.35f, back = std::min(255.0f, v * 0.3f + 190.0f);
        out.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(a * face + (1 - a) * back);
      }
    }
  }
  return out;
}

inline cv::Mat Downscale(const cv::Mat& m, int width) {
  cv::Mat out;
  cv::resize(m, out, cv::Size(width, m.rows * width / m.cols), 0, 0, cv::INTER_AREA);
  return out;
}

// Two people side by side: two face crops (the second mirrored) in one 640x480 frame.
inline cv::Mat TwoFaces() {
  cv::Mat a = Astronaut(), left, right, out;
  cv::resize(a(cv::Rect(133, 23, 180, 270)), left, cv::Size(320, 480), 0, 0, cv::INTER_AREA);
  cv::flip(left, right, 1);
  cv::hconcat(left, right, out);
  return out;
}

// The face in the top-left corner of the frame.
inline cv::Mat OffCenter() {
  cv::Mat a = Astronaut(), out(480, 640, CV_8UC3, cv::Scalar(120, 120, 120));
  cv::Mat crop;
  cv::resize(a(cv::Rect(150, 40, 150, 150)), crop, cv::Size(225, 225), 0, 0, cv::INTER_CUBIC);
  crop.copyTo(out(cv::Rect(0, 0, 225, 225)));
  return out;
}

// The astronaut photograph scaled by `scale` with her face centre at `at`, in a grey 640x480
// frame (her face is about 93 pixels wide at scale 1).
inline cv::Mat Placed(double scale, cv::Point2d at) {
  cv::Mat out, t = (cv::Mat_<double>(2, 3) << scale, 0, at.x - 223 * scale, 0, scale, at.y - 113 * scale);
  cv::warpAffine(Astronaut(), out, t, cv::Size(640, 480), cv::INTER_AREA, cv::BORDER_CONSTANT,
                 cv::Scalar(110, 110, 110));
  return out;
}
inline cv::Mat SmallFace() { return Placed(1.1, {320, 240}); }

// A face photographed off a screen: the display's pixel grid beats with the camera's sampling
// into a fine periodic pattern (simulated by two crossed gratings a few pixels apart).
inline cv::Mat Moire(const cv::Mat& m, double strength = 0.22) {
  cv::Mat out(m.size(), m.type());
  const double f1x = 0.21, f1y = 0.07, f2x = -0.06, f2y = 0.23;  // cycles per pixel
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      const double g = 1.0 + strength * (0.5 * std::sin(2 * M_PI * (f1x * x + f1y * y)) +
                                          0.5 * std::sin(2 * M_PI * (f2x * x + f2y * y)));
      for (int c = 0; c < 3; ++c) out.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(m.at<cv::Vec3b>(y, x)[c] * g);
    }
  }
  return out;
}

// Sensor noise, as a real camera adds to every frame.
inline cv::Mat Noisy(const cv::Mat& m, int seed, double sigma = 2.5) {
  cv::Mat noise(m.size(), CV_16SC3), out;
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
  cv::Mat m16;
  m.convertTo(m16, CV_16SC3);
  cv::add(m16, noise, m16);
  m16.convertTo(out, CV_8UC3);
  return out;
}

// A small translation (the subject moving a little between frames).
inline cv::Mat Shift(const cv::Mat& m, double dx, double dy) {
  cv::Mat out, t = (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy);
  cv::warpAffine(m, out, t, m.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

inline std::string EncodeJpeg(const cv::Mat& m, int quality = 90) {
  std::vector<uchar> buf;
  cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::string(buf.begin(), buf.end());
}
inline std::string EncodePng(const cv::Mat& m) {
  std::vector<uchar> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

}  // namespace vigil::testing
