// The in-memory session store: 64 shards, each a hash map under its own mutex.
#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "session/session.h"

namespace vigil {
namespace {

struct IdHash {
  std::size_t operator()(const std::array<std::uint8_t, 16>& id) const {
    std::size_t h;
    std::memcpy(&h, id.data(), sizeof h);  // the id is random: its bytes are a hash already
    return h;
  }
};

class MemorySessionStore final : public SessionStore {
 public:
  explicit MemorySessionStore(std::size_t max) : max_per_shard_(std::max<std::size_t>(1, max / kShards)) {}

  Status Put(const SessionRecord& s) override {
    Shard& sh = ShardOf(s.id);
    std::lock_guard lk(sh.mu);
    if (sh.map.size() >= max_per_shard_) return Error::Invalid("too many open sessions");
    sh.map[s.id] = s;
    return Status::Ok();
  }

  std::optional<SessionRecord> Get(const std::array<std::uint8_t, 16>& id) override {
    Shard& sh = ShardOf(id);
    std::lock_guard lk(sh.mu);
    auto it = sh.map.find(id);
    if (it == sh.map.end()) return std::nullopt;
    return it->second;
  }

  ConsumeResult Consume(const std::array<std::uint8_t, 16>& id, const std::array<std::uint8_t, 16>& nonce,
                        std::uint8_t attempt, SessionRecord* out) override {
    Shard& sh = ShardOf(id);
    std::lock_guard lk(sh.mu);
    auto it = sh.map.find(id);
    if (it == sh.map.end()) return ConsumeResult::kUnknown;
    SessionRecord& r = it->second;
    if (r.decided) return ConsumeResult::kDecided;
    if (r.nonce_used || r.nonce != nonce || r.attempt != attempt) return ConsumeResult::kReplayed;
    *out = r;
    r.nonce_used = true;
    return ConsumeResult::kOk;
  }

  Status NextAttempt(const std::array<std::uint8_t, 16>& id, const std::array<std::uint8_t, 16>& nonce,
                     std::uint8_t attempt) override {
    Shard& sh = ShardOf(id);
    std::lock_guard lk(sh.mu);
    auto it = sh.map.find(id);
    if (it == sh.map.end()) return Error::NotFound("session gone");
    it->second.nonce = nonce;
    it->second.attempt = attempt;
    it->second.nonce_used = false;
    return Status::Ok();
  }

  void MarkDecided(const std::array<std::uint8_t, 16>& id) override {
    Shard& sh = ShardOf(id);
    std::lock_guard lk(sh.mu);
    auto it = sh.map.find(id);
    if (it != sh.map.end()) it->second.decided = true;
  }

  std::size_t Sweep(std::int64_t now_ms, const std::function<void(std::string_view)>& abandoned) override {
    std::size_t removed = 0;
    for (Shard& sh : shards_) {
      std::lock_guard lk(sh.mu);
      for (auto it = sh.map.begin(); it != sh.map.end();) {
        if (it->second.expires_ms < now_ms) {
          if (!it->second.decided && abandoned) {
            const auto& f = it->second.flow_type;
            std::size_t n = 0;
            while (n < f.size() && f[n] != '\0') ++n;
            abandoned(std::string_view(f.data(), n));
          }
          it = sh.map.erase(it);
          ++removed;
        } else {
          ++it;
        }
      }
    }
    return removed;
  }

  std::size_t size() const override {
    std::size_t n = 0;
    for (const Shard& sh : shards_) {
      std::lock_guard lk(sh.mu);
      n += sh.map.size();
    }
    return n;
  }

 private:
  static constexpr std::size_t kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::array<std::uint8_t, 16>, SessionRecord, IdHash> map;
  };
  Shard& ShardOf(const std::array<std::uint8_t, 16>& id) { return shards_[id[15] % kShards]; }
  std::size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<SessionStore> NewMemorySessionStore(std::size_t max_sessions) {
  return std::make_unique<MemorySessionStore>(max_sessions);
}

}  // namespace vigil
