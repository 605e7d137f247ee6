#include "core/json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

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

TEST(JsonWriter, RawMembersTakeTheirPlaceAmongFields) {
  std::string out;
  JsonWriter w(out);
  w.BeginArray().BeginObject().RawMembers(R"("a":1,"b":"x")").Field("c", true).EndObject()
      .BeginObject().Field("c", false).RawMembers(R"("a":2)").EndObject()
      .BeginObject().RawMembers("").Field("d", 1).EndObject().EndArray();
  EXPECT_EQ(out, R"([{"a":1,"b":"x","c":true},{"c":false,"a":2},{"d":1}])");
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

// The escaper checks eight bytes at a time. Random strings are built from pieces whose escaped
// form is written out here by hand (RFC 8259 section 7), so the expected output is known without a
// second escaper: plain text, control characters, quotes, backslashes, DEL and UTF-8 (a two- and a
// three-byte character, and a byte that is not UTF-8 at all, passed through), at every length and
// offset around the eight-byte steps.
TEST(JsonWriter, EscapingMatchesHandWrittenPieces) {
  struct Piece {
    std::string raw, escaped;
  };
  const std::vector<Piece> pieces = {
      {"a", "a"}, {"Z", "Z"}, {"0", "0"}, {" ", " "}, {"{", "{"}, {":", ":"}, {"\x7f", "\x7f"},
      {"\xc3\xa9", "\xc3\xa9"}, {"\xe2\x82\xac", "\xe2\x82\xac"}, {"\xff", "\xff"},
      {"\"", "\\\""}, {"\\", "\\\\"}, {"\n", "\\n"}, {"\r", "\\r"}, {"\t", "\\t"}, {"\b", "\\b"},
      {"\f", "\\f"}, {std::string(1, '\0'), "\\u0000"}, {"\x01", "\\u0001"}, {"\x1f", "\\u001f"},
      {"\x0b", "\\u000b"}};
  const std::size_t plain_pieces = 10;  // the first ten need no escaping
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20000; ++trial) {
    const std::size_t len = rng() % 40;
    // A third of the strings are plain but for at most one piece, so that long unescaped runs
    // (the eight-byte path) meet one escape at every offset.
    const bool mostly_plain = trial % 3 == 0;
    const std::size_t odd_one = len > 0 ? rng() % len : 0;
    std::string raw, expected;
    for (std::size_t i = 0; i < len; ++i) {
      const std::size_t k = mostly_plain && i != odd_one ? rng() % plain_pieces : rng() % pieces.size();
      raw += pieces[k].raw;
      expected += pieces[k].escaped;
    }
    std::string out = "prefix";
    AppendJsonEscaped(out, raw);
    ASSERT_EQ(out, "prefix" + expected) << "trial " << trial;
    // The writer's keys and strings take a faster path when nothing needs escaping; the same text.
    std::string doc;
    JsonWriter w(doc);
    w.BeginObject().Field(raw, raw).EndObject();
    ASSERT_EQ(doc, "{\"" + expected + "\":\"" + expected + "\"}") << "trial " << trial;
    if (raw.find('\xff') == std::string::npos) {  // valid UTF-8: a JSON parser gives the raw string back
      EXPECT_EQ(nlohmann::json::parse("\"" + expected + "\"").get<std::string>(), raw) << "trial " << trial;
    }
  }
}

// The canonical form writes a number as std::to_chars writes the double: the shorter of the fixed
// and scientific forms, fixed on a tie ("4700" but "1e+05"). The writer calls to_chars today, so
// the loop below is a pin, not a proof: on every integer up to 100,000, each power of ten with its
// neighbours and multiples, and a million random integers of every magnitude, with both signs, a
// faster formatter must not change a record's text. The hand-written forms at the end are the
// independent check (ties between the two forms, both directions of the exponent).
TEST(JsonWriter, NumbersAreWrittenAsToCharsWritesThem) {
  auto expected = [](double d) {
    char buf[64];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, d).ptr);
  };
  auto written = [](double d) {
    std::string out;
    JsonWriter(out).Number(d);
    return out;
  };
  std::vector<double> values;
  for (int i = 0; i <= 100000; ++i) values.push_back(i);
  double p = 1;
  for (int e = 0; e <= 17; ++e, p *= 10) {
    for (double m : {1.0, 2.0, 5.0, 7.0, 10.0, 12.0, 25.0, 99.0, 100.0, 101.0, 120.0, 1234.0}) values.push_back(m * p);
    values.push_back(p - 1);
    values.push_back(p + 1);
  }
  std::mt19937_64 rng(11);
  for (int i = 0; i < 1000000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 17);
    std::uint64_t limit = 1;
    for (int k = 0; k < digits; ++k) limit *= 10;
    std::uint64_t v = rng() % limit;
    if (rng() % 2 == 0) v -= v % 1000;  // trailing zeros, where the two forms compete
    values.push_back(static_cast<double>(v));
  }
  values.push_back(999999999999999.0);
  values.push_back(1e15);
  for (double v : values) {
    ASSERT_EQ(written(v), expected(v)) << v;
    if (v != 0) {
      ASSERT_EQ(written(-v), expected(-v)) << -v;
    }
  }
  EXPECT_EQ(written(4700), "4700");
  EXPECT_EQ(written(100000), "1e+05");
  EXPECT_EQ(written(120000), "120000");    // 6 characters against "1.2e+05"'s 7
  EXPECT_EQ(written(1200000), "1200000");  // a tie at 7: fixed
  EXPECT_EQ(written(12000000), "1.2e+07");
  EXPECT_EQ(written(1e15), "1e+15");
  EXPECT_EQ(written(123456789012345.0), "123456789012345");
  EXPECT_EQ(written(-4700), "-4700");
  EXPECT_EQ(written(0.001), "0.001");  // a tie with "1e-03": fixed
  EXPECT_EQ(written(1e-7), "1e-07");
  EXPECT_EQ(written(0.1), "0.1");
  EXPECT_EQ(written(-0.0), "0");
  EXPECT_EQ(written(2.5), "2.5");
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
