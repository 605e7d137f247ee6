// Media parsing and bounds: base64, image headers read before decoding (decompression bombs),
// corrupt and truncated images, frame and byte limits.
#include <gtest/gtest.h>
#include <zlib.h>

#include "liveness/test_images.h"
#include "media/media.h"

namespace vigil::media {
namespace {

using testing::EncodeJpeg;
using testing::EncodePng;

Result<Media, Problem> Parse(const std::string& json, const MediaLimits& lim = {}) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element e;
  EXPECT_EQ(parser.parse(json).get(e), simdjson::SUCCESS) << json.substr(0, 200);
  return ParseMedia(e, lim);
}

std::string Frames(const std::vector<std::string>& images,
                   const std::string& capture = R"({"width":640,"height":480,"camera_label":"FaceTime HD Camera"})") {
  std::string s = R"({"capture":)" + capture + R"(,"frames":[)";
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (i) s += ",";
    s += R"({"data":")" + Base64Encode(images[i]) + R"(","timestamp_ms":)" + std::to_string(1000 + 33 * i) + "}";
  }
  return s + "]}";
}

// A PNG whose header claims `w` x `h` pixels, with a tiny zlib stream of zeros as its data: the
// shape of a decompression bomb (a few hundred bytes that would inflate to gigabytes).
std::string PngBomb(std::uint32_t w, std::uint32_t h) {
  auto be32 = [](std::string& s, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  auto chunk = [&](std::string& png, const char* type, const std::string& data) {
    be32(png, static_cast<std::uint32_t>(data.size()));
    std::string td = std::string(type) + data;
    png += td;
    be32(png, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(td.data()), static_cast<uInt>(td.size()))));
  };
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  be32(ihdr, w);
  be32(ihdr, h);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit RGB
  chunk(png, "IHDR", ihdr);
  std::string zeros(64 * 1024, '\0');
  uLongf n = compressBound(static_cast<uLong>(zeros.size()));
  std::string z(n, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &n, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uLong>(zeros.size()), 9);
  z.resize(n);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

TEST(Base64, RoundTripAndStrictness) {
  std::string out;
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    ASSERT_TRUE(Base64Decode(Base64Encode(s), out, 100)) << s;
    EXPECT_EQ(out, s);
  }
  EXPECT_TRUE(Base64Decode("Zm9vYg", out, 100));  // padding optional
  EXPECT_EQ(out, "foob");
  EXPECT_FALSE(Base64Decode("Zm9v YmFy", out, 100));  // whitespace
  EXPECT_FALSE(Base64Decode("Zm9v_mFy", out, 100));   // url alphabet
  EXPECT_FALSE(Base64Decode("Zm9vY", out, 100));      // impossible length
  EXPECT_FALSE(Base64Decode("Zm9vYh==", out, 100));   // non-zero leftover bits
  EXPECT_FALSE(Base64Decode("Zm9vYmFy", out, 5));     // over the bound, refused before decoding
}

TEST(ImageHeader, ReadsJpegAndPngDimensionsWithoutDecoding) {
  cv::Mat m(123, 77, CV_8UC3, cv::Scalar(10, 20, 30));
  auto j = SniffImageHeader(EncodeJpeg(m));
  ASSERT_TRUE(j);
  EXPECT_EQ(j->format, ImageFormat::kJpeg);
  EXPECT_EQ(j->width, 77);
  EXPECT_EQ(j->height, 123);
  auto p = SniffImageHeader(EncodePng(m));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->format, ImageFormat::kPng);
  EXPECT_EQ(p->width, 77);
  EXPECT_EQ(p->height, 123);
  auto bomb = SniffImageHeader(PngBomb(100000, 100000));
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->width, 100000);
  EXPECT_FALSE(SniffImageHeader("GIF89a...."));
  EXPECT_FALSE(SniffImageHeader(std::string("\xff\xd8\xff", 3)));  // cut short
  EXPECT_FALSE(SniffImageHeader(""));
}

TEST(Media, ParsesFramesAndCaptureAndDecodes) {
  cv::Mat m = testing::Portrait();
  auto r = Parse(Frames({EncodeJpeg(m), EncodePng(m)},
                        R"({"width":640,"height":480,"sdk_version":"web-2.4.1","app_version":"3.2.0"})"));
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->capture.sdk_version, "web-2.4.1");
  EXPECT_TRUE(r->capture.has_size);
  ASSERT_EQ(r->frames.size(), 2u);
  EXPECT_EQ(r->frames[1].timestamp_ms, 1033);
  EXPECT_EQ(r->digest_hex.size(), 64u);
  ASSERT_FALSE(DecodeFrames(*r).has_value());
  EXPECT_EQ(r->frames[0].image.cols, 640);
  EXPECT_EQ(r->frames[1].image.rows, 480);
}

TEST(Media, DecompressionBombRefusedFromTheHeader) {
  std::string bomb = PngBomb(100000, 100000);
  ASSERT_LT(bomb.size(), 2000u);  // tiny on the wire
  auto r = Parse(Frames({bomb}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().type, ProblemType::kMediaOutOfBounds);
  EXPECT_EQ(r.error().field, "media.frames[0].data");
  // Just over the configured bound is refused too; just within passes the header check.
  MediaLimits lim;
  EXPECT_EQ(Parse(Frames({PngBomb(1921, 100)}), lim).error().type, ProblemType::kMediaOutOfBounds);
  auto ok = Parse(Frames({PngBomb(1920, 100)}), lim);
  ASSERT_TRUE(ok.ok());
  // ...and then its data does not match its header: the decoder refuses it.
  auto p = DecodeFrames(*ok);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->type, ProblemType::kInvalidMedia);
}

TEST(Media, CorruptInputsAreInvalidMedia) {
  std::string jpeg = EncodeJpeg(testing::Portrait());
  auto bad_b64 = Parse(R"({"frames":[{"data":"not base64!!"}]})");
  ASSERT_FALSE(bad_b64.ok());
  EXPECT_EQ(bad_b64.error().type, ProblemType::kInvalidMedia);
  auto gif = Parse(Frames({"GIF89a" + std::string(100, 'x')}));
  EXPECT_EQ(gif.error().type, ProblemType::kInvalidMedia);
  // Truncated JPEG: the header is fine, the image is not.
  auto trunc = Parse(Frames({jpeg.substr(0, jpeg.size() / 2)}));
  ASSERT_TRUE(trunc.ok());
  auto p = DecodeFrames(*trunc);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->type, ProblemType::kInvalidMedia);
  // Garbage after a valid header.
  std::string garbled = jpeg.substr(0, 600) + std::string(jpeg.size() - 602, '\x55') + "\xff\xd9";
  auto g = Parse(Frames({garbled}));
  if (g.ok()) {
    auto gp = DecodeFrames(*g);
    // libjpeg may decode garbage into noise of the right size; if it refuses, it is invalid-media.
    if (gp) {
      EXPECT_EQ(gp->type, ProblemType::kInvalidMedia);
    }
  } else {
    EXPECT_EQ(g.error().type, ProblemType::kInvalidMedia);
  }
}

TEST(Media, BoundsAndShape) {
  std::string small = EncodeJpeg(cv::Mat(64, 64, CV_8UC3, cv::Scalar::all(90)));
  MediaLimits lim;
  lim.max_frames = 2;
  lim.max_frame_bytes = 4096;
  EXPECT_EQ(Parse(Frames({small, small, small}), lim).error().type, ProblemType::kMediaOutOfBounds);
  std::string big = EncodePng(testing::Portrait());
  EXPECT_EQ(Parse(Frames({big}), lim).error().type, ProblemType::kMediaOutOfBounds);
  EXPECT_EQ(Parse(Frames({EncodeJpeg(cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(1)))})).error().type,
            ProblemType::kMediaOutOfBounds);
  EXPECT_EQ(Parse(R"({"frames":[]})").error().type, ProblemType::kInvalidValue);
  EXPECT_EQ(Parse(R"({"capture":{}})").error().type, ProblemType::kMissingField);
  EXPECT_EQ(Parse(R"({"frames":[{"data":"AAAA","extra":1}]})").error().type, ProblemType::kUnknownField);
  EXPECT_EQ(Parse(R"({"frames":[{"data":1}]})").error().type, ProblemType::kWrongType);
  EXPECT_EQ(Parse(R"({"frames":[{"timestamp_ms":1}]})").error().type, ProblemType::kMissingField);
  auto w = Parse(R"({"capture":{"width":640},"frames":[{"data":"AAAA"}]})");
  EXPECT_EQ(w.error().type, ProblemType::kMissingField);
  EXPECT_EQ(Parse(R"({"capture":{"width":-1,"height":2},"frames":[]})").error().type, ProblemType::kInvalidValue);
}

}  // namespace
}  // namespace vigil::media
