// Hashes, HMAC and base64url against published test vectors.
#include "core/crypto.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

std::string B(std::string_view s) { return std::string(s); }

TEST(Crypto, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // The parts form hashes their concatenation.
  EXPECT_EQ(Hex(Sha256({"a", "bc"})), Hex(Sha256("abc")));
}

TEST(Crypto, HmacSha256MatchesRfc4231) {
  // RFC 4231 test case 2.
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 1: key = 0x0b * 20, data "Hi There".
  EXPECT_EQ(Hex(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Each thread keeps the last key: alternating keys, repeating one, and a key longer than the
  // block (RFC 4231 test case 6: 131 bytes of 0xaa) must all give the published values.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(Hex(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  }
  // The empty key is a key (distinct from "keep the last one").
  EXPECT_NE(Hex(HmacSha256("", "x")), Hex(HmacSha256("Jefe", "x")));
}

TEST(Crypto, Base64UrlRoundTripsAndMatchesRfc4648) {
  auto enc = [](std::string_view s) {
    return Base64UrlEncode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(enc("f"), "Zg");
  EXPECT_EQ(enc("fo"), "Zm8");
  EXPECT_EQ(enc("foo"), "Zm9v");
  EXPECT_EQ(enc("foobar"), "Zm9vYmFy");
  EXPECT_EQ(enc("\xfb\xff"), "-_8");
  std::string out;
  ASSERT_TRUE(Base64UrlDecode("Zm9vYmE", out));
  EXPECT_EQ(out, B("fooba"));
}

TEST(Crypto, Base64UrlRefusesNonCanonicalInput) {
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("Zh", out));      // "Zg" with a non-zero leftover bit
  EXPECT_FALSE(Base64UrlDecode("Zm9", out));     // "Zm8" likewise
  EXPECT_FALSE(Base64UrlDecode("Zm9vY", out));   // one character left over: no byte
  EXPECT_FALSE(Base64UrlDecode("Zm9v+", out));   // standard alphabet, not url-safe
  EXPECT_FALSE(Base64UrlDecode("Zm9v=", out));   // padding is not used
}

TEST(Crypto, ConstantTimeEqualComparesLengthAndBytes) {
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEqual("", ""));
}

}  // namespace
}  // namespace vigil
