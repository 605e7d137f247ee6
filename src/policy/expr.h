// The policy's condition language: comparisons, and/or/not, `in [...]`, numbers, strings,
// booleans and facts (dotted names such as context.amount or scores.fusion).
//
//   security.injection_signal
//   context.account_age_days < 7 and context.amount >= 500
//   context.platform in ["web", "android"] and not reason.IMPOSSIBLE_TRAVEL
//
// An expression is parsed and type-checked once, when the policy loads, into a flat node array;
// evaluating it reads facts from a FactFrame and allocates nothing. A comparison involving a
// missing fact, or values of different types, is false. Compiled expressions are immutable and
// safe to evaluate from many threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/value.h"

namespace vigil {

// The static type of an expression or fact. kAny: known only at evaluation (context fields).
enum class ExprType : std::uint8_t { kBool, kNumber, kString, kAny };

// Fact values bound for one evaluation, indexed by slot. Fixed capacity, so it lives on the stack.
inline constexpr int kMaxFacts = 64;
struct FactFrame {
  std::array<Value, kMaxFacts> values{};
};

// Maps an identifier to a fact slot and its static type, or explains why it is not allowed here.
class FactResolver {
 public:
  virtual ~FactResolver() = default;
  virtual Result<int> Resolve(std::string_view identifier, ExprType& type) = 0;
};

class Expression {
 public:
  // Compiles `text`. On error, Error::where holds the 1-based column ("column 14").
  static Result<Expression> Compile(std::string_view text, FactResolver& resolver);

  bool Evaluate(const FactFrame& frame) const { return EvalBool(root_, frame); }
  const std::string& text() const { return text_; }

 private:
  enum class Op : std::uint8_t {
    kFact, kLiteral, kAnd, kOr, kNot, kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn
  };
  struct Literal {
    Value::Kind kind = Value::Kind::kMissing;
    bool boolean = false;
    double number = 0.0;
    std::uint32_t str = 0;  // index into strings_
  };
  struct Node {
    Op op = Op::kLiteral;
    std::uint16_t a = 0, b = 0;  // child nodes
    std::int16_t slot = -1;      // kFact
    std::uint32_t list_begin = 0, list_size = 0;  // kIn / kNotIn items in list_
    Literal lit;                 // kLiteral
  };
  friend class ExprParser;

  bool EvalBool(std::uint16_t i, const FactFrame& f) const;
  Value EvalValue(std::uint16_t i, const FactFrame& f) const;
  Value LiteralValue(const Literal& l) const;

  std::string text_;
  std::vector<Node> nodes_;
  std::vector<Literal> list_;
  std::vector<std::string> strings_;
  std::uint16_t root_ = 0;
};

}  // namespace vigil
