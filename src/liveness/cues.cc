// Built-in cues (see cues.h).
#include "liveness/cues.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "quality/resize_area.h"

namespace vigil::liveness {
namespace {

cv::Mat Gray(const cv::Mat& bgr) {
  cv::Mat g;
  if (bgr.channels() == 1) return bgr;
  cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
  return g;
}

cv::Rect Clip(const cv::Rect2f& r, const cv::Mat& m) { return cv::Rect(r) & cv::Rect(0, 0, m.cols, m.rows); }

// The moire measure's spectrum cells (the same for every frame, so computed once): over half the
// plane (the spectrum of a real image is symmetric), off the axes (window edges and JPEG block
// artefacts), radius 10 to 60. Each cell's magnitude is also copied to its ring's span of a
// buffer, to take the ring's median there.
constexpr int kMoireN = 128, kRingMin = 10, kRingMax = 60;

struct MoireCells {
  std::vector<int> offset;  // into the DFT_COMPLEX_OUTPUT spectrum, in Vec2f
  std::vector<int> radius;
  std::vector<int> slot;    // in the ring buffer
  std::array<int, kRingMax + 2> ring_begin{};
  cv::Mat window;           // Hanning, kMoireN x kMoireN
};

const MoireCells& Cells() {
  static const MoireCells cells = [] {
    MoireCells c;
    constexpr int n = kMoireN;
    std::array<int, kRingMax + 1> count{};
    for (int v = 0; v <= n / 2; ++v) {
      for (int u = -n / 2 + 1; u < n / 2; ++u) {
        if (std::abs(u) <= 2 || v <= 2) continue;
        const int r = static_cast<int>(std::lround(std::hypot(u, v)));
        if (r < kRingMin || r > kRingMax) continue;
        c.offset.push_back(v * n + (u + n) % n);
        c.radius.push_back(r);
        ++count[static_cast<std::size_t>(r)];
      }
    }
    for (std::size_t r = 0; r <= kRingMax; ++r) c.ring_begin[r + 1] = c.ring_begin[r] + count[r];
    std::array<int, kRingMax + 1> next{};
    std::copy(c.ring_begin.begin(), c.ring_begin.begin() + kRingMax + 1, next.begin());
    for (int r : c.radius) c.slot.push_back(next[static_cast<std::size_t>(r)]++);
    cv::createHanningWindow(c.window, cv::Size(n, n), CV_32F);
    return c;
  }();
  return cells;
}

}  // namespace

std::uint64_t PerceptualHash(const cv::Mat& bgr) {
  cv::Mat small, f, d;
  quality::ResizeArea(Gray(bgr), small, cv::Size(32, 32));  // cv::resize(INTER_AREA)'s pixels
  small.convertTo(f, CV_32F);
  cv::dct(f, d);
  float v[64];
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) v[y * 8 + x] = d.at<float>(y, x);
  }
  float sorted[63];
  std::copy(v + 1, v + 64, sorted);  // without the DC term
  std::nth_element(sorted, sorted + 31, sorted + 63);
  const float median = sorted[31];
  std::uint64_t h = 0;
  for (int i = 1; i < 64; ++i) {
    if (v[i] > median) h |= std::uint64_t{1} << i;
  }
  return h;
}

int HammingDistance(std::uint64_t a, std::uint64_t b) { return std::popcount(a ^ b); }

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  cv::Mat diff;
  cv::absdiff(Gray(a), Gray(b), diff);
  return cv::mean(diff)[0];
}

MoireResult MoireScore(const cv::Mat& bgr, const cv::Rect2f& face) {
  MoireResult out;
  const MoireCells& cells = Cells();
  cv::Mat gray = Gray(bgr);
  cv::Rect roi = face.area() > 0 ? Clip(face, gray) : cv::Rect();
  if (roi.area() < 256) roi = cv::Rect(gray.cols / 4, gray.rows / 4, gray.cols / 2, gray.rows / 2);
  constexpr int n = kMoireN;
  cv::Mat crop, f, spectrum;
  cv::resize(gray(roi), crop, cv::Size(n, n), 0, 0, roi.width > n ? cv::INTER_AREA : cv::INTER_LINEAR);
  crop.convertTo(f, CV_32F);
  f -= cv::mean(f)[0];
  cv::multiply(f, cells.window, f);
  cv::dft(f, spectrum, cv::DFT_COMPLEX_OUTPUT);
  // Each cell's magnitude against its ring's median.
  const auto* bins = spectrum.ptr<cv::Vec2f>();
  const std::size_t m = cells.offset.size();
  thread_local std::vector<float> mag, ring;
  mag.resize(m);
  ring.resize(m);
  for (std::size_t i = 0; i < m; ++i) {
    const cv::Vec2f c = bins[cells.offset[i]];
    mag[i] = std::hypot(c[0], c[1]);
    ring[static_cast<std::size_t>(cells.slot[i])] = mag[i];
  }
  std::array<float, kRingMax + 1> median{};
  for (int r = kRingMin; r <= kRingMax; ++r) {
    auto b = ring.begin() + cells.ring_begin[static_cast<std::size_t>(r)];
    auto e = ring.begin() + cells.ring_begin[static_cast<std::size_t>(r) + 1];
    if (b == e) continue;
    std::nth_element(b, b + (e - b) / 2, e);
    median[static_cast<std::size_t>(r)] = *(b + (e - b) / 2);
  }
  double best = 1.0;
  for (std::size_t i = 0; i < m; ++i) {
    const float med = median[static_cast<std::size_t>(cells.radius[i])];
    if (med > 1e-6f) best = std::max(best, static_cast<double>(mag[i] / med));
  }
  out.peak_ratio = std::log10(best);
  // Natural faces stay below about 1.1 (a peak 12x the ring median); a screen's grid goes past 1.6.
  out.score = std::clamp((out.peak_ratio - 1.1) / 0.5, 0.0, 1.0);
  return out;
}

FaceTrack TrackFace(const cv::Mat& bgr, const quality::Face* face) {
  FaceTrack t;
  if (!face) return t;
  cv::Rect box = Clip(face->box, bgr);
  if (box.area() < 16) return t;
  t.has_face = true;
  t.face = *face;
  cv::resize(Gray(bgr)(box), t.face_gray, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
  return t;
}

double MotionScore(const std::vector<FaceTrack>& tracks) {
  double best = 0.0;
  for (std::size_t i = 1; i < tracks.size(); ++i) {
    const FaceTrack& a = tracks[i - 1];
    const FaceTrack& b = tracks[i];
    if (!a.has_face || !b.has_face) continue;
    const cv::Point2f ca = (a.face.box.tl() + a.face.box.br()) * 0.5f;
    const cv::Point2f cb = (b.face.box.tl() + b.face.box.br()) * 0.5f;
    const double width = std::max(1.0f, (a.face.box.width + b.face.box.width) * 0.5f);
    const double shift = std::hypot(ca.x - cb.x, ca.y - cb.y) / width;
    const double change = MeanAbsDiff(a.face_gray, b.face_gray) / 25.0;
    best = std::max(best, std::max(shift, change));
  }
  return std::min(1.0, best);
}

ChallengeResult VerifyChallenge(const std::vector<std::string>& steps, const std::vector<FaceTrack>& tracks,
                                double yaw_delta, double pitch_delta) {
  ChallengeResult r;
  r.steps_total = static_cast<int>(steps.size());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  int with_pose = 0;
  for (const auto& t : tracks) {
    if (t.has_face && t.face.has_keypoints) {
      quality::HeadPose p = quality::EstimatePose(t.face);
      r.yaw.push_back(p.yaw);
      r.pitch.push_back(p.pitch);
      ++with_pose;
    } else {
      r.yaw.push_back(nan);
      r.pitch.push_back(nan);
    }
  }
  r.verifiable = with_pose >= 2 && !steps.empty();
  if (!r.verifiable) return r;
  std::size_t base = 0;
  while (std::isnan(r.yaw[base])) ++base;
  std::size_t next = base + 1;
  for (const std::string& step : steps) {
    bool done = false;
    for (; next < tracks.size() && !done; ++next) {
      if (std::isnan(r.yaw[next])) continue;
      const double dy = r.yaw[next] - r.yaw[base], dp = r.pitch[next] - r.pitch[base];
      if (step == "turn_left") done = dy > yaw_delta;
      else if (step == "turn_right") done = dy < -yaw_delta;
      else if (step == "look_up") done = dp < -pitch_delta;
      else if (step == "look_down") done = dp > pitch_delta;
    }
    if (!done) break;
    ++r.steps_done;
  }
  r.score = r.steps_total > 0 ? static_cast<double>(r.steps_done) / r.steps_total : 0.0;
  return r;
}

}  // namespace vigil::liveness
