#include "policy/expr.h"

#include <gtest/gtest.h>

#include <ostream>

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>

// GCC 12 misreads free() in a replaced operator delete as a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Counts heap allocations in this test binary, to prove evaluation allocates nothing.
static std::atomic<long> g_allocations{0};
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace vigil {
namespace {

// Resolves names against a fixed table of typed facts.
class TableResolver : public FactResolver {
 public:
  Result<int> Resolve(std::string_view id, ExprType& type) override {
    static const std::map<std::string, std::pair<int, ExprType>> kFacts = {
        {"context.amount", {0, ExprType::kAny}},     {"context.platform", {1, ExprType::kAny}},
        {"security.injection", {2, ExprType::kBool}}, {"scores.fusion", {3, ExprType::kNumber}},
        {"flow_type", {4, ExprType::kString}},        {"context.missing", {5, ExprType::kAny}},
        {"context.trusted", {6, ExprType::kAny}},
    };
    auto it = kFacts.find(std::string(id));
    if (it == kFacts.end()) return Error::Invalid("unknown name '" + std::string(id) + "'");
    type = it->second.second;
    return it->second.first;
  }
};

FactFrame Frame() {
  FactFrame f;
  f.values[0] = Value::Number(750);
  f.values[1] = Value::String("web");
  f.values[2] = Value::Bool(false);
  f.values[3] = Value::Number(0.42);
  f.values[4] = Value::String("login");
  f.values[5] = Value::Missing();
  f.values[6] = Value::Bool(true);
  return f;
}

struct Case {
  const char* text;
  bool expected;
};
void PrintTo(const Case& v, std::ostream* os) { *os << v.text; }

class ExpressionEval : public ::testing::TestWithParam<Case> {};

TEST_P(ExpressionEval, Evaluates) {
  TableResolver r;
  auto e = Expression::Compile(GetParam().text, r);
  ASSERT_TRUE(e.ok()) << GetParam().text << ": " << e.error().ToString();
  EXPECT_EQ(e->Evaluate(Frame()), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpressionEval,
    ::testing::Values(
        Case{"context.amount >= 750", true}, Case{"context.amount > 750", false},
        Case{"context.amount < 750.0001", true}, Case{"context.amount <= 749.9", false},
        Case{"context.amount == 750", true}, Case{"context.amount != 750", false},
        Case{"context.amount > -1", true}, Case{"context.amount > 1e3", false},
        Case{"context.platform == \"web\"", true}, Case{"context.platform == 'web'", true},
        Case{"context.platform != \"ios\"", true},
        Case{"context.platform in [\"ios\", \"web\"]", true},
        Case{"context.platform in [\"ios\", \"android\"]", false},
        Case{"context.platform not in [\"ios\", \"android\"]", true},
        Case{"context.amount in [1, 750, 3]", true},
        Case{"security.injection", false}, Case{"not security.injection", true},
        Case{"security.injection == false", true}, Case{"context.trusted", true},
        Case{"context.amount > 500 and context.platform == \"web\"", true},
        Case{"context.amount > 5000 or context.platform == \"web\"", true},
        Case{"context.amount > 5000 or context.platform == \"ios\"", false},
        Case{"not (context.amount > 5000 or context.platform == \"ios\")", true},
        // and binds tighter than or
        Case{"true or false and false", true}, Case{"(true or false) and false", false},
        Case{"not not true", true},
        Case{"scores.fusion >= 0.4 and scores.fusion < 0.5", true},
        Case{"flow_type == \"login\"", true},
        // A missing fact makes every comparison false, in either direction.
        Case{"context.missing == 1", false}, Case{"context.missing != 1", false},
        Case{"context.missing < 1", false}, Case{"context.missing in [1, 2]", false},
        Case{"context.missing not in [1, 2]", false}, Case{"context.missing", false},
        // Values of different types at run time compare false.
        Case{"context.platform == 750", false}, Case{"context.platform > 3", false},
        Case{"context.amount in [\"750\"]", false}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

struct BadCase {
  const char* text;
  const char* message_part;
  int column;
};
void PrintTo(const BadCase& v, std::ostream* os) { *os << v.text; }

class ExpressionErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ExpressionErrors, ReportMessageAndColumn) {
  TableResolver r;
  auto e = Expression::Compile(GetParam().text, r);
  ASSERT_FALSE(e.ok()) << GetParam().text;
  EXPECT_NE(e.error().message.find(GetParam().message_part), std::string::npos)
      << GetParam().text << " -> " << e.error().message;
  EXPECT_EQ(e.error().where, "column " + std::to_string(GetParam().column)) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExpressionErrors,
    ::testing::Values(
        BadCase{"", "empty", 1}, BadCase{"context.amount = 5", "'=='", 16},
        BadCase{"context.amount > 5 && true", "and, or, not", 20},
        BadCase{"contxt.amount > 5", "unknown name", 1},
        BadCase{"context.amount >", "incomplete", 17},
        BadCase{"(context.amount > 5", "expected ')'", 20},
        BadCase{"context.amount > 5 true", "after a complete condition", 20},
        BadCase{"flow_type > \"a\"", "needs numbers", 11},
        BadCase{"scores.fusion == \"high\"", "compares a number with a string", 15},
        BadCase{"scores.fusion and true", "needs a condition", 15},
        BadCase{"context.platform in [\"a\", 1]", "one type", 18},
        BadCase{"context.platform in \"a\"", "needs a list", 21},
        BadCase{"context.platform == \"web", "unterminated", 21},
        BadCase{"context.amount > 1.2.3", "malformed number", 18},
        BadCase{"context.amount # 3", "unexpected character", 16},
        BadCase{"5", "is a number", 1}),
    [](const auto& param_info) { return "case" + std::to_string(param_info.index); });

TEST(Expression, NumberAloneIsNotACondition) {
  TableResolver r;
  auto e = Expression::Compile("scores.fusion", r);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("not true or false"), std::string::npos);
}

TEST(Expression, EvaluationAllocatesNothing) {
  TableResolver r;
  auto e = Expression::Compile(
      "(context.amount >= 500 and context.platform in [\"web\", \"ios\"]) or not security.injection "
      "and flow_type != \"payment\" and scores.fusion < 0.9", r);
  ASSERT_TRUE(e.ok()) << e.error().ToString();
  FactFrame f = Frame();
  long before = g_allocations.load();
  bool result = false;
  for (int i = 0; i < 1000; ++i) result ^= e->Evaluate(f);
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_FALSE(result);  // an even number of true results
}

TEST(Expression, StringLiteralsSurviveMoves) {
  TableResolver r;
  auto e = Expression::Compile("context.platform in [\"web\", \"ios\"]", r);
  ASSERT_TRUE(e.ok());
  std::vector<Expression> v;
  v.push_back(std::move(*e));
  v.reserve(100);  // forces a reallocation
  EXPECT_TRUE(v[0].Evaluate(Frame()));
}

}  // namespace
}  // namespace vigil
