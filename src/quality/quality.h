// The quality gate: is this capture usable? Measures one frame against a flow's QualityPolicy.
//
//   face_count        faces found (none: NO_FACE; more than max_faces: MULTIPLE_FACES)
//   face_size         face box width / image width (FACE_TOO_SMALL)
//   center_offset     the face centre's distance from the image centre, the larger of x and y
//                     in half-image units: 0 centred, 1 at the edge (FACE_OFF_CENTER)
//   laplacian_var     variance of the Laplacian of the face, resized to 128 pixels wide
//   blur_score        100 / (100 + laplacian_var): 0 sharp, 1 no detail at all (BLURRY)
//   brightness_score  mean luma of the face / 255 (TOO_DARK, TOO_BRIGHT)
//   backlight_score   (mean luma around the face - mean luma of the face) / 255, 0 when the face
//                     is brighter (BACKLIT)
//   width, height     the image (LOW_RESOLUTION when the short side is below min_resolution)
// Without a face, brightness and blur are measured on the image's central half.
// Thread-safe (pure functions).
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "policy/policy.h"
#include "quality/face_detector.h"
#include "reasons/reason_code.h"

namespace vigil::quality {

struct FrameQuality {
  int face_count = 0;
  Face face;                 // the largest face, when face_count > 0
  double face_size = 0.0;
  double center_offset = 0.0;
  double laplacian_var = 0.0;
  double blur_score = 1.0;
  double brightness_score = 0.0;
  double backlight_score = 0.0;
  int width = 0;
  int height = 0;
  std::vector<ReasonCode> reasons;  // quality reasons this frame raises, in catalogue order
};

// Measures `bgr` given the faces found in it. `bgr` may also be the frame already in grey
// (cv::COLOR_BGR2GRAY): the measures are taken on grey, so the results are the same.
FrameQuality AssessFrame(const cv::Mat& bgr, const std::vector<Face>& faces, const QualityPolicy& policy);

// The largest face (by box area), or nullptr.
const Face* LargestFace(const std::vector<Face>& faces);

}  // namespace vigil::quality
