// API keys: stored as SHA-256 hashes in a YAML file (never in plain text), compared in constant
// time, each with scopes and a token-bucket rate limit.
//
// A key reads "vgl_<id>_<secret>": the 8-hex-digit id names the record (and appears in logs and
// audit records); the 256-bit secret never leaves the client after `vigil keys add` prints it once.
// Scopes: decide (POST decisions, sessions), label (POST labels), read (GET decisions, monitor),
// admin (everything, plus reload and rollout). KeyRing is immutable; Authenticator is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace vigil {

enum Scope : std::uint8_t { kScopeDecide = 1, kScopeLabel = 2, kScopeRead = 4, kScopeAdmin = 8 };
// "decide", "label", "read", "admin" -> bits; error names the unknown scope.
Result<std::uint8_t> ParseScopes(const std::vector<std::string>& names);
std::string ScopeNames(std::uint8_t scopes);

struct ApiKeyRecord {
  std::string id;           // 8 hex digits
  std::string sha256;       // hex SHA-256 of the whole key
  std::uint8_t scopes = 0;
  double rate_per_second = 100.0;
  double burst = 200.0;
  std::string name;         // what the key is for, for people
  std::string created_at;   // RFC 3339
};

// The key id in an Authorization header ("Bearer vgl_<id>_..."), or "" when it has none. Says
// nothing about validity: use it only after Authenticator::Authorize accepted the header.
std::string KeyIdFromAuthorization(std::string_view authorization);

class KeyRing {
 public:
  // A missing file is an empty ring; a malformed one is an error naming file, line and field.
  static Result<std::shared_ptr<const KeyRing>> LoadFile(const std::string& path);
  const ApiKeyRecord* FindById(std::string_view id) const;
  const std::vector<ApiKeyRecord>& records() const { return records_; }

 private:
  std::vector<ApiKeyRecord> records_;
};

// Creates a key with `scopes`, appends its hash to the file (written atomically, mode 0600) and
// returns the key in plain text, which is shown once and stored nowhere.
Result<std::string> AddKey(const std::string& path, std::uint8_t scopes, double rate_per_second,
                           double burst, const std::string& name);

class Authenticator {
 public:
  enum class Outcome : std::uint8_t { kOk, kMissing, kInvalid, kForbidden, kRateLimited };
  struct Check {
    Outcome outcome = Outcome::kInvalid;
    std::string key_id;          // set once the key is known
    double retry_after_s = 0.0;  // for kRateLimited
  };

  explicit Authenticator(std::shared_ptr<const KeyRing> ring);
  // Checks an Authorization header value ("Bearer vgl_..."), the scope the call needs and the
  // key's rate limit at `now_ms`.
  Check Authorize(std::string_view authorization, std::uint8_t needed_scope, std::int64_t now_ms) const;
  // Swaps in a new ring (after `vigil keys add` and SIGHUP); buckets of kept keys carry over.
  void Reload(std::shared_ptr<const KeyRing> ring);
  std::size_t key_count() const;

 private:
  struct Bucket {
    std::mutex mu;
    double tokens = 0;
    std::int64_t last_ms = 0;
  };
  struct State {
    std::shared_ptr<const KeyRing> ring;
    std::vector<std::unique_ptr<Bucket>> buckets;  // parallel to ring->records()
  };
  std::shared_ptr<State> Build(std::shared_ptr<const KeyRing> ring, const State* previous) const;
  std::atomic<std::shared_ptr<State>> state_;
};

}  // namespace vigil
