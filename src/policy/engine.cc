// Decide(): applies one flow's policy to a scored request. See policy.h for the order of steps.
#include <algorithm>

#include "policy/policy.h"

namespace vigil {
namespace {

Value ScoreFact(const FusionResult& fu, std::string_view key) {
  if (key == "fusion") return fu.has_score ? Value::Number(fu.score) : Value::Missing();
  if (key == "disagreement") return Value::Number(fu.disagreement);
  for (const auto& s : fu.signals) {
    if (s.name == key) return (s.present || s.imputed) ? Value::Number(s.calibrated) : Value::Missing();
  }
  return Value::Missing();
}

void Bind(const FlowPolicy& flow, const DecisionRequest& req, const FusionResult& fu, FactFrame& frame) {
  for (std::size_t i = 0; i < flow.facts.size(); ++i) {
    const FactRef& ref = flow.facts[i];
    Value v;
    switch (ref.source) {
      case FactSource::kContext: v = req.context.Get(ref.key); break;
      case FactSource::kSecurity: v = req.security.Get(ref.key); break;
      case FactSource::kQuality: v = req.quality.Get(ref.key); break;
      case FactSource::kSignal:
        for (const auto& s : req.signals) {
          if (s.name == ref.key) v = Value::Number(s.raw);
        }
        break;
      case FactSource::kScore: v = ScoreFact(fu, ref.key); break;
      case FactSource::kReason:
        v = Value::Bool(std::any_of(req.findings.begin(), req.findings.end(),
                                    [&](const Finding& f) { return f.code == ref.reason; }));
        break;
      case FactSource::kAttempt: v = Value::Number(req.attempt); break;
      case FactSource::kMaxAttempts: v = Value::Number(flow.max_attempts); break;
      case FactSource::kFlowType: v = Value::String(flow.flow_type); break;
      case FactSource::kDecisionScore: v = fu.has_score ? Value::Number(fu.score) : Value::Missing(); break;
      case FactSource::kBand:
      case FactSource::kSegment: break;  // bound before the review step
    }
    frame.values[i] = v;
  }
}

DecisionBand Place(double score, const Thresholds& t, bool risk) {
  if (risk) {
    if (score >= t.fail) return DecisionBand::kFail;
    if (score < t.pass) return DecisionBand::kPass;
    return DecisionBand::kUncertain;
  }
  if (score >= t.pass) return DecisionBand::kPass;
  if (score < t.fail) return DecisionBand::kFail;
  return DecisionBand::kUncertain;
}

class ReasonList {
 public:
  explicit ReasonList(std::vector<DecisionReason>& out) : out_(out) { out_.clear(); }
  // Adds a reason, merging with an earlier entry of the same code.
  void Add(ReasonCode code, double weight, bool decisive, const std::string* evidence = nullptr) {
    for (auto& r : out_) {
      if (r.code == code) {
        r.weight = std::max(r.weight, weight);
        r.decisive = r.decisive || decisive;
        if (evidence && r.evidence.empty()) r.evidence = *evidence;
        return;
      }
    }
    out_.push_back({code, weight, decisive, evidence ? *evidence : std::string()});
  }
  // A review rule overrides: what decided before becomes supporting evidence.
  void Demote() {
    for (auto& r : out_) r.decisive = false;
  }
  void Sort() {
    std::stable_sort(out_.begin(), out_.end(), [](const DecisionReason& a, const DecisionReason& b) {
      if (a.decisive != b.decisive) return a.decisive;
      return a.weight > b.weight;  // ties keep the order the engine added them in
    });
  }

 private:
  std::vector<DecisionReason>& out_;
};

}  // namespace

void Decide(const FlowPolicy& flow, const DecisionRequest& req, Decision& d) {
  const FusionResult& fu = d.fusion;
  FactFrame frame;
  Bind(flow, req, fu, frame);

  d.request_id = req.request_id;
  d.flow_type = flow.flow_type;
  d.kind = flow.kind;
  d.attempt = req.attempt;
  d.max_attempts = flow.max_attempts;
  d.model_version = fu.version;
  const bool last = flow.max_attempts > 0 && req.attempt >= flow.max_attempts;

  const Segment* segment = nullptr;
  for (const auto& s : flow.segments) {
    if (s.when.Evaluate(frame)) {
      segment = &s;
      break;
    }
  }
  const Thresholds& th = segment ? segment->thresholds : flow.thresholds;
  DecisionBand band = DecisionBand::kNone;
  if (fu.has_score) {
    band = fu.force_uncertain ? DecisionBand::kUncertain : Place(fu.score, th, flow.risk_direction());
  }
  Explanation& ex = d.explanation;
  ex = Explanation{};
  ex.segment = segment ? segment->name : std::string();
  ex.pass_threshold = th.pass;
  ex.fail_threshold = th.fail;
  ex.score = fu.has_score ? fu.score : 0.0;
  d.band = band;

  ReasonList reasons(d.reasons);
  bool decided = false;

  // 1. Hard rules.
  for (const auto& rule : flow.hard_rules) {
    if (rule.when.Evaluate(frame)) {
      d.outcome = rule.outcome;
      ex.decided_by = DecidedBy::kHardRule;
      ex.rule = rule.name;
      reasons.Add(rule.reason, 1.0, true);
      decided = true;
      break;
    }
  }

  // 2. Retryable reasons (capture quality, an expired token, ...).
  if (!decided) {
    bool retry = false;
    for (const auto& f : req.findings) {
      if (flow.Retryable(f.code)) {
        reasons.Add(f.code, 1.0, true, &f.evidence);
        retry = true;
      }
    }
    if (retry) {
      decided = true;
      if (last) {
        d.outcome = flow.last_retry;
        ex.decided_by = DecidedBy::kAttemptsExhausted;
        reasons.Add(ReasonCode::kMaxAttemptsReached, 1.0, true);
      } else {
        d.outcome = Outcome::kRetry;
        ex.decided_by = DecidedBy::kRetryRule;
      }
      ex.rule = "retry_on";
    }
  }

  // 3. No score at all.
  if (!decided && !fu.has_score) {
    d.outcome = flow.missing_score;
    ex.decided_by = DecidedBy::kMissingSignal;
    reasons.Add(ReasonCode::kSignalMissing, 1.0, true);
    decided = true;
  }

  // 4. Thresholds, then 5. review conditions.
  if (!decided) {
    ex.decided_by = DecidedBy::kThreshold;
    switch (band) {
      case DecisionBand::kPass:
        d.outcome = Outcome::kPass;
        reasons.Add(flow.band_reasons[0], 1.0, true);
        break;
      case DecisionBand::kFail:
        d.outcome = Outcome::kFail;
        reasons.Add(flow.band_reasons[2], 1.0, true);
        break;
      default:
        d.outcome = last ? flow.last_uncertain : flow.uncertain;
        if (fu.force_uncertain) reasons.Add(ReasonCode::kSignalMissing, 1.0, true);
        reasons.Add(flow.band_reasons[1], 1.0, true);
        if (last && flow.last_uncertain != flow.uncertain) {
          ex.decided_by = DecidedBy::kAttemptsExhausted;
          reasons.Add(ReasonCode::kMaxAttemptsReached, 1.0, true);
        }
        break;
    }
    if (segment) reasons.Add(ReasonCode::kContextThreshold, 0.5, false);

    if (!flow.review.empty()) {
      if (flow.band_slot >= 0) frame.values[static_cast<std::size_t>(flow.band_slot)] = Value::String(flow.BandName(band));
      if (flow.segment_slot >= 0) {
        frame.values[static_cast<std::size_t>(flow.segment_slot)] = Value::String(segment ? std::string_view(segment->name) : std::string_view("default"));
      }
      for (const auto& rule : flow.review) {
        if (rule.when.Evaluate(frame)) {
          if (d.outcome != Outcome::kReview) reasons.Demote();
          d.outcome = Outcome::kReview;
          ex.decided_by = DecidedBy::kReviewRule;
          ex.rule = rule.name;
          reasons.Add(rule.reason, 1.0, true);
          break;
        }
      }
    }
  }

  // Everything else the analyzers found supports the decision.
  for (const auto& f : req.findings) reasons.Add(f.code, f.weight, false, &f.evidence);
  for (const auto& s : fu.signals) {
    if (!s.present) reasons.Add(ReasonCode::kSignalMissing, 0.3, false);
  }
  reasons.Sort();
  d.outcome_name = std::string(flow.OutcomeName(d.outcome));
  d.band_name = std::string(flow.BandName(band));
}

}  // namespace vigil
