// Loads and checks policy YAML. Collects every error, each with file, line, column and field.
#include <algorithm>
#include <cmath>

#include "core/file.h"
#include "core/yaml_reader.h"
#include "policy/policy.h"

namespace vigil {

namespace {

constexpr std::array<std::string_view, 4> kLivenessNames = {"pass", "retry", "fail", "review"};
constexpr std::array<std::string_view, 4> kTransactionNames = {"allow", "challenge", "deny", "review"};

// Resolves the names a condition may use for one flow, interning each fact once per flow.
class FlowResolver : public FactResolver {
 public:
  FlowResolver(FlowPolicy& flow, const ReasonCatalogue& cat) : flow_(flow), cat_(cat) {}
  void set_review_context(bool on) { review_ = on; }

  Result<int> Resolve(std::string_view id, ExprType& type) override {
    auto dot = id.find('.');
    FactRef ref;
    if (dot == std::string_view::npos) {
      if (id == "attempt") { ref.source = FactSource::kAttempt; type = ExprType::kNumber; }
      else if (id == "max_attempts") { ref.source = FactSource::kMaxAttempts; type = ExprType::kNumber; }
      else if (id == "flow_type") { ref.source = FactSource::kFlowType; type = ExprType::kString; }
      else if (id == "score") { ref.source = FactSource::kDecisionScore; type = ExprType::kNumber; }
      else if (id == "band" || id == "segment") {
        if (!review_) {
          return Error::Invalid("'" + std::string(id) + "' is known only in review conditions");
        }
        ref.source = id == "band" ? FactSource::kBand : FactSource::kSegment;
        type = ExprType::kString;
      } else {
        return Error::Invalid("unknown name '" + std::string(id) +
                              "' (use context., security., quality., signals., scores., reason., or "
                              "attempt, max_attempts, flow_type, score, band, segment)");
      }
    } else {
      std::string_view ns = id.substr(0, dot);
      ref.key = std::string(id.substr(dot + 1));
      if (ns == "context") { ref.source = FactSource::kContext; type = ExprType::kAny; }
      else if (ns == "security") { ref.source = FactSource::kSecurity; type = ExprType::kAny; }
      else if (ns == "quality") { ref.source = FactSource::kQuality; type = ExprType::kAny; }
      else if (ns == "signals") { ref.source = FactSource::kSignal; type = ExprType::kNumber; }
      else if (ns == "scores") { ref.source = FactSource::kScore; type = ExprType::kNumber; }
      else if (ns == "reason") {
        auto code = cat_.Find(ref.key);
        if (!code) return Error::Invalid("unknown reason code '" + ref.key + "'");
        ref.source = FactSource::kReason;
        ref.reason = *code;
        type = ExprType::kBool;
      } else {
        return Error::Invalid("unknown namespace '" + std::string(ns) +
                              "' (use context, security, quality, signals, scores or reason)");
      }
    }
    for (std::size_t i = 0; i < flow_.facts.size(); ++i) {
      const FactRef& f = flow_.facts[i];
      if (f.source == ref.source && f.key == ref.key) return static_cast<int>(i);
    }
    if (flow_.facts.size() >= static_cast<std::size_t>(kMaxFacts)) {
      return Error::Invalid("more than " + std::to_string(kMaxFacts) + " distinct names in one flow");
    }
    flow_.facts.push_back(ref);
    int slot = static_cast<int>(flow_.facts.size() - 1);
    if (ref.source == FactSource::kBand) flow_.band_slot = slot;
    if (ref.source == FactSource::kSegment) flow_.segment_slot = slot;
    return slot;
  }

 private:
  FlowPolicy& flow_;
  const ReasonCatalogue& cat_;
  bool review_ = false;
};

}  // namespace

class PolicyLoader {
 public:
  PolicyLoader(YamlReader& r, const ReasonCatalogue& cat) : r_(r), cat_(cat) {}

  std::shared_ptr<Policy> Load() {
    auto p = std::make_shared<Policy>();
    const YAML::Node& root = r_.root();
    if (!r_.ok()) return nullptr;
    if (!root.IsMap()) {
      r_.Fail(root, "", "expected a mapping with version and flows");
      return nullptr;
    }
    r_.OnlyKeys(root, "", {"version", "description", "flows", "rollback"});
    if (auto v = r_.String(root, "version", "", true)) p->version_ = *v;
    if (auto d = r_.String(root, "description", "", false)) p->description_ = *d;
    const YAML::Node flows = root["flows"];
    if (!flows.IsDefined() || !flows.IsMap() || flows.size() == 0) {
      r_.Fail(flows.IsDefined() ? flows : root, "flows", "expected a mapping of flow types");
    } else {
      for (const auto& kv : flows) {
        FlowPolicy f;
        if (LoadFlow(kv.first.Scalar(), kv.second, f)) p->flows_.push_back(std::move(f));
      }
    }
    if (root["rollback"].IsDefined()) LoadRollback(root["rollback"], *p);
    return p;
  }

 private:
  bool LoadFlow(const std::string& name, const YAML::Node& n, FlowPolicy& f) {
    std::string path = "flows." + name;
    std::size_t errors_before = r_.errors().size();
    f.flow_type = name;
    if (!n.IsMap()) {
      r_.Fail(n, path, "expected a mapping");
      return false;
    }
    r_.OnlyKeys(n, path, {"kind", "outcomes", "fusion", "thresholds", "uncertain", "max_attempts",
                          "last_attempt", "retry_on", "missing_score", "band_reasons",
                          "session_ttl_seconds", "quality", "hard_rules", "segments", "review"});
    auto kind = r_.String(n, "kind", path, true);
    if (!kind) return false;
    if (*kind == "liveness") {
      f.kind = FlowKind::kLiveness;
      for (std::size_t i = 0; i < 4; ++i) f.outcome_names[i] = std::string(kLivenessNames[i]);
      f.band_reasons = {ReasonCode::kLivenessConfirmed, ReasonCode::kLivenessUncertain,
                        ReasonCode::kLowLivenessScore};
      f.max_attempts = 3;
    } else if (*kind == "transaction") {
      f.kind = FlowKind::kTransaction;
      for (std::size_t i = 0; i < 4; ++i) f.outcome_names[i] = std::string(kTransactionNames[i]);
      f.band_reasons = {ReasonCode::kLowFraudRisk, ReasonCode::kElevatedFraudRisk,
                        ReasonCode::kHighFraudScore};
      f.max_attempts = 0;
    } else {
      r_.Fail(n["kind"], path + ".kind", "expected liveness or transaction");
      return false;
    }
    if (const YAML::Node o = n["outcomes"]; o.IsDefined()) {
      r_.OnlyKeys(o, path + ".outcomes", {"pass", "retry", "fail", "review"});
      const char* keys[] = {"pass", "retry", "fail", "review"};
      for (std::size_t i = 0; i < 4; ++i) {
        if (auto v = r_.String(o, keys[i], path + ".outcomes", false)) f.outcome_names[i] = *v;
      }
      for (std::size_t i = 0; i < 4; ++i) {
        for (std::size_t j = i + 1; j < 4; ++j) {
          if (f.outcome_names[i] == f.outcome_names[j]) {
            r_.Fail(o, path + ".outcomes", "two outcomes share the name '" + f.outcome_names[i] + "'");
          }
        }
      }
    }
    if (auto fu = r_.String(n, "fusion", path, true)) f.fusion = *fu;
    if (const YAML::Node t = n["thresholds"]; t.IsDefined()) {
      f.thresholds = ReadThresholds(t, path + ".thresholds", f);
    } else {
      r_.Fail(n, path + ".thresholds", "is required");
    }
    if (auto u = ReadOutcome(n, "uncertain", path, f)) f.uncertain = *u;
    if (auto m = r_.Number(n, "max_attempts", path, false)) {
      if (*m < 0 || *m > 20 || std::floor(*m) != *m) {
        r_.Fail(n["max_attempts"], path + ".max_attempts", "expected a whole number from 0 to 20");
      } else {
        f.max_attempts = static_cast<int>(*m);
      }
    }
    f.last_uncertain = f.kind == FlowKind::kLiveness ? Outcome::kReview : f.uncertain;
    if (const YAML::Node la = n["last_attempt"]; la.IsDefined()) {
      r_.OnlyKeys(la, path + ".last_attempt", {"uncertain", "retry"});
      if (auto u = ReadOutcome(la, "uncertain", path + ".last_attempt", f)) f.last_uncertain = *u;
      if (auto u = ReadOutcome(la, "retry", path + ".last_attempt", f)) f.last_retry = *u;
    }
    if (auto m = ReadOutcome(n, "missing_score", path, f)) f.missing_score = *m;
    if (auto codes = r_.StringList(n, "retry_on", path, false)) {
      for (std::size_t i = 0; i < codes->size(); ++i) {
        if (auto c = Code((*codes)[i], n["retry_on"][i], path + ".retry_on")) f.retry_on.push_back(*c);
      }
    }
    if (const YAML::Node br = n["band_reasons"]; br.IsDefined()) {
      r_.OnlyKeys(br, path + ".band_reasons", {"pass", "uncertain", "fail"});
      const char* keys[] = {"pass", "uncertain", "fail"};
      for (std::size_t i = 0; i < 3; ++i) {
        if (auto s = r_.String(br, keys[i], path + ".band_reasons", false)) {
          if (auto c = Code(*s, br[keys[i]], path + ".band_reasons." + keys[i])) f.band_reasons[i] = *c;
        }
      }
    }
    if (auto ttl = r_.Number(n, "session_ttl_seconds", path, false)) {
      if (*ttl < 10 || *ttl > 3600) {
        r_.Fail(n["session_ttl_seconds"], path + ".session_ttl_seconds", "expected 10 to 3600 seconds");
      } else {
        f.session_ttl_seconds = static_cast<int>(*ttl);
      }
    }
    if (const YAML::Node q = n["quality"]; q.IsDefined()) ReadQualityPolicy(r_, q, path + ".quality", f.quality);

    FlowResolver resolver(f, cat_);
    ForEachRule(n, "hard_rules", path, [&](const YAML::Node& rn, const std::string& rp) {
      r_.OnlyKeys(rn, rp, {"name", "when", "outcome", "reason"});
      HardRule rule;
      auto nm = r_.String(rn, "name", rp, true);
      auto when = Condition(rn, rp, resolver);
      auto out = ReadOutcome(rn, "outcome", rp, f, true);
      auto reason = r_.String(rn, "reason", rp, true);
      std::optional<ReasonCode> code;
      if (reason) code = Code(*reason, rn["reason"], rp + ".reason");
      if (!nm || !when || !out || !code) return;
      rule.name = *nm;
      rule.when = std::move(*when);
      rule.outcome = *out;
      rule.reason = *code;
      f.hard_rules.push_back(std::move(rule));
    });
    ForEachRule(n, "segments", path, [&](const YAML::Node& rn, const std::string& rp) {
      r_.OnlyKeys(rn, rp, {"name", "when", "thresholds"});
      Segment seg;
      auto nm = r_.String(rn, "name", rp, true);
      auto when = Condition(rn, rp, resolver);
      if (!rn["thresholds"].IsDefined()) {
        r_.Fail(rn, rp + ".thresholds", "is required");
        return;
      }
      seg.thresholds = ReadThresholds(rn["thresholds"], rp + ".thresholds", f);
      if (!nm || !when) return;
      seg.name = *nm;
      seg.when = std::move(*when);
      f.segments.push_back(std::move(seg));
    });
    resolver.set_review_context(true);
    ForEachRule(n, "review", path, [&](const YAML::Node& rn, const std::string& rp) {
      r_.OnlyKeys(rn, rp, {"name", "when", "reason"});
      ReviewRule rule;
      auto nm = r_.String(rn, "name", rp, true);
      auto when = Condition(rn, rp, resolver);
      if (auto reason = r_.String(rn, "reason", rp, false)) {
        if (auto c = Code(*reason, rn["reason"], rp + ".reason")) rule.reason = *c;
      }
      if (!nm || !when) return;
      rule.name = *nm;
      rule.when = std::move(*when);
      f.review.push_back(std::move(rule));
    });
    CheckUniqueNames(n, path, f);
    return r_.errors().size() == errors_before;
  }

  template <typename Fn>
  void ForEachRule(const YAML::Node& n, const char* key, const std::string& path, Fn fn) {
    const YAML::Node list = n[key];
    if (!list.IsDefined()) return;
    if (!list.IsSequence()) {
      r_.Fail(list, path + "." + key, "expected a list");
      return;
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string rp = path + "." + key + "[" + std::to_string(i) + "]";
      if (!list[i].IsMap()) {
        r_.Fail(list[i], rp, "expected a mapping");
        continue;
      }
      fn(list[i], rp);
    }
  }

  void CheckUniqueNames(const YAML::Node& n, const std::string& path, const FlowPolicy& f) {
    std::vector<std::string_view> names;
    for (const auto& r : f.hard_rules) names.push_back(r.name);
    for (const auto& s : f.segments) names.push_back(s.name);
    for (const auto& r : f.review) names.push_back(r.name);
    std::sort(names.begin(), names.end());
    for (std::size_t i = 1; i < names.size(); ++i) {
      if (names[i] == names[i - 1]) {
        r_.Fail(n, path, "two rules or segments are named '" + std::string(names[i]) + "'");
      }
    }
  }

  std::optional<Expression> Condition(const YAML::Node& rn, const std::string& rp, FlowResolver& res) {
    auto text = r_.String(rn, "when", rp, true);
    if (!text) return std::nullopt;
    auto e = Expression::Compile(*text, res);
    if (e.ok()) return std::move(*e);
    // Point at the column inside the YAML line: the scalar's start plus the offset in the text
    // (plus one for an opening quote; yaml-cpp tags quoted scalars "!").
    const YAML::Node w = rn["when"];
    int col = 0;
    if (e.error().where.rfind("column ", 0) == 0) col = std::stoi(e.error().where.substr(7)) - 1;
    int quote = w.Tag() == "!" ? 1 : 0;
    std::string where = r_.source() + ":" + std::to_string(w.Mark().line + 1) + ":" +
                        std::to_string(w.Mark().column + 1 + quote + col);
    r_.FailAt(std::move(where), rp + ".when", e.error().message);
    return std::nullopt;
  }

  Thresholds ReadThresholds(const YAML::Node& t, const std::string& path, const FlowPolicy& f) {
    Thresholds th;
    const std::string& pass_name = f.outcome_names[0];
    const std::string& fail_name = f.outcome_names[2];
    r_.OnlyKeys(t, path, {pass_name, fail_name});
    auto pass = r_.Number(t, pass_name.c_str(), path, true);
    auto fail = r_.Number(t, fail_name.c_str(), path, true);
    if (!pass || !fail) return th;
    for (auto [v, k] : {std::pair{*pass, &pass_name}, std::pair{*fail, &fail_name}}) {
      if (v < 0 || v > 1) r_.Fail(t[*k], path + "." + *k, "expected a probability in [0, 1]");
    }
    if (f.risk_direction() && *pass > *fail) {
      r_.Fail(t, path, "the " + pass_name + " threshold must not exceed the " + fail_name +
                           " threshold (scores are fraud probabilities: higher is riskier)");
    }
    if (!f.risk_direction() && *fail > *pass) {
      r_.Fail(t, path, "the " + fail_name + " threshold must not exceed the " + pass_name +
                           " threshold (scores are liveness probabilities: higher is more genuine)");
    }
    th.pass = *pass;
    th.fail = *fail;
    return th;
  }

  std::optional<Outcome> ReadOutcome(const YAML::Node& n, const char* key, const std::string& path,
                                     const FlowPolicy& f, bool required = false) {
    auto s = r_.String(n, key, path, required);
    if (!s) return std::nullopt;
    for (std::size_t i = 0; i < 4; ++i) {
      if (*s == f.outcome_names[i]) return static_cast<Outcome>(i);
    }
    r_.Fail(n[key], JoinPath(path, key),
            "unknown outcome '" + *s + "' (this flow's outcomes are " + f.outcome_names[0] + ", " +
                f.outcome_names[1] + ", " + f.outcome_names[2] + ", " + f.outcome_names[3] + ")");
    return std::nullopt;
  }

  std::optional<ReasonCode> Code(const std::string& name, const YAML::Node& at, const std::string& path) {
    auto c = cat_.Find(name);
    if (!c) r_.Fail(at, path, "unknown reason code '" + name + "' (not in the catalogue)");
    return c;
  }

  void LoadRollback(const YAML::Node& n, Policy& p) {
    if (!n.IsSequence()) {
      r_.Fail(n, "rollback", "expected a list of guards");
      return;
    }
    static constexpr std::array<std::string_view, 5> kMetrics = {
        "retry_rate", "fail_rate", "p95_latency_ms", "disagreement_rate", "false_positive_rate"};
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string path = "rollback[" + std::to_string(i) + "]";
      r_.OnlyKeys(n[i], path, {"metric", "max", "max_increase"});
      RollbackGuard g;
      auto m = r_.String(n[i], "metric", path, true);
      auto mx = r_.Number(n[i], "max", path, false);
      auto inc = r_.Number(n[i], "max_increase", path, false);
      if (!m) continue;
      if (std::find(kMetrics.begin(), kMetrics.end(), *m) == kMetrics.end()) {
        r_.Fail(n[i]["metric"], path + ".metric",
                "expected retry_rate, fail_rate, p95_latency_ms, disagreement_rate or false_positive_rate");
        continue;
      }
      if (!mx && !inc) {
        r_.Fail(n[i], path, "needs max or max_increase");
        continue;
      }
      g.metric = *m;
      g.max = mx.value_or(0.0);
      g.max_increase = inc.value_or(0.0);
      p.rollback_.push_back(std::move(g));
    }
  }

  YamlReader& r_;
  const ReasonCatalogue& cat_;
};

Result<std::shared_ptr<const Policy>> Policy::Parse(std::string_view yaml, const std::string& source,
                                                    const ReasonCatalogue& catalogue,
                                                    std::vector<Error>* all_errors) {
  YamlReader r(yaml, source);
  PolicyLoader loader(r, catalogue);
  std::shared_ptr<Policy> p = loader.Load();
  if (all_errors) *all_errors = r.errors();
  if (!r.ok() || !p) return r.first_error();
  return std::shared_ptr<const Policy>(std::move(p));
}

Result<std::shared_ptr<const Policy>> Policy::LoadFile(const std::string& path,
                                                       const ReasonCatalogue& catalogue,
                                                       std::vector<Error>* all_errors) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (all_errors) *all_errors = {text.error()};
    return text.error();
  }
  return Parse(*text, path, catalogue, all_errors);
}

const FlowPolicy* Policy::FindFlow(std::string_view flow_type) const {
  for (const auto& f : flows_) {
    if (f.flow_type == flow_type) return &f;
  }
  return nullptr;
}

std::string_view FlowPolicy::BandName(DecisionBand b) const {
  switch (b) {
    case DecisionBand::kNone: return "none";
    case DecisionBand::kPass: return outcome_names[0];
    case DecisionBand::kUncertain: return "uncertain";
    case DecisionBand::kFail: return outcome_names[2];
  }
  return "none";
}

bool FlowPolicy::Retryable(ReasonCode c) const {
  return std::find(retry_on.begin(), retry_on.end(), c) != retry_on.end();
}

}  // namespace vigil
