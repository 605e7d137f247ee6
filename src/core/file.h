// Whole-file reads and atomic writes. Thread-safe (no shared state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil {

// The contents of the file at `path`.
Result<std::string> ReadFile(const std::string& path);
// Writes `data` to a temporary file beside `path`, syncs it and renames it over `path`, so a
// reader sees either the old or the new contents, never a torn file.
Status WriteFileAtomic(const std::string& path, std::string_view data);

// The *.json, *.yaml and *.yml files of a directory, sorted by name.
Result<std::vector<std::string>> ListConfigFiles(const std::string& dir);

}  // namespace vigil
