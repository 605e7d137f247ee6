// The liveness analysis of one request's media (see analyzer.h).
#include "liveness/analyzer.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/json_writer.h"

namespace vigil::liveness {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
double R4(double x) { return std::round(x * 1e4) / 1e4; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Evidence for a quality reason: the frame, what was measured and the bound it broke.
std::string QualityEvidence(ReasonCode code, int frame, const quality::FrameQuality& q, const QualityPolicy& p) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("frame", frame);
  switch (code) {
    case ReasonCode::kNoFace:
    case ReasonCode::kMultipleFaces: w.Field("face_count", q.face_count).Field("max_faces", p.max_faces); break;
    case ReasonCode::kFaceTooSmall: w.Field("face_size", R4(q.face_size)).Field("min_face_size", p.min_face_size); break;
    case ReasonCode::kFaceOffCenter:
      w.Field("center_offset", R4(q.center_offset)).Field("max_center_offset", p.max_center_offset);
      break;
    case ReasonCode::kBlurry: w.Field("blur_score", R4(q.blur_score)).Field("max_blur_score", p.max_blur_score); break;
    case ReasonCode::kTooDark:
      w.Field("brightness_score", R4(q.brightness_score)).Field("min_brightness", p.min_brightness);
      break;
    case ReasonCode::kTooBright:
      w.Field("brightness_score", R4(q.brightness_score)).Field("max_brightness", p.max_brightness);
      break;
    case ReasonCode::kBacklit:
      w.Field("backlight_score", R4(q.backlight_score)).Field("max_backlight", p.max_backlight);
      break;
    case ReasonCode::kLowResolution:
      w.Field("width", q.width).Field("height", q.height).Field("min_resolution", p.min_resolution);
      break;
    default: break;
  }
  w.EndObject();
  return out;
}

std::string Evidence(std::initializer_list<std::pair<std::string_view, double>> fields) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  for (const auto& [k, v] : fields) w.Field(k, R4(v));
  w.EndObject();
  return out;
}

}  // namespace

Analyzer::Analyzer(LivenessConfig cfg, std::shared_ptr<const quality::FaceDetectorFactory> detectors,
                   std::vector<std::shared_ptr<const HostedModel>> models)
    : cfg_(std::move(cfg)), detectors_(std::move(detectors)), models_(std::move(models)) {}

AnalysisResult Analyzer::Analyze(const media::Media& media, const QualityPolicy& policy,
                                 const std::vector<std::string>& steps,
                                 const std::function<bool(std::string_view)>& has_calibration) const {
  AnalysisResult r;
  auto t0 = Clock::now();
  quality::FaceDetector& detector = detectors_->ForThisThread();
  r.frames.resize(media.frames.size());
  // Each frame in grey once: the measures and cues all work on grey.
  std::vector<cv::Mat> grays(media.frames.size());
  for (std::size_t i = 0; i < media.frames.size(); ++i) {
    FrameResult& fr = r.frames[i];
    const cv::Mat& img = media.frames[i].image;
    cv::Mat& gray = grays[i];
    if (img.channels() == 1) {
      gray = img;
    } else {
      cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
    }
    fr.faces = detector.Detect(img);
    fr.quality = quality::AssessFrame(gray, fr.faces, policy);
    fr.track = TrackFace(gray, quality::LargestFace(fr.faces));
    fr.phash = PerceptualHash(gray);
  }
  auto t1 = Clock::now();
  r.timings.emplace_back("detect_quality", Ms(t0, t1));

  // The best frame: fewest quality reasons, then the sharpest. A second face in any frame counts.
  int best = 0;
  for (std::size_t i = 1; i < r.frames.size(); ++i) {
    const auto& a = r.frames[i].quality;
    const auto& b = r.frames[static_cast<std::size_t>(best)].quality;
    if (a.reasons.size() < b.reasons.size() ||
        (a.reasons.size() == b.reasons.size() && a.blur_score < b.blur_score)) {
      best = static_cast<int>(i);
    }
  }
  r.best_frame = best;
  const quality::FrameQuality& bq = r.frames[static_cast<std::size_t>(best)].quality;
  r.quality_reasons = bq.reasons;
  int max_faces = 0, multi_frame = -1;
  for (std::size_t i = 0; i < r.frames.size(); ++i) {
    max_faces = std::max(max_faces, r.frames[i].quality.face_count);
    if (r.frames[i].quality.face_count > policy.max_faces && multi_frame < 0) multi_frame = static_cast<int>(i);
  }
  if (multi_frame >= 0 && std::find(r.quality_reasons.begin(), r.quality_reasons.end(), ReasonCode::kMultipleFaces) ==
                              r.quality_reasons.end()) {
    r.quality_reasons.push_back(ReasonCode::kMultipleFaces);
  }
  for (ReasonCode c : r.quality_reasons) {
    const int frame = c == ReasonCode::kMultipleFaces && multi_frame >= 0 ? multi_frame : best;
    r.findings.push_back(
        {c, 1.0, "quality", QualityEvidence(c, frame, r.frames[static_cast<std::size_t>(frame)].quality, policy)});
  }
  AttributeMap& q = r.quality;
  q.SetNumber("face_count", max_faces);
  q.SetNumber("face_size", R4(bq.face_size));
  q.SetNumber("center_offset", R4(bq.center_offset));
  q.SetNumber("blur_score", R4(bq.blur_score));
  q.SetNumber("laplacian_var", std::round(bq.laplacian_var * 10) / 10);
  q.SetNumber("brightness_score", R4(bq.brightness_score));
  q.SetNumber("backlight_score", R4(bq.backlight_score));
  q.SetNumber("width", bq.width);
  q.SetNumber("height", bq.height);
  q.SetNumber("frames", static_cast<double>(media.frames.size()));
  q.SetNumber("best_frame", best);
  q.SetString("detector", detectors_->kind());
  q.SetString("media_sha256", media.digest_hex);

  auto t2 = Clock::now();
  SecurityChecks(media, grays, r);
  auto t3 = Clock::now();
  r.timings.emplace_back("security", Ms(t2, t3));
  Cues(steps, has_calibration, media, grays, r);
  r.timings.emplace_back("cues_models", Ms(t3, Clock::now()));
  return r;
}

void Analyzer::SecurityChecks(const media::Media& media, const std::vector<cv::Mat>& grays,
                              AnalysisResult& r) const {
  const media::CaptureMeta& cap = media.capture;
  // A camera whose label names a virtual camera (OBS, ManyCam, ...).
  if (!cap.camera_label.empty()) {
    const std::string label = Lower(cap.camera_label);
    for (const std::string& v : cfg_.virtual_cameras) {
      if (!v.empty() && label.find(Lower(v)) != std::string::npos) {
        std::string ev;
        JsonWriter(ev).BeginObject().Field("camera_label_matches", v).EndObject();
        r.findings.push_back({ReasonCode::kVirtualCamera, 1.0, "security", ev});
        break;
      }
    }
  }
  // Declared against decoded size, and every frame the same size.
  const cv::Size first = media.frames.front().image.size();
  bool mismatch = false;
  for (const auto& f : media.frames) mismatch = mismatch || f.image.size() != first;
  if (cap.has_size) {
    const bool same = cap.width == first.width && cap.height == first.height;
    const bool rotated = cfg_.allow_rotated && cap.width == first.height && cap.height == first.width;
    mismatch = mismatch || !(same || rotated);
  }
  if (mismatch) {
    std::string ev;
    JsonWriter(ev).BeginObject().Field("declared_width", cap.width).Field("declared_height", cap.height)
        .Field("width", first.width).Field("height", first.height).EndObject();
    r.findings.push_back({ReasonCode::kMediaMismatch, 1.0, "security", ev});
  }
  // Frame timing: increasing timestamps at a plausible rate.
  std::size_t with_ts = 0;
  for (const auto& f : media.frames) with_ts += f.has_timestamp ? 1 : 0;
  if (with_ts > 0 && media.frames.size() > 1) {
    std::string problem;
    double bad = 0;
    std::vector<double> gaps;
    if (with_ts != media.frames.size()) problem = "some frames have no timestamp";
    for (std::size_t i = 1; problem.empty() && i < media.frames.size(); ++i) {
      const double gap = media.frames[i].timestamp_ms - media.frames[i - 1].timestamp_ms;
      gaps.push_back(gap);
      if (gap <= 0) {
        problem = "timestamps not increasing";
      } else if (gap < cfg_.min_frame_interval_ms) {
        problem = "frame rate implausibly high";
      } else if (gap > cfg_.max_frame_interval_ms) {
        problem = "gap between frames too long";
      }
      if (!problem.empty()) bad = gap;
    }
    double weight = 1.0;
    if (problem.empty() && cfg_.flag_exact_intervals && gaps.size() >= 4) {
      // Real cameras jitter; an exact cadence with fractional milliseconds suggests generated
      // timestamps (a weak hint: some SDKs quantise).
      const auto [lo, hi] = std::minmax_element(gaps.begin(), gaps.end());
      const double frac = gaps.front() - std::floor(gaps.front());
      if (*hi - *lo < 1e-3 && frac > 1e-3 && frac < 1 - 1e-3) {
        problem = "intervals exactly equal";
        bad = gaps.front();
        weight = 0.3;
      }
    }
    if (!problem.empty()) {
      std::string ev;
      JsonWriter(ev).BeginObject().Field("problem", problem).Field("interval_ms", R4(bad)).EndObject();
      r.findings.push_back({ReasonCode::kMediaTiming, weight, "security", ev});
    }
  }
  // Still-image replay: every consecutive pair (near-)identical.
  if (media.frames.size() >= 2) {
    bool all_same = true;
    int max_ham = 0;
    double max_diff = 0;
    for (std::size_t i = 1; i < media.frames.size() && all_same; ++i) {
      const int ham = HammingDistance(r.frames[i - 1].phash, r.frames[i].phash);
      const double diff = MeanAbsDiff(grays[i - 1], grays[i]);
      max_ham = std::max(max_ham, ham);
      max_diff = std::max(max_diff, diff);
      all_same = ham <= cfg_.static_max_hamming && diff <= cfg_.static_max_mean_diff;
    }
    if (all_same) {
      r.findings.push_back({ReasonCode::kStaticImageReplay, 1.0, "security",
                            Evidence({{"max_hash_distance", max_ham}, {"max_mean_diff", max_diff}})});
    }
  }
}

void Analyzer::Cues(const std::vector<std::string>& steps,
                    const std::function<bool(std::string_view)>& has_calibration,
                    const media::Media& media, const std::vector<cv::Mat>& grays,
                    AnalysisResult& r) const {
  // Screen replay: the strongest moire over the frames with a face (or the best frame).
  for (std::size_t i = 0; i < r.frames.size(); ++i) {
    const auto& fr = r.frames[i];
    if (!fr.track.has_face && static_cast<int>(i) != r.best_frame) continue;
    MoireResult m = MoireScore(grays[i], fr.track.has_face ? fr.track.face.box : cv::Rect2f());
    if (m.score >= r.moire.score) r.moire = m;
  }
  r.quality.SetNumber("moire_score", R4(r.moire.score));
  if (r.moire.score >= cfg_.moire_threshold) {
    r.findings.push_back({ReasonCode::kScreenReplaySuspected, r.moire.score, "cues",
                          Evidence({{"moire_score", r.moire.score}, {"peak_ratio_log10", r.moire.peak_ratio}})});
  }
  if (has_calibration(cfg_.moire_signal)) r.signals.push_back({cfg_.moire_signal, r.moire.score});

  std::vector<FaceTrack> tracks;
  for (const auto& fr : r.frames) tracks.push_back(fr.track);
  std::size_t with_face = std::count_if(tracks.begin(), tracks.end(), [](const FaceTrack& t) { return t.has_face; });
  if (with_face >= 2) {
    r.motion = MotionScore(tracks);
    r.quality.SetNumber("motion_score", R4(r.motion));
    const bool static_replay = std::any_of(r.findings.begin(), r.findings.end(), [](const Finding& f) {
      return f.code == ReasonCode::kStaticImageReplay;
    });
    if (with_face >= 3 && r.motion < cfg_.min_motion && !static_replay) {
      r.findings.push_back({ReasonCode::kNoMotion, 0.5, "cues", Evidence({{"motion_score", r.motion}})});
    }
    if (has_calibration(cfg_.motion_signal)) r.signals.push_back({cfg_.motion_signal, r.motion});
  }

  // The session's challenge, from head pose across frames (needs BlazeFace keypoints).
  if (!steps.empty()) {
    r.challenge = VerifyChallenge(steps, tracks, cfg_.challenge_yaw, cfg_.challenge_pitch);
    if (r.challenge.verifiable) {
      r.signals.push_back({cfg_.challenge_signal, r.challenge.score});
      if (r.challenge.steps_done < r.challenge.steps_total) {
        r.findings.push_back({ReasonCode::kChallengeFailed, 1.0, "cues",
                              Evidence({{"steps_done", r.challenge.steps_done}, {"steps_total", r.challenge.steps_total}})});
      }
    }
  }

  // Hosted passive models: the live-class probability over the first frames with a face.
  for (const auto& model : models_) {
    double sum = 0;
    int n = 0;
    for (std::size_t i = 0; i < r.frames.size() && n < model->slot().max_frames; ++i) {
      if (!r.frames[i].track.has_face) continue;
      sum += model->ScoreFrame(media.frames[i].image, r.frames[i].track.face.box);
      ++n;
    }
    if (n > 0 && std::isfinite(sum)) r.signals.push_back({model->slot().signal, sum / n});
  }
}

}  // namespace vigil::liveness
