// The liveness module: media, quality gate, security pre-checks, cues and hosted models on the
// decision path of liveness flows (SPEC.md sections 2.2-2.4).
//
// For a liveness request with "media": the media gate (first on the request path) parses and
// bounds the media and decodes the frames (a problem rejects the request, nothing is written, no
// session nonce is spent); then this module, after the session check, detects faces (BlazeFace, or Haar
// without the model); measures quality against the flow's policy `quality:` block and raises the
// quality reasons (retry with guidance); runs the security pre-checks (virtual camera label,
// declared against decoded size, frame timing, still-image replay); computes the cues (screen
// replay moire, motion, the session's head-turn challenge) and runs the hosted models. What it
// finds goes into the request: the `quality` block, findings, and signals (the hosted models',
// the challenge's, and the cues' where a calibration exists for them). Only the media's SHA-256
// digest enters the request (quality.media_sha256); frames are never logged or audited.
// Requests without media pass through unchanged (scores computed elsewhere still work).
#pragma once

#include <atomic>
#include <memory>

#include "liveness/liveness_config.h"
#include "server/module.h"

namespace vigil::liveness {

class LivenessModule final : public ServerModule {
 public:
  static Result<std::unique_ptr<LivenessModule>> Create(const ModuleContext& ctx);

  // The media gate: a module to run before the session check. It parses, bounds and decodes the
  // media (a problem rejects the request before a token's nonce is spent) and hands the frames to
  // this module in DecisionInput::media. It refers to this module: keep both in the same list.
  std::unique_ptr<ServerModule> NewMediaGate();

  std::string_view name() const override { return "liveness"; }
  std::optional<Problem> Analyze(DecisionInput& in) override;
  Status Reload() override;
  bool Ready(std::string* why) const override;

  struct State;
  std::shared_ptr<const State> state() const { return state_.load(); }

 private:
  explicit LivenessModule(ModuleContext ctx) : ctx_(std::move(ctx)) {}
  Result<std::shared_ptr<const State>> Load() const;

  ModuleContext ctx_;
  std::atomic<std::shared_ptr<const State>> state_;
};

}  // namespace vigil::liveness
