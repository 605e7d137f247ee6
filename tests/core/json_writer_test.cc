#include "core/json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <random>
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

// The escaper checks eight bytes at a time; compare it with a plain byte-by-byte reference on
// random strings mixing plain text, control characters, quotes, backslashes and UTF-8 bytes, at
// every length and offset around the eight-byte steps.
std::string ReferenceEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

TEST(JsonWriter, EscapingMatchesAByteByByteReference) {
  std::mt19937 rng(7);
  const std::string alphabet = std::string("abcXYZ09 _-{}:,\x7f\xc3\xa9\xff\"\\\n\t\x01\x1f", 25) + std::string(1, '\0');
  for (int trial = 0; trial < 20000; ++trial) {
    std::size_t len = rng() % 40;
    std::string s;
    bool plain = trial % 3 == 0;  // a third with at most one character to escape, at a random place
    for (std::size_t i = 0; i < len; ++i) s += plain ? static_cast<char>('a' + rng() % 26) : alphabet[rng() % alphabet.size()];
    if (plain && len > 0 && rng() % 2) s[rng() % len] = "\"\\\n\x1f"[rng() % 4];
    std::string out = "prefix";
    AppendJsonEscaped(out, s);
    ASSERT_EQ(out, "prefix" + ReferenceEscape(s)) << "trial " << trial;
    if (nlohmann::json::accept("\"" + out.substr(6) + "\"")) {
      EXPECT_EQ(nlohmann::json::parse("\"" + out.substr(6) + "\"").get<std::string>(), s);
    }
  }
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
