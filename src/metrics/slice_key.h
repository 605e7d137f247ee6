// The slice key of DecisionRecorder (internal to src/metrics): a decision's 10 raw label values,
// read from the event in one pass, encoded as exact 64-bit words for the slice cache's hash and
// comparison.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "server/module.h"

namespace vigil::metrics_detail {

inline std::string_view OrNone(std::string_view v) { return v.empty() ? std::string_view("none") : v; }

// The raw label values of one decision (views into the event).
struct Slice {
  std::string_view flow, platform, device, browser, sdk, app, model, policy, outcome, band;
};

// Whether `n` is the name `lit` (a literal: the comparison is a load or two).
template <std::size_t N>
inline bool IsName(std::string_view n, const char (&lit)[N]) {
  return n.size() == N - 1 && std::memcmp(n.data(), lit, N - 1) == 0;
}

// The raw values (missing ones empty): what the slice cache is keyed by.
inline Slice SliceOf(const DecisionEvent& ev) {
  const Decision& d = ev.decision;
  Slice s{ev.request.flow_type, {}, {}, {}, {}, {}, d.model_version, d.policy_version, d.outcome_name, d.band_name};
  // One pass over the context (names are unique in an AttributeMap), until the 5 are found.
  int found = 0;
  for (const auto& a : ev.request.context.items()) {
    if (a.kind != Value::Kind::kString) continue;
    const std::string_view n = a.name;
    std::string_view* into = nullptr;
    switch (n.size()) {
      case 8: into = IsName(n, "platform") ? &s.platform : nullptr; break;
      case 11: into = IsName(n, "sdk_version") ? &s.sdk : IsName(n, "app_version") ? &s.app : nullptr; break;
      case 12: into = IsName(n, "device_class") ? &s.device : nullptr; break;
      case 14: into = IsName(n, "browser_family") ? &s.browser : nullptr; break;
      default: break;
    }
    if (into != nullptr) {
      *into = a.text;
      if (++found == 5) break;
    }
  }
  return s;
}

// The label values: missing ones are "none".
inline Slice Labelled(const Slice& raw) {
  Slice s = raw;
  for (std::string_view* v : {&s.platform, &s.device, &s.browser, &s.sdk, &s.app, &s.model, &s.policy}) *v = OrNone(*v);
  return s;
}

// A name (stage, signal, flow, model) kept for comparison with the event's names decision after
// decision: up to 16 bytes as the same exact words as a slice key's value (two loads and a compare
// on each side), longer names whole (compared byte by byte).
class NameKey {
 public:
  NameKey() = default;
  explicit NameKey(std::string_view v) : len_(v.size()) {
    if (len_ > 16) {
      long_ = v;
    } else if (len_ > 8) {
      a_ = Load8(v.data());
      b_ = Load8(v.data() + len_ - 8);
    } else {
      a_ = ShortWord(v.data(), len_);
    }
  }
  [[gnu::always_inline]] bool Matches(std::string_view v) const {
    const std::size_t n = v.size();
    if (n != len_) return false;
    const char* p = v.data();
    if (n > 8) {
      if (n > 16) [[unlikely]] return v == long_;
      return ((Load8(p) ^ a_) | (Load8(p + n - 8) ^ b_)) == 0;
    }
    return ShortWord(p, n) == a_;
  }

 private:
  static std::uint64_t Load8(const char* p) {
    std::uint64_t x;
    std::memcpy(&x, p, 8);
    return x;
  }
  // Up to 8 bytes as one word that encodes them exactly given their number: two overlapping 4-byte
  // loads from 4 bytes, else the first, middle and last bytes.
  [[gnu::always_inline]] static std::uint64_t ShortWord(const char* p, std::size_t n) {
    if (n >= 4) [[likely]] {
      std::uint32_t x, y;
      std::memcpy(&x, p, 4);
      std::memcpy(&y, p + n - 4, 4);
      return std::uint64_t{x} | (std::uint64_t{y} << 32);
    }
    if (n == 0) return 0;
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return std::uint64_t{u[0]} | (std::uint64_t{u[n / 2]} << 8) | (std::uint64_t{u[n - 1]} << 16);
  }

  std::size_t len_ = 0;
  std::uint64_t a_ = 0, b_ = 0;
  std::string long_;  // names over 16 bytes
};

// A slice's values as 64-bit words that encode them exactly given their lengths: a value of 1 to 3
// bytes is its first, middle and last bytes; of 4 to 8 bytes, two overlapping 4-byte loads; of 9
// to 16, two overlapping 8-byte loads; of 17 to 24, three. One to three loads a value, compared
// word by word (with the lengths); the slice hash is taken from the same words. A value over 24
// bytes (rare: it folds into "other" past a label's max_len anyway) gives its first 16 and last 8
// bytes as words, and the key is also kept whole (`long_key`, each value after its 4-byte length)
// and compared byte by byte.
inline constexpr std::size_t kValues = 10;
inline constexpr std::size_t kKeyWords = 3 * kValues;

struct alignas(16) SliceKey {
  // The header (12 bytes, compared in two loads): lengths capped at 255 (a value over 24 bytes
  // makes the key long, and then the whole key decides), the number of words, whether long.
  std::uint8_t len[kValues];
  std::uint8_t words = 0;
  bool has_long = false;
  // The words, then a zero word, so that they compare two at a time (16-byte aligned).
  std::uint64_t w[kKeyWords + 1];

  // Fills the key from `v` and returns the slice hash: one independent multiply per value (of its
  // words folded into one and its length; distinct odd constants by position), then a final mix.
  [[gnu::always_inline]] inline std::uint64_t Build(const std::string_view (&v)[kValues]) {
    static constexpr std::uint64_t kMul[kValues] = {
        0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull, 0x94d049bb133111ebull, 0xd6e8feb86659fd93ull,
        0xa0761d6478bd642full, 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull, 0x589965cc75374cc3ull,
        0x1d8e4e27c47d124full, 0xc2b2ae3d27d4eb4full};
    auto load8 = [](const char* p) {
      std::uint64_t x;
      std::memcpy(&x, p, 8);
      return x;
    };
    auto load4 = [](const char* p) {
      std::uint32_t x;
      std::memcpy(&x, p, 4);
      return std::uint64_t{x};
    };
    std::uint32_t k = 0;
    std::uint64_t h = 0;
    bool long_value = false;
#pragma GCC unroll 10
    for (std::size_t i = 0; i < kValues; ++i) {
      const std::size_t n = v[i].size();
      const char* p = v[i].data();
      len[i] = static_cast<std::uint8_t>(std::min<std::size_t>(n, 255));
      std::uint64_t x = 0;
      if (n > 8) {
        std::uint64_t a = load8(p);
        const std::uint64_t b = load8(p + n - 8);
        w[k++] = a;
        if (n > 16) {
          const std::uint64_t m = load8(p + 8);
          w[k++] = m;
          a ^= std::rotl(m, 42);
          long_value |= n > 24;
        }
        w[k++] = b;
        x = a ^ std::rotl(b, 29);  // rotations 0, 42, 29: a byte read twice never cancels
      } else if (n >= 4) {
        x = load4(p) | (load4(p + n - 4) << 32);
        w[k++] = x;
      } else if (n > 0) {
        const auto* u = reinterpret_cast<const unsigned char*>(p);
        x = std::uint64_t{u[0]} | (std::uint64_t{u[n / 2]} << 8) | (std::uint64_t{u[n - 1]} << 16);
        w[k++] = x;
      }
      h += (x + n) * kMul[i];
    }
    w[k] = 0;
    words = static_cast<std::uint8_t>(k);
    has_long = long_value;
    h ^= h >> 29;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
  }

  // Same lengths and words (the long key, when there is one, is compared by the caller).
  [[gnu::always_inline]] inline bool SameWords(const SliceKey& o) const {
    static_assert(offsetof(SliceKey, has_long) == 11 && offsetof(SliceKey, w) == 16);
    std::uint64_t a0, b0;
    std::uint32_t a1, b1;
    std::memcpy(&a0, &len[0], 8);
    std::memcpy(&b0, &o.len[0], 8);
    std::memcpy(&a1, &len[8], 4);
    std::memcpy(&b1, &o.len[8], 4);
    if (((a0 ^ b0) | (a1 ^ b1)) != 0) return false;  // equal lengths: the same number of words
#if defined(__SSE2__)
    // Two words an instruction; an odd count compares the zero word after the last (both keys
    // have it, and equal lengths mean equal counts).
    const auto* x = reinterpret_cast<const __m128i*>(w);
    const auto* y = reinterpret_cast<const __m128i*>(o.w);
    __m128i d = _mm_setzero_si128();
#pragma GCC unroll 4
    for (std::uint32_t i = 0; i < (words + 1u) / 2u; ++i) {
      d = _mm_or_si128(d, _mm_xor_si128(_mm_load_si128(x + i), _mm_load_si128(y + i)));
    }
    return _mm_movemask_epi8(_mm_cmpeq_epi8(d, _mm_setzero_si128())) == 0xffff;
#else
    std::uint64_t d = 0;
#pragma GCC unroll 4
    for (std::uint32_t i = 0; i < words; ++i) d |= w[i] ^ o.w[i];
    return d == 0;
#endif
  }
};

// The whole values, for keys with a value over 24 bytes: each after its 4-byte length.
inline std::string LongKey(const std::string_view (&v)[kValues]) {
  std::string key;
  for (const auto& x : v) {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(x.size(), 0xffffffffu));
    char b[sizeof n];
    std::memcpy(b, &n, sizeof n);
    key.append(b, sizeof n).append(x);
  }
  return key;
}

[[gnu::noinline]] inline bool LongKeyEquals(std::string_view key, const std::string_view (&v)[kValues]) {
  for (const auto& x : v) {
    std::uint32_t n;
    if (key.size() < sizeof n) return false;
    std::memcpy(&n, key.data(), sizeof n);
    key.remove_prefix(sizeof n);
    if (n != x.size() || key.size() < n || key.substr(0, n) != x) return false;
    key.remove_prefix(n);
  }
  return key.empty();
}

}  // namespace vigil::metrics_detail
