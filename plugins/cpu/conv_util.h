// Shared by the CPU plugin's windowed kernels (kernels_conv.cc,
// kernels_depthwise.cc, kernels_pool.cc, kernels_batch_norm.cc): the
// single-threaded GEMM the convolutions tile over the pool, per-thread scratch
// buffers, and the NHWC window geometry read from the ops' attributes.
#ifndef LOOM_PLUGINS_CPU_CONV_UTIL_H_
#define LOOM_PLUGINS_CPU_CONV_UTIL_H_

#include <algorithm>
#include <cstdint>
#include <string>

#include <Eigen/Core>

#include "kernel_util.h"

namespace loom_cpu {

using FloatOrDouble = TypeList<float, double>;

// 8 floats, loadable from any 4-byte-aligned address (the direct convolution
// and the max-pool gradient's vector loops).
typedef float F8 __attribute__((vector_size(32), aligned(4)));

// ---------------------------------------------------------------- GEMM

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMat<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using MutMap = Eigen::Map<RowMat<T>, 0, Eigen::OuterStride<>>;

// C[m, n] (+)= op(A) * op(B), row-major with leading dimensions; A is stored
// [m, k] (ta: [k, m]), B [k, n] (tb: [n, k]). Single-threaded: callers split
// the work over the pool.
template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
          const T* b, int64_t ldb, T* c, int64_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  MutMap<T> C(c, m, n, Eigen::OuterStride<>(ldc));
  if (k == 0) {
    if (!accumulate) C.setZero();
    return;
  }
  ConstMap<T> A(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  ConstMap<T> B(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  if (!ta && !tb) {
    if (accumulate) C.noalias() += A * B; else C.noalias() = A * B;
  } else if (!ta && tb) {
    if (accumulate) C.noalias() += A * B.transpose(); else C.noalias() = A * B.transpose();
  } else if (ta && !tb) {
    if (accumulate) C.noalias() += A.transpose() * B; else C.noalias() = A.transpose() * B;
  } else {
    if (accumulate) C.noalias() += A.transpose() * B.transpose();
    else C.noalias() = A.transpose() * B.transpose();
  }
}

// ---------------------------------------------------------------- scratch

// Per-thread scratch buffers, grown on demand and kept for the thread's life:
// the pool's threads are long-lived, so steady-state steps allocate nothing.
// `slot` (0 or 1) separates buffers one task needs at the same time.
void* ThreadScratch(int slot, size_t bytes);
// RESOURCE_EXHAUSTED for a scratch buffer that could not be allocated.
loom_status* ScratchFailed(size_t bytes);

// ---------------------------------------------------------------- attributes

// Windowed-op geometry in NHWC: input [n, h, w, c], window [kh, kw] with
// dilations, output [n, oh, ow, *], top/left padding.
struct Window {
  int64_t n = 0, h = 0, w = 0, c = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t oh = 0, ow = 0, pt = 0, pl = 0;
};

// UNIMPLEMENTED unless the data_format attr is NHWC (the default).
loom_status* RequireNhwc(const Kernel& k);
// Reads a 4-element NHWC attr (strides, ksize, dilations) into (h, w); the
// batch and depth entries must be 1.
loom_status* Read4(const Kernel& k, const char* name, int64_t* h, int64_t* w);
// Output size and leading padding of one spatial dim (TensorFlow's
// GetWindowedOutputSizeVerbose).
loom_status* OutputSize(int64_t in, int64_t k, int64_t dil, int64_t stride,
                        const std::string& padding, int64_t pad_before, int64_t pad_after,
                        int64_t* out, int64_t* pad);
// Fills the spatial part of `g` from attrs; g.n/h/w/c and g.kh/kw must be set.
// `dilations`: read the dilations attr (convolutions) or not (pooling).
loom_status* ReadWindowAttrs(const Kernel& k, bool dilations, Window* g);
loom_status* Require4D(const Tensor& t, const char* what);
// Reads a 4-element int32 shape input (input_sizes, filter_sizes, orig_input_shape).
loom_status* ReadSizes(const Tensor& t, const char* what, int64_t out[4]);

// ---------------------------------------------------------------- convolution geometry

struct Conv : Window {
  int64_t oc = 0;
  int64_t K() const { return kh * kw * c; }
  int64_t rows() const { return n * oh * ow; }
  bool pointwise() const {  // 1x1, stride 1, no padding: patches are the input
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0 && oh == h && ow == w;
  }
  // Output rows per tile: the patch tile stays within ~512 KiB (L2), at least
  // one output row's worth of work, at most a whole image.
  int64_t tile_rows(size_t esize) const {
    const int64_t budget = static_cast<int64_t>((512 * 1024) / esize);
    int64_t t = std::max<int64_t>(16, budget / std::max<int64_t>(1, K()));
    return std::min<int64_t>(t, std::max<int64_t>(1, oh * ow));
  }
  // Moves an output position (image, row, column) whose column may have just
  // reached ow on to the first column of the next row (or image).
  void Wrap(int64_t* img, int64_t* oy, int64_t* ox) const {
    if (*ox < ow) return;
    *ox = 0;
    if (++*oy == oh) {
      *oy = 0;
      ++*img;
    }
  }
};

// INVALID_ARGUMENT unless dy has the convolution's output shape [n, oh, ow, oc].
loom_status* CheckOutBackprop(const Conv& g, const Tensor& dy);

}  // namespace loom_cpu

#endif  // LOOM_PLUGINS_CPU_CONV_UTIL_H_
