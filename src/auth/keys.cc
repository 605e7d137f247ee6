#include "auth/keys.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/crypto.h"
#include "core/file.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/yaml_reader.h"

namespace vigil {
namespace {

constexpr std::pair<std::string_view, std::uint8_t> kScopes[] = {
    {"decide", kScopeDecide}, {"label", kScopeLabel}, {"read", kScopeRead}, {"admin", kScopeAdmin}};

bool IsHex(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  AppendJsonEscaped(out, s);
  return out + "\"";
}

std::string Serialize(const std::vector<ApiKeyRecord>& records) {
  std::string out =
      "# vigil API keys: SHA-256 hashes only. Add keys with `vigil keys add`; the server reloads\n"
      "# this file on SIGHUP.\nkeys:\n";
  for (const auto& r : records) {
    out += "  - id: " + Quote(r.id) + "\n    sha256: " + Quote(r.sha256) + "\n    scopes: [";
    bool first = true;
    for (auto [name, bit] : kScopes) {
      if (r.scopes & bit) {
        out += (first ? "" : ", ") + std::string(name);
        first = false;
      }
    }
    out += "]\n    rate_per_second: " + std::to_string(r.rate_per_second) +
           "\n    burst: " + std::to_string(r.burst) + "\n    name: " + Quote(r.name) +
           "\n    created_at: " + Quote(r.created_at) + "\n";
  }
  return out;
}

}  // namespace

Result<std::uint8_t> ParseScopes(const std::vector<std::string>& names) {
  std::uint8_t bits = 0;
  for (const auto& n : names) {
    bool found = false;
    for (auto [name, bit] : kScopes) {
      if (n == name) {
        bits |= bit;
        found = true;
      }
    }
    if (!found) return Error::Invalid("unknown scope '" + n + "' (use decide, label, read, admin)");
  }
  if (bits == 0) return Error::Invalid("at least one scope is required");
  return bits;
}

std::string ScopeNames(std::uint8_t scopes) {
  std::string out;
  for (auto [name, bit] : kScopes) {
    if (scopes & bit) out += (out.empty() ? "" : ",") + std::string(name);
  }
  return out;
}

Result<std::shared_ptr<const KeyRing>> KeyRing::LoadFile(const std::string& path) {
  auto ring = std::make_shared<KeyRing>();
  if (!std::filesystem::exists(path)) return std::shared_ptr<const KeyRing>(ring);
  YamlReader r = YamlReader::FromFile(path);
  if (!r.ok()) return r.first_error();
  const YAML::Node& root = r.root();
  if (root.IsNull()) return std::shared_ptr<const KeyRing>(ring);
  const YAML::Node keys = root["keys"];
  if (!keys.IsDefined() || keys.IsNull()) return std::shared_ptr<const KeyRing>(ring);
  if (!keys.IsSequence()) return Error::Invalid("field 'keys': expected a list", r.Where(keys));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::string p = "keys[" + std::to_string(i) + "]";
    r.OnlyKeys(keys[i], p, {"id", "sha256", "scopes", "rate_per_second", "burst", "name", "created_at"});
    ApiKeyRecord k;
    auto id = r.String(keys[i], "id", p, true);
    auto sha = r.String(keys[i], "sha256", p, true);
    auto scopes = r.StringList(keys[i], "scopes", p, true);
    auto rps = r.Number(keys[i], "rate_per_second", p, false);
    auto burst = r.Number(keys[i], "burst", p, false);
    auto name = r.String(keys[i], "name", p, false);
    auto created = r.String(keys[i], "created_at", p, false);
    if (!r.ok()) return r.first_error();
    if (!IsHex(*id, 8)) return Error::Invalid("field '" + p + ".id': expected 8 hex digits", r.Where(keys[i]["id"]));
    if (!IsHex(*sha, 64)) return Error::Invalid("field '" + p + ".sha256': expected 64 hex digits", r.Where(keys[i]["sha256"]));
    auto bits = ParseScopes(*scopes);
    if (!bits.ok()) return Error::Invalid("field '" + p + ".scopes': " + bits.error().message, r.Where(keys[i]["scopes"]));
    k.id = *id;
    k.sha256 = *sha;
    k.scopes = *bits;
    if (rps) k.rate_per_second = *rps;
    if (burst) k.burst = *burst;
    if (k.rate_per_second <= 0 || k.burst < 1) {
      return Error::Invalid("field '" + p + "': rate_per_second must be > 0 and burst >= 1", r.Where(keys[i]));
    }
    k.name = name.value_or("");
    k.created_at = created.value_or("");
    if (ring->FindById(k.id)) return Error::Invalid("field '" + p + ".id': duplicate key id", r.Where(keys[i]["id"]));
    ring->records_.push_back(std::move(k));
  }
  return std::shared_ptr<const KeyRing>(ring);
}

const ApiKeyRecord* KeyRing::FindById(std::string_view id) const {
  for (const auto& r : records_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

Result<std::string> AddKey(const std::string& path, std::uint8_t scopes, double rate_per_second,
                           double burst, const std::string& name) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Error::Io("cannot create directory: " + ec.message(), parent.string());
  auto ring = KeyRing::LoadFile(path);
  if (!ring.ok()) return ring.error();
  std::vector<ApiKeyRecord> records = (*ring)->records();
  ApiKeyRecord k;
  do {
    k.id = RandomHex(4);
  } while ((*ring)->FindById(k.id));
  std::string key = "vgl_" + k.id + "_" + RandomBase64Url(32);
  k.sha256 = Hex(Sha256(key));
  k.scopes = scopes;
  k.rate_per_second = rate_per_second;
  k.burst = burst;
  k.name = name;
  k.created_at = FormatRfc3339Ms(WallClockMs());
  records.push_back(k);
  Status s = WriteFileAtomic(path, Serialize(records));
  if (!s.ok()) return s.error();
  return key;
}

Authenticator::Authenticator(std::shared_ptr<const KeyRing> ring) { state_.store(Build(std::move(ring), nullptr)); }

std::shared_ptr<Authenticator::State> Authenticator::Build(std::shared_ptr<const KeyRing> ring,
                                                           const State* previous) const {
  auto s = std::make_shared<State>();
  s->ring = std::move(ring);
  for (const auto& rec : s->ring->records()) {
    auto b = std::make_unique<Bucket>();
    b->tokens = rec.burst;
    if (previous) {
      const auto& old = previous->ring->records();
      for (std::size_t i = 0; i < old.size(); ++i) {
        if (old[i].id == rec.id) {
          std::lock_guard lock(previous->buckets[i]->mu);
          b->tokens = std::min(previous->buckets[i]->tokens, rec.burst);
          b->last_ms = previous->buckets[i]->last_ms;
        }
      }
    }
    s->buckets.push_back(std::move(b));
  }
  return s;
}

void Authenticator::Reload(std::shared_ptr<const KeyRing> ring) {
  auto old = state_.load();
  state_.store(Build(std::move(ring), old.get()));
}

std::size_t Authenticator::key_count() const { return state_.load()->ring->records().size(); }

Authenticator::Check Authenticator::Authorize(std::string_view auth, std::uint8_t needed,
                                              std::int64_t now_ms) const {
  Check c;
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.empty()) {
    c.outcome = Outcome::kMissing;
    return c;
  }
  if (auth.substr(0, kBearer.size()) != kBearer) {
    c.outcome = Outcome::kInvalid;
    return c;
  }
  std::string_view key = auth.substr(kBearer.size());
  auto state = state_.load();
  const auto& records = state->ring->records();
  std::size_t index = records.size();
  if (key.size() == 4 + 8 + 1 + 43 && key.substr(0, 4) == "vgl_" && key[12] == '_') {
    std::string_view id = key.substr(4, 8);
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (records[i].id == id) index = i;
    }
  }
  // Hash and compare even for an unknown id, so timing does not reveal which ids exist.
  std::string digest = Hex(Sha256(key));
  static const std::string kNoKey(64, '0');
  bool match = ConstantTimeEqual(digest, index < records.size() ? records[index].sha256 : kNoKey);
  if (index >= records.size() || !match) {
    c.outcome = Outcome::kInvalid;
    return c;
  }
  const ApiKeyRecord& rec = records[index];
  c.key_id = rec.id;
  if (!(rec.scopes & kScopeAdmin) && !(rec.scopes & needed)) {
    c.outcome = Outcome::kForbidden;
    return c;
  }
  Bucket& b = *state->buckets[index];
  std::lock_guard lock(b.mu);
  if (b.last_ms == 0) b.last_ms = now_ms;
  double elapsed = std::max<std::int64_t>(0, now_ms - b.last_ms) / 1000.0;
  b.tokens = std::min(rec.burst, b.tokens + elapsed * rec.rate_per_second);
  b.last_ms = std::max(b.last_ms, now_ms);
  if (b.tokens < 1.0) {
    c.outcome = Outcome::kRateLimited;
    c.retry_after_s = (1.0 - b.tokens) / rec.rate_per_second;
    return c;
  }
  b.tokens -= 1.0;
  c.outcome = Outcome::kOk;
  return c;
}

std::string KeyIdFromAuthorization(std::string_view auth) {
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.substr(0, kBearer.size()) != kBearer) return {};
  std::string_view key = auth.substr(kBearer.size());
  if (key.size() == 4 + 8 + 1 + 43 && key.substr(0, 4) == "vgl_" && key[12] == '_') return std::string(key.substr(4, 8));
  return {};
}

}  // namespace vigil
