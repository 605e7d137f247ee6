// A strict reader for the Prometheus text format 0.0.4, for tests: parses an exposition back into
// samples and checks the structure (HELP/TYPE before samples, escapes, histogram suffixes).
#pragma once

#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::testing {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct Exposition {
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram
  std::map<std::string, std::string> help;   // family -> unescaped help
  std::string error;                         // first problem found, "" when none

  // Sum of the samples named `name` whose labels include all of `match`.
  double Sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const {
    double s = 0;
    for (const auto& x : samples) {
      if (x.name != name) continue;
      bool ok = true;
      for (const auto& [k, v] : match) {
        auto it = x.labels.find(k);
        ok = ok && it != x.labels.end() && it->second == v;
      }
      if (ok) s += x.value;
    }
    return s;
  }
  std::size_t Count(const std::string& name) const {
    std::size_t n = 0;
    for (const auto& x : samples) n += x.name == name;
    return n;
  }
};

inline bool UnescapeInto(std::string_view in, bool quotes, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\') {
      out.push_back(in[i]);
      continue;
    }
    if (++i >= in.size()) return false;
    if (in[i] == 'n') out.push_back('\n');
    else if (in[i] == '\\') out.push_back('\\');
    else if (quotes && in[i] == '"') out.push_back('"');
    else return false;
  }
  return true;
}

inline Exposition ParseExposition(std::string_view text) {
  Exposition e;
  std::string family;
  auto fail = [&](std::string msg, std::string_view line) {
    if (e.error.empty()) e.error = msg + ": " + std::string(line);
  };
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      fail("last line without newline", text.substr(pos));
      break;
    }
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      std::string_view rest = line.substr(7);
      auto sp = rest.find(' ');
      family = std::string(rest.substr(0, sp));
      std::string h;
      if (sp != std::string_view::npos && !UnescapeInto(rest.substr(sp + 1), false, h)) fail("bad HELP escape", line);
      e.help[family] = h;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string_view rest = line.substr(7);
      auto sp = rest.find(' ');
      if (sp == std::string_view::npos) {
        fail("TYPE without type", line);
        continue;
      }
      std::string name(rest.substr(0, sp));
      if (name != family) fail("TYPE does not follow its HELP", line);
      e.types[name] = std::string(rest.substr(sp + 1));
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          fail("bad label", line);
          break;
        }
        std::string key(line.substr(i, eq - i));
        std::size_t j = eq + 2;
        while (j < line.size() && line[j] != '"') j += line[j] == '\\' ? 2 : 1;
        if (j >= line.size()) {
          fail("unterminated label value", line);
          break;
        }
        std::string value;
        if (!UnescapeInto(line.substr(eq + 2, j - eq - 2), true, value)) fail("bad label escape", line);
        if (s.labels.count(key)) fail("label twice", line);
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      fail("no value", line);
      continue;
    }
    std::string v(line.substr(i + 1));
    if (v == "+Inf") s.value = 1e308 * 10;
    else if (v == "-Inf") s.value = -1e308 * 10;
    else {
      char* end = nullptr;
      s.value = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0') fail("bad value", line);
    }
    // The sample must belong to the family whose TYPE came last.
    const std::string& type = e.types.count(family) ? e.types[family] : std::string();
    bool belongs = s.name == family;
    if (type == "histogram") {
      belongs = s.name == family + "_bucket" || s.name == family + "_sum" || s.name == family + "_count";
      if (s.name == family + "_bucket" && !s.labels.count("le")) fail("bucket without le", line);
    }
    if (!belongs) fail("sample outside its family", line);
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace vigil::testing
