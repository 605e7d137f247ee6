// Liveness sessions: who is in front of the camera and what the models make of it.
//
// Scores are drawn in logit space, raw = sigmoid(N(mu, sd)), per signal (passive: a single-frame
// anti-spoofing model; active: the challenge check), with means chosen so that with the example
// calibrations and policy good genuine captures mostly pass, quality trouble drives retries, and
// each attack type has its own difficulty (a mask fools the passive model more often than a
// print; an injected deepfake scores as live and is caught by the security signals instead).
#include <array>
#include <string_view>

#include "simulate/event_fields.h"
#include "simulate/population.h"
#include "simulate/traffic.h"

namespace vigil::sim {
namespace {

struct ScoreModel {
  std::string_view name;
  double weight;              // share within its group
  double passive_mu, passive_sd, active_mu, active_sd;
};

// Genuine: an offset on the good-capture means.
constexpr double kGenuinePassiveMu = 2.6, kGenuinePassiveSd = 0.9, kGenuineActiveMu = 2.3, kGenuineActiveSd = 1.0;
constexpr std::array<ScoreModel, 4> kQuality{{
    {"low_light", 0.35, -1.9, 0, -0.7, 0},
    {"blur", 0.30, -1.6, 0, -0.6, 0},
    {"backlight", 0.20, -2.0, 0, -0.5, 0},
    {"second_face", 0.15, -0.9, 0, -0.3, 0},
}};
constexpr std::array<ScoreModel, 5> kAttacks{{
    {"print", 0.30, -2.2, 1.0, -1.0, 1.0},
    {"screen_replay", 0.30, -1.4, 1.1, -0.2, 1.0},
    {"mask", 0.10, 0.4, 1.2, 1.4, 1.0},
    {"injection", 0.15, 2.0, 1.0, 1.8, 1.0},
    {"virtual_camera", 0.15, 1.5, 1.0, 1.5, 1.0},
}};

template <std::size_t N>
const ScoreModel& PickModel(SimRng& rng, const std::array<ScoreModel, N>& models) {
  std::array<double, N> w{};
  for (std::size_t i = 0; i < N; ++i) w[i] = models[i].weight;
  return models[rng.Pick(w)];
}

template <std::size_t N>
const ScoreModel* FindModel(const std::array<ScoreModel, N>& models, std::string_view name) {
  for (const auto& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const char* CameraLabel(std::string_view platform, SimRng& rng) {
  if (platform == "ios") return "Front Camera";
  if (platform == "android") return "camera2 1, facing front";
  return rng.Bernoulli(0.6) ? "Integrated Webcam" : "FaceTime HD Camera";
}

}  // namespace

void TrafficGenerator::MakeLiveness(SimEvent& e, SimRng& rng) const {
  e.kind = EventKind::kLiveness;
  e.flow_type = rng.Bernoulli(0.4) ? "onboarding" : "login";
  const Device d = PickDevice(rng);
  const City& city = PickCity(rng);
  SetString(e, "platform", d.platform);
  SetString(e, "browser_family", d.browser_family);
  SetString(e, "device_class", d.device_class);
  SetString(e, "sdk_version", d.sdk_version);
  if (*d.app_version) SetString(e, "app_version", d.app_version);
  SetString(e, "os_version", d.os_version);
  SetString(e, "country", city.country);
  SetString(e, "camera_label", CameraLabel(d.platform, rng));

  const auto incidents = Affecting(e, rng);
  double p_attack = scenario_.attack_share;
  std::string surge_type;
  double surge = 1.0;
  for (const Incident* inc : incidents) {
    switch (inc->kind) {
      case IncidentKind::kAttackSurge:
        surge *= inc->multiplier;
        if (!inc->attack_type.empty()) surge_type = inc->attack_type;
        break;
      case IncidentKind::kScoreShift:
        e.latent.genuine_shift += inc->genuine_shift;
        e.latent.attack_shift += inc->attack_shift;
        break;
      case IncidentKind::kCaptureFailure:
        if (rng.Bernoulli(inc->failure_share)) e.latent.capture_broken = true;
        break;
      case IncidentKind::kModelRelease:
        if (rng.Bernoulli(inc->share)) {
          e.latent.new_model = true;
          e.latent.score_scale = inc->score_scale;
          e.latent.score_offset = inc->score_offset;
          if (!inc->model_version.empty()) SetString(e, "passive_model_version", inc->model_version);
        }
        break;
      case IncidentKind::kLoadSurge: e.pad.assign(static_cast<std::size_t>(inc->payload_pad_bytes), 'x'); break;
      case IncidentKind::kAmountDrift: break;
    }
  }
  p_attack = std::min(0.9, p_attack * surge);
  if (rng.Bernoulli(p_attack)) {
    e.truth.label = "attack";
    // Attacks beyond the usual rate are the campaign's type.
    if (!surge_type.empty() && rng.Bernoulli(1.0 - 1.0 / surge)) {
      e.truth.attack_type = surge_type;
    } else {
      e.truth.attack_type = std::string(PickModel(rng, kAttacks).name);
    }
    if (e.truth.attack_type == "virtual_camera" && std::string_view(d.platform) == "web") {
      SetString(e, "camera_label", rng.Bernoulli(0.5) ? "OBS Virtual Camera" : "ManyCam Virtual Webcam");
    }
  } else {
    e.truth.label = "genuine";
    if (e.latent.capture_broken) {
      e.truth.quality = "capture_failure";
    } else if (rng.Bernoulli(scenario_.quality_trouble_share)) {
      e.truth.quality = std::string(PickModel(rng, kQuality).name);
    }
  }
  LivenessAttempt(e, rng);
}

void TrafficGenerator::LivenessAttempt(SimEvent& e, SimRng& rng) const {
  if (e.attempt > 1 && e.truth.label == "genuine") {
    // Guidance helps: most users fix the light, hold still or ask the other person to step away.
    if (e.truth.quality == "capture_failure") {
      if (!rng.Bernoulli(0.9)) e.truth.quality.clear();
    } else if (!e.truth.quality.empty() && rng.Bernoulli(0.6)) {
      e.truth.quality.clear();
    }
  }
  e.signals.clear();
  e.security.clear();
  const bool low_end = e.ContextString("device_class") == "low";
  double brightness = rng.Uniform(0.45, 0.75), blur = rng.Uniform(0.02, 0.2), face_ratio = rng.Uniform(0.85, 1.15);
  int faces = 1;
  bool integrity = true, injection = false, virtual_camera = false;
  double passive = 0.0, active = 0.0;
  bool has_active = true;
  if (e.truth.label == "genuine") {
    double shift = e.latent.genuine_shift + (low_end ? -0.5 : 0.0);
    double pmu = kGenuinePassiveMu + shift, amu = kGenuineActiveMu + shift;
    if (e.truth.quality == "capture_failure") {
      pmu = -1.2;
      has_active = false;
      faces = 0;
      brightness = rng.Uniform(0.0, 0.1);
    } else if (const ScoreModel* q = FindModel(kQuality, e.truth.quality)) {
      pmu += q->passive_mu;
      amu += q->active_mu;
      if (q->name == "low_light") brightness = rng.Uniform(0.05, 0.22);
      if (q->name == "blur") blur = rng.Uniform(0.55, 0.95);
      if (q->name == "backlight") face_ratio = rng.Uniform(0.25, 0.5);
      if (q->name == "second_face") faces = 2;
    }
    passive = rng.Normal(pmu, e.truth.quality == "capture_failure" ? 1.2 : kGenuinePassiveSd);
    active = rng.Normal(amu, kGenuineActiveSd);
    integrity = rng.Bernoulli(0.99);
    injection = rng.Bernoulli(0.001);
  } else {
    const ScoreModel* a = FindModel(kAttacks, e.truth.attack_type);
    if (!a) a = &kAttacks[0];
    passive = rng.Normal(a->passive_mu + e.latent.attack_shift, a->passive_sd);
    active = rng.Normal(a->active_mu + e.latent.attack_shift, a->active_sd);
    if (a->name == "print") blur = rng.Uniform(0.1, 0.4);
    if (a->name == "screen_replay") brightness = rng.Uniform(0.6, 0.9);
    injection = a->name == "injection" && rng.Bernoulli(0.85);
    virtual_camera = a->name == "virtual_camera" && rng.Bernoulli(0.9);
    integrity = rng.Bernoulli(a->name == "injection" ? 0.5 : 0.85);
  }
  if (e.latent.new_model) passive = e.latent.score_scale * passive + e.latent.score_offset;
  e.signals.emplace_back("passive", Round(Sigmoid(passive), 4));
  if (has_active) e.signals.emplace_back("active", Round(Sigmoid(active), 4));
  e.security.emplace_back("injection_signal", injection);
  e.security.emplace_back("virtual_camera_signal", virtual_camera);
  e.security.emplace_back("device_integrity", integrity);
  // What the SDK measured on the device (seed 000's monitoring event: blur_score, brightness_score).
  SetNumber(e, "brightness_score", Round(brightness, 3));
  SetNumber(e, "blur_score", Round(blur, 3));
  SetNumber(e, "face_brightness_ratio", Round(face_ratio, 3));
  SetNumber(e, "face_count", faces);
}

}  // namespace vigil::sim
