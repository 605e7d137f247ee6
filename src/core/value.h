// Typed attribute values: what a request carries in its context, security and quality blocks,
// and what the policy's expression language compares.
// Thread-safety: plain values; an AttributeMap is safe for concurrent reads.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// A non-owning view of a value. Strings point into the owner (an Attribute or a policy literal).
struct Value {
  enum class Kind : std::uint8_t { kMissing, kBool, kNumber, kString };
  Kind kind = Kind::kMissing;
  bool boolean = false;
  double number = 0.0;
  std::string_view text;

  static Value Missing() { return {}; }
  static Value Bool(bool b) { return {Kind::kBool, b, 0.0, {}}; }
  static Value Number(double d) { return {Kind::kNumber, false, d, {}}; }
  static Value String(std::string_view s) { return {Kind::kString, false, 0.0, s}; }

  bool is_missing() const { return kind == Kind::kMissing; }
  bool is_true() const { return kind == Kind::kBool && boolean; }
};

// An owning named value.
struct Attribute {
  std::string name;
  Value::Kind kind = Value::Kind::kMissing;
  bool boolean = false;
  double number = 0.0;
  std::string text;

  Value view() const { return {kind, boolean, number, text}; }
};

// A small ordered set of attributes with lookup by name. Linear search: these maps hold a dozen
// entries, where a scan over contiguous memory beats hashing.
class AttributeMap {
 public:
  void SetBool(std::string_view name, bool b) {
    Attribute& a = Slot(name);
    a.kind = Value::Kind::kBool;
    a.boolean = b;
  }
  void SetNumber(std::string_view name, double d) {
    Attribute& a = Slot(name);
    a.kind = Value::Kind::kNumber;
    a.number = d;
  }
  void SetString(std::string_view name, std::string s) {
    Attribute& a = Slot(name);
    a.kind = Value::Kind::kString;
    a.text = std::move(s);
  }

  // The value named `name`, or a missing value.
  Value Get(std::string_view name) const {
    for (const auto& a : items_) {
      if (a.name == name) return a.view();
    }
    return Value::Missing();
  }
  // The string named `name`, or "" when absent or not a string.
  std::string_view GetString(std::string_view name) const {
    Value v = Get(name);
    return v.kind == Value::Kind::kString ? v.text : std::string_view{};
  }
  // The number named `name`, or NaN when absent or not a number.
  double GetNumber(std::string_view name) const {
    Value v = Get(name);
    return v.kind == Value::Kind::kNumber ? v.number : std::nan("");
  }
  bool GetBool(std::string_view name, bool fallback = false) const {
    Value v = Get(name);
    return v.kind == Value::Kind::kBool ? v.boolean : fallback;
  }

  void Reserve(std::size_t n) { items_.reserve(n); }
  const std::vector<Attribute>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }

 private:
  // The attribute named `name`, created empty when absent; its old value is cleared.
  Attribute& Slot(std::string_view name) {
    for (auto& a : items_) {
      if (a.name == name) {
        std::string kept = std::move(a.name);
        a = Attribute{};
        a.name = std::move(kept);
        return a;
      }
    }
    items_.emplace_back();
    items_.back().name = std::string(name);
    return items_.back();
  }
  std::vector<Attribute> items_;
};

}  // namespace vigil
