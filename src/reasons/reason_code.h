// Reason codes: why a decision came out as it did. The built-in codes are raised by vigil's own
// components; a catalogue file (config/reasons.yaml) gives every code its title, severity,
// category and recommended action and may add codes of its own for custom policy rules.
#pragma once

#include <cstdint>
#include <string_view>

namespace vigil {

// X(enumerator, "WIRE_CODE")
#define VIGIL_BUILTIN_REASON_CODES(X)                       \
  /* capture quality: retry with guidance, never spoof */   \
  X(kNoFace, "NO_FACE")                                     \
  X(kMultipleFaces, "MULTIPLE_FACES")                       \
  X(kFaceTooSmall, "FACE_TOO_SMALL")                        \
  X(kFaceOffCenter, "FACE_OFF_CENTER")                      \
  X(kBlurry, "BLURRY")                                      \
  X(kTooDark, "TOO_DARK")                                   \
  X(kTooBright, "TOO_BRIGHT")                               \
  X(kBacklit, "BACKLIT")                                    \
  X(kLowResolution, "LOW_RESOLUTION")                       \
  /* security pre-checks */                                 \
  X(kVirtualCamera, "VIRTUAL_CAMERA")                       \
  X(kInjectionDetected, "INJECTION_DETECTED")               \
  X(kMediaMismatch, "MEDIA_MISMATCH")                       \
  X(kMediaTiming, "MEDIA_TIMING")                           \
  X(kStaticImageReplay, "STATIC_IMAGE_REPLAY")              \
  X(kDeviceIntegrity, "DEVICE_INTEGRITY")                   \
  /* sessions and tokens */                                 \
  X(kTokenInvalid, "TOKEN_INVALID")                         \
  X(kTokenWrongKey, "TOKEN_WRONG_KEY")                      \
  X(kTokenExpired, "TOKEN_EXPIRED")                         \
  X(kTokenReplayed, "TOKEN_REPLAYED")                       \
  X(kMaxAttemptsReached, "MAX_ATTEMPTS_REACHED")            \
  /* liveness scores and cues */                            \
  X(kLivenessConfirmed, "LIVENESS_CONFIRMED")               \
  X(kLivenessUncertain, "LIVENESS_UNCERTAIN")               \
  X(kLowLivenessScore, "LOW_LIVENESS_SCORE")                \
  X(kScreenReplaySuspected, "SCREEN_REPLAY_SUSPECTED")      \
  X(kChallengeFailed, "CHALLENGE_FAILED")                   \
  X(kNoMotion, "NO_MOTION")                                 \
  /* transaction risk and behaviour */                      \
  X(kLowFraudRisk, "LOW_FRAUD_RISK")                        \
  X(kElevatedFraudRisk, "ELEVATED_FRAUD_RISK")              \
  X(kHighFraudScore, "HIGH_FRAUD_SCORE")                    \
  X(kVelocityAnomaly, "VELOCITY_ANOMALY")                   \
  X(kImpossibleTravel, "IMPOSSIBLE_TRAVEL")                 \
  X(kImpossibleTransition, "IMPOSSIBLE_TRANSITION")         \
  X(kBehaviorSpike, "BEHAVIOR_SPIKE")                       \
  X(kFingerprintDrift, "FINGERPRINT_DRIFT")                 \
  X(kAutomationSignature, "AUTOMATION_SIGNATURE")           \
  X(kProbePattern, "PROBE_PATTERN")                         \
  /* models and policy */                                   \
  X(kModelDisagreement, "MODEL_DISAGREEMENT")               \
  X(kSignalMissing, "SIGNAL_MISSING")                       \
  X(kContextThreshold, "CONTEXT_THRESHOLD")                 \
  X(kManualReviewRequired, "MANUAL_REVIEW_REQUIRED")

// A reason code. Built-in codes have the enumerators below; codes a catalogue file adds get the
// values from kBuiltinCount upwards, in file order.
enum class ReasonCode : std::uint16_t {
#define VIGIL_REASON_ENUM(name, wire) name,
  VIGIL_BUILTIN_REASON_CODES(VIGIL_REASON_ENUM)
#undef VIGIL_REASON_ENUM
      kBuiltinCount
};

inline constexpr std::size_t kBuiltinReasonCount = static_cast<std::size_t>(ReasonCode::kBuiltinCount);

// The wire code of a built-in reason ("BLURRY"), or "" for a code beyond the built-ins.
std::string_view BuiltinReasonName(ReasonCode code);

}  // namespace vigil
