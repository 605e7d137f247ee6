// Decision request parsing with simdjson's DOM API. Every field is type- and range-checked.
#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "api/codec.h"

namespace vigil {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

Problem Fail(ProblemType t, std::string detail, std::string field = {}) {
  return Problem{t, std::move(detail), std::move(field)};
}

bool ValidId(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool ValidName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string_view TypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "?";
}

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

Problem WrongType(std::string field, std::string_view expected, element_type got) {
  return Fail(ProblemType::kWrongType,
              "expected " + std::string(expected) + ", got " + std::string(TypeName(got)), std::move(field));
}

double AsDouble(element e) {
  double d = 0;
  if (e.get_double().get(d) == simdjson::SUCCESS) return d;
  return std::nan("");
}

// Context fields with a known meaning are range-checked.
template <typename FieldName>
std::optional<Problem> CheckContextNumber(std::string_view key, double v, const FieldName& field) {
  if (!std::isfinite(v)) return Fail(ProblemType::kInvalidNumber, "not a finite number", field());
  if ((key == "amount" || key == "account_age_days" || key == "tenure_days") && v < 0) {
    return Fail(ProblemType::kInvalidValue, "must not be negative", field());
  }
  if (key == "amount" && v > 1e12) return Fail(ProblemType::kInvalidValue, "implausibly large", field());
  return std::nullopt;
}

std::optional<Problem> ParseContext(object obj, const RequestLimits& lim, AttributeMap& out) {
  out.Reserve(std::min<std::size_t>(obj.size() + 1, lim.max_context_fields + 1));  // +1: geo is two
  std::size_t n = 0;
  for (auto [key, value] : obj) {
    // The field's path, for error messages only (built on failure, not for every field).
    // An init-capture of the view: clang before 16 cannot capture a structured binding.
    auto field = [k = std::string_view(key)] { return "context." + std::string(k); };
    if (++n > lim.max_context_fields) {
      return Fail(ProblemType::kInvalidValue, "more than " + std::to_string(lim.max_context_fields) + " fields", "context");
    }
    if (!ValidName(key)) {
      return Fail(ProblemType::kInvalidValue, "field names are lower_snake_case, at most 64 characters", field());
    }
    element_type t = value.type();
    if (key == "geo") {
      if (t != element_type::OBJECT) return WrongType(field(), "an object with lat and lon", t);
      element lat, lon;
      object g = value.get_object().value_unsafe();
      if (g.at_key("lat").get(lat) || g.at_key("lon").get(lon)) {
        return Fail(ProblemType::kMissingField, "geo needs lat and lon", field());
      }
      if (!IsNumber(lat.type()) || !IsNumber(lon.type())) return WrongType(field(), "numbers for lat and lon", lat.type());
      double la = AsDouble(lat), lo = AsDouble(lon);
      if (!(la >= -90 && la <= 90)) return Fail(ProblemType::kInvalidValue, "latitude must be in [-90, 90]", field() + ".lat");
      if (!(lo >= -180 && lo <= 180)) return Fail(ProblemType::kInvalidValue, "longitude must be in [-180, 180]", field() + ".lon");
      if (g.size() != 2) return Fail(ProblemType::kUnknownField, "geo takes only lat and lon", field());
      out.SetNumber("geo.lat", la);
      out.SetNumber("geo.lon", lo);
      continue;
    }
    switch (t) {
      case element_type::STRING: {
        std::string_view s = value.get_string().value_unsafe();
        if (s.size() > lim.max_string_bytes) {
          return Fail(ProblemType::kInvalidValue, "longer than " + std::to_string(lim.max_string_bytes) + " bytes", field());
        }
        out.SetString(key, std::string(s));
        break;
      }
      case element_type::BOOL: out.SetBool(key, value.get_bool().value_unsafe()); break;
      case element_type::INT64:
      case element_type::UINT64:
      case element_type::DOUBLE: {
        double d = AsDouble(value);
        if (auto p = CheckContextNumber(key, d, field)) return p;
        out.SetNumber(key, d);
        break;
      }
      default: return WrongType(field(), "a string, number or boolean", t);
    }
  }
  return std::nullopt;
}

}  // namespace

Result<ParsedDecisionRequest, Problem> ParseDecisionRequest(std::string_view body,
                                                            const RequestLimits& lim) {
  thread_local simdjson::dom::parser parser;
  element doc;
  auto err = parser.parse(body.data(), body.size(), true).get(doc);
  if (err) {
    if (err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE) {
      return Fail(ProblemType::kInvalidNumber, "a number is out of range (NaN and infinity are not JSON)");
    }
    return Fail(ProblemType::kMalformedJson, simdjson::error_message(err));
  }
  if (doc.type() != element_type::OBJECT) return WrongType("", "a JSON object", doc.type());
  object root = doc.get_object().value_unsafe();

  ParsedDecisionRequest out;
  DecisionRequest& r = out.request;
  bool have_id = false, have_flow = false;
  for (auto [key, value] : root) {
    std::string field(key);
    element_type t = value.type();
    if (key == "request_id") {
      if (t != element_type::STRING) return WrongType(field, "a string", t);
      std::string_view s = value.get_string().value_unsafe();
      if (!ValidId(s, 128)) {
        return Fail(ProblemType::kInvalidValue, "1 to 128 characters from A-Z a-z 0-9 _ - . :", field);
      }
      r.request_id = std::string(s);
      have_id = true;
    } else if (key == "flow_type") {
      if (t != element_type::STRING) return WrongType(field, "a string", t);
      std::string_view s = value.get_string().value_unsafe();
      if (!ValidName(s)) return Fail(ProblemType::kInvalidValue, "lower_snake_case, at most 64 characters", field);
      r.flow_type = std::string(s);
      have_flow = true;
    } else if (key == "session_token") {
      if (t != element_type::STRING) return WrongType(field, "a string", t);
      std::string_view s = value.get_string().value_unsafe();
      if (s.size() > 1024) return Fail(ProblemType::kInvalidValue, "longer than 1024 bytes", field);
      out.session_token = std::string(s);
    } else if (key == "timestamp_ms") {
      if (!IsNumber(t)) return WrongType(field, "a number", t);
      double d = AsDouble(value);
      if (!std::isfinite(d) || d < 0 || d > 4.1e12) {
        return Fail(ProblemType::kInvalidValue, "milliseconds since 1970, before the year 2100", field);
      }
      r.time_ms = d;
      out.has_timestamp = true;
    } else if (key == "context") {
      if (t != element_type::OBJECT) return WrongType(field, "an object", t);
      if (auto p = ParseContext(value.get_object().value_unsafe(), lim, r.context)) return *p;
    } else if (key == "signals") {
      if (t != element_type::OBJECT) return WrongType(field, "an object of numbers", t);
      object sig_obj = value.get_object().value_unsafe();
      for (auto [name, v] : sig_obj) {
        auto f = [k = std::string_view(name)] { return "signals." + std::string(k); };
        if (r.signals.size() >= lim.max_signals) {
          return Fail(ProblemType::kInvalidValue, "more than " + std::to_string(lim.max_signals) + " signals", "signals");
        }
        if (!ValidName(name)) return Fail(ProblemType::kInvalidValue, "signal names are lower_snake_case", f());
        if (!IsNumber(v.type())) return WrongType(f(), "a number", v.type());
        double d = AsDouble(v);
        if (!std::isfinite(d)) return Fail(ProblemType::kInvalidNumber, "not a finite number", f());
        for (const auto& s : r.signals) {
          if (s.name == name) return Fail(ProblemType::kInvalidValue, "signal given twice", f());
        }
        r.signals.push_back({std::string(name), d});
      }
    } else if (key == "security") {
      if (t != element_type::OBJECT) return WrongType(field, "an object of booleans", t);
      object sec_obj = value.get_object().value_unsafe();
      for (auto [name, v] : sec_obj) {
        auto f = [k = std::string_view(name)] { return "security." + std::string(k); };
        if (r.security.size() >= lim.max_security_flags) {
          return Fail(ProblemType::kInvalidValue, "too many security flags", "security");
        }
        if (!ValidName(name)) return Fail(ProblemType::kInvalidValue, "flag names are lower_snake_case", f());
        if (v.type() != element_type::BOOL) return WrongType(f(), "a boolean", v.type());
        r.security.SetBool(name, v.get_bool().value_unsafe());
      }
    } else if (key == "media") {
      // Liveness frames and capture metadata: the liveness module parses, bounds and decodes
      // them (src/media); here only the shape is checked.
      if (t != element_type::OBJECT) return WrongType(field, "an object", t);
    } else {
      return Fail(ProblemType::kUnknownField, "unknown field '" + field + "'", field);
    }
  }
  if (!have_id) return Fail(ProblemType::kMissingField, "request_id is required", "request_id");
  if (!have_flow) return Fail(ProblemType::kMissingField, "flow_type is required", "flow_type");
  return out;
}

Problem ProblemFromEngineError(const Error& e) {
  if (e.kind == Error::Kind::kNotFound) return Problem{ProblemType::kUnknownFlow, e.message, e.where};
  if (e.kind == Error::Kind::kInvalidArgument) return Problem{ProblemType::kUnknownSignal, e.message, e.where};
  return Problem{ProblemType::kInternal, "decision failed", ""};
}

}  // namespace vigil
