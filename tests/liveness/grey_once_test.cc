// The per-frame work done once: the measures and cues on a frame already in grey give exactly
// what they give on the BGR frame, and the moire measure's precomputed spectrum cells give
// exactly what the straightforward loop over the spectrum gives.
#include <gtest/gtest.h>

#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "liveness/cues.h"
#include "liveness/test_images.h"
#include "quality/quality.h"

namespace vigil::liveness {
namespace {

using namespace vigil::testing;

std::vector<cv::Mat> Frames() {
  const cv::Mat p = Portrait();
  return {p,        Moire(p),   Blur(p, 5),  Darken(p),  Backlit(p),
          NoFace(), TwoFaces(), SmallFace(), Noisy(p, 8)};
}

cv::Mat Grey(const cv::Mat& bgr) {
  cv::Mat g;
  cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
  return g;
}

// The moire measure as written before the cells were precomputed (src/liveness/cues.cc).
double MoirePeakRatioReference(const cv::Mat& bgr, const cv::Rect2f& face) {
  cv::Mat gray = Grey(bgr);
  cv::Rect roi =
      face.area() > 0 ? cv::Rect(face) & cv::Rect(0, 0, gray.cols, gray.rows) : cv::Rect();
  if (roi.area() < 256) roi = cv::Rect(gray.cols / 4, gray.rows / 4, gray.cols / 2, gray.rows / 2);
  constexpr int n = 128;
  cv::Mat crop, f, win, spectrum;
  cv::resize(gray(roi), crop, cv::Size(n, n), 0, 0,
             roi.width > n ? cv::INTER_AREA : cv::INTER_LINEAR);
  crop.convertTo(f, CV_32F);
  f -= cv::mean(f)[0];
  cv::createHanningWindow(win, cv::Size(n, n), CV_32F);
  f = f.mul(win);
  cv::dft(f, spectrum, cv::DFT_COMPLEX_OUTPUT);
  constexpr int r_min = 10, r_max = 60;
  std::vector<std::vector<float>> rings(r_max + 1);
  std::vector<std::pair<int, float>> cells;
  for (int v = 0; v <= n / 2; ++v) {
    for (int u = -n / 2 + 1; u < n / 2; ++u) {
      if (std::abs(u) <= 2 || v <= 2) continue;
      const int r = static_cast<int>(std::lround(std::hypot(u, v)));
      if (r < r_min || r > r_max) continue;
      const cv::Vec2f c = spectrum.at<cv::Vec2f>(v, (u + n) % n);
      const float mag = std::hypot(c[0], c[1]);
      rings[r].push_back(mag);
      cells.emplace_back(r, mag);
    }
  }
  std::vector<float> median(r_max + 1, 0.0f);
  for (int r = r_min; r <= r_max; ++r) {
    auto& ring = rings[r];
    if (ring.empty()) continue;
    std::nth_element(ring.begin(), ring.begin() + ring.size() / 2, ring.end());
    median[r] = ring[ring.size() / 2];
  }
  double best = 1.0;
  for (auto [r, mag] : cells) {
    if (median[r] > 1e-6f) best = std::max(best, static_cast<double>(mag / median[r]));
  }
  return std::log10(best);
}

TEST(GreyOnce, MeasuresAndCuesAreTheSameOnGrey) {
  if (!std::filesystem::exists(SkimageData("astronaut.png")))
    GTEST_SKIP() << "python3-skimage data needed";
  const std::vector<cv::Mat> frames = Frames();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i);
    const cv::Mat& bgr = frames[i];
    const cv::Mat grey = Grey(bgr);
    quality::Face face;
    face.box = cv::Rect2f(bgr.cols * 0.3f, bgr.rows * 0.2f, bgr.cols * 0.35f, bgr.rows * 0.5f);
    const std::vector<quality::Face> faces{face};
    const auto a = quality::AssessFrame(bgr, faces, QualityPolicy{});
    const auto b = quality::AssessFrame(grey, faces, QualityPolicy{});
    EXPECT_EQ(a.laplacian_var, b.laplacian_var);
    EXPECT_EQ(a.brightness_score, b.brightness_score);
    EXPECT_EQ(a.backlight_score, b.backlight_score);
    EXPECT_EQ(a.reasons, b.reasons);
    EXPECT_EQ(a.width, b.width);
    EXPECT_EQ(PerceptualHash(bgr), PerceptualHash(grey));
    EXPECT_EQ(MoireScore(bgr, face.box).peak_ratio, MoireScore(grey, face.box).peak_ratio);
    EXPECT_EQ(MeanAbsDiff(bgr, frames[0]), MeanAbsDiff(grey, Grey(frames[0])));
    const FaceTrack ta = TrackFace(bgr, &face), tb = TrackFace(grey, &face);
    EXPECT_EQ(cv::norm(ta.face_gray, tb.face_gray, cv::NORM_INF), 0.0);
  }
}

TEST(GreyOnce, MoireCellsGiveTheStraightforwardLoopsResult) {
  if (!std::filesystem::exists(SkimageData("astronaut.png")))
    GTEST_SKIP() << "python3-skimage data needed";
  const std::vector<cv::Mat> frames = Frames();
  for (std::size_t i = 0; i < frames.size(); ++i) {
    SCOPED_TRACE(i);
    for (const cv::Rect2f face : {cv::Rect2f(), cv::Rect2f(200, 90, 230, 260),
                                  cv::Rect2f(500, 300, 300, 300), cv::Rect2f(300, 200, 60, 70)}) {
      EXPECT_EQ(MoireScore(frames[i], face).peak_ratio, MoirePeakRatioReference(frames[i], face));
    }
  }
}

}  // namespace
}  // namespace vigil::liveness
