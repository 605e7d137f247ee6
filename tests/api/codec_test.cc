#include "api/codec.h"

#include <gtest/gtest.h>

#include <ostream>
#include <nlohmann/json.hpp>

#include "pipeline/engine.h"
#include "test_util.h"

namespace vigil {
namespace {

struct Bad {
  const char* name;
  std::string body;
  ProblemType type;
  const char* field;
};
void PrintTo(const Bad& v, std::ostream* os) { *os << v.name; }

class RequestProblems : public ::testing::TestWithParam<Bad> {};

TEST_P(RequestProblems, ClearProblemWithStableType) {
  auto r = ParseDecisionRequest(GetParam().body);
  ASSERT_FALSE(r.ok()) << GetParam().name;
  EXPECT_EQ(ProblemSlug(r.error().type), ProblemSlug(GetParam().type)) << GetParam().name << ": " << r.error().detail;
  EXPECT_EQ(r.error().field, GetParam().field) << GetParam().name;
}

const std::string kOk = R"("request_id": "r1", "flow_type": "login")";

INSTANTIATE_TEST_SUITE_P(
    Table, RequestProblems,
    ::testing::Values(
        Bad{"not_json", "{nope", ProblemType::kMalformedJson, ""},
        Bad{"empty", "", ProblemType::kMalformedJson, ""},
        Bad{"truncated", "{\"request_id\": \"r1\"", ProblemType::kMalformedJson, ""},
        Bad{"array", "[1,2]", ProblemType::kWrongType, ""},
        Bad{"nan", "{" + kOk + ", \"signals\": {\"passive\": NaN}}", ProblemType::kMalformedJson, ""},
        Bad{"huge_number", "{" + kOk + ", \"signals\": {\"passive\": 1e999}}", ProblemType::kInvalidNumber, ""},
        Bad{"missing_id", R"({"flow_type": "login"})", ProblemType::kMissingField, "request_id"},
        Bad{"missing_flow", R"({"request_id": "r1"})", ProblemType::kMissingField, "flow_type"},
        Bad{"id_type", R"({"request_id": 5, "flow_type": "login"})", ProblemType::kWrongType, "request_id"},
        Bad{"id_chars", R"({"request_id": "r 1", "flow_type": "login"})", ProblemType::kInvalidValue, "request_id"},
        Bad{"id_long", "{\"request_id\": \"" + std::string(129, 'a') + "\", \"flow_type\": \"login\"}", ProblemType::kInvalidValue, "request_id"},
        Bad{"flow_case", R"({"request_id": "r1", "flow_type": "Login"})", ProblemType::kInvalidValue, "flow_type"},
        Bad{"unknown_field", "{" + kOk + ", \"singals\": {}}", ProblemType::kUnknownField, "singals"},
        Bad{"signal_string", "{" + kOk + ", \"signals\": {\"passive\": \"0.5\"}}", ProblemType::kWrongType, "signals.passive"},
        Bad{"signal_dup", "{" + kOk + ", \"signals\": {\"passive\": 0.5, \"passive\": 0.6}}", ProblemType::kInvalidValue, "signals.passive"},
        Bad{"security_type", "{" + kOk + ", \"security\": {\"injection_signal\": 1}}", ProblemType::kWrongType, "security.injection_signal"},
        Bad{"context_array", "{" + kOk + ", \"context\": {\"tags\": [1]}}", ProblemType::kWrongType, "context.tags"},
        Bad{"negative_amount", "{" + kOk + ", \"context\": {\"amount\": -5}}", ProblemType::kInvalidValue, "context.amount"},
        Bad{"bad_lat", "{" + kOk + ", \"context\": {\"geo\": {\"lat\": 91, \"lon\": 0}}}", ProblemType::kInvalidValue, "context.geo.lat"},
        Bad{"geo_incomplete", "{" + kOk + ", \"context\": {\"geo\": {\"lat\": 1}}}", ProblemType::kMissingField, "context.geo"},
        Bad{"long_string", "{" + kOk + ", \"context\": {\"platform\": \"" + std::string(300, 'x') + "\"}}", ProblemType::kInvalidValue, "context.platform"},
        Bad{"bad_timestamp", "{" + kOk + ", \"timestamp_ms\": -1}", ProblemType::kInvalidValue, "timestamp_ms"}),
    [](const auto& param_info) { return vigil::testing::ParamName(param_info.param); });

TEST(RequestParser, ParsesAllFields) {
  auto r = ParseDecisionRequest(R"({"request_id": "req_34b9", "flow_type": "transaction_approval",
      "session_token": "tok", "timestamp_ms": 1763800000000,
      "context": {"platform": "web", "amount": 120.5, "first": true, "geo": {"lat": 48.1, "lon": 11.6}},
      "signals": {"fraud_model": 0.12, "device_risk": 3},
      "security": {"injection_signal": false}})");
  ASSERT_TRUE(r.ok()) << r.error().detail;
  const DecisionRequest& q = r->request;
  EXPECT_EQ(q.request_id, "req_34b9");
  EXPECT_EQ(q.flow_type, "transaction_approval");
  EXPECT_EQ(r->session_token, "tok");
  EXPECT_TRUE(r->has_timestamp);
  EXPECT_EQ(q.time_ms, 1763800000000.0);
  EXPECT_EQ(q.context.GetString("platform"), "web");
  EXPECT_EQ(q.context.GetNumber("amount"), 120.5);
  EXPECT_TRUE(q.context.GetBool("first"));
  EXPECT_EQ(q.context.GetNumber("geo.lat"), 48.1);
  EXPECT_EQ(q.context.GetNumber("geo.lon"), 11.6);
  ASSERT_EQ(q.signals.size(), 2u);
  EXPECT_EQ(q.signals[1].raw, 3.0);
  EXPECT_FALSE(q.security.GetBool("injection_signal", true));
}

TEST(RequestParser, BoundsCounts) {
  std::string body = "{" + kOk + ", \"signals\": {";
  for (int i = 0; i < 40; ++i) body += (i ? "," : "") + std::string("\"s") + std::to_string(i) + "\": 0.5";
  body += "}}";
  auto r = ParseDecisionRequest(body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "signals");
}

TEST(ResponseWriter, RendersSpecFieldsAndExplanation) {
  auto engine = DecisionEngine::Load(EngineFiles::Under(vigil::testing::SourcePath("config")));
  ASSERT_TRUE(engine.ok());
  auto parsed = ParseDecisionRequest(R"({"request_id": "req_34b9", "flow_type": "onboarding",
      "signals": {"passive": 0.58, "active": 0.62}})");
  ASSERT_TRUE(parsed.ok());
  parsed->request.quality.SetNumber("blur_score", 0.31);
  auto d = (*engine)->Decide(parsed->request);
  ASSERT_TRUE(d.ok());
  DecisionMeta meta{1.5, "abc123", "next.tok"};
  std::size_t evidence_at = std::string::npos;
  const std::string body = RenderDecision(parsed->request, *d, (*engine)->catalogue(), meta, &evidence_at);
  // Where the audit store writes the record's hash: exactly the evidence id's value.
  ASSERT_NE(evidence_at, std::string::npos);
  EXPECT_EQ(body.substr(evidence_at - 15, 15 + 7), "\"evidence_id\":\"abc123\"");
  auto j = nlohmann::json::parse(body);
  for (const char* f : {"request_id", "decision", "decision_band", "scores", "quality", "reasons", "attempt",
                        "max_attempts", "next_token", "model_version", "policy_version", "latency_ms",
                        "evidence_id", "explanation"}) {
    EXPECT_TRUE(j.contains(f)) << f;
  }
  EXPECT_EQ(j["decision"], "retry");
  EXPECT_EQ(j["decision_band"], "uncertain");
  EXPECT_EQ(j["evidence_id"], "abc123");
  EXPECT_EQ(j["quality"]["blur_score"], 0.31);
  EXPECT_EQ(j["reasons"][0]["code"], "LIVENESS_UNCERTAIN");
  EXPECT_TRUE(j["reasons"][0].contains("guidance"));
  EXPECT_EQ(j["explanation"]["decided_by"], "threshold");
  EXPECT_EQ(j["explanation"]["signals"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["scores"]["fusion"].get<double>(), d->fusion.score);
}

TEST(Problem, RendersRfc9457) {
  auto j = nlohmann::json::parse(RenderProblem({ProblemType::kBodyTooLarge, "over 1 MiB", ""}, "/v1/decisions"));
  EXPECT_EQ(j["type"], "urn:vigil:problem:body-too-large");
  EXPECT_EQ(j["status"], 413);
  EXPECT_EQ(j["instance"], "/v1/decisions");
  EXPECT_FALSE(j.contains("field"));
  EXPECT_EQ(ProblemStatus(ProblemType::kRateLimited), 429);
  EXPECT_EQ(ProblemStatus(ProblemType::kOverloaded), 503);
}

}  // namespace
}  // namespace vigil
