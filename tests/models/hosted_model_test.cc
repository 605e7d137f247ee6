// Feature schemas: parsing, the checks against the model at load, and rows built from requests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/file.h"
#include "models/hosted_model.h"
#include "test_util.h"

namespace vigil {
namespace {

using testing::SourcePath;

const std::array<std::string_view, 3> kOutputs = {"velocity.card.count_1h", "travel.speed_kmh", "probe.count"};

class SchemaDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vigil-schema-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(SourcePath("config/models/fraud-demo.json"), dir_ / "m.json",
                               std::filesystem::copy_options::overwrite_existing);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& text) {
    std::string p = (dir_ / "s.json").string();
    std::ofstream(p) << text;
    return p;
  }
  std::filesystem::path dir_;
};

TEST(FeatureSchema, ParsesSourcesTransformsAndEquals) {
  auto s = ParseFeatureSchema(R"({"model": "m.json", "model_version": "v1", "signal": "fraud_model",
    "features": [{"name": "a", "source": "context.amount", "transform": "log1p"},
                 {"name": "w", "source": "context.payment_method", "equals": "wallet"},
                 {"name": "t", "source": "analyzer.travel.speed_kmh"}]})", "s.json", kOutputs);
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(s->features.size(), 3u);
  EXPECT_EQ(s->features[0].field, "amount");
  EXPECT_EQ(s->features[0].transform, FeatureSpec::Transform::kLog1p);
  EXPECT_EQ(*s->features[1].equals, "wallet");
  EXPECT_EQ(s->features[2].source, FeatureSpec::Source::kAnalyzer);
  EXPECT_EQ(s->features[2].analyzer, 1u);
}

TEST(FeatureSchema, BadSchemasNameTheFileAndPlace) {
  auto unknown = ParseFeatureSchema(R"({"model": "m", "model_version": "v", "signal": "s",
    "features": [{"name": "x", "source": "analyzer.nope"}]})", "s.json", kOutputs);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().ToString().find("s.json:2:"), std::string::npos) << unknown.error().ToString();
  EXPECT_NE(unknown.error().message.find("unknown analyzer output 'nope'"), std::string::npos);
  EXPECT_FALSE(ParseFeatureSchema(R"({"model": "m", "model_version": "v", "signal": "s",
    "features": [{"name": "x", "source": "request.amount"}]})", "s.json", kOutputs).ok());
  EXPECT_FALSE(ParseFeatureSchema(R"({"model": "m", "model_version": "v", "signal": "s", "features": []})",
                                  "s.json", kOutputs).ok());
  EXPECT_FALSE(ParseFeatureSchema(R"({"model": "m", "model_version": "v", "signal": "s",
    "features": [{"name": "x", "source": "context.a"}, {"name": "x", "source": "context.b"}]})", "s.json", kOutputs).ok());
  EXPECT_FALSE(ParseFeatureSchema(R"({"model": "m", "signal": "s", "features": [{"name": "x", "source": "context.a"}]})",
                                  "s.json", kOutputs).ok());
  EXPECT_FALSE(ParseFeatureSchema(R"({"model": "m", "model_version": "v", "signal": "s", "typo": 1,
    "features": [{"name": "x", "source": "context.a"}]})", "s.json", kOutputs).ok());
}

std::string DemoSchemaWith(const std::string& from, const std::string& to) {
  std::string text = *ReadFile(SourcePath("config/models/fraud-demo.schema.json"));
  text.replace(text.find(R"("fraud-demo.json")"), 17, R"("m.json")");
  if (!from.empty()) {
    auto at = text.find(from);
    EXPECT_NE(at, std::string::npos);
    text.replace(at, from.size(), to);
  }
  return text;
}

std::vector<std::string_view> AllOutputs() {
  // The demo schema's analyzer names (analyzers/features.h), enough for these tests.
  static const std::vector<std::string> names = {
      "velocity.account.count_1m", "velocity.account.count_1h", "velocity.account.amount_24h",
      "velocity.card.count_1h", "velocity.card.count_24h", "velocity.device.count_1h", "velocity.ip.count_1h",
      "velocity.ip.count_24h", "travel.speed_kmh", "travel.distance_km", "trajectory.transition_logp",
      "trajectory.rate_per_min", "trajectory.fingerprint_changes", "trajectory.interval_cv", "probe.count"};
  return {names.begin(), names.end()};
}

TEST_F(SchemaDir, TheDemoSchemaMatchesItsModel) {
  auto outs = AllOutputs();
  for (Evaluator e : {Evaluator::kNative, Evaluator::kCApi, Evaluator::kAuto}) {
    auto m = HostedModel::Load(Write(DemoSchemaWith("", "")), e, outs);
    ASSERT_TRUE(m.ok()) << m.error().ToString();
    EXPECT_EQ((*m)->num_features(), 18u);
    EXPECT_EQ((*m)->evaluator(), e == Evaluator::kCApi ? Evaluator::kCApi : Evaluator::kNative);
  }
}

TEST_F(SchemaDir, AMismatchingSchemaIsRefusedWithAClearError) {
  auto outs = AllOutputs();
  // A column renamed: the model stores its names.
  auto renamed = HostedModel::Load(Write(DemoSchemaWith(R"("name": "amount")", R"("name": "amount_eur")")),
                                   Evaluator::kNative, outs);
  ASSERT_FALSE(renamed.ok());
  EXPECT_NE(renamed.error().message.find("feature 0 is 'amount_eur' in the schema but 'amount' in the model"),
            std::string::npos) << renamed.error().ToString();
  // A column dropped: the count differs.
  auto dropped = HostedModel::Load(
      Write(DemoSchemaWith(R"({"name": "probe_count", "source": "analyzer.probe.count"})", "")), Evaluator::kCApi, outs);
  ASSERT_FALSE(dropped.ok());
  EXPECT_NE(dropped.error().message.find("the schema lists 17 features, the model"), std::string::npos)
      << dropped.error().ToString();
  // Another objective.
  auto obj = HostedModel::Load(Write(DemoSchemaWith(R"("objective": "binary:logistic")", R"("objective": "reg:squarederror")")),
                               Evaluator::kNative, outs);
  ASSERT_FALSE(obj.ok());
  EXPECT_NE(obj.error().message.find("objective"), std::string::npos);
  // A model file that is not there.
  auto missing = HostedModel::Load(Write(DemoSchemaWith(R"("model": "m.json")", R"("model": "gone.json")")),
                                   Evaluator::kNative, outs);
  EXPECT_FALSE(missing.ok());
}

// Bad model files behind a good schema: truncated, not JSON, not an XGBoost model, and a model
// the native evaluator cannot walk (categorical splits). Every evaluator refuses the first three
// naming the model file; `auto` falls back to the C API for the last, `native` refuses it.
TEST_F(SchemaDir, BadModelFilesAreRefusedNamingTheFile) {
  auto outs = AllOutputs();
  const std::string schema = Write(DemoSchemaWith("", ""));
  const std::string model = (dir_ / "m.json").string();
  const std::string good = *ReadFile(model);
  const std::string broken[] = {good.substr(0, good.size() / 2), "not json at all", R"({"learner": {"attributes": {}}})"};
  for (const auto& text : broken) {
    std::ofstream(model, std::ios::trunc) << text;
    for (Evaluator e : {Evaluator::kNative, Evaluator::kCApi, Evaluator::kAuto}) {
      auto m = HostedModel::Load(schema, e, outs);
      ASSERT_FALSE(m.ok()) << text.substr(0, 40);
      EXPECT_NE(m.error().ToString().find("m.json"), std::string::npos) << m.error().ToString();
    }
  }
  std::string categorical = good;
  const auto at = categorical.find(R"("split_type":[0,)");
  ASSERT_NE(at, std::string::npos);
  categorical.replace(at, 16, R"("split_type":[1,)");
  std::ofstream(model, std::ios::trunc) << categorical;
  auto native = HostedModel::Load(schema, Evaluator::kNative, outs);
  ASSERT_FALSE(native.ok());
  EXPECT_NE(native.error().message.find("categorical"), std::string::npos) << native.error().ToString();
  auto fallback = HostedModel::Load(schema, Evaluator::kAuto, outs);
  ASSERT_TRUE(fallback.ok()) << fallback.error().ToString();
  EXPECT_EQ((*fallback)->evaluator(), Evaluator::kCApi);
  EXPECT_EQ((*fallback)->native_info(), nullptr);
}

TEST_F(SchemaDir, RowsComeFromContextAndAnalyzersWithNaNForMissing) {
  auto s = Write(R"({"model": "m.json", "model_version": "v", "signal": "fraud_model", "features": [
    {"name": "amount", "source": "context.amount"}, {"name": "log_amount", "source": "context.amount", "transform": "log1p"},
    {"name": "account_age_days", "source": "context.account_age_days"},
    {"name": "vel_account_count_1m", "source": "context.trusted"},
    {"name": "vel_account_count_1h", "source": "context.payment_method", "equals": "wallet"},
    {"name": "vel_account_amount_24h", "source": "context.platform"},
    {"name": "vel_card_count_1h", "source": "analyzer.travel.speed_kmh"},
    {"name": "vel_card_count_24h", "source": "analyzer.probe.count"},
    {"name": "vel_device_count_1h", "source": "context.x"}, {"name": "vel_ip_count_1h", "source": "context.x"},
    {"name": "vel_ip_count_24h", "source": "context.x"}, {"name": "travel_speed_kmh", "source": "context.x"},
    {"name": "travel_distance_km", "source": "context.x"}, {"name": "traj_transition_logp", "source": "context.x"},
    {"name": "traj_rate_per_min", "source": "context.x"}, {"name": "traj_fingerprint_changes", "source": "context.x"},
    {"name": "traj_interval_cv", "source": "context.x"}, {"name": "probe_count", "source": "context.x"}]})");
  auto m = HostedModel::Load(s, Evaluator::kNative, kOutputs);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  AttributeMap ctx;
  ctx.SetNumber("amount", 99.0);
  ctx.SetNumber("account_age_days", 3);
  ctx.SetBool("trusted", true);
  ctx.SetString("payment_method", "card");
  ctx.SetString("platform", "web");
  std::array<double, 3> outs = {7.0, 1234.5, std::nan("")};
  std::vector<float> row((*m)->num_features());
  (*m)->BuildRow(ctx, outs, row.data());
  EXPECT_EQ(row[0], 99.0f);
  EXPECT_EQ(row[1], static_cast<float>(std::log1p(99.0)));
  EXPECT_EQ(row[2], 3.0f);
  EXPECT_EQ(row[3], 1.0f);       // a boolean
  EXPECT_EQ(row[4], 0.0f);       // a string through equals
  EXPECT_TRUE(std::isnan(row[5]));  // a string without equals
  EXPECT_EQ(row[6], 1234.5f);
  EXPECT_TRUE(std::isnan(row[7]));  // an analyzer without a value
  EXPECT_TRUE(std::isnan(row[8]));  // absent from the context
  EXPECT_TRUE(std::isfinite((*m)->Score(row.data())));
  EXPECT_EQ((*m)->ScoreNative(row.data()), (*m)->ScoreCApi(row.data()));
}

}  // namespace
}  // namespace vigil
