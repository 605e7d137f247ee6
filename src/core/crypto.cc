#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <string>

namespace vigil {

namespace {

// OpenSSL 3 looks an algorithm up by name in its provider registry each time one is passed as
// EVP_sha256() or by one-shot calls such as HMAC(); on the decision path (the request digest, the
// chain hash, a pseudonym per subject id) that lookup cost more than the hashing. So the
// algorithms are fetched once, and each thread keeps its own contexts and re-initialises them.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (m == nullptr) std::abort();
    return m;
  }();
  return md;
}

struct MdCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(ctx); }
};

// An HMAC-SHA256 context that keeps the key it was last given: the same key again (the server's
// pseudonym or token secret, nearly always) re-initialises from the precomputed key state.
struct MacCtx {
  EVP_MAC_CTX* ctx = nullptr;
  std::string key;
  bool keyed = false;
  MacCtx() {
    static EVP_MAC* mac = [] {
      EVP_MAC* m = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
      if (m == nullptr) std::abort();
      return m;
    }();
    ctx = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA2-256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    if (ctx == nullptr || EVP_MAC_CTX_set_params(ctx, params) != 1) std::abort();
  }
  ~MacCtx() {
    OPENSSL_cleanse(key.data(), key.size());
    EVP_MAC_CTX_free(ctx);
  }
};

}  // namespace

Digest Sha256(std::string_view data) { return Sha256({data}); }

Digest Sha256(std::initializer_list<std::string_view> parts) {
  thread_local MdCtx t;
  Digest d{};
  EVP_DigestInit_ex(t.ctx, Sha256Md(), nullptr);
  for (auto p : parts) EVP_DigestUpdate(t.ctx, p.data(), p.size());
  unsigned int len = 0;
  EVP_DigestFinal_ex(t.ctx, d.data(), &len);
  return d;
}

Digest HmacSha256(std::string_view key, std::string_view data) {
  thread_local MacCtx t;
  Digest d{};
  const bool same_key = t.keyed && key == t.key;
  if (!same_key) {
    OPENSSL_cleanse(t.key.data(), t.key.size());
    t.key.assign(key);
  }
  // A null key re-initialises with the key already set.
  static const unsigned char kEmpty[1] = {0};
  const unsigned char* k = same_key ? nullptr : key.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_MAC_init(t.ctx, k, same_key ? 0 : key.size(), nullptr) != 1) std::abort();
  t.keyed = true;
  EVP_MAC_update(t.ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::size_t len = 0;
  EVP_MAC_final(t.ctx, d.data(), &len, d.size());
  return d;
}

std::string HexEncode(const std::uint8_t* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
}

std::string Base64UrlEncode(const std::uint8_t* data, std::size_t n) {
  std::string out;
  out.reserve((n * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 2 < n; i += 3) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == n) {
    std::uint32_t v = data[i] << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
  } else if (i + 2 == n) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
  }
  return out;
}

bool Base64UrlDecode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1) return false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Canonical form only: the bits left over must be zero, so that no two strings decode to the
  // same bytes (a token with a changed last character is a different, forged token).
  return (acc & ((1u << bits) - 1)) == 0;
}

void RandomBytes(std::uint8_t* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();
}

std::string RandomHex(std::size_t bytes) {
  std::string buf(bytes, '\0');
  RandomBytes(reinterpret_cast<std::uint8_t*>(buf.data()), bytes);
  return HexEncode(reinterpret_cast<const std::uint8_t*>(buf.data()), bytes);
}

std::string RandomBase64Url(std::size_t bytes) {
  std::string buf(bytes, '\0');
  RandomBytes(reinterpret_cast<std::uint8_t*>(buf.data()), bytes);
  return Base64UrlEncode(reinterpret_cast<const std::uint8_t*>(buf.data()), bytes);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vigil
