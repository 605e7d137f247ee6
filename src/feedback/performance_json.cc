#include "feedback/performance_json.h"

namespace vigil {

void WriteConfusion(JsonWriter& w, const Confusion& c) {
  w.BeginObject().Field("tp", c.tp).Field("fp", c.fp).Field("tn", c.tn).Field("fn", c.fn).EndObject();
}

void WriteSweepPoint(JsonWriter& w, const SweepPoint& s) {
  w.BeginObject().Field("threshold", s.threshold).Field("tp", s.confusion.tp).Field("fp", s.confusion.fp)
      .Field("tn", s.confusion.tn).Field("fn", s.confusion.fn).Field("fpr", s.fpr).Field("fnr", s.fnr)
      .Field("tpr", s.tpr).EndObject();
}

void WriteCalibration(JsonWriter& w, const Calibration& c) {
  w.BeginObject().Field("n", c.n).Field("brier", c.brier).Field("ece", c.ece)
      .Field("ece_binning", "10 equal-width bins of risk over [0,1], (lo,hi] with 0 in the first");
  w.Key("reliability").BeginArray();
  for (const auto& b : c.bins) {
    w.BeginObject().Field("lower", b.lower).Field("upper", b.upper).Field("count", b.count)
        .Field("mean_predicted", b.mean_risk).Field("observed_positive_rate", b.positive_rate).EndObject();
  }
  w.EndArray().EndObject();
}

void WritePerformance(JsonWriter& w, const Performance& p, bool liveness, const OutcomeTable* outcomes) {
  const ClassRates& r = p.rates;
  w.BeginObject().Field("n", p.n).Field("positives", p.positives).Field("negatives", p.negatives);
  w.Key("confusion");
  WriteConfusion(w, p.confusion);
  w.Field("fpr", r.fpr).Field("fnr", r.fnr).Field("precision", r.precision).Field("recall", r.recall)
      .Field("f1", r.f1).Field("mcc", r.mcc).Field("accuracy", r.accuracy);
  if (liveness) {
    w.Key("apcer").BeginObject();
    for (const auto& t : p.by_attack_type) {
      w.Key(t.attack_type).BeginObject().Field("attacks", t.attacks).Field("accepted", t.accepted)
          .Field("apcer", t.apcer).EndObject();
    }
    w.EndObject();
    w.Field("max_apcer", p.max_apcer).Field("bpcer", p.bpcer).Field("acer_research_convention", p.acer);
  } else {
    w.Key("miss_rate_by_fraud_type").BeginObject();
    for (const auto& t : p.by_attack_type) {
      w.Key(t.attack_type).BeginObject().Field("fraud", t.attacks).Field("allowed", t.accepted)
          .Field("miss_rate", t.apcer).EndObject();
    }
    w.EndObject();
  }
  w.Key("calibration");
  WriteCalibration(w, p.calibration);
  if (outcomes) {
    w.Key("outcomes_by_label").BeginObject();
    for (const auto& [label, row] : *outcomes) {
      w.Key(label).BeginObject();
      for (const auto& [outcome, n] : row) w.Field(outcome, n);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
}

void WriteConventions(JsonWriter& w) {
  w.BeginObject()
      .Field("positive_class", "attack (liveness) or fraud (transaction)")
      .Field("risk", "probability of the positive class: 1 - fused score for liveness, the fused score for transactions")
      .Field("flagged", "the decision's outcome is not pass/allow (retry, fail, review, challenge, deny)")
      .Field("apcer", "ISO/IEC 30107-3: attacks of a type that passed / attacks of that type")
      .Field("bpcer", "ISO/IEC 30107-3: genuine presentations not passed / genuine presentations")
      .Field("acer_research_convention", "(max APCER + BPCER) / 2, a research convention, not an ISO/IEC 30107-3 metric")
      .Field("undefined", "a ratio with a zero denominator is null; MCC is 0 then")
      .EndObject();
}

}  // namespace vigil
