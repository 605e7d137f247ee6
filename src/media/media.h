// Media of a liveness decision: frames sent as base64 JPEG or PNG inside the JSON body, with the
// capture metadata the client declares. Everything is bounded before any pixel is decoded:
// frames per request, bytes per frame, and the pixel dimensions read from the image header
// (so a small PNG that claims 100000x100000 pixels is refused before it can inflate).
//
// Wire layout (docs/liveness.md):
//   "media": {
//     "capture": {"width": 640, "height": 480, "camera_label": "FaceTime HD Camera",
//                 "sdk_version": "web-2.4.1", "app_version": "3.2.0"},
//     "frames": [{"data": "<base64 JPEG or PNG>", "timestamp_ms": 1712345678901}, ...]
//   }
// Every error is a Problem (invalid-media or media-out-of-bounds, 422) naming the field.
// Media is never logged or audited: only its SHA-256 digest is (Media::digest_hex).
// Thread-safety: functions are reentrant; values are plain.
#pragma once

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "api/problem.h"
#include "core/result.h"

namespace vigil::media {

enum class ImageFormat : std::uint8_t { kUnknown, kJpeg, kPng };
std::string_view ImageFormatName(ImageFormat f);

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;
  int height = 0;
};

// Format and pixel dimensions from the first bytes of an encoded image, without decoding: PNG's
// IHDR chunk, or a JPEG's first start-of-frame marker. nullopt when the bytes are neither or the
// header is cut short or inconsistent.
std::optional<ImageHeader> SniffImageHeader(std::string_view bytes);

// Strict RFC 4648 base64 (standard alphabet; '=' padding optional, nothing else allowed). Fails
// when the decoded size would exceed `max_out` (checked before decoding).
bool Base64Decode(std::string_view in, std::string& out, std::size_t max_out);
std::string Base64Encode(std::string_view in);

struct MediaLimits {
  std::size_t max_frames = 8;
  std::size_t max_frame_bytes = 512 * 1024;  // encoded image bytes (after base64)
  int max_width = 1920;
  int max_height = 1920;
  int min_width = 32;
  int min_height = 32;
};

struct CaptureMeta {
  bool has_size = false;
  int width = 0;   // declared by the client
  int height = 0;
  std::string camera_label;
  std::string sdk_version;
  std::string app_version;
};

struct Frame {
  std::string bytes;        // the encoded image
  ImageHeader header;
  bool has_timestamp = false;
  double timestamp_ms = 0;
  cv::Mat image;            // BGR, 8-bit, after DecodeFrames
};

struct Media {
  CaptureMeta capture;
  std::vector<Frame> frames;
  std::string digest_hex;   // SHA-256 over each frame's SHA-256, in order
};

// Parses and bounds the "media" object: structure, types, base64, header dimensions. No pixel is
// decoded here.
Result<Media, Problem> ParseMedia(simdjson::dom::element media, const MediaLimits& limits);

// Decodes every frame to BGR (OpenCV imdecode). A frame that does not decode, or decodes to other
// dimensions than its header says, is an invalid-media problem.
std::optional<Problem> DecodeFrames(Media& media);

// Finds "media" in a decision body; nullopt when the body has none.
std::optional<simdjson::dom::element> FindMedia(simdjson::dom::parser& parser, std::string_view body,
                                                Problem* problem);

}  // namespace vigil::media
