// Hashes, MACs and randomness from OpenSSL, in the few shapes vigil needs. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

using Digest = std::array<std::uint8_t, 32>;

Digest Sha256(std::string_view data);
// SHA-256 over several parts in order, as if concatenated.
Digest Sha256(std::initializer_list<std::string_view> parts);
Digest HmacSha256(std::string_view key, std::string_view data);

std::string HexEncode(const std::uint8_t* data, std::size_t n);
inline std::string Hex(const Digest& d) { return HexEncode(d.data(), d.size()); }
std::string Base64UrlEncode(const std::uint8_t* data, std::size_t n);
// False on characters outside the URL-safe alphabet.
bool Base64UrlDecode(std::string_view in, std::string& out);

// Bytes from the operating system's CSPRNG (OpenSSL RAND_bytes). Aborts if none is available:
// without randomness no token or key may be issued.
void RandomBytes(std::uint8_t* out, std::size_t n);
std::string RandomHex(std::size_t bytes);
std::string RandomBase64Url(std::size_t bytes);

// Compares in time independent of where the inputs differ (CRYPTO_memcmp).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace vigil
