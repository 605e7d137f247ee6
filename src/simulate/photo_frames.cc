#include "simulate/photo_frames.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace vigil::sim {

cv::Mat Portrait(const cv::Mat& astronaut) {
  cv::Mat out;
  cv::resize(astronaut(cv::Rect(83, 13, 280, 210)), out, cv::Size(640, 480), 0, 0, cv::INTER_CUBIC);
  return out;
}

cv::Mat NoFace(const cv::Mat& coffee) {
  cv::Mat out;
  cv::resize(coffee, out, cv::Size(640, 480), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat TwoFaces(const cv::Mat& astronaut) {
  cv::Mat left, right, out;
  cv::resize(astronaut(cv::Rect(133, 23, 180, 270)), left, cv::Size(320, 480), 0, 0, cv::INTER_AREA);
  cv::flip(left, right, 1);
  cv::hconcat(left, right, out);
  return out;
}

cv::Mat OffCenter(const cv::Mat& astronaut) {
  cv::Mat out(480, 640, CV_8UC3, cv::Scalar(120, 120, 120)), crop;
  cv::resize(astronaut(cv::Rect(150, 40, 150, 150)), crop, cv::Size(225, 225), 0, 0, cv::INTER_CUBIC);
  crop.copyTo(out(cv::Rect(0, 0, 225, 225)));
  return out;
}

cv::Mat Placed(const cv::Mat& astronaut, double scale, cv::Point2d at) {
  cv::Mat out, t = (cv::Mat_<double>(2, 3) << scale, 0, at.x - 223 * scale, 0, scale, at.y - 113 * scale);
  cv::warpAffine(astronaut, out, t, cv::Size(640, 480), cv::INTER_AREA, cv::BORDER_CONSTANT, cv::Scalar(110, 110, 110));
  return out;
}

cv::Mat Darken(const cv::Mat& m, double gain) {
  cv::Mat out;
  m.convertTo(out, -1, gain, 0);
  return out;
}

cv::Mat Brighten(const cv::Mat& m) {
  cv::Mat out;
  m.convertTo(out, -1, 0.5, 150);
  return out;
}

cv::Mat Blur(const cv::Mat& m, double sigma) {
  cv::Mat out;
  cv::GaussianBlur(m, out, cv::Size(0, 0), sigma);
  return out;
}

cv::Mat Backlit(const cv::Mat& m) {
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

cv::Mat Downscale(const cv::Mat& m, int width) {
  cv::Mat out;
  cv::resize(m, out, cv::Size(width, m.rows * width / m.cols), 0, 0, cv::INTER_AREA);
  return out;
}

cv::Mat Moire(const cv::Mat& m, double strength) {
  cv::Mat out(m.size(), m.type());
  const double f1x = 0.21, f1y = 0.07, f2x = -0.06, f2y = 0.23;  // cycles per pixel
  const double two_pi = 2 * std::numbers::pi;
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      const double g = 1.0 + strength * (0.5 * std::sin(two_pi * (f1x * x + f1y * y)) +
                                          0.5 * std::sin(two_pi * (f2x * x + f2y * y)));
      for (int c = 0; c < 3; ++c) out.at<cv::Vec3b>(y, x)[c] = cv::saturate_cast<uchar>(m.at<cv::Vec3b>(y, x)[c] * g);
    }
  }
  return out;
}

cv::Mat Printed(const cv::Mat& m) {
  cv::Mat out;
  m.convertTo(out, -1, 0.72, 38);  // paper white is not the screen's, ink black is grey
  cv::add(out, cv::Scalar(-6, 4, 10), out);  // BGR: a warm paper tint
  return Blur(out, 1.2);
}

cv::Mat Noisy(const cv::Mat& m, int seed, double sigma) {
  cv::Mat noise(m.size(), CV_16SC3), m16, out;
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  rng.fill(noise, cv::RNG::NORMAL, 0, sigma);
  m.convertTo(m16, CV_16SC3);
  cv::add(m16, noise, m16);
  m16.convertTo(out, CV_8UC3);
  return out;
}

cv::Mat Shift(const cv::Mat& m, double dx, double dy) {
  cv::Mat out, t = (cv::Mat_<double>(2, 3) << 1, 0, dx, 0, 1, dy);
  cv::warpAffine(m, out, t, m.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

namespace {

// Moves the nose, mouth and chin of Portrait() sideways against the eyes (the eyes a little the
// other way): the 2-D part of a head turn to the subject's left, as the camera sees it.
cv::Mat ShearFace(const cv::Mat& portrait, double amount) {
  // In Portrait() the eyes are at about (272, 203) and (372, 207), 100 pixels apart; the nose tip
  // is at (322, 255) and the chin near y = 340.
  const double sx = portrait.cols / 640.0, sy = portrait.rows / 480.0;
  const double cx = 322 * sx, eye_y = 205 * sy, chin_y = 340 * sy;
  cv::Mat map_x(portrait.size(), CV_32F), map_y(portrait.size(), CV_32F);
  for (int y = 0; y < portrait.rows; ++y) {
    const double below = std::clamp((y - 215 * sy) / (40 * sy), 0.0, 1.0);
    const double past = std::max(0.0, y - chin_y) / (40 * sy);
    const double lower = below * std::exp(-0.5 * past * past);
    const double ey = (y - eye_y) / (25 * sy);
    for (int x = 0; x < portrait.cols; ++x) {
      const double gx = (x - cx) / (80 * sx);
      const double w = std::exp(-0.5 * gx * gx) * (lower - 0.7 * std::exp(-0.5 * ey * ey));
      map_x.at<float>(y, x) = static_cast<float>(x - amount * w);
      map_y.at<float>(y, x) = static_cast<float>(y);
    }
  }
  cv::Mat out;
  cv::remap(portrait, out, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

}  // namespace

cv::Mat TurnHead(const cv::Mat& portrait, const std::string& step) {
  if (step == "turn_right") return ShearFace(portrait, -70);
  if (step == "turn_left") {
    // The photographed face is already turned a little to its right, and a warp the other way
    // stops fooling the detector early; the mirror image of a right turn is a left turn.
    cv::Mat out;
    cv::flip(ShearFace(portrait, -70), out, 1);
    return out;
  }
  return portrait.clone();
}

std::string EncodeJpeg(const cv::Mat& m, int quality) {
  std::vector<uchar> buf;
  cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, quality});
  return std::string(buf.begin(), buf.end());
}

std::string EncodePng(const cv::Mat& m) {
  std::vector<uchar> buf;
  cv::imencode(".png", m, buf);
  return std::string(buf.begin(), buf.end());
}

}  // namespace vigil::sim
