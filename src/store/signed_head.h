// The audit log's signed head (DIR/audit.head): the last durable record's seq and hash with an
// HMAC under the server secret, so that `vigil audit verify` can tell a log cut short at its tail
// (which a hash chain alone cannot show) from one that was never longer.
#pragma once

#include <optional>
#include <string>

#include "audit/audit.h"
#include "core/result.h"

namespace vigil {

class SignedHeadFile {
 public:
  SignedHeadFile() = default;
  ~SignedHeadFile();
  SignedHeadFile(const SignedHeadFile&) = delete;
  SignedHeadFile& operator=(const SignedHeadFile&) = delete;

  Status Open(const std::string& path, std::string secret);
  // The head as last written, or nothing if absent or its MAC does not match.
  std::optional<ChainHead> Read() const;
  // One small positioned write, no fsync: a head that lags the log is harmless (verify only flags
  // a head ahead of it), and it is only moved after the records it names are durable.
  void Write(const ChainHead& h);

 private:
  std::string Mac(const ChainHead& h) const;
  int fd_ = -1;
  std::string secret_;
};

}  // namespace vigil
