#include "core/json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

#include "core/value.h"

namespace vigil {
namespace {

TEST(JsonWriter, NestedStructureParsesBack) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("a", 1).Key("b").BeginArray().Number(0.1).String("x\"y\n").Bool(false).Null()
      .BeginObject().EndObject().EndArray().Field("c", "\x01").EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[0.1,"x\"y\n",false,null,{}],"c":"\u0001"})");
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["b"][1], "x\"y\n");
}

TEST(JsonWriter, NumbersRoundTripAndNonFiniteIsNull) {
  std::string out;
  JsonWriter w(out);
  double v = 0.1 + 0.2;
  w.BeginArray().Number(v).Number(std::nan("")).Number(std::numeric_limits<double>::infinity())
      .Number(-0.0).Number(1e300).Int(-42).EndArray();
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j[0].get<double>(), v);  // shortest text that round-trips
  EXPECT_TRUE(j[1].is_null());
  EXPECT_TRUE(j[2].is_null());
  EXPECT_EQ(out.find("-0,"), std::string::npos);
  EXPECT_EQ(j[4].get<double>(), 1e300);
  EXPECT_EQ(j[5].get<int>(), -42);
}

TEST(AttributeMap, SetGetOverwrite) {
  AttributeMap m;
  m.SetString("platform", "web");
  m.SetNumber("amount", 12.5);
  m.SetBool("flag", true);
  m.SetNumber("platform", 3);  // overwrite changes the kind
  EXPECT_EQ(m.size(), 3u);
  EXPECT_EQ(m.Get("platform").kind, Value::Kind::kNumber);
  EXPECT_EQ(m.GetString("platform"), "");
  EXPECT_EQ(m.GetNumber("amount"), 12.5);
  EXPECT_TRUE(m.GetBool("flag"));
  EXPECT_TRUE(m.Get("absent").is_missing());
  EXPECT_TRUE(std::isnan(m.GetNumber("absent")));
  EXPECT_EQ(m.items()[0].name, "platform");
}

}  // namespace
}  // namespace vigil
