// The detector factory, the Haar fallback and head pose from keypoints.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "core/crypto.h"
#include "quality/face_detector.h"

namespace vigil::quality {
namespace {

std::atomic<std::uint64_t> g_serial{1};

class HaarDetector final : public FaceDetector {
 public:
  explicit HaarDetector(const std::string& path) { cascade_.load(path); }
  bool ok() const { return !cascade_.empty(); }
  const char* name() const override { return "haar"; }

  std::vector<Face> Detect(const cv::Mat& bgr) override {
    // Detect on a copy at most 320 pixels wide: the cascade's cost grows with the area.
    const double s = bgr.cols > 320 ? 320.0 / bgr.cols : 1.0;
    cv::cvtColor(bgr, gray_, cv::COLOR_BGR2GRAY);
    if (s < 1.0) cv::resize(gray_, gray_, cv::Size(), s, s, cv::INTER_AREA);
    cv::equalizeHist(gray_, gray_);
    const int min_side = std::max(20, std::min(gray_.cols, gray_.rows) / 10);
    std::vector<cv::Rect> rects;
    std::vector<int> levels;
    std::vector<double> weights;
    cascade_.detectMultiScale(gray_, rects, levels, weights, 1.1, 5, 0, cv::Size(min_side, min_side),
                              cv::Size(), true);
    std::vector<Face> out;
    for (std::size_t i = 0; i < rects.size(); ++i) {
      Face f;
      f.box = cv::Rect2f(static_cast<float>(rects[i].x / s), static_cast<float>(rects[i].y / s),
                         static_cast<float>(rects[i].width / s), static_cast<float>(rects[i].height / s));
      f.score = 1.0f;
      f.has_keypoints = false;
      out.push_back(f);
    }
    std::sort(out.begin(), out.end(), [](const Face& a, const Face& b) { return a.box.area() > b.box.area(); });
    return out;
  }

 private:
  cv::CascadeClassifier cascade_;
  cv::Mat gray_;
};

}  // namespace

std::unique_ptr<FaceDetector> NewHaarDetector(const std::string& cascade_path) {
  auto d = std::make_unique<HaarDetector>(cascade_path);
  if (!d->ok()) return nullptr;
  return d;
}

Result<std::shared_ptr<const FaceDetectorFactory>> FaceDetectorFactory::Create(const DetectorOptions& opt) {
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
  auto f = std::make_shared<FaceDetectorFactory>();
  f->opt_ = opt;
  f->serial_ = g_serial.fetch_add(1);
  std::error_code ec;
  if (!opt.blazeface_path.empty() && std::filesystem::exists(opt.blazeface_path, ec)) {
    std::ifstream in(opt.blazeface_path, std::ios::binary);
    f->model_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (f->model_.empty()) return Error::Invalid("cannot read face model " + opt.blazeface_path);
    f->sha256_ = Hex(Sha256(std::string_view(reinterpret_cast<const char*>(f->model_.data()), f->model_.size())));
    if (!opt.expected_sha256.empty() && f->sha256_ != opt.expected_sha256) {
      return Error::Invalid("face model " + opt.blazeface_path + " has SHA-256 " + f->sha256_ + ", expected " +
                            opt.expected_sha256);
    }
    try {
      auto probe = NewBlazeFace(f->model_, opt.min_score, opt.nms_iou, opt.fast_depthwise);
      cv::Mat blank(128, 128, CV_8UC3, cv::Scalar::all(0));
      probe->Detect(blank);
    } catch (const cv::Exception& e) {
      return Error::Invalid("face model " + opt.blazeface_path + " does not load: " + e.what());
    }
  } else if (!NewHaarDetector(opt.haar_path)) {
    return Error::Invalid("no face model at '" + opt.blazeface_path + "' and no Haar cascade at " + opt.haar_path);
  }
  return std::shared_ptr<const FaceDetectorFactory>(std::move(f));
}

std::unique_ptr<FaceDetector> FaceDetectorFactory::NewDetector() const {
  if (!model_.empty()) return NewBlazeFace(model_, opt_.min_score, opt_.nms_iou, opt_.fast_depthwise);
  return NewHaarDetector(opt_.haar_path);
}

FaceDetector& FaceDetectorFactory::ForThisThread() const {
  // One detector per thread, replaced when the factory changes (reload): detectors are not
  // thread-safe, and a lock shared by all requests is not allowed on the decision path.
  thread_local std::uint64_t serial = 0;
  thread_local std::unique_ptr<FaceDetector> detector;
  if (serial != serial_ || !detector) {
    detector = NewDetector();
    serial = serial_;
  }
  return *detector;
}

HeadPose EstimatePose(const Face& face) {
  HeadPose p;
  if (!face.has_keypoints) return p;
  const cv::Point2f re = face.keypoints[kRightEye], le = face.keypoints[kLeftEye], nose = face.keypoints[kNose];
  const cv::Point2f mid = (re + le) * 0.5f;
  const double d = std::hypot(le.x - re.x, le.y - re.y);
  if (d < 1e-3) return p;
  p.yaw = (nose.x - mid.x) / d;
  // A frontal face's nose tip sits about 0.55 eye-distances below the eyes' midpoint.
  p.pitch = (nose.y - mid.y) / d - 0.55;
  return p;
}

}  // namespace vigil::quality
