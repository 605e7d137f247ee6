// BlazeFace through OpenCV DNN, with the anchors decoded here (see face_detector.h).
#include <algorithm>
#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "quality/depthwise_conv.h"
#include "quality/face_detector.h"
#include "quality/resize_area.h"

namespace vigil::quality {
namespace {

constexpr int kInput = 128;

float Sigmoid(float x) {
  x = std::clamp(x, -80.0f, 80.0f);
  return 1.0f / (1.0f + std::exp(-x));
}

float Iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  float inter = (a & b).area();
  float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

class BlazeFace final : public FaceDetector {
 public:
  BlazeFace(const std::vector<std::uint8_t>& onnx, float min_score, float nms_iou, bool fast_depthwise)
      : min_score_(min_score), nms_iou_(nms_iou) {
    net_ = fast_depthwise ? ReadOnnxWithFastDepthwise(onnx) : cv::dnn::readNetFromONNX(onnx);
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    out_names_ = net_.getUnconnectedOutLayersNames();
  }
  const char* name() const override { return "blazeface"; }

  std::vector<Face> Detect(const cv::Mat& bgr) override {
    // Letterbox: keep the aspect ratio, pad with black to a square.
    const double s = static_cast<double>(kInput) / std::max(bgr.cols, bgr.rows);
    const int nw = std::max(1, static_cast<int>(std::lround(bgr.cols * s)));
    const int nh = std::max(1, static_cast<int>(std::lround(bgr.rows * s)));
    const int ox = (kInput - nw) / 2, oy = (kInput - nh) / 2;
    canvas_.create(kInput, kInput, bgr.type());
    canvas_.setTo(cv::Scalar::all(0));
    cv::Mat inside = canvas_(cv::Rect(ox, oy, nw, nh));
    ResizeArea(bgr, inside, cv::Size(nw, nh));  // cv::resize(INTER_AREA)'s pixels, faster
    cv::cvtColor(canvas_, rgb_, cv::COLOR_BGR2RGB);
    // NHWC float in [-1, 1]: an HxW 3-channel float Mat is already laid out as HWC.
    int sizes[] = {1, kInput, kInput, 3};
    blob_.create(4, sizes, CV_32F);
    cv::Mat hwc(kInput, kInput, CV_32FC3, blob_.ptr<float>());
    rgb_.convertTo(hwc, CV_32FC3, 1.0 / 127.5, -1.0);
    net_.setInput(blob_);
    outs_.clear();
    net_.forward(outs_, out_names_);

    // Sort the four outputs: scores [1,N,1] and boxes [1,N,16] for N = 512 and 384.
    const float* scores[2] = {nullptr, nullptr};
    const float* boxes[2] = {nullptr, nullptr};
    for (const cv::Mat& o : outs_) {
      const std::size_t total = o.total();
      if (total == 512) scores[0] = o.ptr<float>();
      else if (total == 384) scores[1] = o.ptr<float>();
      else if (total == 512 * 16) boxes[0] = o.ptr<float>();
      else if (total == 384 * 16) boxes[1] = o.ptr<float>();
    }
    std::vector<Face> cand;
    if (!scores[0] || !scores[1] || !boxes[0] || !boxes[1]) return cand;
    const int cells[2] = {16, 8};
    const int anchors[2] = {2, 6};
    for (int layer = 0; layer < 2; ++layer) {
      const int n = cells[layer];
      for (int y = 0; y < n; ++y) {
        for (int x = 0; x < n; ++x) {
          for (int a = 0; a < anchors[layer]; ++a) {
            const int idx = (y * n + x) * anchors[layer] + a;
            const float score = Sigmoid(scores[layer][idx]);
            if (score < min_score_) continue;
            const float* b = boxes[layer] + idx * 16;
            const float ax = (x + 0.5f) / n, ay = (y + 0.5f) / n;
            auto to_image = [&](float u, float v) {  // model-normalised -> image pixels
              return cv::Point2f(static_cast<float>((u * kInput - ox) / s), static_cast<float>((v * kInput - oy) / s));
            };
            const float cx = ax + b[0] / kInput, cy = ay + b[1] / kInput;
            const float w = b[2] / kInput, h = b[3] / kInput;
            Face f;
            f.score = score;
            cv::Point2f tl = to_image(cx - w / 2, cy - h / 2), br = to_image(cx + w / 2, cy + h / 2);
            f.box = cv::Rect2f(tl, br);
            f.has_keypoints = true;
            for (int k = 0; k < 6; ++k) f.keypoints[k] = to_image(ax + b[4 + 2 * k] / kInput, ay + b[5 + 2 * k] / kInput);
            cand.push_back(f);
          }
        }
      }
    }
    std::sort(cand.begin(), cand.end(), [](const Face& a, const Face& b) { return a.score > b.score; });
    // Non-maximum suppression, averaging the overlapping boxes by score (MediaPipe's blending).
    std::vector<Face> out;
    std::vector<bool> used(cand.size(), false);
    for (std::size_t i = 0; i < cand.size(); ++i) {
      if (used[i]) continue;
      Face best = cand[i];
      double wsum = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0;
      std::array<cv::Point2d, 6> kp{};
      for (std::size_t j = i; j < cand.size(); ++j) {
        if (used[j] || Iou(cand[i].box, cand[j].box) < nms_iou_) continue;
        used[j] = true;
        const double w = cand[j].score;
        wsum += w;
        x0 += w * cand[j].box.x, y0 += w * cand[j].box.y;
        x1 += w * cand[j].box.br().x, y1 += w * cand[j].box.br().y;
        for (int k = 0; k < 6; ++k) kp[k] += w * cv::Point2d(cand[j].keypoints[k]);
      }
      best.box = cv::Rect2f(cv::Point2f(static_cast<float>(x0 / wsum), static_cast<float>(y0 / wsum)),
                            cv::Point2f(static_cast<float>(x1 / wsum), static_cast<float>(y1 / wsum)));
      for (int k = 0; k < 6; ++k) best.keypoints[k] = cv::Point2f(kp[k] * (1.0 / wsum));
      out.push_back(best);
    }
    return out;
  }

 private:
  cv::dnn::Net net_;
  std::vector<cv::String> out_names_;
  float min_score_, nms_iou_;
  cv::Mat canvas_, rgb_, blob_;
  std::vector<cv::Mat> outs_;
};

}  // namespace

std::unique_ptr<FaceDetector> NewBlazeFace(const std::vector<std::uint8_t>& onnx, float min_score, float nms_iou,
                                           bool fast_depthwise) {
  return std::make_unique<BlazeFace>(onnx, min_score, nms_iou, fast_depthwise);
}

}  // namespace vigil::quality
