// Quality measures for one frame (see quality.h).
#include "quality/quality.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace vigil::quality {
namespace {

double MeanOf(const cv::Mat& gray, const cv::Rect& r) {
  if (r.area() <= 0) return 0.0;
  return cv::mean(gray(r))[0];
}

double LaplacianVariance(const cv::Mat& gray_roi) {
  // Resize to a fixed width so the measure does not depend on how large the face is.
  cv::Mat small, lap;
  const double s = 128.0 / std::max(1, gray_roi.cols);
  cv::resize(gray_roi, small, cv::Size(), s, s, s < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Laplacian(small, lap, CV_32F, 1);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}

}  // namespace

const Face* LargestFace(const std::vector<Face>& faces) {
  const Face* best = nullptr;
  for (const Face& f : faces) {
    if (!best || f.box.area() > best->box.area()) best = &f;
  }
  return best;
}

FrameQuality AssessFrame(const cv::Mat& bgr, const std::vector<Face>& faces, const QualityPolicy& policy) {
  FrameQuality q;
  q.width = bgr.cols;
  q.height = bgr.rows;
  q.face_count = static_cast<int>(faces.size());
  cv::Mat gray = bgr;
  if (bgr.channels() != 1) cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  const cv::Rect image(0, 0, bgr.cols, bgr.rows);
  cv::Rect roi(bgr.cols / 4, bgr.rows / 4, std::max(1, bgr.cols / 2), std::max(1, bgr.rows / 2));
  const Face* face = LargestFace(faces);
  if (face) {
    q.face = *face;
    cv::Rect box = cv::Rect(face->box) & image;
    if (box.area() > 0) roi = box;
    q.face_size = face->box.width / static_cast<double>(bgr.cols);
    const cv::Point2f c = (face->box.tl() + face->box.br()) * 0.5f;
    const double dx = std::abs(c.x - bgr.cols / 2.0) / (bgr.cols / 2.0);
    const double dy = std::abs(c.y - bgr.rows / 2.0) / (bgr.rows / 2.0);
    q.center_offset = std::min(1.0, std::max(dx, dy));
    // The surround: the box grown by its own size on every side, less the face.
    cv::Rect outer(box.x - box.width, box.y - box.height, box.width * 3, box.height * 3);
    outer &= image;
    const double face_sum = cv::sum(gray(box))[0];
    const double outer_sum = cv::sum(gray(outer))[0];
    const double ring_area = static_cast<double>(outer.area()) - box.area();
    if (ring_area > box.area() * 0.5) {
      const double ring_mean = (outer_sum - face_sum) / ring_area;
      const double face_mean = face_sum / std::max(1, box.area());
      q.backlight_score = std::clamp((ring_mean - face_mean) / 255.0, 0.0, 1.0);
    }
  }
  q.brightness_score = MeanOf(gray, roi) / 255.0;
  q.laplacian_var = LaplacianVariance(gray(roi));
  q.blur_score = 100.0 / (100.0 + q.laplacian_var);

  auto& r = q.reasons;
  if (q.face_count == 0) r.push_back(ReasonCode::kNoFace);
  if (q.face_count > policy.max_faces) r.push_back(ReasonCode::kMultipleFaces);
  if (face && q.face_size < policy.min_face_size) r.push_back(ReasonCode::kFaceTooSmall);
  if (face && q.center_offset > policy.max_center_offset) r.push_back(ReasonCode::kFaceOffCenter);
  if (q.blur_score > policy.max_blur_score) r.push_back(ReasonCode::kBlurry);
  if (q.brightness_score < policy.min_brightness) r.push_back(ReasonCode::kTooDark);
  if (q.brightness_score > policy.max_brightness) r.push_back(ReasonCode::kTooBright);
  if (face && q.backlight_score > policy.max_backlight) r.push_back(ReasonCode::kBacklit);
  if (std::min(q.width, q.height) < policy.min_resolution) r.push_back(ReasonCode::kLowResolution);
  return q;
}

}  // namespace vigil::quality
