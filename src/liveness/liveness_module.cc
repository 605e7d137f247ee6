// The liveness module on the decision path (see liveness_module.h).
#include "liveness/liveness_module.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <simdjson.h>

#include <opencv2/core/utility.hpp>

#include "calibration/calibration.h"
#include "core/log.h"
#include "liveness/analyzer.h"
#include "pipeline/engine.h"

namespace vigil::liveness {

struct LivenessModule::State {
  std::shared_ptr<const Analyzer> analyzer;
  std::string fingerprint;  // what was loaded: unchanged files are not loaded again on reload
};

namespace {

// The config file's text and the size and modification time of every file it names.
std::string Fingerprint(const std::string& config_path, const LivenessConfig* cfg) {
  std::string fp;
  std::ifstream in(config_path, std::ios::binary);
  fp.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  auto stamp = [&](const std::string& path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    auto time = std::filesystem::last_write_time(path, ec);
    fp += "\n" + path + ":" + std::to_string(ec ? 0 : size) + ":" +
          std::to_string(ec ? 0 : time.time_since_epoch().count());
  };
  if (cfg) {
    stamp(cfg->detector.blazeface_path);
    stamp(cfg->detector.haar_path);
    for (const auto& m : cfg->models) stamp(m.path);
  }
  return fp;
}

}  // namespace

Result<std::unique_ptr<LivenessModule>> LivenessModule::Create(const ModuleContext& ctx) {
  // The io threads are the parallelism: OpenCV's own thread pool would only oversubscribe.
  cv::setNumThreads(1);
  std::unique_ptr<LivenessModule> m(new LivenessModule(ctx));
  auto st = m->Load();
  if (!st.ok()) return st.error();
  m->state_.store(*st);
  return m;
}

Result<std::shared_ptr<const LivenessModule::State>> LivenessModule::Load() const {
  auto cfg = LoadLivenessConfig(ctx_.config_dir + "/liveness.yaml", ctx_.config_dir);
  if (!cfg.ok()) return cfg.error();
  auto detectors = quality::FaceDetectorFactory::Create(cfg->detector);
  if (!detectors.ok()) return detectors.error();
  std::vector<std::shared_ptr<const HostedModel>> models;
  for (const ModelSlot& slot : cfg->models) {
    auto m = HostedModel::Load(slot);
    if (!m.ok()) return m.error();
    if (*m) {
      models.push_back(*m);
      Log(LogLevel::kInfo, "liveness_model_loaded").Str("model", slot.name).Str("signal", slot.signal)
          .Str("sha256", (*m)->sha256());
    } else {
      Log(LogLevel::kWarn, "liveness_model_absent").Str("model", slot.name).Str("path", slot.path)
          .Str("effect", "signal missing; the fusion model's missing handling applies");
    }
  }
  Log(LogLevel::kInfo, "liveness_ready").Str("detector", (*detectors)->kind())
      .Str("detector_sha256", (*detectors)->model_sha256());
  auto st = std::make_shared<State>();
  st->fingerprint = Fingerprint(ctx_.config_dir + "/liveness.yaml", &*cfg);
  st->analyzer = std::make_shared<const Analyzer>(std::move(*cfg), *detectors, std::move(models));
  return std::shared_ptr<const State>(std::move(st));
}

Status LivenessModule::Reload() {
  // Loading the models takes a while; skip it when nothing changed (a reload is usually for the
  // policy or the keys, and runs before they are swapped in).
  const std::string path = ctx_.config_dir + "/liveness.yaml";
  auto cur = state_.load();
  if (cur) {
    auto cfg = LoadLivenessConfig(path, ctx_.config_dir);
    if (cfg.ok() && Fingerprint(path, &*cfg) == cur->fingerprint) return Status::Ok();
  }
  auto st = Load();
  if (!st.ok()) return st.error();
  state_.store(*st);
  return Status::Ok();
}

bool LivenessModule::Ready(std::string* why) const {
  if (state_.load()) return true;
  if (why) *why = "liveness: not loaded";
  return false;
}

namespace {

class MediaGate final : public ServerModule {
 public:
  explicit MediaGate(const LivenessModule* owner) : owner_(owner) {}
  std::string_view name() const override { return "media"; }

  std::optional<Problem> Analyze(DecisionInput& in) override {
    thread_local simdjson::dom::parser parser;
    Problem problem;
    auto media_el = media::FindMedia(parser, in.body, &problem);
    if (!media_el) return std::nullopt;  // no media: scores computed elsewhere, as before
    if (in.kind != FlowKind::kLiveness) {
      return Problem{ProblemType::kInvalidValue, "media is only for liveness flows", "media"};
    }
    auto st = owner_->state();
    auto media = media::ParseMedia(*media_el, st->analyzer->config().limits);
    if (!media.ok()) return media.error();
    if (auto p = media::DecodeFrames(*media)) return p;
    in.media = std::make_shared<media::Media>(std::move(*media));
    return std::nullopt;
  }

 private:
  const LivenessModule* owner_;
};

}  // namespace

std::unique_ptr<ServerModule> LivenessModule::NewMediaGate() { return std::make_unique<MediaGate>(this); }

std::optional<Problem> LivenessModule::Analyze(DecisionInput& in) {
  if (!in.media || in.kind != FlowKind::kLiveness) return std::nullopt;
  auto engine = ctx_.engine();
  const FlowPolicy* flow = engine ? engine->policy().FindFlow(in.parsed->request.flow_type) : nullptr;
  if (!flow) return std::nullopt;  // the engine reports the unknown flow
  std::shared_ptr<const State> st = state_.load();
  const media::Media& media = *in.media;
  DecisionRequest& req = in.parsed->request;
  const CalibrationSet& cals = engine->calibrations();
  AnalysisResult r = st->analyzer->Analyze(media, flow->quality, in.challenge_steps,
                                           [&](std::string_view name) { return cals.Find(std::string(name)) != nullptr; });
  for (auto& [stage, ms] : r.timings) in.timings.push_back({stage, ms});
  for (const auto& a : r.quality.items()) {
    if (a.kind == Value::Kind::kNumber) req.quality.SetNumber(a.name, a.number);
    else if (a.kind == Value::Kind::kString) req.quality.SetString(a.name, a.text);
  }
  for (auto& f : r.findings) req.findings.push_back(std::move(f));
  // Signals computed here replace any the client sent under the same name: the server's own
  // measurement is the one to trust.
  for (auto& s : r.signals) {
    bool replaced = false;
    for (auto& existing : req.signals) {
      if (existing.name == s.name) {
        existing.raw = s.raw;
        replaced = true;
      }
    }
    if (!replaced) req.signals.push_back(std::move(s));
  }
  const media::CaptureMeta& cap = media.capture;
  if (!cap.sdk_version.empty() && req.context.GetString("sdk_version").empty()) req.context.SetString("sdk_version", cap.sdk_version);
  if (!cap.app_version.empty() && req.context.GetString("app_version").empty()) req.context.SetString("app_version", cap.app_version);
  in.media.reset();  // the frames are not needed past this point (and never kept)
  return std::nullopt;
}

}  // namespace vigil::liveness
