// Security pre-checks, cues, the challenge, the hosted-model slot and the whole analyzer, on the
// astronaut photograph (python3-skimage) and synthetic captures made from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "core/yaml_reader.h"
#include "liveness/analyzer.h"
#include "liveness/test_images.h"
#include "policy/policy.h"
#include "reasons/catalogue.h"
#include "simulate/media_library.h"

namespace vigil::liveness {
namespace {

using namespace vigil::testing;

bool HasFinding(const AnalysisResult& r, ReasonCode c) {
  return std::any_of(r.findings.begin(), r.findings.end(), [&](const Finding& f) { return f.code == c; });
}
std::string Codes(const AnalysisResult& r) {
  std::string s;
  for (const auto& f : r.findings) s += std::string(BuiltinReasonName(f.code)) + " ";
  return s;
}

media::Media MakeMedia(const std::vector<cv::Mat>& frames, std::vector<double> ts = {}, int w = 640, int h = 480,
                       std::string label = "FaceTime HD Camera") {
  media::Media m;
  m.capture.has_size = w > 0;
  m.capture.width = w;
  m.capture.height = h;
  m.capture.camera_label = std::move(label);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    media::Frame f;
    f.image = frames[i];
    f.has_timestamp = true;
    f.timestamp_ms = i < ts.size() ? ts[i] : 1000.0 + 33.0 * i + (i % 2);
    m.frames.push_back(std::move(f));
  }
  m.digest_hex = std::string(64, 'a');
  return m;
}

class AnalyzerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = LoadLivenessConfig(SourcePath("config/liveness.yaml"), SourcePath("config"));
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    cfg->models.clear();
    auto det = quality::FaceDetectorFactory::Create(cfg->detector);
    ASSERT_TRUE(det.ok()) << det.error().message;
    analyzer_ = std::make_unique<Analyzer>(*cfg, *det, std::vector<std::shared_ptr<const HostedModel>>{});
  }
  AnalysisResult Analyse(const media::Media& m, std::vector<std::string> steps = {}) {
    return analyzer_->Analyze(m, QualityPolicy{}, steps, [](std::string_view) { return false; });
  }
  // A live capture: the portrait with sensor noise and a little movement.
  std::vector<cv::Mat> Live(int n = 4) {
    std::vector<cv::Mat> v;
    for (int i = 0; i < n; ++i) v.push_back(Noisy(Shift(Portrait(), 3.0 * i, 1.5 * i), i + 1));
    return v;
  }
  std::unique_ptr<Analyzer> analyzer_;
};

TEST_F(AnalyzerTest, LiveCaptureRaisesNothing) {
  auto r = Analyse(MakeMedia(Live()));
  EXPECT_TRUE(r.findings.empty()) << Codes(r);
  EXPECT_EQ(r.quality.GetNumber("face_count"), 1);
  EXPECT_EQ(r.quality.GetString("media_sha256"), std::string(64, 'a'));
  for (const char* k : {"blur_score", "brightness_score", "backlight_score", "face_size", "center_offset", "moire_score"}) {
    EXPECT_FALSE(std::isnan(r.quality.GetNumber(k))) << k;
  }
  EXPECT_LT(r.moire.score, 0.5) << r.moire.peak_ratio;
  EXPECT_GT(r.motion, 0.02);
}

TEST_F(AnalyzerTest, ScreenReplayMoire) {
  std::vector<cv::Mat> frames;
  for (const cv::Mat& f : Live()) frames.push_back(Moire(f));
  auto r = Analyse(MakeMedia(frames));
  EXPECT_TRUE(HasFinding(r, ReasonCode::kScreenReplaySuspected)) << Codes(r) << " " << r.moire.peak_ratio;
  auto live = Analyse(MakeMedia(Live()));
  EXPECT_GT(r.moire.peak_ratio, live.moire.peak_ratio + 0.3);
}

TEST_F(AnalyzerTest, StillImageReplay) {
  cv::Mat still = Portrait();
  auto r = Analyse(MakeMedia({still, still.clone(), still.clone()}));
  EXPECT_TRUE(HasFinding(r, ReasonCode::kStaticImageReplay)) << Codes(r);
  // Sensor noise alone (a person holding very still) is not a replay.
  auto live = Analyse(MakeMedia({Noisy(still, 1), Noisy(still, 2), Noisy(still, 3)}));
  EXPECT_FALSE(HasFinding(live, ReasonCode::kStaticImageReplay)) << Codes(live);
}

TEST_F(AnalyzerTest, VirtualCameraLabel) {
  auto r = Analyse(MakeMedia(Live(2), {}, 640, 480, "OBS Virtual Camera"));
  EXPECT_TRUE(HasFinding(r, ReasonCode::kVirtualCamera)) << Codes(r);
  EXPECT_FALSE(HasFinding(Analyse(MakeMedia(Live(2), {}, 640, 480, "Integrated Webcam")), ReasonCode::kVirtualCamera));
}

TEST_F(AnalyzerTest, DeclaredAgainstDecodedSize) {
  EXPECT_TRUE(HasFinding(Analyse(MakeMedia(Live(2), {}, 1280, 720)), ReasonCode::kMediaMismatch));
  EXPECT_FALSE(HasFinding(Analyse(MakeMedia(Live(2), {}, 480, 640)), ReasonCode::kMediaMismatch));  // rotated
  EXPECT_FALSE(HasFinding(Analyse(MakeMedia(Live(2), {}, 0, 0)), ReasonCode::kMediaMismatch));      // undeclared
  auto frames = Live(2);
  frames[1] = Downscale(frames[1], 320);
  EXPECT_TRUE(HasFinding(Analyse(MakeMedia(frames, {}, 0, 0)), ReasonCode::kMediaMismatch));
}

TEST_F(AnalyzerTest, FrameTiming) {
  EXPECT_TRUE(HasFinding(Analyse(MakeMedia(Live(3), {1000, 1033, 1020})), ReasonCode::kMediaTiming));  // backwards
  EXPECT_TRUE(HasFinding(Analyse(MakeMedia(Live(3), {1000, 1001, 1002})), ReasonCode::kMediaTiming));  // 1000 fps
  EXPECT_TRUE(HasFinding(Analyse(MakeMedia(Live(3), {1000, 5000, 5033})), ReasonCode::kMediaTiming));  // 4 s gap
  EXPECT_TRUE(HasFinding(Analyse(MakeMedia(Live(5), {0, 33.3333, 66.6666, 99.9999, 133.3332})), ReasonCode::kMediaTiming));
  EXPECT_FALSE(HasFinding(Analyse(MakeMedia(Live(5), {0, 33, 67, 100, 133})), ReasonCode::kMediaTiming));
}

TEST_F(AnalyzerTest, QualityFailureIsAFindingWithEvidence) {
  auto r = Analyse(MakeMedia({Darken(Portrait()), Darken(Noisy(Portrait(), 5))}));
  ASSERT_TRUE(HasFinding(r, ReasonCode::kTooDark)) << Codes(r);
  for (const auto& f : r.findings) {
    if (f.code == ReasonCode::kTooDark) {
      EXPECT_EQ(f.source, "quality");
      EXPECT_NE(f.evidence.find("brightness_score"), std::string::npos) << f.evidence;
    }
  }
  // One good frame among bad ones is enough: the block describes the best frame.
  auto mixed = Analyse(MakeMedia({Darken(Portrait()), Noisy(Portrait(), 5)}));
  EXPECT_FALSE(HasFinding(mixed, ReasonCode::kTooDark)) << Codes(mixed);
  EXPECT_EQ(mixed.best_frame, 1);
}

// The challenge, on poses built from the real detector's keypoints moved as a head turn would.
TEST(Challenge, StepsInOrderFromKeypoints) {
  quality::Face base;
  base.has_keypoints = true;
  base.box = cv::Rect2f(200, 150, 200, 200);
  base.keypoints[quality::kRightEye] = {260, 220};
  base.keypoints[quality::kLeftEye] = {340, 220};
  base.keypoints[quality::kNose] = {300, 264};
  auto turned = [&](float dx, float dy) {
    FaceTrack t;
    t.has_face = true;
    t.face = base;
    t.face.keypoints[quality::kNose] += cv::Point2f(dx, dy);
    return t;
  };
  std::vector<FaceTrack> tracks = {turned(0, 0), turned(30, 0), turned(0, 0), turned(-30, 0)};
  auto ok = VerifyChallenge({"turn_left", "turn_right"}, tracks);
  EXPECT_TRUE(ok.verifiable);
  EXPECT_EQ(ok.steps_done, 2);
  EXPECT_DOUBLE_EQ(ok.score, 1.0);
  auto wrong_order = VerifyChallenge({"turn_right", "turn_left"}, {turned(0, 0), turned(30, 0), turned(-30, 0)});
  EXPECT_EQ(wrong_order.steps_done, 1);
  auto nods = VerifyChallenge({"look_down", "look_up"}, {turned(0, 0), turned(0, 20), turned(0, -20)});
  EXPECT_EQ(nods.steps_done, 2);
  FaceTrack no_kp = turned(0, 0);
  no_kp.face.has_keypoints = false;
  EXPECT_FALSE(VerifyChallenge({"turn_left"}, {no_kp, no_kp}).verifiable);
}

TEST(Challenge, AnalyzerTurnsItIntoTheActiveSignal) {
  auto cfg = LoadLivenessConfig(SourcePath("config/liveness.yaml"), SourcePath("config"));
  ASSERT_TRUE(cfg.ok());
  if (!std::filesystem::exists(cfg->detector.blazeface_path)) GTEST_SKIP() << "BlazeFace needed for keypoints";
  auto det = quality::FaceDetectorFactory::Create(cfg->detector);
  ASSERT_TRUE(det.ok());
  Analyzer a(*cfg, *det, {});
  // A still face cannot turn: the challenge fails, and the signal says so.
  auto m = MakeMedia({Noisy(Portrait(), 1), Noisy(Portrait(), 2), Noisy(Portrait(), 3)});
  auto r = a.Analyze(m, QualityPolicy{}, {"turn_left", "turn_right"}, [](std::string_view) { return false; });
  ASSERT_TRUE(r.challenge.verifiable);
  EXPECT_EQ(r.challenge.steps_done, 0);
  EXPECT_TRUE(HasFinding(r, ReasonCode::kChallengeFailed));
  ASSERT_EQ(r.signals.size(), 1u);
  EXPECT_EQ(r.signals[0].name, "active");
  EXPECT_EQ(r.signals[0].raw, 0.0);
}

TEST(HostedModel, ClosedFormOnnxModel) {
  const std::string path = std::filesystem::temp_directory_path() / ("passive-" + std::to_string(::getpid()) + ".onnx");
  auto [rc, out] = vigil::testing::Run("/usr/bin/python3 " + SourcePath("tests/reference/make_passive_onnx.py") + " " + path + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  ModelSlot slot;
  slot.name = "test";
  slot.signal = "passive";
  slot.path = path;
  slot.scale = 1.0 / 255;
  auto m = HostedModel::Load(slot);
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(*m);
  // A uniform frame: every crop has mean v / 255, so the live probability is sigmoid(2 v / 255).
  cv::Mat frame(480, 640, CV_8UC3, cv::Scalar(100, 100, 100));
  const double expect = 1.0 / (1.0 + std::exp(-2.0 * 100 / 255));
  EXPECT_NEAR((*m)->ScoreFrame(frame, cv::Rect2f(250, 150, 100, 100)), expect, 1e-5);
  // Per-channel normalisation, channel order and the live index all reach the model.
  cv::Mat bgr(480, 640, CV_8UC3, cv::Scalar(30, 60, 90));
  slot.mean = {0.1, 0.2, 0.3};
  slot.rgb = true;
  slot.live_index = 0;
  auto m2 = HostedModel::Load(slot);
  ASSERT_TRUE(m2.ok());
  const double mean = ((90 / 255.0 - 0.1) + (60 / 255.0 - 0.2) + (30 / 255.0 - 0.3)) / 3;
  EXPECT_NEAR((*m2)->ScoreFrame(bgr, cv::Rect2f(250, 150, 100, 100)), 1.0 / (1.0 + std::exp(2 * mean)), 1e-5);
  // Without softmax the raw output comes back.
  slot.softmax = false;
  slot.live_index = 1;
  auto m3 = HostedModel::Load(slot);
  ASSERT_TRUE(m3.ok());
  EXPECT_NEAR((*m3)->ScoreFrame(bgr, cv::Rect2f(250, 150, 100, 100)), mean, 1e-5);
  // Absent: no model, no error. Wrong hash: an error.
  slot.path = path + ".absent";
  auto absent = HostedModel::Load(slot);
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(*absent);
  slot.path = path;
  slot.sha256 = std::string(64, 'f');
  EXPECT_FALSE(HostedModel::Load(slot).ok());
  std::filesystem::remove(path);
}

TEST(PolicyQuality, BlockIsReadAndChecked) {
  auto cat = ReasonCatalogue::LoadFile(SourcePath("config/reasons.yaml"));
  ASSERT_TRUE(cat.ok());
  auto p = Policy::LoadFile(SourcePath("config/policy.yaml"), *cat);
  ASSERT_TRUE(p.ok()) << p.error().message;
  const FlowPolicy* login = (*p)->FindFlow("login");
  ASSERT_TRUE(login);
  EXPECT_DOUBLE_EQ(login->quality.min_face_size, 0.15);
  EXPECT_DOUBLE_EQ(login->quality.max_brightness, 0.85);  // default kept
  for (ReasonCode c : {ReasonCode::kNoFace, ReasonCode::kMultipleFaces, ReasonCode::kFaceTooSmall,
                       ReasonCode::kFaceOffCenter, ReasonCode::kBlurry, ReasonCode::kTooDark, ReasonCode::kTooBright,
                       ReasonCode::kBacklit, ReasonCode::kLowResolution}) {
    EXPECT_TRUE(login->Retryable(c)) << BuiltinReasonName(c);
    EXPECT_TRUE((*p)->FindFlow("onboarding")->Retryable(c)) << BuiltinReasonName(c);
  }
  std::string bad = Slurp(SourcePath("config/policy.yaml"));
  bad.replace(bad.find("min_face_size: 0.20"), 19, "min_face_size: 2.00");
  std::vector<Error> errors;
  EXPECT_FALSE(Policy::Parse(bad, "policy.yaml", *cat, &errors).ok());
  ASSERT_FALSE(errors.empty());
  EXPECT_NE((errors[0].where + errors[0].message).find("policy.yaml:"), std::string::npos);
}

}  // namespace
}  // namespace vigil::liveness

namespace vigil::liveness {
namespace {

// The simulator's --media frames (src/simulate/media_library.h), decoded as the server decodes
// them: each condition shows the analyzer what the simulator claims it shows.
TEST_F(AnalyzerTest, SimulatorMediaConditionsAreWhatTheySay) {
  sim::MediaOptions opt;
  opt.variants = 2;
  auto lib = sim::MediaLibrary::Load(opt);
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  const std::vector<std::pair<std::string, ReasonCode>> expect = {
      {"low_light", ReasonCode::kTooDark},         {"blur", ReasonCode::kBlurry},
      {"backlight", ReasonCode::kBacklit},         {"second_face", ReasonCode::kMultipleFaces},
      {"capture_failure", ReasonCode::kNoFace},    {"print", ReasonCode::kStaticImageReplay},
      {"screen_replay", ReasonCode::kScreenReplaySuspected},
  };
  auto decode = [&](const std::string& condition, std::uint64_t variant, std::vector<std::string> steps = {}) {
    std::vector<cv::Mat> frames;
    for (const std::string& jpeg : (*lib)->Frames(condition, variant, steps)) {
      frames.push_back(cv::imdecode(std::vector<uchar>(jpeg.begin(), jpeg.end()), cv::IMREAD_COLOR));
      EXPECT_EQ(frames.back().cols, 640);
      EXPECT_EQ(frames.back().rows, 480);
    }
    EXPECT_EQ(frames.size(), 3u);
    return MakeMedia(frames, {1000, 1100, 1207});
  };
  // Who can follow the session's head-turn challenge does, in the order asked; the rest cannot.
  // The head pose comes from BlazeFace's keypoints (the Haar fallback has none).
  auto cfg = LoadLivenessConfig(SourcePath("config/liveness.yaml"), SourcePath("config"));
  ASSERT_TRUE(cfg.ok());
  const bool keypoints = std::filesystem::exists(cfg->detector.blazeface_path);
  if (!keypoints) std::cerr << "BlazeFace absent (run scripts/install-deps.sh): challenge frames not checked\n";
  const std::vector<std::vector<std::string>> challenges = {
      {"turn_left", "turn_right"}, {"turn_right", "turn_left"}, {"turn_left", "turn_left"}, {"turn_right", "turn_right"}};
  for (const auto& steps : keypoints ? challenges : std::vector<std::vector<std::string>>{}) {
    for (const char* c : {"good", "mask", "injection"}) {
      auto r = analyzer_->Analyze(decode(c, 1, steps), QualityPolicy{}, steps, [](std::string_view) { return false; });
      EXPECT_TRUE(r.findings.empty()) << c << " " << steps[0] << "," << steps[1] << ": " << Codes(r);
      EXPECT_EQ(r.challenge.steps_done, 2) << c << " " << steps[0] << "," << steps[1] << " yaw "
                                           << ::testing::PrintToString(r.challenge.yaw) << " pitch "
                                           << ::testing::PrintToString(r.challenge.pitch);
    }
    for (const char* c : {"print", "screen_replay"}) {
      auto r = analyzer_->Analyze(decode(c, 1, steps), QualityPolicy{}, steps, [](std::string_view) { return false; });
      EXPECT_LT(r.challenge.steps_done, 2) << c;
      EXPECT_TRUE(HasFinding(r, ReasonCode::kChallengeFailed)) << c << ": " << Codes(r);
    }
  }
  // A step the frames cannot show (a nod) gets the still frames: the challenge fails.
  const std::vector<std::string> nod = {"look_up", "look_down"};
  auto nodded = analyzer_->Analyze(decode("good", 0, nod), QualityPolicy{}, nod, [](std::string_view) { return false; });
  if (keypoints) {
    EXPECT_TRUE(HasFinding(nodded, ReasonCode::kChallengeFailed)) << Codes(nodded);
  }
  for (std::uint64_t v = 0; v < 2; ++v) {
    for (const char* c : {"good", "mask", "injection", "virtual_camera"}) {
      auto r = Analyse(decode(c, v));
      EXPECT_TRUE(r.findings.empty()) << c << " variant " << v << ": " << Codes(r);
    }
    for (const auto& [condition, code] : expect) {
      auto r = Analyse(decode(condition, v));
      EXPECT_TRUE(HasFinding(r, code)) << condition << " variant " << v << ": " << Codes(r);
    }
  }
  // The variants differ (motion and noise), and an unknown condition falls back to good frames.
  EXPECT_NE((*lib)->Frames("good", 0)[1], (*lib)->Frames("good", 1)[1]);
  EXPECT_EQ((*lib)->Frames("no_such_condition", 0), (*lib)->Frames("good", 0));
  // The request's media object carries the frames, jittered timestamps and the camera label.
  const std::string media = (*lib)->Media("good", 0, 5000, "OBS Virtual Camera");
  EXPECT_NE(media.find("\"camera_label\":\"OBS Virtual Camera\""), std::string::npos);
  EXPECT_NE(media.find("\"timestamp_ms\":5000"), std::string::npos);
  EXPECT_NE(media.find("\"timestamp_ms\":5104"), std::string::npos);
  EXPECT_EQ(sim::MediaLibrary::Conditions().size(), 11u);
}

TEST(SimulatorMedia, MissingPhotographsAreAClearError) {
  sim::MediaOptions opt;
  opt.photo_dir = "/nonexistent";
  auto lib = sim::MediaLibrary::Load(opt);
  ASSERT_FALSE(lib.ok());
  EXPECT_NE(lib.error().message.find("python3-skimage"), std::string::npos) << lib.error().message;
}

}  // namespace
}  // namespace vigil::liveness
