// Setting the context fields of a SimEvent (replacing a field of the same name). Internal to
// the simulator.
#pragma once

#include <string>
#include <string_view>

#include "simulate/traffic.h"

namespace vigil::sim {

inline ContextField& Field(SimEvent& e, std::string_view key) {
  for (auto& f : e.context) {
    if (f.key == key) return f;
  }
  e.context.push_back(ContextField{});
  e.context.back().key = std::string(key);
  return e.context.back();
}
inline void SetString(SimEvent& e, std::string_view key, std::string_view v) {
  auto& f = Field(e, key);
  f.type = ContextField::Type::kString;
  f.str = std::string(v);
}
inline void SetNumber(SimEvent& e, std::string_view key, double v) {
  auto& f = Field(e, key);
  f.type = ContextField::Type::kNumber;
  f.num = v;
}
inline void SetBool(SimEvent& e, std::string_view key, bool v) {
  auto& f = Field(e, key);
  f.type = ContextField::Type::kBool;
  f.num = v ? 1.0 : 0.0;
}
inline void SetGeo(SimEvent& e, double lat, double lon) {
  auto& f = Field(e, "geo");
  f.type = ContextField::Type::kGeo;
  f.num = lat;
  f.lon = lon;
}
inline void RemoveField(SimEvent& e, std::string_view key) {
  std::erase_if(e.context, [&](const ContextField& f) { return f.key == key; });
}
// Rounds to `digits` decimals so that bodies stay short and readable.
inline double Round(double v, int digits) {
  double m = 1.0;
  for (int i = 0; i < digits; ++i) m *= 10.0;
  return static_cast<double>(static_cast<long long>(v * m + (v >= 0 ? 0.5 : -0.5))) / m;
}

}  // namespace vigil::sim
