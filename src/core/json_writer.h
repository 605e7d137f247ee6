// A small streaming JSON writer for responses, audit records and events. Keys are written in the
// order the caller gives, so a fixed call sequence yields a canonical form; numbers use the
// shortest text that round-trips (std::to_chars), and NaN or infinity are written as null.
// Not thread-safe; one writer per output string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view k);
  JsonWriter& String(std::string_view s);
  JsonWriter& Number(double d);
  JsonWriter& Int(std::int64_t i);
  JsonWriter& Bool(bool b);
  JsonWriter& Null();
  // Inserts already-serialised JSON (an object from a finding's evidence, say) as one value.
  JsonWriter& Raw(std::string_view json);
  // Inserts already-serialised members ("a":1,"b":"x", written once and reused) into the open
  // object, as if each had been written with Field; nothing when `members` is empty.
  JsonWriter& RawMembers(std::string_view members);

  // Shorthands for a key and its value.
  JsonWriter& Field(std::string_view k, std::string_view v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, const char* v) { return Key(k).String(v); }
  JsonWriter& Field(std::string_view k, double v) { return Key(k).Number(v); }
  JsonWriter& Field(std::string_view k, int v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, std::int64_t v) { return Key(k).Int(v); }
  JsonWriter& Field(std::string_view k, bool v) { return Key(k).Bool(v); }

  std::string& out() { return out_; }

 private:
  void Separate();
  std::string& out_;
  // One bit per nesting level: whether the current container already holds a value.
  std::uint64_t has_value_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

// Appends `s` to `out` as a JSON string body (no quotes), escaping as RFC 8259 requires.
void AppendJsonEscaped(std::string& out, std::string_view s);

}  // namespace vigil
