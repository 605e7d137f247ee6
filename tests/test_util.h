// Helpers shared by vigil's tests: paths into the source tree, running a command and capturing
// its output, reading small CSV files.
#pragma once

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef VIGIL_SOURCE_DIR
#define VIGIL_SOURCE_DIR "."
#endif
#ifndef VIGIL_BINARY_DIR
#define VIGIL_BINARY_DIR "."
#endif

namespace vigil::testing {

inline std::string SourcePath(const std::string& rel) { return std::string(VIGIL_SOURCE_DIR) + "/" + rel; }
inline std::string BinaryPath(const std::string& rel) { return std::string(VIGIL_BINARY_DIR) + "/" + rel; }
inline std::string VigilBinary() { return BinaryPath("src/vigil"); }

// Runs `cmd` through the shell; returns its exit status and standard output.
inline std::pair<int, std::string> Run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Reads a CSV with a header row into columns of doubles.
inline std::vector<std::vector<double>> ReadCsvColumns(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> cols;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::size_t c = 0;
    while (std::getline(ss, cell, ',')) {
      if (cols.size() <= c) cols.emplace_back();
      cols[c++].push_back(std::stod(cell));
    }
  }
  return cols;
}

// A GoogleTest parameter name from free text: letters and digits kept, the rest as '_'.
inline std::string Sanitize(std::string s) {
  for (char& c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return s;
}
// Names table-driven test cases by their `name` field.
template <typename Row>
std::string ParamName(const Row& row) {
  return Sanitize(row.name);
}

// The interpreter with Debian's python3 packages (scipy, sklearn); see DEPENDENCIES.md.
inline std::string Python() { return "/usr/bin/python3"; }

}  // namespace vigil::testing
