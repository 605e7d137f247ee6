#include "store/signed_head.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/crypto.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/yaml_reader.h"

namespace vigil {
namespace {
constexpr std::size_t kHeadSize = 256;  // fixed size: every write replaces the whole head
}  // namespace

SignedHeadFile::~SignedHeadFile() {
  if (fd_ >= 0) ::close(fd_);
}

Status SignedHeadFile::Open(const std::string& path, std::string secret) {
  secret_ = std::move(secret);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Error::Io(std::string("cannot open head: ") + std::strerror(errno), path);
  return Status::Ok();
}

std::string SignedHeadFile::Mac(const ChainHead& h) const {
  return Hex(HmacSha256(secret_, std::to_string(h.seq) + "\n" + h.hash));
}

std::optional<ChainHead> SignedHeadFile::Read() const {
  char buf[kHeadSize + 1] = {0};
  ssize_t n = ::pread(fd_, buf, kHeadSize, 0);
  if (n <= 0) return std::nullopt;
  YamlReader r(std::string_view(buf, static_cast<std::size_t>(n)), "audit.head");
  if (!r.ok() || !r.root().IsMap()) return std::nullopt;
  auto seq = r.Number(r.root(), "seq", "", true);
  auto hash = r.String(r.root(), "hash", "", true);
  auto mac = r.String(r.root(), "mac", "", true);
  if (!seq || !hash || !mac) return std::nullopt;
  ChainHead h{static_cast<std::int64_t>(*seq), *hash};
  if (!ConstantTimeEqual(*mac, Mac(h))) return std::nullopt;
  return h;
}

void SignedHeadFile::Write(const ChainHead& h) {
  std::string text;
  JsonWriter w(text);
  w.BeginObject().Field("seq", h.seq).Field("hash", h.hash).Field("mac", Mac(h)).EndObject();
  text.resize(kHeadSize, ' ');
  text.back() = '\n';
  if (::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    Log(LogLevel::kWarn, "audit_head_write_failed").Str("error", std::strerror(errno));
  }
}

}  // namespace vigil
