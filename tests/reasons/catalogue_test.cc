#include "reasons/catalogue.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>

#include "test_util.h"

namespace vigil {
namespace {

TEST(ReasonCatalogue, ShippedFileDescribesEveryBuiltinCode) {
  auto cat = ReasonCatalogue::LoadFile(vigil::testing::SourcePath("config/reasons.yaml"));
  ASSERT_TRUE(cat.ok()) << cat.error().ToString();
  EXPECT_GE(cat->all().size(), 20u);
  std::set<std::string> names;
  for (const auto& info : cat->all()) {
    EXPECT_FALSE(info.title.empty()) << info.name;
    EXPECT_FALSE(info.recommendation.empty()) << info.name;
    names.insert(info.name);
  }
  EXPECT_EQ(names.size(), cat->all().size());
  EXPECT_EQ(cat->Info(ReasonCode::kBlurry).name, "BLURRY");
  EXPECT_EQ(cat->Info(ReasonCode::kBlurry).category, ReasonCategory::kQuality);
  EXPECT_FALSE(cat->Info(ReasonCode::kBlurry).guidance.empty());
  EXPECT_EQ(cat->Info(ReasonCode::kInjectionDetected).severity, Severity::kCritical);
  EXPECT_EQ(cat->Find("IMPOSSIBLE_TRAVEL"), ReasonCode::kImpossibleTravel);
  EXPECT_FALSE(cat->Find("NOPE").has_value());
  // Quality reasons are never security or liveness suspicion.
  for (ReasonCode c : {ReasonCode::kNoFace, ReasonCode::kTooDark, ReasonCode::kBacklit}) {
    EXPECT_EQ(cat->Info(c).category, ReasonCategory::kQuality);
  }
}

std::string Full(const std::string& extra) {
  auto base = vigil::testing::Slurp(vigil::testing::SourcePath("config/reasons.yaml"));
  return base + extra;
}

// The members a response gives each reason are serialised once at load; they must say what the
// fields say, escaped (a recommendation with quotes and a newline is written as JSON requires).
TEST(ReasonCatalogue, ResponseMembersAreTheFieldsAsJson) {
  auto cat = ReasonCatalogue::LoadFile(vigil::testing::SourcePath("config/reasons.yaml"));
  ASSERT_TRUE(cat.ok()) << cat.error().ToString();
  for (const auto& info : cat->all()) {
    auto j = nlohmann::json::parse("{" + info.response_members + "}");
    EXPECT_EQ(j.size(), 5u) << info.name;
    EXPECT_EQ(j["code"], info.name);
    EXPECT_EQ(j["title"], info.title);
    EXPECT_EQ(j["severity"], std::string(SeverityName(info.severity)));
    EXPECT_EQ(j["category"], std::string(CategoryName(info.category)));
    EXPECT_EQ(j["recommendation"], info.recommendation);
  }
  auto custom = ReasonCatalogue::Parse(Full("  - code: QUOTED\n    title: 'a \"quoted\" \\\\ title'\n    severity: info\n"
                                            "    category: policy\n    recommendation: \"line one\\nline two\"\n"), "r.yaml");
  ASSERT_TRUE(custom.ok()) << custom.error().ToString();
  const ReasonInfo& q = custom->Info(*custom->Find("QUOTED"));
  EXPECT_EQ(q.title, "a \"quoted\" \\\\ title");
  EXPECT_EQ(q.recommendation, "line one\nline two");
  auto j = nlohmann::json::parse("{" + q.response_members + "}");
  EXPECT_EQ(j["title"], q.title);
  EXPECT_EQ(j["recommendation"], q.recommendation);
}

TEST(ReasonCatalogue, AcceptsCustomCodes) {
  auto cat = ReasonCatalogue::Parse(Full("  - code: VIP_OVERRIDE\n    title: VIP\n    severity: info\n"
                                         "    category: policy\n    recommendation: none\n"), "r.yaml");
  ASSERT_TRUE(cat.ok()) << cat.error().ToString();
  auto c = cat->Find("VIP_OVERRIDE");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(static_cast<std::size_t>(*c), kBuiltinReasonCount);
  EXPECT_EQ(cat->Info(*c).title, "VIP");
}

TEST(ReasonCatalogue, ErrorsNameLineAndField) {
  auto bad = ReasonCatalogue::Parse(Full("  - code: X_Y\n    title: t\n    severity: urgent\n"
                                         "    category: policy\n    recommendation: r\n"), "r.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("severity"), std::string::npos);
  EXPECT_NE(bad.error().where.find("r.yaml:"), std::string::npos);

  auto dup = ReasonCatalogue::Parse(Full("  - code: BLURRY\n    title: t\n    severity: low\n"
                                         "    category: quality\n    recommendation: r\n"), "r.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("duplicate"), std::string::npos);

  auto missing = ReasonCatalogue::Parse("version: v\nreasons:\n  - code: BLURRY\n    title: t\n", "m.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("severity"), std::string::npos);
  EXPECT_EQ(missing.error().where, "m.yaml:3");

  auto incomplete = ReasonCatalogue::Parse("version: v\nreasons: []\n", "i.yaml");
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.error().message.find("not described"), std::string::npos);
}

}  // namespace
}  // namespace vigil
