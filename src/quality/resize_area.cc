// Whole-factor area downscaling (see resize_area.h).
#include "quality/resize_area.h"

#include <cstdint>
#include <vector>

#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgproc.hpp>

namespace vigil::quality {

void ResizeArea(const cv::Mat& src, cv::Mat& dst, cv::Size size) {
  const int fx = size.width > 0 ? src.cols / size.width : 0;
  const int fy = size.height > 0 ? src.rows / size.height : 0;
  // Up to 257 rows: the column sums stay within 16 bits. Halving is OpenCV's own SIMD path (with
  // its own rounding, (sum + 2) >> 2); 1x1 is a copy.
  if (src.depth() != CV_8U || fx < 1 || fy < 1 || fy > 257 || fx * size.width != src.cols ||
      fy * size.height != src.rows || (fx == 1 && fy == 1) || (fx == 2 && fy == 2)) {
    cv::resize(src, dst, size, 0, 0, cv::INTER_AREA);
    return;
  }
  dst.create(size, src.type());  // keeps a view of the right size and type
  const int cn = src.channels();
  const int row = src.cols * cn;
  thread_local std::vector<std::uint16_t> acc;
  acc.resize(static_cast<std::size_t>(row));
  std::uint16_t* a = acc.data();
  const float scale = 1.0f / static_cast<float>(fx * fy);
  for (int dy = 0; dy < size.height; ++dy) {
    for (int k = 0; k < fy; ++k) {
      const std::uint8_t* s = src.ptr<std::uint8_t>(dy * fy + k);
      int i = 0;
#if CV_SIMD128
      for (; i + 16 <= row; i += 16) {
        cv::v_uint16x8 lo, hi;
        cv::v_expand(cv::v_load(s + i), lo, hi);
        if (k > 0) {
          lo = cv::v_add_wrap(lo, cv::v_load(a + i));
          hi = cv::v_add_wrap(hi, cv::v_load(a + i + 8));
        }
        cv::v_store(a + i, lo);
        cv::v_store(a + i + 8, hi);
      }
#endif
      for (; i < row; ++i) a[i] = static_cast<std::uint16_t>((k > 0 ? a[i] : 0) + s[i]);
    }
    std::uint8_t* d = dst.ptr<std::uint8_t>(dy);
    for (int dx = 0; dx < size.width; ++dx) {
      for (int c = 0; c < cn; ++c) {
        const std::uint16_t* p = a + dx * fx * cn + c;
        int sum = 0;
        for (int k = 0; k < fx; ++k) sum += p[k * cn];
        d[dx * cn + c] = cv::saturate_cast<std::uint8_t>(static_cast<float>(sum) * scale);
      }
    }
  }
}

}  // namespace vigil::quality
