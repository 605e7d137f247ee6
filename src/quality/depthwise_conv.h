// BlazeFace's 3x3 depthwise convolutions and residual sums, computed here instead of by
// OpenCV DNN.
//
// OpenCV 4.6's CPU path (Debian bookworm's libopencv-dnn406) is slow on the small feature maps of
// BlazeFace: a 3x3 depthwise convolution over 16x16x80 takes about 0.18 ms on one core, over 30x
// its arithmetic, and the 16 of them were about 40% of a forward pass (per-layer profile,
// bench/RESULTS.md). ReadOnnxWithFastDepthwise imports a model with OpenCV's ONNX importer but
// builds every 3x3, dilation-1, group == channels convolution with our own layer (SIMD rows,
// stride 1 or 2, padding up to 2); every other layer stays OpenCV's. Outputs agree with OpenCV's
// to float rounding (the nine products are summed in another order), about 1e-6 relative:
// tests/liveness/depthwise_test.cc. Likewise every plain "Eltwise" sum (ONNX Add of equal shapes,
// BlazeFace's 16 residual additions) is our SIMD loop with the ReLU after it fused: OpenCV's took
// a tenth of the forward pass. Those are the same additions, so the same floats.
//
// How: OpenCV creates a network's layers while it imports the model, through its LayerFactory,
// which keeps a stack of constructors per layer type. The import runs with our "Convolution"
// constructor pushed on that stack (it hands every other convolution to OpenCV's own
// ConvolutionLayer::create) and popped right after, under a process-wide mutex. A network another
// thread imports at that moment may get our layer for its 3x3 depthwise convolutions too: it
// computes the same thing.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include <opencv2/dnn.hpp>

namespace vigil::quality {

// While it lives, the layers OpenCV creates for "Convolution" are ours when they are 3x3
// depthwise, and those for "Eltwise" when they are plain sums. OpenCV creates an imported model's layers during the import; a network
// built through the API creates them at its first forward(). One scope at a time in the process.
class FastDepthwiseScope {
 public:
  FastDepthwiseScope();
  ~FastDepthwiseScope();
  FastDepthwiseScope(const FastDepthwiseScope&) = delete;
  FastDepthwiseScope& operator=(const FastDepthwiseScope&) = delete;
  int replaced() const;  // layers built as ours so far on this thread

 private:
  std::unique_lock<std::mutex> lock_;
};

// Imports an ONNX model in a FastDepthwiseScope; `replaced` (optional) receives how many
// layers are ours. Throws cv::Exception as cv::dnn::readNetFromONNX does.
cv::dnn::Net ReadOnnxWithFastDepthwise(const std::vector<std::uint8_t>& onnx,
                                       int* replaced = nullptr);

}  // namespace vigil::quality
