#include "core/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace vigil {

namespace {

// Whether any of the eight bytes in `w` needs escaping: a control character (< 0x20), '"' or
// '\\'. Bit tricks over a 64-bit word ("determine if a word has a zero byte", Hacker's Delight
// 6-1); exact as an any-of answer, which is all the caller uses.
inline bool NeedsEscape8(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  auto zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const std::uint64_t control = (w - kOnes * 0x20) & ~w & kHigh;  // a byte below 0x20
  return (control | zero_byte(w ^ (kOnes * '"')) | zero_byte(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Copy runs of characters that need no escaping in one append; most strings are one run,
  // checked eight bytes at a time.
  std::size_t run = 0;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    if (i + 8 <= n) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!NeedsEscape8(w)) {
        i += 8;
        continue;
      }
    }
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    run = ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(s.data() + run, n - run);
}

void JsonWriter::Separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    std::uint64_t bit = 1ULL << (depth_ - 1);
    if (has_value_ & bit) out_ += ',';
    has_value_ |= bit;
  }
}

JsonWriter& JsonWriter::BeginObject() {
  Separate();
  out_ += '{';
  ++depth_;
  has_value_ &= ~(1ULL << (depth_ - 1));
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  out_ += '}';
  --depth_;
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Separate();
  out_ += '[';
  ++depth_;
  has_value_ &= ~(1ULL << (depth_ - 1));
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  out_ += ']';
  --depth_;
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view k) {
  Separate();
  out_ += '"';
  AppendJsonEscaped(out_, k);
  out_ += "\":";
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  Separate();
  out_ += '"';
  AppendJsonEscaped(out_, s);
  out_ += '"';
  return *this;
}

JsonWriter& JsonWriter::Number(double d) {
  Separate();
  if (!std::isfinite(d)) {
    out_ += "null";
    return *this;
  }
  if (d == 0) d = 0;  // no "-0"
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out_.append(buf, p);
  return *this;
}

JsonWriter& JsonWriter::Int(std::int64_t i) {
  Separate();
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out_.append(buf, p);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool b) {
  Separate();
  out_ += b ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  Separate();
  out_ += "null";
  return *this;
}

JsonWriter& JsonWriter::RawMembers(std::string_view members) {
  if (members.empty()) return *this;
  Separate();
  out_ += members;
  return *this;
}

JsonWriter& JsonWriter::Raw(std::string_view json) {
  Separate();
  out_ += json;
  return *this;
}

}  // namespace vigil
