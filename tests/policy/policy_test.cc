// The policy engine, table-driven: each threshold edge, each band, each retry and attempt case,
// each hard rule, each segment and each review condition of a test policy; and bad policies
// with the file, line and field of each error.
#include <gtest/gtest.h>

#include <ostream>

#include "policy/policy.h"
#include "test_util.h"

namespace vigil {
namespace {

constexpr const char* kPolicy = R"(version: test-1
flows:
  onboarding:
    kind: liveness
    fusion: liveness
    thresholds: {pass: 0.80, fail: 0.40}
    max_attempts: 3
    last_attempt: {uncertain: review, retry: fail}
    retry_on: [BLURRY, NO_FACE, TOKEN_EXPIRED]
    hard_rules:
      - name: injection
        when: security.injection_signal
        outcome: fail
        reason: INJECTION_DETECTED
      - name: replay
        when: reason.TOKEN_REPLAYED
        outcome: fail
        reason: TOKEN_REPLAYED
    segments:
      - name: low_end
        when: context.device_class == "low"
        thresholds: {pass: 0.70, fail: 0.40}
    review:
      - name: disagree
        when: scores.disagreement >= 0.5 and band != "fail"
        reason: MODEL_DISAGREEMENT
  payment:
    kind: transaction
    fusion: transaction
    thresholds: {allow: 0.30, deny: 0.80}
    uncertain: challenge
    missing_score: challenge
    hard_rules:
      - name: travel_large
        when: reason.IMPOSSIBLE_TRAVEL and context.amount >= 500
        outcome: challenge
        reason: IMPOSSIBLE_TRAVEL
    segments:
      - name: new_large
        when: context.account_age_days < 30 and context.amount >= 500
        thresholds: {allow: 0.10, deny: 0.50}
      - name: trusted_small
        when: context.account_age_days >= 1095 and context.amount < 50
        thresholds: {allow: 0.60, deny: 0.95}
    review:
      - name: big_uncertain
        when: band == "uncertain" and context.amount >= 5000
)";

const ReasonCatalogue& Catalogue() {
  static ReasonCatalogue cat = *ReasonCatalogue::LoadFile(vigil::testing::SourcePath("config/reasons.yaml"));
  return cat;
}

std::shared_ptr<const Policy> TestPolicy() {
  auto p = Policy::Parse(kPolicy, "test.yaml", Catalogue());
  EXPECT_TRUE(p.ok()) << p.error().ToString();
  return *p;
}

struct Row {
  const char* name;
  const char* flow;
  double score;  // < 0: no score
  int attempt = 1;
  std::vector<ReasonCode> findings = {};
  double amount = -1, age = -1;
  const char* device_class = "";
  bool injection = false;
  double disagreement = 0;
  bool force_uncertain = false;
  // expected
  const char* outcome = "";
  const char* band = "";
  DecidedBy decided_by = DecidedBy::kThreshold;
  ReasonCode first_reason{};
  const char* segment = "";
};
void PrintTo(const Row& v, std::ostream* os) { *os << v.name; }

class PolicyTable : public ::testing::TestWithParam<Row> {};

TEST_P(PolicyTable, Decides) {
  static auto policy = TestPolicy();
  const Row& row = GetParam();
  const FlowPolicy* flow = policy->FindFlow(row.flow);
  ASSERT_NE(flow, nullptr);
  DecisionRequest req;
  req.request_id = "r1";
  req.flow_type = row.flow;
  req.attempt = row.attempt;
  for (ReasonCode c : row.findings) req.findings.push_back({c, 0.8, "test", ""});
  if (row.amount >= 0) req.context.SetNumber("amount", row.amount);
  if (row.age >= 0) req.context.SetNumber("account_age_days", row.age);
  if (*row.device_class) req.context.SetString("device_class", row.device_class);
  req.security.SetBool("injection_signal", row.injection);
  Decision d;
  d.fusion.has_score = row.score >= 0;
  d.fusion.score = row.score;
  d.fusion.disagreement = row.disagreement;
  d.fusion.force_uncertain = row.force_uncertain;
  Decide(*flow, req, d);
  EXPECT_EQ(d.outcome_name, row.outcome) << row.name;
  EXPECT_EQ(d.band_name, row.band) << row.name;
  EXPECT_EQ(d.explanation.decided_by, row.decided_by) << row.name;
  ASSERT_FALSE(d.reasons.empty()) << row.name;
  EXPECT_EQ(d.reasons[0].code, row.first_reason) << row.name << ": " << Catalogue().Info(d.reasons[0].code).name;
  EXPECT_TRUE(d.reasons[0].decisive) << row.name;
  EXPECT_EQ(d.explanation.segment, row.segment) << row.name;
  // Reasons come decisive first, then by weight.
  for (std::size_t i = 1; i < d.reasons.size(); ++i) {
    const auto& a = d.reasons[i - 1];
    const auto& b = d.reasons[i];
    EXPECT_TRUE(a.decisive > b.decisive || (a.decisive == b.decisive && a.weight >= b.weight)) << row.name;
  }
}

using RC = ReasonCode;
using DB = DecidedBy;

INSTANTIATE_TEST_SUITE_P(
    Liveness, PolicyTable,
    ::testing::Values(
        // Threshold edges: pass is inclusive at 0.80; fail below 0.40.
        Row{"pass_at_edge", "onboarding", 0.80, 1, {}, -1, -1, "", false, 0, false, "pass", "pass", DB::kThreshold, RC::kLivenessConfirmed},
        Row{"just_below_pass", "onboarding", 0.7999999, 1, {}, -1, -1, "", false, 0, false, "retry", "uncertain", DB::kThreshold, RC::kLivenessUncertain},
        Row{"uncertain_at_fail_edge", "onboarding", 0.40, 1, {}, -1, -1, "", false, 0, false, "retry", "uncertain", DB::kThreshold, RC::kLivenessUncertain},
        Row{"just_below_fail", "onboarding", 0.3999999, 1, {}, -1, -1, "", false, 0, false, "fail", "fail", DB::kThreshold, RC::kLowLivenessScore},
        Row{"score_zero", "onboarding", 0.0, 1, {}, -1, -1, "", false, 0, false, "fail", "fail", DB::kThreshold, RC::kLowLivenessScore},
        Row{"score_one", "onboarding", 1.0, 1, {}, -1, -1, "", false, 0, false, "pass", "pass", DB::kThreshold, RC::kLivenessConfirmed},
        // Attempts: the uncertain band retries until the last attempt, which goes to review.
        Row{"uncertain_attempt2", "onboarding", 0.6, 2, {}, -1, -1, "", false, 0, false, "retry", "uncertain", DB::kThreshold, RC::kLivenessUncertain},
        Row{"uncertain_last_attempt", "onboarding", 0.6, 3, {}, -1, -1, "", false, 0, false, "review", "uncertain", DB::kAttemptsExhausted, RC::kLivenessUncertain},
        Row{"uncertain_past_last", "onboarding", 0.6, 4, {}, -1, -1, "", false, 0, false, "review", "uncertain", DB::kAttemptsExhausted, RC::kLivenessUncertain},
        Row{"pass_on_last_attempt", "onboarding", 0.9, 3, {}, -1, -1, "", false, 0, false, "pass", "pass", DB::kThreshold, RC::kLivenessConfirmed},
        // Retry rules: quality reasons retry with attempts left, fail on the last.
        Row{"blurry_retry", "onboarding", 0.95, 1, {RC::kBlurry}, -1, -1, "", false, 0, false, "retry", "pass", DB::kRetryRule, RC::kBlurry},
        Row{"no_face_no_score", "onboarding", -1, 2, {RC::kNoFace}, -1, -1, "", false, 0, false, "retry", "none", DB::kRetryRule, RC::kNoFace},
        Row{"blurry_last_attempt", "onboarding", 0.95, 3, {RC::kBlurry}, -1, -1, "", false, 0, false, "fail", "pass", DB::kAttemptsExhausted, RC::kBlurry},
        Row{"expired_token_retries", "onboarding", -1, 1, {RC::kTokenExpired}, -1, -1, "", false, 0, false, "retry", "none", DB::kRetryRule, RC::kTokenExpired},
        // A non-retryable finding does not retry; it supports the threshold decision.
        Row{"non_retry_finding", "onboarding", 0.95, 1, {RC::kNoMotion}, -1, -1, "", false, 0, false, "pass", "pass", DB::kThreshold, RC::kLivenessConfirmed},
        // Hard rules beat everything, even a perfect score and a retryable reason.
        Row{"injection", "onboarding", 0.99, 1, {RC::kBlurry}, -1, -1, "", true, 0, false, "fail", "pass", DB::kHardRule, RC::kInjectionDetected},
        Row{"replayed_token", "onboarding", -1, 1, {RC::kTokenReplayed}, -1, -1, "", false, 0, false, "fail", "none", DB::kHardRule, RC::kTokenReplayed},
        // Segment: low-end devices pass at 0.70.
        Row{"low_end_pass", "onboarding", 0.72, 1, {}, -1, -1, "low", false, 0, false, "pass", "pass", DB::kThreshold, RC::kLivenessConfirmed, "low_end"},
        Row{"mid_end_uncertain", "onboarding", 0.72, 1, {}, -1, -1, "mid", false, 0, false, "retry", "uncertain", DB::kThreshold, RC::kLivenessUncertain},
        // Review conditions see the band.
        Row{"disagree_review", "onboarding", 0.9, 1, {}, -1, -1, "", false, 0.6, false, "review", "pass", DB::kReviewRule, RC::kModelDisagreement},
        Row{"disagree_but_fail", "onboarding", 0.1, 1, {}, -1, -1, "", false, 0.6, false, "fail", "fail", DB::kThreshold, RC::kLowLivenessScore},
        Row{"disagree_below_limit", "onboarding", 0.9, 1, {}, -1, -1, "", false, 0.49, false, "pass", "pass", DB::kThreshold, RC::kLivenessConfirmed},
        // Missing signals.
        Row{"no_signals", "onboarding", -1, 1, {}, -1, -1, "", false, 0, false, "review", "none", DB::kMissingSignal, RC::kSignalMissing},
        Row{"forced_uncertain", "onboarding", 0.99, 1, {}, -1, -1, "", false, 0, true, "retry", "uncertain", DB::kThreshold, RC::kSignalMissing}),
    [](const auto& param_info) { return vigil::testing::ParamName(param_info.param); });

INSTANTIATE_TEST_SUITE_P(
    Transaction, PolicyTable,
    ::testing::Values(
        // Risk direction: allow below 0.30, deny from 0.80.
        Row{"allow", "payment", 0.29, 1, {}, 100, 400, "", false, 0, false, "allow", "allow", DB::kThreshold, RC::kLowFraudRisk},
        Row{"challenge_at_allow_edge", "payment", 0.30, 1, {}, 100, 400, "", false, 0, false, "challenge", "uncertain", DB::kThreshold, RC::kElevatedFraudRisk},
        Row{"challenge_below_deny", "payment", 0.7999, 1, {}, 100, 400, "", false, 0, false, "challenge", "uncertain", DB::kThreshold, RC::kElevatedFraudRisk},
        Row{"deny_at_edge", "payment", 0.80, 1, {}, 100, 400, "", false, 0, false, "deny", "deny", DB::kThreshold, RC::kHighFraudScore},
        // Segments: a 1000 payment from a day-old account against a 5 payment from a 3-year customer.
        Row{"new_account_large", "payment", 0.20, 1, {}, 1000, 1, "", false, 0, false, "challenge", "uncertain", DB::kThreshold, RC::kElevatedFraudRisk, "new_large"},
        Row{"new_account_large_deny", "payment", 0.55, 1, {}, 1000, 1, "", false, 0, false, "deny", "deny", DB::kThreshold, RC::kHighFraudScore, "new_large"},
        Row{"trusted_small", "payment", 0.55, 1, {}, 5, 1200, "", false, 0, false, "allow", "allow", DB::kThreshold, RC::kLowFraudRisk, "trusted_small"},
        Row{"trusted_but_large", "payment", 0.55, 1, {}, 60, 1200, "", false, 0, false, "challenge", "uncertain", DB::kThreshold, RC::kElevatedFraudRisk},
        Row{"segment_needs_context", "payment", 0.20, 1, {}, -1, -1, "", false, 0, false, "allow", "allow", DB::kThreshold, RC::kLowFraudRisk},
        // Hard rule: impossible travel with a large amount challenges even at a low score.
        Row{"travel_large", "payment", 0.05, 1, {RC::kImpossibleTravel}, 800, 400, "", false, 0, false, "challenge", "allow", DB::kHardRule, RC::kImpossibleTravel},
        Row{"travel_small", "payment", 0.05, 1, {RC::kImpossibleTravel}, 20, 400, "", false, 0, false, "allow", "allow", DB::kThreshold, RC::kLowFraudRisk},
        // Transactions do not count attempts: attempt 9 is still a challenge.
        Row{"no_attempt_limit", "payment", 0.5, 9, {}, 100, 400, "", false, 0, false, "challenge", "uncertain", DB::kThreshold, RC::kElevatedFraudRisk},
        Row{"missing_score_challenges", "payment", -1, 1, {}, 100, 400, "", false, 0, false, "challenge", "none", DB::kMissingSignal, RC::kSignalMissing},
        Row{"review_large_uncertain", "payment", 0.5, 1, {}, 6000, 400, "", false, 0, false, "review", "uncertain", DB::kReviewRule, RC::kManualReviewRequired}),
    [](const auto& param_info) { return vigil::testing::ParamName(param_info.param); });

TEST(Policy, ShippedPolicyLoads) {
  auto p = Policy::LoadFile(vigil::testing::SourcePath("config/policy.yaml"), Catalogue());
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ((*p)->version(), "policy-2026-11-22");
  ASSERT_NE((*p)->FindFlow("transaction_approval"), nullptr);
  EXPECT_EQ((*p)->FindFlow("transaction_approval")->OutcomeName(Outcome::kRetry), "challenge");
  EXPECT_EQ((*p)->FindFlow("onboarding")->session_ttl_seconds, 180);
  EXPECT_EQ((*p)->rollback().size(), 3u);
}

struct BadPolicy {
  const char* name;
  std::string yaml;
  const char* where;    // "file:line" prefix expected in the first error
  const char* message;  // part of the first error's message
};
void PrintTo(const BadPolicy& v, std::ostream* os) { *os << v.name; }

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  auto i = s.find(from);
  EXPECT_NE(i, std::string::npos) << from;
  return s.replace(i, from.size(), to);
}

class PolicyErrors : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(PolicyErrors, NameFileLineAndField) {
  std::vector<Error> errors;
  auto p = Policy::Parse(GetParam().yaml, "bad.yaml", Catalogue(), &errors);
  ASSERT_FALSE(p.ok()) << GetParam().name;
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].where.rfind(GetParam().where, 0), 0u) << GetParam().name << ": " << errors[0].ToString();
  EXPECT_NE(errors[0].message.find(GetParam().message), std::string::npos) << GetParam().name << ": " << errors[0].ToString();
}

INSTANTIATE_TEST_SUITE_P(
    Table, PolicyErrors,
    ::testing::Values(
        BadPolicy{"syntax", "version: x\nflows: {a: [}\n", "bad.yaml:2", ""},
        BadPolicy{"no_version", Replace(kPolicy, "version: test-1\n", ""), "bad.yaml:1", "field 'version'"},
        BadPolicy{"bad_kind", Replace(kPolicy, "kind: liveness", "kind: selfie"), "bad.yaml:4:11", "flows.onboarding.kind"},
        BadPolicy{"threshold_order", Replace(kPolicy, "{pass: 0.80, fail: 0.40}", "{pass: 0.30, fail: 0.40}"), "bad.yaml:6", "must not exceed"},
        BadPolicy{"threshold_range", Replace(kPolicy, "{pass: 0.80, fail: 0.40}", "{pass: 1.80, fail: 0.40}"), "bad.yaml:6", "[0, 1]"},
        BadPolicy{"threshold_names", Replace(kPolicy, "{allow: 0.30, deny: 0.80}", "{pass: 0.30, fail: 0.80}"), "bad.yaml:30", "flows.payment.thresholds"},
        BadPolicy{"unknown_reason", Replace(kPolicy, "[BLURRY, NO_FACE", "[BLURY, NO_FACE"), "bad.yaml:9", "unknown reason code 'BLURY'"},
        BadPolicy{"unknown_outcome", Replace(kPolicy, "outcome: challenge", "outcome: block"), "bad.yaml:36:18", "unknown outcome 'block'"},
        BadPolicy{"bad_condition_column", Replace(kPolicy, "when: security.injection_signal", "when: security.injection_signal = true"), "bad.yaml:12:41", "'=='"},
        BadPolicy{"unknown_name", Replace(kPolicy, "when: reason.TOKEN_REPLAYED", "when: reasons.TOKEN_REPLAYED"), "bad.yaml:16:15", "unknown namespace"},
        BadPolicy{"band_outside_review", Replace(kPolicy, "when: context.device_class == \"low\"", "when: band == \"pass\""), "bad.yaml:21:15", "only in review"},
        BadPolicy{"typo_field", Replace(kPolicy, "max_attempts: 3", "max_attempt: 3"), "bad.yaml:7", "unknown field"},
        BadPolicy{"max_attempts_range", Replace(kPolicy, "max_attempts: 3", "max_attempts: 2.5"), "bad.yaml:7", "whole number"},
        BadPolicy{"missing_when", Replace(kPolicy, "        when: reason.TOKEN_REPLAYED\n", ""), "bad.yaml:15:9", "hard_rules[1].when"},
        BadPolicy{"duplicate_rule", Replace(kPolicy, "name: replay", "name: injection"), "bad.yaml:4", "two rules"}),
    [](const auto& param_info) { return vigil::testing::ParamName(param_info.param); });

TEST(Policy, ReportsEveryErrorNotJustTheFirst) {
  std::string y = Replace(Replace(kPolicy, "kind: transaction", "kind: payments"), "[BLURRY, NO_FACE", "[BLURY, NO_FACE");
  std::vector<Error> errors;
  auto p = Policy::Parse(y, "bad.yaml", Catalogue(), &errors);
  ASSERT_FALSE(p.ok());
  EXPECT_GE(errors.size(), 2u);
}

TEST(PolicyCheckCommand, ExitCodesAndOutput) {
  using vigil::testing::Run;
  auto [ok_code, ok_out] = Run(vigil::testing::VigilBinary() + " policy check " +
                               vigil::testing::SourcePath("config/policy.yaml") + " 2>&1");
  EXPECT_EQ(ok_code, 0) << ok_out;
  EXPECT_NE(ok_out.find("ok:"), std::string::npos);
  std::string tmp = ::testing::TempDir() + "/bad_policy.yaml";
  {
    std::ofstream f(tmp);
    f << Replace(kPolicy, "[BLURRY, NO_FACE", "[BLURY, NO_FACE");
  }
  auto [bad_code, bad_out] = Run(vigil::testing::VigilBinary() + " policy check " + tmp + " 2>&1");
  EXPECT_EQ(bad_code, 1);
  EXPECT_NE(bad_out.find(tmp + ":9:"), std::string::npos) << bad_out;
  EXPECT_NE(bad_out.find("BLURY"), std::string::npos);
}

}  // namespace
}  // namespace vigil
