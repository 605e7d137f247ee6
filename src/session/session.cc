#include "session/session.h"

#include <charconv>
#include <cstring>

#include "core/crypto.h"

namespace vigil {
namespace {

std::string B64(const std::uint8_t* p, std::size_t n) { return Base64UrlEncode(p, n); }

bool Decode16(std::string_view s, std::array<std::uint8_t, 16>& out) {
  std::string raw;
  if (!Base64UrlDecode(s, raw) || raw.size() != 16) return false;
  std::memcpy(out.data(), raw.data(), 16);
  return true;
}

template <std::size_t N>
std::string_view Chars(const std::array<char, N>& a) {
  std::size_t n = 0;
  while (n < N && a[n] != '\0') ++n;
  return {a.data(), n};
}

constexpr ChallengeStep kStepChoices[] = {ChallengeStep::kTurnLeft, ChallengeStep::kTurnRight};

}  // namespace

std::string_view ChallengeStepName(ChallengeStep s) {
  switch (s) {
    case ChallengeStep::kTurnLeft: return "turn_left";
    case ChallengeStep::kTurnRight: return "turn_right";
    case ChallengeStep::kLookUp: return "look_up";
    case ChallengeStep::kLookDown: return "look_down";
  }
  return "turn_left";
}

SessionService::SessionService(std::shared_ptr<SessionStore> store, std::string secret)
    : store_(std::move(store)), secret_(std::move(secret)) {}

std::string SessionService::Sign(const std::array<std::uint8_t, 16>& id, std::string_view key_id,
                                 const std::array<std::uint8_t, 16>& nonce, int attempt,
                                 std::int64_t expires_ms) const {
  std::string payload = "v1|" + B64(id.data(), id.size()) + "|" + std::string(key_id) + "|" +
                        B64(nonce.data(), nonce.size()) + "|" + std::to_string(attempt) + "|" +
                        std::to_string(expires_ms);
  Digest mac = HmacSha256(secret_, payload);
  return B64(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()) + "." + B64(mac.data(), mac.size());
}

Result<NewSession> SessionService::Open(const std::string& flow_type, const std::string& key_id, int ttl_seconds,
                                        std::int64_t now_ms) {
  if (flow_type.size() >= 32) return Error::Invalid("flow type too long for a session");
  if (key_id.size() != 8) return Error::Invalid("bad key id");
  SessionRecord r;
  RandomBytes(r.id.data(), r.id.size());
  RandomBytes(r.nonce.data(), r.nonce.size());
  std::memcpy(r.key_id.data(), key_id.data(), 8);
  std::memcpy(r.flow_type.data(), flow_type.data(), flow_type.size());
  // A head-turn sequence: two steps, each left or right, from the CSPRNG.
  std::uint8_t pick[2];
  RandomBytes(pick, 2);
  r.n_steps = 2;
  r.steps[0] = static_cast<std::uint8_t>(kStepChoices[pick[0] & 1]);
  r.steps[1] = static_cast<std::uint8_t>(kStepChoices[pick[1] & 1]);
  r.created_ms = now_ms;
  r.expires_ms = now_ms + static_cast<std::int64_t>(ttl_seconds) * 1000;
  if (Status s = store_->Put(r); !s.ok()) return s.error();
  NewSession out;
  out.session_id = B64(r.id.data(), r.id.size());
  out.nonce = B64(r.nonce.data(), r.nonce.size());
  out.expires_ms = r.expires_ms;
  out.token = Sign(r.id, key_id, r.nonce, r.attempt, r.expires_ms);
  for (std::size_t i = 0; i < r.n_steps; ++i) {
    out.steps.emplace_back(ChallengeStepName(static_cast<ChallengeStep>(r.steps[i])));
  }
  return out;
}

TokenCheck SessionService::CheckAndConsume(std::string_view token, std::string_view key_id,
                                           std::string_view flow_type, std::int64_t now_ms) {
  TokenCheck c;
  c.reason = ReasonCode::kTokenInvalid;
  if (token.size() > 512) return c;
  auto dot = token.find('.');
  if (dot == std::string_view::npos) return c;
  std::string payload, mac;
  if (!Base64UrlDecode(token.substr(0, dot), payload) || !Base64UrlDecode(token.substr(dot + 1), mac)) return c;
  Digest expected = HmacSha256(secret_, payload);
  if (!ConstantTimeEqual(mac, std::string_view(reinterpret_cast<const char*>(expected.data()), expected.size()))) {
    return c;  // forged or tampered
  }
  // The MAC is ours, so the fields are well-formed; parse defensively anyway.
  std::string_view p = payload;
  std::string_view parts[6];
  for (int i = 0; i < 6; ++i) {
    auto bar = p.find('|');
    parts[i] = p.substr(0, bar);
    p = bar == std::string_view::npos ? std::string_view() : p.substr(bar + 1);
  }
  std::array<std::uint8_t, 16> id{}, nonce{};
  int attempt = 0;
  std::int64_t expires = 0;
  if (parts[0] != "v1" || !Decode16(parts[1], id) || !Decode16(parts[3], nonce) ||
      std::from_chars(parts[4].data(), parts[4].data() + parts[4].size(), attempt).ec != std::errc() ||
      std::from_chars(parts[5].data(), parts[5].data() + parts[5].size(), expires).ec != std::errc()) {
    return c;
  }
  c.session_id = std::string(parts[1]);
  c.id = id;
  c.attempt = attempt;
  if (parts[2] != key_id) {
    c.reason = ReasonCode::kTokenWrongKey;
    return c;
  }
  if (now_ms > expires) {
    c.reason = ReasonCode::kTokenExpired;
    return c;
  }
  SessionRecord rec;
  switch (store_->Consume(id, nonce, static_cast<std::uint8_t>(attempt), &rec)) {
    case SessionStore::ConsumeResult::kUnknown: return c;  // TOKEN_INVALID
    case SessionStore::ConsumeResult::kReplayed:
    case SessionStore::ConsumeResult::kDecided:
      c.reason = ReasonCode::kTokenReplayed;
      return c;
    case SessionStore::ConsumeResult::kOk: break;
  }
  c.flow_type = std::string(Chars(rec.flow_type));
  for (std::size_t i = 0; i < rec.n_steps && i < rec.steps.size(); ++i) {
    c.steps.emplace_back(ChallengeStepName(static_cast<ChallengeStep>(rec.steps[i])));
  }
  if (c.flow_type != flow_type) return c;  // a token of another flow: TOKEN_INVALID
  c.valid = true;
  return c;
}

std::string SessionService::NextToken(const TokenCheck& check, std::string_view key_id, std::int64_t now_ms) {
  auto rec = store_->Get(check.id);
  if (!rec || rec->decided || now_ms > rec->expires_ms || check.attempt >= 250) return {};
  std::array<std::uint8_t, 16> nonce{};
  RandomBytes(nonce.data(), nonce.size());
  auto next = static_cast<std::uint8_t>(check.attempt + 1);
  if (!store_->NextAttempt(check.id, nonce, next).ok()) return {};
  return Sign(check.id, key_id, nonce, next, rec->expires_ms);
}

void SessionService::Finish(const TokenCheck& check) { store_->MarkDecided(check.id); }

}  // namespace vigil
