// The quality gate per frame: one 640x480 JPEG (the astronaut portrait from python3-skimage)
// through decode, face detection, quality measures and cues (perceptual hash, moire), on one core.
// BlazeFace and the Haar fallback. Figures: bench/RESULTS.md (bench/liveness_bench.sh runs this
// and the same steps in Python with python3-opencv, side by side).
#include <benchmark/benchmark.h>

#include <filesystem>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "liveness/cues.h"
#include "quality/quality.h"

namespace {

const std::string kAstronaut = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png";
const std::string kBlazeFace = std::string(VIGIL_SOURCE_DIR) +
                               "/third_party/npm/blazeface/face_detection_front_128x128_barracuda.onnx";

std::vector<uchar> FrameJpeg() {
  cv::Mat a = cv::imread(kAstronaut, cv::IMREAD_COLOR), p;
  cv::resize(a(cv::Rect(83, 13, 280, 210)), p, cv::Size(640, 480), 0, 0, cv::INTER_CUBIC);
  std::vector<uchar> buf;
  cv::imencode(".jpg", p, buf, {cv::IMWRITE_JPEG_QUALITY, 90});
  return buf;
}

enum Detector { kFastDepthwise, kOpenCvDepthwise, kHaar };

void Gate(benchmark::State& state, Detector which) {
  cv::setNumThreads(1);
  vigil::quality::DetectorOptions opt;
  opt.fast_depthwise = which == kFastDepthwise;
  if (which != kHaar) {
    if (!std::filesystem::exists(kBlazeFace)) {
      state.SkipWithError("BlazeFace model absent: run scripts/install-deps.sh");
      return;
    }
    opt.blazeface_path = kBlazeFace;
  }
  auto factory = vigil::quality::FaceDetectorFactory::Create(opt);
  if (!factory.ok()) {
    state.SkipWithError(factory.error().message.c_str());
    return;
  }
  auto detector = (*factory)->NewDetector();
  const std::vector<uchar> jpeg = FrameJpeg();
  const vigil::QualityPolicy policy;
  for (auto _ : state) {
    // As the analyzer does it: the frame in grey once for the measures and cues.
    cv::Mat img = cv::imdecode(jpeg, cv::IMREAD_COLOR), gray;
    auto faces = detector->Detect(img);
    cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
    auto q = vigil::quality::AssessFrame(gray, faces, policy);
    auto h = vigil::liveness::PerceptualHash(gray);
    auto m = vigil::liveness::MoireScore(gray, q.face_count ? q.face.box : cv::Rect2f());
    benchmark::DoNotOptimize(q);
    benchmark::DoNotOptimize(h);
    benchmark::DoNotOptimize(m);
  }
}

void Stage(benchmark::State& state, int stage) {
  cv::setNumThreads(1);
  vigil::quality::DetectorOptions opt;
  opt.blazeface_path = std::filesystem::exists(kBlazeFace) ? kBlazeFace : "";
  auto factory = vigil::quality::FaceDetectorFactory::Create(opt);
  auto detector = (*factory)->NewDetector();
  const std::vector<uchar> jpeg = FrameJpeg();
  cv::Mat img = cv::imdecode(jpeg, cv::IMREAD_COLOR), gray;
  cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  auto faces = detector->Detect(img);
  for (auto _ : state) {
    switch (stage) {
      case 0: benchmark::DoNotOptimize(cv::imdecode(jpeg, cv::IMREAD_COLOR)); break;
      case 1: benchmark::DoNotOptimize(detector->Detect(img)); break;
      case 2: {
        cv::Mat g;
        cv::cvtColor(img, g, cv::COLOR_BGR2GRAY);
        benchmark::DoNotOptimize(g);
        break;
      }
      case 3: benchmark::DoNotOptimize(vigil::quality::AssessFrame(gray, faces, vigil::QualityPolicy{})); break;
      case 4: benchmark::DoNotOptimize(vigil::liveness::PerceptualHash(gray)); break;
      case 5:
        benchmark::DoNotOptimize(vigil::liveness::MoireScore(gray, faces.empty() ? cv::Rect2f() : faces[0].box));
        break;
    }
  }
}

BENCHMARK_CAPTURE(Gate, blazeface, kFastDepthwise)->Unit(benchmark::kMillisecond);
// The same with all of BlazeFace's layers by OpenCV DNN (as the Python side runs it).
BENCHMARK_CAPTURE(Gate, blazeface_opencv_depthwise, kOpenCvDepthwise)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Gate, haar, kHaar)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Stage, decode_jpeg, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Stage, detect, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Stage, grey, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Stage, quality_measures, 3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Stage, phash, 4)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(Stage, moire, 5)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
