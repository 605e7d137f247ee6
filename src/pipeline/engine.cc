#include "pipeline/engine.h"

namespace vigil {

EngineFiles EngineFiles::Under(const std::string& dir) {
  return {dir + "/reasons.yaml", dir + "/policy.yaml", dir + "/calibration", dir + "/fusion"};
}

Result<std::shared_ptr<const DecisionEngine>> DecisionEngine::Create(
    std::shared_ptr<const ReasonCatalogue> catalogue, std::shared_ptr<const Policy> policy,
    std::shared_ptr<const CalibrationSet> calibrations, std::shared_ptr<const FusionModelSet> fusion) {
  for (const auto& flow : policy->flows()) {
    const LogisticFusion* model = fusion->Find(flow.fusion);
    if (!model) {
      return Error::Invalid("flow '" + flow.flow_type + "' names fusion model '" + flow.fusion +
                            "', which is not loaded");
    }
    for (const auto& in : model->inputs()) {
      if (!calibrations->Find(in.signal)) {
        return Error::Invalid("fusion model '" + model->name() + "' takes signal '" + in.signal +
                              "', which has no calibration");
      }
    }
  }
  auto e = std::shared_ptr<DecisionEngine>(new DecisionEngine());
  e->catalogue_ = std::move(catalogue);
  e->policy_ = std::move(policy);
  e->calibrations_ = std::move(calibrations);
  e->fusion_ = std::move(fusion);
  return std::shared_ptr<const DecisionEngine>(std::move(e));
}

Result<std::shared_ptr<const DecisionEngine>> DecisionEngine::Load(const EngineFiles& files) {
  auto cat = ReasonCatalogue::LoadFile(files.reasons);
  if (!cat.ok()) return cat.error();
  auto catalogue = std::make_shared<const ReasonCatalogue>(std::move(*cat));
  auto policy = Policy::LoadFile(files.policy, *catalogue);
  if (!policy.ok()) return policy.error();
  auto cal = CalibrationSet::LoadDirectory(files.calibration_dir);
  if (!cal.ok()) return cal.error();
  auto fus = FusionModelSet::LoadDirectory(files.fusion_dir);
  if (!fus.ok()) return fus.error();
  return Create(std::move(catalogue), std::move(*policy),
                std::make_shared<const CalibrationSet>(std::move(*cal)),
                std::make_shared<const FusionModelSet>(std::move(*fus)));
}

Result<Decision> DecisionEngine::Decide(const DecisionRequest& req) const {
  const FlowPolicy* flow = policy_->FindFlow(req.flow_type);
  if (!flow) return Error::NotFound("unknown flow type '" + req.flow_type + "'", "flow_type");
  const LogisticFusion& model = *fusion_->Find(flow->fusion);

  for (const auto& s : req.signals) {
    if (!calibrations_->Find(s.name)) {
      return Error::Invalid("unknown signal '" + s.name + "' (no calibration is loaded for it)",
                            "signals." + s.name);
    }
  }

  Decision d;
  FusionResult& fu = d.fusion;
  fu.signals.reserve(model.inputs().size() + req.signals.size());
  for (const auto& in : model.inputs()) {
    SignalScore s;
    s.name = in.signal;
    const Calibrator* cal = calibrations_->Find(in.signal);
    s.model_version = cal->model_version();
    for (const auto& rs : req.signals) {
      if (rs.name == in.signal) {
        s.present = true;
        s.raw = rs.raw;
        s.calibrated = cal->Apply(rs.raw);
        break;
      }
    }
    fu.signals.push_back(std::move(s));
  }
  model.Fuse(fu);
  // Signals this flow's fusion model does not take are still calibrated and recorded.
  for (const auto& rs : req.signals) {
    bool fused = false;
    for (const auto& in : model.inputs()) fused = fused || in.signal == rs.name;
    if (fused) continue;
    const Calibrator* cal = calibrations_->Find(rs.name);
    SignalScore s;
    s.name = rs.name;
    s.model_version = cal->model_version();
    s.present = true;
    s.raw = rs.raw;
    s.calibrated = cal->Apply(rs.raw);
    fu.signals.push_back(std::move(s));
  }
  vigil::Decide(*flow, req, d);
  d.policy_version = policy_->version();
  return d;
}

}  // namespace vigil
