// Liveness sessions: POST /v1/sessions opens one with a challenge (a random nonce and head-turn
// steps) and a signed token; each liveness attempt presents the token, whose nonce is single-use.
//
// Token: base64url("v1|<session>|<key id>|<nonce>|<attempt>|<expires ms>") "." base64url(HMAC-SHA256)
// with the server secret. It is bound to its session and to the API key that opened it, and it
// expires with the session. Checking a token gives one of: valid (and its nonce is consumed),
// TOKEN_INVALID (forged, tampered or unknown session), TOKEN_WRONG_KEY, TOKEN_EXPIRED,
// TOKEN_REPLAYED (the nonce was used). A retry gets the next attempt's token with a fresh nonce.
// SessionService is thread-safe; the store behind it is an interface (in memory now, Redis for
// several replicas).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "reasons/reason_code.h"

namespace vigil {

// A session as stored: fixed-size, well under 512 bytes (bench/session_bench.cc measures it).
struct SessionRecord {
  std::array<std::uint8_t, 16> id{};
  std::array<char, 8> key_id{};
  std::array<char, 32> flow_type{};       // NUL-padded
  std::array<std::uint8_t, 16> nonce{};   // the current attempt's nonce
  std::array<std::uint8_t, 4> steps{};    // challenge steps (ChallengeStep), count in n_steps
  std::uint8_t n_steps = 0;
  std::uint8_t attempt = 1;               // the attempt the current nonce belongs to
  bool nonce_used = false;
  bool decided = false;                   // a final outcome was given
  std::int64_t created_ms = 0;
  std::int64_t expires_ms = 0;
};

enum class ChallengeStep : std::uint8_t { kTurnLeft, kTurnRight, kLookUp, kLookDown };
std::string_view ChallengeStepName(ChallengeStep s);

// Where sessions live. Implementations must make Consume atomic per session.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual Status Put(const SessionRecord& s) = 0;
  virtual std::optional<SessionRecord> Get(const std::array<std::uint8_t, 16>& id) = 0;
  enum class ConsumeResult : std::uint8_t { kOk, kUnknown, kReplayed, kDecided };
  // If the session exists, is open, and `nonce`/`attempt` are its current unused ones, marks the
  // nonce used and returns kOk with the record (as it was before) in `out`.
  virtual ConsumeResult Consume(const std::array<std::uint8_t, 16>& id, const std::array<std::uint8_t, 16>& nonce,
                                std::uint8_t attempt, SessionRecord* out) = 0;
  // Starts the next attempt with a new nonce (after a retry).
  virtual Status NextAttempt(const std::array<std::uint8_t, 16>& id, const std::array<std::uint8_t, 16>& nonce,
                             std::uint8_t attempt) = 0;
  virtual void MarkDecided(const std::array<std::uint8_t, 16>& id) = 0;
  // Removes sessions expired at `now_ms`; calls `abandoned` with the flow type of each that
  // expired without a final outcome. Returns how many were removed.
  virtual std::size_t Sweep(std::int64_t now_ms, const std::function<void(std::string_view flow_type)>& abandoned) = 0;
  virtual std::size_t size() const = 0;
};

// The in-memory store: sharded hash maps with one mutex per shard, capped at `max_sessions`
// (Put fails beyond it, so memory stays bounded).
std::unique_ptr<SessionStore> NewMemorySessionStore(std::size_t max_sessions = 1'000'000);

struct NewSession {
  std::string session_id;  // base64url
  std::string token;
  std::int64_t expires_ms = 0;
  std::string nonce;       // base64url, also the challenge nonce
  std::vector<std::string> steps;
};

struct TokenCheck {
  bool valid = false;
  ReasonCode reason{};     // when not valid
  std::string session_id;  // when the token parsed
  int attempt = 1;
  std::string flow_type;
  std::vector<std::string> steps;
  std::array<std::uint8_t, 16> id{};
};

class SessionService {
 public:
  SessionService(std::shared_ptr<SessionStore> store, std::string secret);

  // Opens a session for `flow_type`, bound to `key_id`, expiring `ttl_seconds` from `now_ms`.
  Result<NewSession> Open(const std::string& flow_type, const std::string& key_id, int ttl_seconds,
                          std::int64_t now_ms);
  // Checks a token presented by `key_id` for `flow_type` and, when valid, consumes its nonce.
  TokenCheck CheckAndConsume(std::string_view token, std::string_view key_id, std::string_view flow_type,
                             std::int64_t now_ms);
  // The token for the next attempt after a retry ("" when the session is gone or expired).
  std::string NextToken(const TokenCheck& check, std::string_view key_id, std::int64_t now_ms);
  void Finish(const TokenCheck& check);
  std::size_t Sweep(std::int64_t now_ms, const std::function<void(std::string_view flow_type)>& abandoned) {
    return store_->Sweep(now_ms, abandoned);
  }
  SessionStore& store() { return *store_; }

 private:
  std::string Sign(const std::array<std::uint8_t, 16>& id, std::string_view key_id,
                   const std::array<std::uint8_t, 16>& nonce, int attempt, std::int64_t expires_ms) const;
  std::shared_ptr<SessionStore> store_;
  std::string secret_;
};

}  // namespace vigil
