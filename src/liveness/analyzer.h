// The liveness analysis of one request's decoded media, without the server: quality gate,
// security pre-checks, cues and hosted models (see liveness_module.h for the order). Tests and
// benches call it directly.
// Thread-safety: an Analyzer is immutable and may be shared; Analyze uses per-thread detectors.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/decision.h"
#include "liveness/cues.h"
#include "liveness/hosted_model.h"
#include "liveness/liveness_config.h"
#include "media/media.h"
#include "policy/policy.h"
#include "quality/quality.h"

namespace vigil::liveness {

struct FrameResult {
  std::vector<quality::Face> faces;
  quality::FrameQuality quality;
  FaceTrack track;
  std::uint64_t phash = 0;
};

struct AnalysisResult {
  std::vector<FrameResult> frames;
  int best_frame = 0;                 // the frame the quality block describes
  std::vector<ReasonCode> quality_reasons;
  AttributeMap quality;               // the request's quality block
  std::vector<Finding> findings;      // quality, security and cue findings
  std::vector<Signal> signals;        // computed here: hosted models, challenge, cues
  MoireResult moire;
  double motion = 0.0;
  ChallengeResult challenge;
  std::vector<std::pair<std::string, double>> timings;  // stage -> ms
};

class Analyzer {
 public:
  Analyzer(LivenessConfig cfg, std::shared_ptr<const quality::FaceDetectorFactory> detectors,
           std::vector<std::shared_ptr<const HostedModel>> models);

  // `has_calibration(name)`: whether a signal of that name may be added (cue signals are added
  // only when it holds). `steps`: the session's challenge steps, or empty.
  AnalysisResult Analyze(const media::Media& media, const QualityPolicy& policy,
                         const std::vector<std::string>& steps,
                         const std::function<bool(std::string_view)>& has_calibration) const;

  const LivenessConfig& config() const { return cfg_; }
  const quality::FaceDetectorFactory& detectors() const { return *detectors_; }
  const std::vector<std::shared_ptr<const HostedModel>>& models() const { return models_; }

 private:
  // `grays`: the frames in grey, one per media frame.
  void SecurityChecks(const media::Media& media, const std::vector<cv::Mat>& grays,
                      AnalysisResult& r) const;
  void Cues(const std::vector<std::string>& steps,
            const std::function<bool(std::string_view)>& has_calibration,
            const media::Media& media, const std::vector<cv::Mat>& grays,
            AnalysisResult& r) const;

  LivenessConfig cfg_;
  std::shared_ptr<const quality::FaceDetectorFactory> detectors_;
  std::vector<std::shared_ptr<const HostedModel>> models_;
};

}  // namespace vigil::liveness
