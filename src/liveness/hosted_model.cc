// Hosted ONNX models through OpenCV DNN (see hosted_model.h).
#include "liveness/hosted_model.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "core/crypto.h"

namespace vigil::liveness {
namespace {

std::atomic<std::uint64_t> g_serial{1};

cv::dnn::Net& NetFor(std::uint64_t serial, const std::vector<std::uint8_t>& bytes) {
  thread_local std::unordered_map<std::uint64_t, cv::dnn::Net> nets;
  auto it = nets.find(serial);
  if (it != nets.end()) return it->second;
  if (nets.size() >= 16) nets.clear();  // old generations after reloads
  cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return nets.emplace(serial, std::move(net)).first->second;
}

}  // namespace

Result<std::shared_ptr<const HostedModel>> HostedModel::Load(const ModelSlot& slot) {
  std::error_code ec;
  if (slot.path.empty() || !std::filesystem::exists(slot.path, ec)) return std::shared_ptr<const HostedModel>();
  auto m = std::make_shared<HostedModel>();
  m->slot_ = slot;
  m->serial_ = g_serial.fetch_add(1);
  std::ifstream in(slot.path, std::ios::binary);
  m->bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (m->bytes_.empty()) return Error::Invalid("model " + slot.name + ": cannot read " + slot.path);
  m->sha256_ = Hex(Sha256(std::string_view(reinterpret_cast<const char*>(m->bytes_.data()), m->bytes_.size())));
  if (!slot.sha256.empty() && slot.sha256 != m->sha256_) {
    return Error::Invalid("model " + slot.name + ": " + slot.path + " has SHA-256 " + m->sha256_ + ", expected " + slot.sha256);
  }
  try {
    cv::Mat probe(std::max(8, slot.height), std::max(8, slot.width), CV_8UC3, cv::Scalar::all(128));
    double s = m->ScoreFrame(probe, cv::Rect2f(0, 0, static_cast<float>(probe.cols), static_cast<float>(probe.rows)));
    if (!std::isfinite(s)) return Error::Invalid("model " + slot.name + ": output is not a finite number");
  } catch (const cv::Exception& e) {
    return Error::Invalid("model " + slot.name + ": " + slot.path + " does not run: " + e.what());
  }
  return std::shared_ptr<const HostedModel>(std::move(m));
}

double HostedModel::ScoreFrame(const cv::Mat& bgr, const cv::Rect2f& face) const {
  const ModelSlot& s = slot_;
  // The crop: the face box scaled about its centre, kept inside the image.
  const cv::Point2f c = (face.tl() + face.br()) * 0.5f;
  float w = static_cast<float>(face.width * s.crop_scale), h = static_cast<float>(face.height * s.crop_scale);
  w = std::min(w, static_cast<float>(bgr.cols));
  h = std::min(h, static_cast<float>(bgr.rows));
  float x = std::clamp(c.x - w / 2, 0.0f, bgr.cols - w), y = std::clamp(c.y - h / 2, 0.0f, bgr.rows - h);
  cv::Rect roi = cv::Rect(cv::Rect2f(x, y, w, h)) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (roi.area() <= 0) roi = cv::Rect(0, 0, bgr.cols, bgr.rows);
  cv::Mat crop, f;
  cv::resize(bgr(roi), crop, cv::Size(s.width, s.height), 0, 0, cv::INTER_LINEAR);
  if (s.rgb) cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
  crop.convertTo(f, CV_32FC3, s.scale);
  std::vector<cv::Mat> ch(3);
  cv::split(f, ch);
  for (int i = 0; i < 3; ++i) ch[i] = (ch[i] - s.mean[i]) / s.std[i];
  cv::Mat blob;
  if (s.nchw) {
    int sizes[] = {1, 3, s.height, s.width};
    blob.create(4, sizes, CV_32F);
    for (int i = 0; i < 3; ++i) {
      cv::Mat plane(s.height, s.width, CV_32F, blob.ptr<float>() + static_cast<std::size_t>(i) * s.height * s.width);
      ch[i].copyTo(plane);
    }
  } else {
    int sizes[] = {1, s.height, s.width, 3};
    blob.create(4, sizes, CV_32F);
    cv::Mat hwc(s.height, s.width, CV_32FC3, blob.ptr<float>());
    cv::merge(ch, hwc);
  }
  cv::dnn::Net& net = NetFor(serial_, bytes_);
  net.setInput(blob);
  cv::Mat out = net.forward().reshape(1, 1);
  std::vector<double> v(out.total());
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = out.at<float>(0, static_cast<int>(i));
  if (v.empty()) return std::nan("");
  const int idx = std::clamp(s.live_index, 0, static_cast<int>(v.size()) - 1);
  if (!s.softmax) return v[idx];
  const double mx = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (double& e : v) sum += (e = std::exp(e - mx));
  return v[idx] / sum;
}

}  // namespace vigil::liveness
