// 3x3 depthwise convolution as an OpenCV DNN layer (see depthwise_conv.h).
#include "quality/depthwise_conv.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/dnn/all_layers.hpp>

namespace vigil::quality {
namespace {

// NCHW float, one 3x3 filter and a bias per channel, zero padding.
class DepthwiseConv3x3 final : public cv::dnn::Layer {
 public:
  DepthwiseConv3x3(const cv::dnn::LayerParams& params, int stride, int pad_top, int pad_left,
                   int pad_bottom, int pad_right)
      : cv::dnn::Layer(params),
        stride_(stride),
        pad_top_(pad_top),
        pad_left_(pad_left),
        pad_bottom_(pad_bottom),
        pad_right_(pad_right) {
    const int channels = blobs[0].size[0];
    weights_.assign(blobs[0].ptr<float>(), blobs[0].ptr<float>() + channels * 9);
    bias_.assign(static_cast<std::size_t>(channels), 0.0f);
    if (blobs.size() > 1 && blobs[1].total() == static_cast<std::size_t>(channels)) {
      const cv::Mat b = blobs[1].reshape(1, 1);
      for (int c = 0; c < channels; ++c) bias_[static_cast<std::size_t>(c)] = b.at<float>(0, c);
    }
  }

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, const int /*required_outputs*/,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>& /*internals*/) const override {
    CV_Assert(inputs.size() == 1 && inputs[0].size() == 4 &&
              inputs[0][1] == static_cast<int>(bias_.size()));
    cv::dnn::MatShape s = inputs[0];
    s[2] = (s[2] + pad_top_ + pad_bottom_ - 3) / stride_ + 1;
    s[3] = (s[3] + pad_left_ + pad_right_ - 3) / stride_ + 1;
    CV_Assert(s[2] > 0 && s[3] > 0);
    outputs.assign(1, s);
    return false;
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays /*internals*/) override {
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    const cv::Mat& in = inputs[0];
    cv::Mat& out = outputs[0];
    CV_Assert(in.type() == CV_32F && out.type() == CV_32F && in.isContinuous() &&
              out.isContinuous());
    const int n = in.size[0], channels = in.size[1], hi = in.size[2], wi = in.size[3];
    const int ho = out.size[2], wo = out.size[3];
    // One padded plane, reused: the borders stay zero, the inside is overwritten per channel.
    // Eight floats of slack after it: the stride-2 loads read up to two floats past a row's end
    // (into lanes that are not used).
    const int wp = wi + pad_left_ + pad_right_, hp = hi + pad_top_ + pad_bottom_;
    plane_.assign(static_cast<std::size_t>(wp) * hp + 8, 0.0f);
    for (int b = 0; b < n; ++b) {
      for (int c = 0; c < channels; ++c) {
        const float* src = in.ptr<float>(b, c);
        for (int y = 0; y < hi; ++y) {
          std::memcpy(&plane_[static_cast<std::size_t>(y + pad_top_) * wp + pad_left_],
                      src + static_cast<std::ptrdiff_t>(y) * wi,
                      sizeof(float) * static_cast<std::size_t>(wi));
        }
        Channel(&weights_[static_cast<std::size_t>(c) * 9], bias_[static_cast<std::size_t>(c)], wp,
                ho, wo, out.ptr<float>(b, c));
      }
    }
  }

 private:
  void Channel(const float* w, float bias, int wp, int ho, int wo, float* dst) const {
#if CV_SIMD128
    const cv::v_float32x4 vb = cv::v_setall_f32(bias);
    const cv::v_float32x4 k0 = cv::v_setall_f32(w[0]), k1 = cv::v_setall_f32(w[1]),
                          k2 = cv::v_setall_f32(w[2]);
    const cv::v_float32x4 k3 = cv::v_setall_f32(w[3]), k4 = cv::v_setall_f32(w[4]),
                          k5 = cv::v_setall_f32(w[5]);
    const cv::v_float32x4 k6 = cv::v_setall_f32(w[6]), k7 = cv::v_setall_f32(w[7]),
                          k8 = cv::v_setall_f32(w[8]);
#endif
    for (int y = 0; y < ho; ++y) {
      const float* r0 = &plane_[static_cast<std::size_t>(y) * stride_ * wp];
      const float* r1 = r0 + wp;
      const float* r2 = r1 + wp;
      float* o = dst + static_cast<std::ptrdiff_t>(y) * wo;
      int x = 0;
#if CV_SIMD128
      if (stride_ == 1) {
        for (; x + 4 <= wo; x += 4) {
          cv::v_float32x4 s = cv::v_muladd(cv::v_load(r0 + x), k0, vb);
          s = cv::v_muladd(cv::v_load(r0 + x + 1), k1, s);
          s = cv::v_muladd(cv::v_load(r0 + x + 2), k2, s);
          s = cv::v_muladd(cv::v_load(r1 + x), k3, s);
          s = cv::v_muladd(cv::v_load(r1 + x + 1), k4, s);
          s = cv::v_muladd(cv::v_load(r1 + x + 2), k5, s);
          s = cv::v_muladd(cv::v_load(r2 + x), k6, s);
          s = cv::v_muladd(cv::v_load(r2 + x + 1), k7, s);
          s = cv::v_muladd(cv::v_load(r2 + x + 2), k8, s);
          cv::v_store(o + x, s);
        }
      } else if (stride_ == 2) {
        // Input columns 2x, 2x+1, 2x+2 for four outputs: the even and odd lanes of 8 floats
        // from 2x, and the even lanes of 8 floats from 2x+2.
        for (; x + 4 <= wo; x += 4) {
          cv::v_float32x4 a0, a1, a2, b0, b1, b2, c0, c1, c2, unused;
          cv::v_load_deinterleave(r0 + 2 * x, a0, a1);
          cv::v_load_deinterleave(r0 + 2 * x + 2, a2, unused);
          cv::v_load_deinterleave(r1 + 2 * x, b0, b1);
          cv::v_load_deinterleave(r1 + 2 * x + 2, b2, unused);
          cv::v_load_deinterleave(r2 + 2 * x, c0, c1);
          cv::v_load_deinterleave(r2 + 2 * x + 2, c2, unused);
          cv::v_float32x4 s = cv::v_muladd(a0, k0, vb);
          s = cv::v_muladd(a1, k1, s);
          s = cv::v_muladd(a2, k2, s);
          s = cv::v_muladd(b0, k3, s);
          s = cv::v_muladd(b1, k4, s);
          s = cv::v_muladd(b2, k5, s);
          s = cv::v_muladd(c0, k6, s);
          s = cv::v_muladd(c1, k7, s);
          s = cv::v_muladd(c2, k8, s);
          cv::v_store(o + x, s);
        }
      }
#endif
      for (; x < wo; ++x) {
        const int xi = x * stride_;
        float s = bias;
        s += r0[xi] * w[0];
        s += r0[xi + 1] * w[1];
        s += r0[xi + 2] * w[2];
        s += r1[xi] * w[3];
        s += r1[xi + 1] * w[4];
        s += r1[xi + 2] * w[5];
        s += r2[xi] * w[6];
        s += r2[xi + 1] * w[7];
        s += r2[xi + 2] * w[8];
        o[x] = s;
      }
    }
  }

  int stride_, pad_top_, pad_left_, pad_bottom_, pad_right_;
  std::vector<float> weights_, bias_, plane_;
};

// The residual sum of equal-shaped inputs, with the ReLU that follows it fused (OpenCV 4.6's
// Eltwise takes about 0.8 ns an element here: a tenth of BlazeFace's forward pass for additions).
// The same additions in the same order, so the same floats.
class ResidualSum final : public cv::dnn::Layer {
 public:
  explicit ResidualSum(const cv::dnn::LayerParams& params) : cv::dnn::Layer(params) {}

  bool getMemoryShapes(const std::vector<cv::dnn::MatShape>& inputs, const int /*required_outputs*/,
                       std::vector<cv::dnn::MatShape>& outputs,
                       std::vector<cv::dnn::MatShape>& /*internals*/) const override {
    CV_Assert(inputs.size() >= 2);
    for (const auto& s : inputs) CV_Assert(s == inputs[0]);
    outputs.assign(1, inputs[0]);
    return false;
  }

  bool setActivation(const cv::Ptr<cv::dnn::ActivationLayer>& layer) override {
    const cv::Ptr<cv::dnn::ReLULayer> relu = layer.dynamicCast<cv::dnn::ReLULayer>();
    if (relu.empty() || relu->negativeSlope != 0.0f) return false;
    relu_ = true;
    return true;
  }

  void forward(cv::InputArrayOfArrays inputs_arr, cv::OutputArrayOfArrays outputs_arr,
               cv::OutputArrayOfArrays /*internals*/) override {
    std::vector<cv::Mat> inputs, outputs;
    inputs_arr.getMatVector(inputs);
    outputs_arr.getMatVector(outputs);
    cv::Mat& out = outputs[0];
    CV_Assert(out.type() == CV_32F && out.isContinuous());
    for (const cv::Mat& in : inputs) {
      CV_Assert(in.type() == CV_32F && in.isContinuous() && in.total() == out.total());
    }
    const int n = static_cast<int>(out.total());
    float* o = out.ptr<float>();
    const float* a = inputs[0].ptr<float>();
    const float* b = inputs[1].ptr<float>();
    const bool last = inputs.size() == 2;
    const bool relu = relu_ && last;
    int i = 0;
#if CV_SIMD128
    const cv::v_float32x4 zero = cv::v_setzero_f32();
    for (; i + 4 <= n; i += 4) {
      cv::v_float32x4 s = cv::v_load(a + i) + cv::v_load(b + i);
      if (relu) s = cv::v_max(s, zero);
      cv::v_store(o + i, s);
    }
#endif
    for (; i < n; ++i) {
      const float s = a[i] + b[i];
      o[i] = relu ? std::max(s, 0.0f) : s;
    }
    for (std::size_t k = 2; k < inputs.size(); ++k) {
      const float* c = inputs[k].ptr<float>();
      const bool r = relu_ && k + 1 == inputs.size();
      for (int j = 0; j < n; ++j) {
        const float s = o[j] + c[j];
        o[j] = r ? std::max(s, 0.0f) : s;
      }
    }
  }

 private:
  bool relu_ = false;
};

thread_local int t_replaced = 0;

bool IsPair(const std::vector<std::size_t>& v, std::size_t a, std::size_t b) {
  return v.size() == 2 && v[0] == a && v[1] == b;
}

cv::Ptr<cv::dnn::Layer> CreateConvolution(cv::dnn::LayerParams& params) {
  cv::Ptr<cv::dnn::BaseConvolutionLayer> conv = cv::dnn::ConvolutionLayer::create(params);
  const int group = params.get<int>("group", 1);
  const bool depthwise_3x3 =
      group > 1 && params.blobs.size() >= 1 && params.blobs[0].type() == CV_32F &&
      params.blobs[0].dims == 4 && params.blobs[0].size[0] == group &&
      params.blobs[0].size[1] == 1 && params.blobs[0].size[2] == 3 &&
      params.blobs[0].size[3] == 3 && conv->numOutput == group && conv->padMode.empty() &&
      IsPair(conv->kernel_size, 3, 3) && IsPair(conv->dilations, 1, 1) &&
      conv->strides.size() == 2 && conv->strides[0] == conv->strides[1] &&
      (conv->strides[0] == 1 || conv->strides[0] == 2) && conv->pads_begin.size() == 2 &&
      conv->pads_end.size() == 2 &&
      std::max({conv->pads_begin[0], conv->pads_begin[1], conv->pads_end[0], conv->pads_end[1]}) <=
          2;
  if (!depthwise_3x3) return conv;
  ++t_replaced;
  return cv::makePtr<DepthwiseConv3x3>(
      params, static_cast<int>(conv->strides[0]), static_cast<int>(conv->pads_begin[0]),
      static_cast<int>(conv->pads_begin[1]), static_cast<int>(conv->pads_end[0]),
      static_cast<int>(conv->pads_end[1]));
}

// A plain sum: no coefficients, no channel-mismatch modes (OpenCV's layer handles those).
cv::Ptr<cv::dnn::Layer> CreateEltwise(cv::dnn::LayerParams& params) {
  const std::string op = params.get<std::string>("operation", "sum");
  if ((op == "sum" || op == "SUM") && !params.has("coeff") && !params.has("output_channels_mode") &&
      params.blobs.empty()) {
    ++t_replaced;
    return cv::makePtr<ResidualSum>(params);
  }
  return cv::dnn::EltwiseLayer::create(params);
}

std::mutex g_scope_mutex;

}  // namespace

FastDepthwiseScope::FastDepthwiseScope() : lock_(g_scope_mutex) {
  t_replaced = 0;
  cv::dnn::LayerFactory::registerLayer("Convolution", CreateConvolution);
  cv::dnn::LayerFactory::registerLayer("Eltwise", CreateEltwise);
}

FastDepthwiseScope::~FastDepthwiseScope() {
  cv::dnn::LayerFactory::unregisterLayer("Eltwise");
  cv::dnn::LayerFactory::unregisterLayer("Convolution");
}

int FastDepthwiseScope::replaced() const { return t_replaced; }

cv::dnn::Net ReadOnnxWithFastDepthwise(const std::vector<std::uint8_t>& onnx, int* replaced) {
  FastDepthwiseScope scope;
  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx);
  if (replaced) *replaced = scope.replaced();
  return net;
}

}  // namespace vigil::quality
