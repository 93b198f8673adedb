// Out-of-line parts of conv_util.h.
#include "conv_util.h"

#include <cstdlib>
#include <vector>

namespace loom_cpu {

void* ThreadScratch(int slot, size_t bytes) {
  struct Buf {
    void* p = nullptr;
    size_t cap = 0;
    ~Buf() { std::free(p); }
  };
  thread_local Buf bufs[2];
  Buf& b = bufs[slot];
  if (bytes > b.cap) {
    std::free(b.p);
    b.cap = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, b.cap);
    if (b.p == nullptr) b.cap = 0;
  }
  return b.p;
}

loom_status* ScratchFailed(size_t bytes) {
  return Error(LOOM_CODE_RESOURCE_EXHAUSTED,
               StrCat("out of memory allocating ", bytes, " bytes of convolution scratch"));
}

loom_status* RequireNhwc(const Kernel& k) {
  std::string fmt;
  LOOM_RETURN_IF_ERROR(k.attr_string("data_format", &fmt, "NHWC"));
  if (fmt != "NHWC") {
    return Error(LOOM_CODE_UNIMPLEMENTED,
                 StrCat("the CPU kernel supports data_format NHWC only, got ", fmt,
                        " (transpose the input to NHWC)"));
  }
  return nullptr;
}

// Reads a 4-element NHWC attr (strides, ksize, dilations) into (h, w); the
// batch and depth entries must be 1.
loom_status* Read4(const Kernel& k, const char* name, int64_t* h, int64_t* w) {
  std::vector<int64_t> v;
  LOOM_RETURN_IF_ERROR(k.attr_list(name, &v));
  if (v.empty()) v = {1, 1, 1, 1};
  if (v.size() != 4) {
    return InvalidArgument(name, " must have 4 elements, but has ", v.size());
  }
  for (int64_t x : v) {
    if (x < 1) return InvalidArgument(name, " must be >= 1 in every dimension, got ", x);
  }
  if (v[0] != 1 || v[3] != 1) {
    return InvalidArgument(name, " in the batch and depth dimensions must be 1, got [", v[0],
                           ",", v[1], ",", v[2], ",", v[3], "]");
  }
  *h = v[1];
  *w = v[2];
  return nullptr;
}

// Output size and leading padding of one spatial dim (TensorFlow's
// GetWindowedOutputSizeVerbose).
loom_status* OutputSize(int64_t in, int64_t k, int64_t dil, int64_t stride,
                        const std::string& padding, int64_t pad_before, int64_t pad_after,
                        int64_t* out, int64_t* pad) {
  const int64_t eff = (k - 1) * dil + 1;
  if (padding == "VALID") {
    *out = (in - eff + stride) / stride;
    *pad = 0;
  } else if (padding == "SAME") {
    *out = (in + stride - 1) / stride;
    const int64_t needed = std::max<int64_t>(0, (*out - 1) * stride + eff - in);
    *pad = needed / 2;
  } else if (padding == "EXPLICIT") {
    *out = (in + pad_before + pad_after - eff) / stride + 1;
    *pad = pad_before;
  } else {
    return InvalidArgument("padding must be SAME, VALID or EXPLICIT, got '", padding, "'");
  }
  if (*out < 0 || (padding == "VALID" && in < eff)) {
    return InvalidArgument("computed output size would be negative: input size ", in,
                           ", effective window size ", eff, ", stride ", stride, ", padding ",
                           padding);
  }
  return nullptr;
}

// Fills the spatial part of `g` from attrs; g.n/h/w/c and g.kh/kw must be set.
// `dilations`: read the dilations attr (convolutions) or not (pooling).
loom_status* ReadWindowAttrs(const Kernel& k, bool dilations, Window* g) {
  LOOM_RETURN_IF_ERROR(RequireNhwc(k));
  LOOM_RETURN_IF_ERROR(Read4(k, "strides", &g->sh, &g->sw));
  if (dilations) LOOM_RETURN_IF_ERROR(Read4(k, "dilations", &g->dh, &g->dw));
  std::string padding;
  LOOM_RETURN_IF_ERROR(k.attr_string("padding", &padding, "VALID"));
  std::vector<int64_t> ep;
  if (padding == "EXPLICIT") {
    LOOM_RETURN_IF_ERROR(k.attr_list("explicit_paddings", &ep));
    if (ep.size() != 8) {
      return InvalidArgument("explicit_paddings must have 8 elements for padding EXPLICIT, "
                             "got ", ep.size());
    }
    for (int64_t x : ep) {
      if (x < 0) return InvalidArgument("explicit_paddings must be non-negative, got ", x);
    }
    if (ep[0] || ep[1] || ep[6] || ep[7]) {
      return InvalidArgument("explicit_paddings may pad only the spatial dimensions");
    }
  } else {
    ep.assign(8, 0);
  }
  LOOM_RETURN_IF_ERROR(
      OutputSize(g->h, g->kh, g->dh, g->sh, padding, ep[2], ep[3], &g->oh, &g->pt));
  LOOM_RETURN_IF_ERROR(
      OutputSize(g->w, g->kw, g->dw, g->sw, padding, ep[4], ep[5], &g->ow, &g->pl));
  return nullptr;
}

loom_status* Require4D(const Tensor& t, const char* what) {
  if (t.rank != 4) {
    return InvalidArgument(what, " must be 4-dimensional (NHWC), but has shape ", t.shape_str());
  }
  return nullptr;
}

// Reads a 4-element int32 shape input (input_sizes, filter_sizes, orig_input_shape).
loom_status* ReadSizes(const Tensor& t, const char* what, int64_t out[4]) {
  std::vector<int64_t> v;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(t, what, &v));
  if (v.size() != 4) {
    return InvalidArgument(what, " must hold 4 values (a 4-D shape), but holds ", v.size());
  }
  for (int i = 0; i < 4; ++i) {
    if (v[i] < 0) return InvalidArgument(what, " must be non-negative, got ", v[i]);
    out[i] = v[i];
  }
  return nullptr;
}

loom_status* CheckOutBackprop(const Conv& g, const Tensor& dy) {
  LOOM_RETURN_IF_ERROR(Require4D(dy, "out_backprop"));
  const int64_t want[4] = {g.n, g.oh, g.ow, g.oc};
  for (int i = 0; i < 4; ++i) {
    if (dy.dim(i) != want[i]) {
      return InvalidArgument("out_backprop has shape ", dy.shape_str(), " but the convolution's "
                             "output has shape ", ShapeString(want, 4));
    }
  }
  return nullptr;
}

}  // namespace loom_cpu
