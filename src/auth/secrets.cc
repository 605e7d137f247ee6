#include "auth/secrets.h"

#include <cstdlib>
#include <filesystem>

#include "core/crypto.h"
#include "core/file.h"

namespace vigil {

Result<std::string> LoadOrCreateServerSecret(const std::string& data_dir) {
  if (const char* env = std::getenv("VIGIL_SECRET"); env && *env) {
    std::string s(env);
    if (s.size() < 32) return Error::Invalid("VIGIL_SECRET must be at least 32 characters");
    return s;
  }
  std::string path = data_dir + "/secret";
  if (std::filesystem::exists(path)) {
    auto text = ReadFile(path);
    if (!text.ok()) return text.error();
    std::string s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.size() < 32) return Error::Invalid("server secret is shorter than 32 characters", path);
    return s;
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Error::Io("cannot create data directory: " + ec.message(), data_dir);
  std::string s = RandomHex(32);
  if (Status st = WriteFileAtomic(path, s + "\n"); !st.ok()) return st.error();
  return s;
}

}  // namespace vigil
