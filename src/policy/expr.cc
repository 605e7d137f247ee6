#include "policy/expr.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace vigil {
namespace {

enum class Tok : std::uint8_t {
  kEnd, kIdent, kNumber, kString, kTrue, kFalse, kAnd, kOr, kNot, kIn,
  kEq, kNe, kLt, kLe, kGt, kGe, kLParen, kRParen, kLBracket, kRBracket, kComma, kMinus
};

struct Token {
  Tok kind = Tok::kEnd;
  std::size_t pos = 0;
  std::string text;  // identifier or string contents
  double number = 0.0;
};

std::string_view TokName(Tok t) {
  switch (t) {
    case Tok::kEnd: return "end of expression";
    case Tok::kIdent: return "a name";
    case Tok::kNumber: return "a number";
    case Tok::kString: return "a string";
    case Tok::kTrue: return "'true'";
    case Tok::kFalse: return "'false'";
    case Tok::kAnd: return "'and'";
    case Tok::kOr: return "'or'";
    case Tok::kNot: return "'not'";
    case Tok::kIn: return "'in'";
    case Tok::kEq: return "'=='";
    case Tok::kNe: return "'!='";
    case Tok::kLt: return "'<'";
    case Tok::kLe: return "'<='";
    case Tok::kGt: return "'>'";
    case Tok::kGe: return "'>='";
    case Tok::kLParen: return "'('";
    case Tok::kRParen: return "')'";
    case Tok::kLBracket: return "'['";
    case Tok::kRBracket: return "']'";
    case Tok::kComma: return "','";
    case Tok::kMinus: return "'-'";
  }
  return "?";
}

Error At(std::size_t pos, std::string msg) {
  return Error::Parse(std::move(msg), "column " + std::to_string(pos + 1));
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token t;
    t.pos = i;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_' || s[j] == '.')) ++j;
      t.text = std::string(s.substr(i, j - i));
      if (t.text.back() == '.') return At(j - 1, "a name cannot end with '.'");
      if (t.text == "and") t.kind = Tok::kAnd;
      else if (t.text == "or") t.kind = Tok::kOr;
      else if (t.text == "not") t.kind = Tok::kNot;
      else if (t.text == "in") t.kind = Tok::kIn;
      else if (t.text == "true") t.kind = Tok::kTrue;
      else if (t.text == "false") t.kind = Tok::kFalse;
      else t.kind = Tok::kIdent;
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      std::size_t j = i;
      while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == 'e' || s[j] == 'E' ||
                              ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E')))) ++j;
      double d = 0;
      auto [p, ec] = std::from_chars(s.data() + i, s.data() + j, d);
      if (ec != std::errc() || p != s.data() + j || !std::isfinite(d)) {
        return At(i, "malformed number '" + std::string(s.substr(i, j - i)) + "'");
      }
      t.kind = Tok::kNumber;
      t.number = d;
      i = j;
    } else if (c == '"' || c == '\'') {
      std::size_t j = i + 1;
      std::string text;
      bool closed = false;
      while (j < s.size()) {
        if (s[j] == '\\' && j + 1 < s.size()) {
          text += s[j + 1];
          j += 2;
          continue;
        }
        if (s[j] == c) {
          closed = true;
          ++j;
          break;
        }
        text += s[j++];
      }
      if (!closed) return At(i, "unterminated string");
      t.kind = Tok::kString;
      t.text = std::move(text);
      i = j;
    } else {
      auto two = s.substr(i, 2);
      if (two == "==") { t.kind = Tok::kEq; i += 2; }
      else if (two == "!=") { t.kind = Tok::kNe; i += 2; }
      else if (two == "<=") { t.kind = Tok::kLe; i += 2; }
      else if (two == ">=") { t.kind = Tok::kGe; i += 2; }
      else if (c == '<') { t.kind = Tok::kLt; ++i; }
      else if (c == '>') { t.kind = Tok::kGt; ++i; }
      else if (c == '(') { t.kind = Tok::kLParen; ++i; }
      else if (c == ')') { t.kind = Tok::kRParen; ++i; }
      else if (c == '[') { t.kind = Tok::kLBracket; ++i; }
      else if (c == ']') { t.kind = Tok::kRBracket; ++i; }
      else if (c == ',') { t.kind = Tok::kComma; ++i; }
      else if (c == '-') { t.kind = Tok::kMinus; ++i; }
      else if (c == '=') return At(i, "unknown operator '=' (use '==')");
      else if (c == '&' || c == '|' || c == '!') return At(i, std::string("unknown operator '") + c + "' (use and, or, not)");
      else return At(i, std::string("unexpected character '") + c + "'");
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.pos = s.size();
  out.push_back(end);
  return out;
}

std::string_view TypeName(ExprType t) {
  switch (t) {
    case ExprType::kBool: return "a boolean";
    case ExprType::kNumber: return "a number";
    case ExprType::kString: return "a string";
    case ExprType::kAny: return "any value";
  }
  return "?";
}

}  // namespace

// Recursive-descent parser: or := and ('or' and)*; and := not ('and' not)*;
// not := 'not' not | cmp; cmp := primary (op primary | 'not'? 'in' list)?
class ExprParser {
 public:
  ExprParser(Expression& e, std::vector<Token> toks, FactResolver& r)
      : e_(e), toks_(std::move(toks)), resolver_(r) {}

  Result<ExprType> Parse() {
    auto t = Or();
    if (!t.ok()) return t;
    if (Peek().kind != Tok::kEnd) {
      return At(Peek().pos, "unexpected " + std::string(TokName(Peek().kind)) + " after a complete condition");
    }
    return t;
  }

 private:
  using Op = Expression::Op;
  const Token& Peek() const { return toks_[pos_]; }
  const Token& Next() { return toks_[pos_++]; }

  Result<std::uint16_t> Add(Expression::Node n) {
    if (e_.nodes_.size() >= 4000) return At(Peek().pos, "condition too long");
    e_.nodes_.push_back(n);
    return static_cast<std::uint16_t>(e_.nodes_.size() - 1);
  }

  Status NeedBool(ExprType t, std::size_t pos, std::string_view op) {
    if (t == ExprType::kBool || t == ExprType::kAny) return Status::Ok();
    return At(pos, "'" + std::string(op) + "' needs a condition, not " + std::string(TypeName(t)));
  }

  Result<ExprType> Or() { return Chain(Tok::kOr, Op::kOr, "or", &ExprParser::And); }
  Result<ExprType> And() { return Chain(Tok::kAnd, Op::kAnd, "and", &ExprParser::Not); }

  // operand (op operand)*, left-associative: `or` over `and` operands, `and` over `not` operands.
  Result<ExprType> Chain(Tok tok, Op op, std::string_view name, Result<ExprType> (ExprParser::*operand)()) {
    auto first = (this->*operand)();
    if (!first.ok()) return first;
    ExprType lhs = *first;
    while (Peek().kind == tok) {
      std::size_t pos = Next().pos;
      std::uint16_t a = e_.root_;
      auto rhs = (this->*operand)();
      if (!rhs.ok()) return rhs;
      if (auto s = NeedBool(lhs, pos, name); !s.ok()) return s.error();
      if (auto s = NeedBool(*rhs, pos, name); !s.ok()) return s.error();
      Expression::Node n;
      n.op = op;
      n.a = a;
      n.b = e_.root_;
      auto idx = Add(n);
      if (!idx.ok()) return idx.error();
      e_.root_ = *idx;
      lhs = ExprType::kBool;
    }
    return lhs;
  }

  Result<ExprType> Not() {
    if (Peek().kind == Tok::kNot) {
      std::size_t pos = Next().pos;
      auto inner = Not();
      if (!inner.ok()) return inner;
      if (auto s = NeedBool(*inner, pos, "not"); !s.ok()) return s.error();
      Expression::Node n;
      n.op = Op::kNot;
      n.a = e_.root_;
      auto idx = Add(n);
      if (!idx.ok()) return idx.error();
      e_.root_ = *idx;
      return ExprType::kBool;
    }
    return Cmp();
  }

  static bool Comparable(ExprType a, ExprType b) {
    return a == ExprType::kAny || b == ExprType::kAny || a == b;
  }

  Result<ExprType> Cmp() {
    auto lhs = Primary();
    if (!lhs.ok()) return lhs;
    std::uint16_t a = e_.root_;
    const Token& t = Peek();
    Op op;
    switch (t.kind) {
      case Tok::kEq: op = Op::kEq; break;
      case Tok::kNe: op = Op::kNe; break;
      case Tok::kLt: op = Op::kLt; break;
      case Tok::kLe: op = Op::kLe; break;
      case Tok::kGt: op = Op::kGt; break;
      case Tok::kGe: op = Op::kGe; break;
      case Tok::kIn: return In(*lhs, a, false);
      case Tok::kNot:
        if (toks_[pos_ + 1].kind == Tok::kIn) {
          Next();
          return In(*lhs, a, true);
        }
        return lhs;
      default: return lhs;
    }
    std::size_t pos = Next().pos;
    auto rhs = Primary();
    if (!rhs.ok()) return rhs;
    if (!Comparable(*lhs, *rhs)) {
      return At(pos, "compares " + std::string(TypeName(*lhs)) + " with " + std::string(TypeName(*rhs)));
    }
    bool ordering = op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe;
    if (ordering && (*lhs == ExprType::kBool || *lhs == ExprType::kString || *rhs == ExprType::kBool || *rhs == ExprType::kString)) {
      return At(pos, std::string(TokName(t.kind)) + " needs numbers");
    }
    Expression::Node n;
    n.op = op;
    n.a = a;
    n.b = e_.root_;
    auto idx = Add(n);
    if (!idx.ok()) return idx.error();
    e_.root_ = *idx;
    return ExprType::kBool;
  }

  Result<ExprType> In(ExprType lhs, std::uint16_t a, bool negated) {
    std::size_t pos = Next().pos;  // 'in'
    if (Peek().kind != Tok::kLBracket) return At(Peek().pos, "'in' needs a list such as [\"a\", \"b\"]");
    Next();
    Expression::Node n;
    n.op = negated ? Op::kNotIn : Op::kIn;
    n.a = a;
    n.list_begin = static_cast<std::uint32_t>(e_.list_.size());
    ExprType item_type = ExprType::kAny;
    while (true) {
      auto lit = LiteralToken();
      if (!lit.ok()) return lit.error();
      ExprType t = lit->kind == Value::Kind::kNumber ? ExprType::kNumber
                   : lit->kind == Value::Kind::kString ? ExprType::kString
                                                       : ExprType::kBool;
      if (item_type != ExprType::kAny && t != item_type) return At(pos, "list items must all have one type");
      item_type = t;
      e_.list_.push_back(*lit);
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind == Tok::kRBracket) {
        Next();
        break;
      }
      return At(Peek().pos, "expected ',' or ']' in list, found " + std::string(TokName(Peek().kind)));
    }
    n.list_size = static_cast<std::uint32_t>(e_.list_.size()) - n.list_begin;
    if (!Comparable(lhs, item_type)) {
      return At(pos, "'in' compares " + std::string(TypeName(lhs)) + " with a list of " + std::string(TypeName(item_type)).substr(2) + "s");
    }
    auto idx = Add(n);
    if (!idx.ok()) return idx.error();
    e_.root_ = *idx;
    return ExprType::kBool;
  }

  Result<Expression::Literal> LiteralToken() {
    const Token& t = Peek();
    Expression::Literal lit;
    bool negative = false;
    if (t.kind == Tok::kMinus) {
      Next();
      if (Peek().kind != Tok::kNumber) return At(Peek().pos, "'-' must precede a number");
      negative = true;
    }
    const Token& v = Next();
    switch (v.kind) {
      case Tok::kNumber:
        lit.kind = Value::Kind::kNumber;
        lit.number = negative ? -v.number : v.number;
        return lit;
      case Tok::kString:
        lit.kind = Value::Kind::kString;
        lit.str = static_cast<std::uint32_t>(e_.strings_.size());
        e_.strings_.push_back(v.text);
        return lit;
      case Tok::kTrue:
      case Tok::kFalse:
        lit.kind = Value::Kind::kBool;
        lit.boolean = v.kind == Tok::kTrue;
        return lit;
      default:
        return At(v.pos, "expected a number, string, true or false, found " + std::string(TokName(v.kind)));
    }
  }

  Result<ExprType> Primary() {
    const Token& t = Peek();
    if (t.kind == Tok::kLParen) {
      Next();
      auto inner = Or();
      if (!inner.ok()) return inner;
      if (Peek().kind != Tok::kRParen) return At(Peek().pos, "expected ')', found " + std::string(TokName(Peek().kind)));
      Next();
      return inner;
    }
    if (t.kind == Tok::kIdent) {
      const Token& id = Next();
      ExprType type = ExprType::kAny;
      auto slot = resolver_.Resolve(id.text, type);
      if (!slot.ok()) return At(id.pos, slot.error().message);
      Expression::Node n;
      n.op = Op::kFact;
      n.slot = static_cast<std::int16_t>(*slot);
      auto idx = Add(n);
      if (!idx.ok()) return idx.error();
      e_.root_ = *idx;
      return type;
    }
    if (t.kind == Tok::kEnd) return At(t.pos, "the condition is incomplete");
    auto lit = LiteralToken();
    if (!lit.ok()) return lit.error();
    Expression::Node n;
    n.op = Op::kLiteral;
    n.lit = *lit;
    auto idx = Add(n);
    if (!idx.ok()) return idx.error();
    e_.root_ = *idx;
    return lit->kind == Value::Kind::kNumber ? ExprType::kNumber
           : lit->kind == Value::Kind::kString ? ExprType::kString
                                               : ExprType::kBool;
  }

  Expression& e_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  FactResolver& resolver_;
};

Result<Expression> Expression::Compile(std::string_view text, FactResolver& resolver) {
  auto toks = Lex(text);
  if (!toks.ok()) return toks.error();
  if (toks->size() == 1) return At(0, "the condition is empty");
  Expression e;
  e.text_ = std::string(text);
  ExprParser p(e, std::move(*toks), resolver);
  auto type = p.Parse();
  if (!type.ok()) return type.error();
  if (*type == ExprType::kNumber || *type == ExprType::kString) {
    return At(0, "the condition is " + std::string(TypeName(*type)) + ", not true or false");
  }
  return e;
}

Value Expression::LiteralValue(const Literal& l) const {
  switch (l.kind) {
    case Value::Kind::kNumber: return Value::Number(l.number);
    case Value::Kind::kString: return Value::String(strings_[l.str]);
    case Value::Kind::kBool: return Value::Bool(l.boolean);
    case Value::Kind::kMissing: break;
  }
  return Value::Missing();
}

namespace {
// Equality of two present values of the same kind; false otherwise.
bool Same(const Value& l, const Value& r, bool& comparable) {
  comparable = !l.is_missing() && l.kind == r.kind;
  if (!comparable) return false;
  switch (l.kind) {
    case Value::Kind::kNumber: return l.number == r.number;
    case Value::Kind::kString: return l.text == r.text;
    case Value::Kind::kBool: return l.boolean == r.boolean;
    case Value::Kind::kMissing: break;
  }
  return false;
}
}  // namespace

Value Expression::EvalValue(std::uint16_t i, const FactFrame& f) const {
  const Node& n = nodes_[i];
  if (n.op == Op::kFact) return f.values[static_cast<std::size_t>(n.slot)];
  if (n.op == Op::kLiteral) return LiteralValue(n.lit);
  return Value::Bool(EvalBool(i, f));
}

bool Expression::EvalBool(std::uint16_t i, const FactFrame& f) const {
  const Node& n = nodes_[i];
  switch (n.op) {
    case Op::kFact: return f.values[static_cast<std::size_t>(n.slot)].is_true();
    case Op::kLiteral: return n.lit.kind == Value::Kind::kBool && n.lit.boolean;
    case Op::kAnd: return EvalBool(n.a, f) && EvalBool(n.b, f);
    case Op::kOr: return EvalBool(n.a, f) || EvalBool(n.b, f);
    case Op::kNot: return !EvalBool(n.a, f);
    case Op::kEq:
    case Op::kNe: {
      bool comparable = false;
      bool eq = Same(EvalValue(n.a, f), EvalValue(n.b, f), comparable);
      return comparable && (n.op == Op::kEq ? eq : !eq);
    }
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      Value l = EvalValue(n.a, f), r = EvalValue(n.b, f);
      if (l.kind != Value::Kind::kNumber || r.kind != Value::Kind::kNumber) return false;
      switch (n.op) {
        case Op::kLt: return l.number < r.number;
        case Op::kLe: return l.number <= r.number;
        case Op::kGt: return l.number > r.number;
        default: return l.number >= r.number;
      }
    }
    case Op::kIn:
    case Op::kNotIn: {
      Value l = EvalValue(n.a, f);
      if (l.is_missing()) return false;
      bool found = false, any_comparable = false;
      for (std::uint32_t k = 0; k < n.list_size && !found; ++k) {
        bool comparable = false;
        found = Same(l, LiteralValue(list_[n.list_begin + k]), comparable);
        any_comparable = any_comparable || comparable;
      }
      if (!any_comparable) return false;
      return n.op == Op::kIn ? found : !found;
    }
  }
  return false;
}

}  // namespace vigil
