// The "media" object of a decision body: structure and bounds, then decoding.
#include <cmath>

#include <opencv2/imgcodecs.hpp>

#include "core/crypto.h"
#include "media/media.h"

namespace vigil::media {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

Problem Invalid(std::string detail, std::string field) {
  return Problem{ProblemType::kInvalidMedia, std::move(detail), std::move(field)};
}
Problem Bounds(std::string detail, std::string field) {
  return Problem{ProblemType::kMediaOutOfBounds, std::move(detail), std::move(field)};
}
Problem Type(std::string expected, std::string field) {
  return Problem{ProblemType::kWrongType, "expected " + std::move(expected), std::move(field)};
}

bool IsNumber(element_type t) {
  return t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE;
}

std::optional<Problem> ReadLabel(element v, std::string_view key, std::string& out) {
  std::string field = "media.capture." + std::string(key);
  if (v.type() != element_type::STRING) return Type("a string", field);
  std::string_view s = v.get_string().value_unsafe();
  if (s.size() > 128) return Problem{ProblemType::kInvalidValue, "longer than 128 bytes", field};
  out = std::string(s);
  return std::nullopt;
}

std::optional<Problem> ReadCapture(object obj, CaptureMeta& c) {
  bool have_w = false, have_h = false;
  for (auto [key, v] : obj) {
    std::string field = "media.capture." + std::string(key);
    if (key == "width" || key == "height") {
      double d = 0;
      if (!IsNumber(v.type()) || v.get_double().get(d)) return Type("a whole number", field);
      if (!(d >= 1 && d <= 100000) || std::floor(d) != d) {
        return Problem{ProblemType::kInvalidValue, "a whole number of pixels from 1 to 100000", field};
      }
      (key == "width" ? c.width : c.height) = static_cast<int>(d);
      (key == "width" ? have_w : have_h) = true;
    } else if (key == "camera_label") {
      if (auto p = ReadLabel(v, key, c.camera_label)) return p;
    } else if (key == "sdk_version") {
      if (auto p = ReadLabel(v, key, c.sdk_version)) return p;
    } else if (key == "app_version") {
      if (auto p = ReadLabel(v, key, c.app_version)) return p;
    } else {
      return Problem{ProblemType::kUnknownField, "unknown field '" + field + "'", field};
    }
  }
  if (have_w != have_h) {
    return Problem{ProblemType::kMissingField, "width and height go together", "media.capture"};
  }
  c.has_size = have_w;
  return std::nullopt;
}

std::optional<Problem> ReadFrame(element e, std::size_t i, const MediaLimits& lim, Frame& f) {
  std::string base = "media.frames[" + std::to_string(i) + "]";
  if (e.type() != element_type::OBJECT) return Type("an object", base);
  bool have_data = false;
  object obj = e.get_object().value_unsafe();
  for (auto [key, v] : obj) {
    std::string field = base + "." + std::string(key);
    if (key == "data") {
      if (v.type() != element_type::STRING) return Type("a base64 string", field);
      std::string_view b64 = v.get_string().value_unsafe();
      // 4 base64 characters carry 3 bytes: refuse an oversized frame before decoding it.
      if (b64.size() / 4 * 3 > lim.max_frame_bytes + 2) {
        return Bounds("frame larger than " + std::to_string(lim.max_frame_bytes) + " bytes", field);
      }
      if (!Base64Decode(b64, f.bytes, lim.max_frame_bytes)) {
        return Invalid("not valid base64 (RFC 4648, standard alphabet)", field);
      }
      have_data = true;
    } else if (key == "timestamp_ms") {
      double d = 0;
      if (!IsNumber(v.type()) || v.get_double().get(d)) return Type("a number", field);
      if (!std::isfinite(d) || d < 0 || d > 4.1e12) {
        return Problem{ProblemType::kInvalidValue, "milliseconds, from 0 to 4.1e12", field};
      }
      f.timestamp_ms = d;
      f.has_timestamp = true;
    } else {
      return Problem{ProblemType::kUnknownField, "unknown field '" + field + "'", field};
    }
  }
  if (!have_data) return Problem{ProblemType::kMissingField, "a frame needs data", base + ".data"};
  auto header = SniffImageHeader(f.bytes);
  if (!header) return Invalid("not a JPEG or PNG image (or its header is corrupt)", base + ".data");
  if (header->width > lim.max_width || header->height > lim.max_height) {
    return Bounds("image is " + std::to_string(header->width) + "x" + std::to_string(header->height) +
                      " pixels; at most " + std::to_string(lim.max_width) + "x" + std::to_string(lim.max_height),
                  base + ".data");
  }
  if (header->width < lim.min_width || header->height < lim.min_height) {
    return Bounds("image is " + std::to_string(header->width) + "x" + std::to_string(header->height) +
                      " pixels; at least " + std::to_string(lim.min_width) + "x" + std::to_string(lim.min_height),
                  base + ".data");
  }
  f.header = *header;
  return std::nullopt;
}

}  // namespace

Result<Media, Problem> ParseMedia(element root, const MediaLimits& lim) {
  if (root.type() != element_type::OBJECT) return Type("an object", "media");
  Media m;
  bool have_frames = false;
  object obj = root.get_object().value_unsafe();
  for (auto [key, v] : obj) {
    std::string field = "media." + std::string(key);
    if (key == "capture") {
      if (v.type() != element_type::OBJECT) return Type("an object", field);
      object cap = v.get_object().value_unsafe();
      if (auto p = ReadCapture(cap, m.capture)) return *p;
    } else if (key == "frames") {
      if (v.type() != element_type::ARRAY) return Type("an array", field);
      simdjson::dom::array arr = v.get_array().value_unsafe();
      if (arr.size() == 0) return Problem{ProblemType::kInvalidValue, "at least one frame", field};
      if (arr.size() > lim.max_frames) {
        return Bounds("more than " + std::to_string(lim.max_frames) + " frames", field);
      }
      m.frames.resize(arr.size());
      std::size_t i = 0;
      for (element e : arr) {
        if (auto p = ReadFrame(e, i, lim, m.frames[i])) return *p;
        ++i;
      }
      have_frames = true;
    } else {
      return Problem{ProblemType::kUnknownField, "unknown field '" + field + "'", field};
    }
  }
  if (!have_frames) return Problem{ProblemType::kMissingField, "media needs frames", "media.frames"};
  std::string digests;
  for (const auto& f : m.frames) {
    Digest d = Sha256(f.bytes);
    digests.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  m.digest_hex = Hex(Sha256(digests));
  return m;
}

std::optional<Problem> DecodeFrames(Media& m) {
  for (std::size_t i = 0; i < m.frames.size(); ++i) {
    Frame& f = m.frames[i];
    std::string field = "media.frames[" + std::to_string(i) + "].data";
    if (f.header.format == ImageFormat::kJpeg) {
      // A JPEG cut short still decodes partly in libjpeg; insist on the end-of-image marker.
      std::string_view b = f.bytes;
      while (!b.empty() && (b.back() == '\0' || b.back() == '\n' || b.back() == '\r')) b.remove_suffix(1);
      if (b.size() < 2 || static_cast<unsigned char>(b[b.size() - 2]) != 0xFF ||
          static_cast<unsigned char>(b[b.size() - 1]) != 0xD9) {
        return Invalid("JPEG is truncated (no end-of-image marker)", field);
      }
    }
    cv::Mat raw(1, static_cast<int>(f.bytes.size()), CV_8UC1, f.bytes.data());
    try {
      f.image = cv::imdecode(raw, cv::IMREAD_COLOR);
    } catch (const cv::Exception&) {
      f.image.release();
    }
    if (f.image.empty()) return Invalid("the image does not decode", field);
    if (f.image.cols != f.header.width || f.image.rows != f.header.height) {
      return Invalid("decoded size differs from the image header", field);
    }
  }
  return std::nullopt;
}

std::optional<element> FindMedia(simdjson::dom::parser& parser, std::string_view body, Problem* problem) {
  element doc;
  if (parser.parse(body.data(), body.size(), true).get(doc) || doc.type() != element_type::OBJECT) {
    *problem = Problem{ProblemType::kMalformedJson, "body is not a JSON object", ""};
    return std::nullopt;
  }
  element m;
  object root = doc.get_object().value_unsafe();
  if (root.at_key("media").get(m)) return std::nullopt;
  return m;
}

}  // namespace vigil::media
