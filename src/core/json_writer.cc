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

// Whether any byte of `s` needs escaping, eight bytes at a time; a tail shorter than eight is
// checked as one word padded with 'a', which never needs escaping.
inline bool NeedsEscaping(std::string_view s) {
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    if (NeedsEscape8(w)) return true;
  }
  if (n == 0) return false;
  std::uint64_t w = 0x6161616161616161ULL;
  std::memcpy(&w, p, n);
  return NeedsEscape8(w);
}

void AppendEscapedSlow(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Copy runs of characters that need no escaping in one append.
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

// Appends a quote, `s` escaped, then `close`: nearly every string needs no escaping, and is then
// copied with the quote and `close` around it in one resize.
inline void AppendQuoted(std::string& out, std::string_view s, std::string_view close) {
  if (NeedsEscaping(s)) {
    out += '"';
    AppendEscapedSlow(out, s);
    out.append(close);
    return;
  }
  const std::size_t at = out.size();
  out.resize(at + 1 + s.size() + close.size());
  char* p = out.data() + at;
  *p++ = '"';
  std::memcpy(p, s.data(), s.size());
  std::memcpy(p + s.size(), close.data(), close.size());
}

// The text std::to_chars gives for a double that holds an integer below 1e15 in magnitude, made
// from the integer's digits, without the shortest round-trip search: to_chars writes
// whichever of the fixed ("4700") and scientific ("4.7e+03") forms is shorter, fixed on a tie, so
// the integer's digits are used only when they are not longer than its scientific form. Returns
// false to leave the number to to_chars.
inline bool IntegralText(double d, char* buf, char*& end) {
  if (!(d > -1e15 && d < 1e15) || d != static_cast<double>(static_cast<std::int64_t>(d))) return false;
  const std::int64_t v = static_cast<std::int64_t>(d);
  end = std::to_chars(buf, buf + 24, v).ptr;
  const char* digits = buf + (v < 0 ? 1 : 0);
  const std::ptrdiff_t len = end - digits;
  std::ptrdiff_t zeros = 0;
  while (zeros < len - 1 && digits[len - 1 - zeros] == '0') ++zeros;
  const std::ptrdiff_t significant = len - zeros;
  const std::ptrdiff_t scientific = significant + (significant > 1 ? 1 : 0) + 4;  // "d.ddde+XX"
  return len <= scientific;
}

}  // namespace

void AppendJsonEscaped(std::string& out, std::string_view s) {
  if (NeedsEscaping(s)) {
    AppendEscapedSlow(out, s);
  } else {
    out.append(s);
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
  AppendQuoted(out_, k, "\":");
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view s) {
  Separate();
  AppendQuoted(out_, s, "\"");
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
  char* end = nullptr;
  if (!IntegralText(d, buf, end)) end = std::to_chars(buf, buf + sizeof buf, d).ptr;
  out_.append(buf, end);
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
