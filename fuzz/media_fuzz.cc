// Fuzzes media decoding: any bytes as an encoded frame must be refused (bad header, out of
// bounds, does not decode) or decode to exactly the dimensions its header declared, within the
// bounds; never a crash and never a decode larger than the bounds allow. The same bytes in
// base64 inside a "media" object go through ParseMedia as the server does it.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "media/media.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vigil::media;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  MediaLimits lim;
  lim.max_width = 512;
  lim.max_height = 512;
  lim.max_frame_bytes = 256 * 1024;
  std::string json = R"({"capture":{"width":64,"height":64},"frames":[{"data":")" + Base64Encode(bytes) +
                     R"(","timestamp_ms":1}]})";
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json).get(e)) std::abort();  // our own JSON always parses
  auto m = ParseMedia(e, lim);
  if (!m.ok()) {
    if (vigil::RenderProblem(m.error()).empty()) std::abort();
    return 0;
  }
  const auto& h = m->frames[0].header;
  if (h.width > lim.max_width || h.height > lim.max_height || h.width < lim.min_width) std::abort();
  if (auto p = DecodeFrames(*m)) return 0;
  const auto& img = m->frames[0].image;
  if (img.cols != h.width || img.rows != h.height || img.type() != CV_8UC3) std::abort();
  return 0;
}
