// Image headers and base64, without decoding any pixel.
#include <cstring>

#include "media/media.h"

namespace vigil::media {
namespace {

std::uint32_t Be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint32_t Be16(const unsigned char* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }

std::optional<ImageHeader> SniffPng(const unsigned char* p, std::size_t n) {
  static const unsigned char kSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (n < 8 + 8 + 13 || std::memcmp(p, kSig, 8) != 0) return std::nullopt;
  if (Be32(p + 8) != 13 || std::memcmp(p + 12, "IHDR", 4) != 0) return std::nullopt;
  std::uint32_t w = Be32(p + 16), h = Be32(p + 20);
  if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu) return std::nullopt;
  return ImageHeader{ImageFormat::kPng, static_cast<int>(w), static_cast<int>(h)};
}

bool IsStartOfFrame(unsigned char m) {
  return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

std::optional<ImageHeader> SniffJpeg(const unsigned char* p, std::size_t n) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return std::nullopt;
  std::size_t i = 2;
  while (i < n) {
    if (p[i] != 0xFF) return std::nullopt;
    while (i < n && p[i] == 0xFF) ++i;  // fill bytes
    if (i >= n) return std::nullopt;
    unsigned char m = p[i++];
    if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // no length
    if (m == 0xD8 || m == 0xD9 || m == 0xDA) return std::nullopt;  // no frame before the scan
    if (i + 2 > n) return std::nullopt;
    std::uint32_t len = Be16(p + i);
    if (len < 2 || i + len > n) return std::nullopt;
    if (IsStartOfFrame(m)) {
      if (len < 8) return std::nullopt;
      std::uint32_t h = Be16(p + i + 3), w = Be16(p + i + 5);
      if (w == 0 || h == 0) return std::nullopt;  // h == 0 (DNL) is not supported
      return ImageHeader{ImageFormat::kJpeg, static_cast<int>(w), static_cast<int>(h)};
    }
    i += len;
  }
  return std::nullopt;
}

int B64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string_view ImageFormatName(ImageFormat f) {
  switch (f) {
    case ImageFormat::kJpeg: return "jpeg";
    case ImageFormat::kPng: return "png";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

std::optional<ImageHeader> SniffImageHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (auto h = SniffPng(p, bytes.size())) return h;
  return SniffJpeg(p, bytes.size());
}

bool Base64Decode(std::string_view in, std::string& out, std::size_t max_out) {
  std::size_t pad = 0;
  while (!in.empty() && in.back() == '=' && pad < 2) {
    in.remove_suffix(1);
    ++pad;
  }
  if (pad > 0 && (in.size() + pad) % 4 != 0) return false;
  if (in.size() % 4 == 1) return false;
  std::size_t size = in.size() / 4 * 3 + (in.size() % 4 == 0 ? 0 : in.size() % 4 - 1);
  if (size > max_out) return false;
  out.resize(size);
  std::size_t o = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    int v = B64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return false;
  return o == size;
}

std::string Base64Encode(std::string_view in) {
  static const char kAlpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(in[i])} << 16) |
                      (std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += kAlpha[(v >> 6) & 63];
    out += kAlpha[v & 63];
  }
  if (std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(in[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(in[i + 1])} << 8;
    out += kAlpha[v >> 18];
    out += kAlpha[(v >> 12) & 63];
    out += rest == 2 ? kAlpha[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace vigil::media
