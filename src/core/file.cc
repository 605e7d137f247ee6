#include "core/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <sstream>

namespace vigil {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::Io(std::string("cannot open: ") + std::strerror(errno), path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error::Io("read failed", path);
  return ss.str();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::Io(std::string("cannot create: ") + std::strerror(errno), tmp);
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error::Io(std::string("write failed: ") + std::strerror(e), tmp);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Error::Io("fsync failed", tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error::Io(std::string("rename failed: ") + std::strerror(errno), path);
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListConfigFiles(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    auto ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".json" || ext == ".yaml" || ext == ".yml")) {
      files.push_back(e.path().string());
    }
  }
  if (ec) return Error::Io("cannot read directory: " + ec.message(), dir);
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace vigil
