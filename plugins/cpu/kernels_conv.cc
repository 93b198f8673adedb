// Convolution, pooling and batch-normalisation kernels (NHWC):
// Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, DepthwiseConv2dNative
// (+ both backprops), MaxPool, MaxPoolGrad,
// MaxPoolGradGrad, AvgPool, AvgPoolGrad, FusedBatchNorm{,V2,V3} and
// FusedBatchNormGrad{,V2,V3}.
//
// Convolutions are im2col + GEMM. The flattened output rows (n, oy, ox) are
// cut into tiles whose patch matrix (tile rows x KH*KW*C) fits in L2; each
// tile is one unit of the intra-op pool: gather its patches into a per-thread
// scratch buffer (reused across steps, never allocated per step once warm),
// then one single-threaded GEMM against the filter, which in HWIO layout
// already is the [KH*KW*C, OC] matrix. 1x1 stride-1 unpadded convolutions skip
// the gather, and small patches (K <= 32, e.g. a first layer on 1-channel
// images) use a direct kernel with register accumulators instead. The
// backprops are the same two products transposed:
//   input:  dPatches = dY * W^T, scattered back (col2im) per image;
//   filter: dW = sum over tiles of Patches^T * dY, one partial per thread.
// See bench/README.md for the GEMM choice (Eigen's, measured against
// OpenBLAS and oneDNN on the development machine) and the numbers.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "kernels.h"
#include "kernels_conv.h"
#include "panel_gemm.h"

namespace loom_cpu {
namespace {

using FloatOrDouble = TypeList<float, double>;

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
// `slot` separates buffers one task needs at the same time.
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

// ---------------------------------------------------------------- attributes

// Windowed-op geometry in NHWC: input [n, h, w, c], window [kh, kw] with
// dilations, output [n, oh, ow, *], top/left padding.
struct Window {
  int64_t n = 0, h = 0, w = 0, c = 0;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t oh = 0, ow = 0, pt = 0, pl = 0;
};

loom_status* RequireNhwc(const Kernel& k) {
  std::string fmt;
  LOOM_CPU_RETURN_IF_ERROR(k.attr_string("data_format", &fmt, "NHWC"));
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
  LOOM_CPU_RETURN_IF_ERROR(k.attr_list(name, &v));
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
  LOOM_CPU_RETURN_IF_ERROR(RequireNhwc(k));
  LOOM_CPU_RETURN_IF_ERROR(Read4(k, "strides", &g->sh, &g->sw));
  if (dilations) LOOM_CPU_RETURN_IF_ERROR(Read4(k, "dilations", &g->dh, &g->dw));
  std::string padding;
  LOOM_CPU_RETURN_IF_ERROR(k.attr_string("padding", &padding, "VALID"));
  std::vector<int64_t> ep;
  if (padding == "EXPLICIT") {
    LOOM_CPU_RETURN_IF_ERROR(k.attr_list("explicit_paddings", &ep));
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
  LOOM_CPU_RETURN_IF_ERROR(
      OutputSize(g->h, g->kh, g->dh, g->sh, padding, ep[2], ep[3], &g->oh, &g->pt));
  LOOM_CPU_RETURN_IF_ERROR(
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
  LOOM_CPU_RETURN_IF_ERROR(ReadIndexVector(t, what, &v));
  if (v.size() != 4) {
    return InvalidArgument(what, " must hold 4 values (a 4-D shape), but holds ", v.size());
  }
  for (int i = 0; i < 4; ++i) {
    if (v[i] < 0) return InvalidArgument(what, " must be non-negative, got ", v[i]);
    out[i] = v[i];
  }
  return nullptr;
}

// ---------------------------------------------------------------- convolution

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

// Builds the Conv geometry from input [n,h,w,c] and filter [kh,kw,c,oc] dims.
loom_status* MakeConv(const Kernel& k, const int64_t in[4], const int64_t f[4], Conv* g) {
  LOOM_CPU_RETURN_IF_ERROR(RequireNhwc(k));  // before reading dims in NHWC order
  g->n = in[0];
  g->h = in[1];
  g->w = in[2];
  g->c = in[3];
  g->kh = f[0];
  g->kw = f[1];
  g->oc = f[3];
  if (f[2] != in[3]) {
    return InvalidArgument("input depth ", in[3], " must equal the filter's input depth ", f[2],
                           " (input ", ShapeString(in, 4), ", filter ", ShapeString(f, 4),
                           "; grouped convolutions are not supported)");
  }
  if (f[0] < 1 || f[1] < 1) {
    return InvalidArgument("filter spatial dims must be >= 1, got filter ", ShapeString(f, 4));
  }
  return ReadWindowAttrs(k, /*dilations=*/true, g);
}

// Gathers the patches of output rows [r0, r1) into col[(r - r0) * K + ...].
template <typename T>
void Im2Col(const Conv& g, const T* x, int64_t r0, int64_t r1, T* col) {
  const int64_t K = g.K(), C = g.c;
  int64_t ox = r0 % g.ow, t = r0 / g.ow, oy = t % g.oh, n = t / g.oh;
  for (int64_t r = r0; r < r1; ++r) {
    T* dst = col + (r - r0) * K;
    const T* img = x + n * g.h * g.w * C;
    const int64_t iy0 = oy * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = iy0 + ky * g.dh;
      if (iy < 0 || iy >= g.h) {
        std::fill(dst, dst + g.kw * C, T(0));
        dst += g.kw * C;
        continue;
      }
      const T* row = img + iy * g.w * C;
      if (g.dw == 1 && ix0 >= 0 && ix0 + g.kw <= g.w) {  // the whole window row is inside
        std::copy(row + ix0 * C, row + (ix0 + g.kw) * C, dst);
        dst += g.kw * C;
        continue;
      }
      for (int64_t kx = 0; kx < g.kw; ++kx, dst += C) {
        const int64_t ix = ix0 + kx * g.dw;
        if (ix < 0 || ix >= g.w) {
          std::fill(dst, dst + C, T(0));
        } else {
          std::copy(row + ix * C, row + ix * C + C, dst);
        }
      }
    }
    ++ox;
    g.Wrap(&n, &oy, &ox);
  }
}

// The inverse gather: dx[...] += col for output rows [r0, r1), all of image n.
template <typename T>
void Col2Im(const Conv& g, const T* col, int64_t r0, int64_t r1, T* dx_img) {
  const int64_t K = g.K(), C = g.c;
  int64_t ox = r0 % g.ow, oy = (r0 / g.ow) % g.oh;
  for (int64_t r = r0; r < r1; ++r) {
    const T* src = col + (r - r0) * K;
    const int64_t iy0 = oy * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = iy0 + ky * g.dh;
      if (iy < 0 || iy >= g.h) {
        src += g.kw * C;
        continue;
      }
      T* row = dx_img + iy * g.w * C;
      for (int64_t kx = 0; kx < g.kw; ++kx, src += C) {
        const int64_t ix = ix0 + kx * g.dw;
        if (ix < 0 || ix >= g.w) continue;
        T* d = row + ix * C;
        for (int64_t ci = 0; ci < C; ++ci) d[ci] += src[ci];
      }
    }
    if (++ox == g.ow) {
      ox = 0;
      ++oy;
    }
  }
}

// Direct convolution for small patches (K = kh*kw*c <= kDirectMaxK, e.g. a
// first layer on 1-channel images), where a GEMM with a tiny inner dimension
// spends its time loading and storing C: per output pixel, the in-bounds taps
// accumulate into 8-32 output channels held in registers. Padding taps are
// skipped instead of multiplied by zero, and no patch matrix is built.
constexpr int64_t kDirectMaxK = 32;

// 8 floats, loadable from any 4-byte-aligned address.
typedef float F8 __attribute__((vector_size(32), aligned(4)));

// kVecs * 8 output channels per pass; the accumulators are named variables
// so the compiler keeps them in registers (an array of them it spills).
template <int kVecs>
void DirectConvRows(const Conv& g, const float* x, const float* w, float* y, int64_t r0,
                    int64_t r1) {
  static_assert(kVecs == 1 || kVecs == 2 || kVecs == 4, "1, 2 or 4 vectors");
  const int64_t C = g.c, OC = g.oc;
  int64_t ox = r0 % g.ow, t = r0 / g.ow, oy = t % g.oh, n = t / g.oh;
  for (int64_t r = r0; r < r1; ++r) {
    const float* img = x + n * g.h * g.w * C;
    const int64_t iy0 = oy * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
    for (int64_t ob = 0; ob < OC; ob += 8 * kVecs) {
      F8 a0 = {}, a1 = {}, a2 = {}, a3 = {};
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = iy0 + ky * g.dh;
        if (iy < 0 || iy >= g.h) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ix = ix0 + kx * g.dw;
          if (ix < 0 || ix >= g.w) continue;
          const float* xp = img + (iy * g.w + ix) * C;
          const float* wp = w + (ky * g.kw + kx) * C * OC + ob;
          for (int64_t ci = 0; ci < C; ++ci, wp += OC) {
            const float xv = xp[ci];
            const F8* wv = reinterpret_cast<const F8*>(wp);
            a0 += xv * wv[0];
            if (kVecs > 1) a1 += xv * wv[1];
            if (kVecs > 2) {
              a2 += xv * wv[2];
              a3 += xv * wv[3];
            }
          }
        }
      }
      F8* out = reinterpret_cast<F8*>(y + r * OC + ob);
      out[0] = a0;
      if (kVecs > 1) out[1] = a1;
      if (kVecs > 2) {
        out[2] = a2;
        out[3] = a3;
      }
    }
    ++ox;
    g.Wrap(&n, &oy, &ox);
  }
}

// Runs DirectConvRows (float) with the widest channel block that divides oc;
// false otherwise (the caller falls back to im2col + GEMM).
template <typename T>
bool DirectConv(const Kernel& k, const Conv& g, const T* x, const T* w, T* y) {
  if constexpr (!std::is_same_v<T, float>) {
    return false;
  } else {
  void (*rows)(const Conv&, const float*, const float*, float*, int64_t, int64_t) = nullptr;
  if (g.oc % 32 == 0) rows = DirectConvRows<4>;
  else if (g.oc % 16 == 0) rows = DirectConvRows<2>;
  else if (g.oc % 8 == 0) rows = DirectConvRows<1>;
  else return false;
  const int64_t R = g.rows(), tile = 256;
  k.parallel_for((R + tile - 1) / tile, 2 * tile * g.K() * g.oc, [&](int64_t b, int64_t e) {
    rows(g, x, w, y, b * tile, std::min(R, e * tile));
  });
  return true;
  }
}

// The filter of a float convolution packed once per op into PanelGemm's
// panels (16 columns of `n` each): `packed` receives k * n floats; element
// (kk, j) of the [k, n] matrix is w[kk * k_stride + j * n_stride]. False
// (nothing packed) for double or when n is not a multiple of 16: the caller
// then uses Eigen.
template <typename T>
loom_status* PackFilter(const Kernel& k, const T* w, int64_t kd, int64_t n, int64_t k_stride,
                        int64_t n_stride, Tensor* packed, bool* ok) {
  *ok = false;
  if constexpr (std::is_same_v<T, float>) {
    if (n % kPanelWidth != 0 || kd == 0) return nullptr;
    Dims d;
    d.push_back(kd * n);
    LOOM_CPU_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, packed));
    PackPanels(kd, n, w, k_stride, n_stride, packed->as<float>());
    *ok = true;
  }
  return nullptr;
}

// out[rows, n] = a[rows, kd] (row-major, leading dim kd) * B[kd, n]: on the
// packed panels when `panels`, else Eigen with B = b (row-major [kd, n], or
// [n, kd] when tb).
template <typename T>
void TileGemm(bool panels, const Tensor& packed, int64_t rows, int64_t n, int64_t kd, const T* a,
              const T* b, bool tb, T* out) {
  if constexpr (std::is_same_v<T, float>) {
    if (panels) {
      PanelGemm(rows, n, kd, PanelA{a, kd, 1}, PackedPanels(packed.as<const float>(), kd), out,
                n, false);
      return;
    }
  }
  Gemm<T>(false, tb, rows, n, kd, a, kd, b, tb ? kd : n, out, n, false);
}

// y[rows, oc] = patches(x) * w[K, oc], tiles of rows over the pool.
template <typename T>
loom_status* ConvForward(const Kernel& k, const Conv& g, const T* x, const T* w, T* y) {
  const int64_t R = g.rows(), K = g.K();
  if (R == 0 || g.oc == 0) return nullptr;
  if (K == 0) {
    std::fill(y, y + R * g.oc, T(0));
    return nullptr;
  }
  if (!g.pointwise() && K <= kDirectMaxK && DirectConv<T>(k, g, x, w, y)) return nullptr;
  Tensor packed;
  bool panels = false;
  LOOM_CPU_RETURN_IF_ERROR(PackFilter<T>(k, w, K, g.oc, g.oc, 1, &packed, &panels));
  if (g.pointwise()) {
    const int64_t tile = 256;
    k.parallel_for((R + tile - 1) / tile, 2 * tile * K * g.oc, [&](int64_t b, int64_t e) {
      const int64_t r0 = b * tile, r1 = std::min(R, e * tile);
      TileGemm<T>(panels, packed, r1 - r0, g.oc, K, x + r0 * K, w, false, y + r0 * g.oc);
    });
    return nullptr;
  }
  const int64_t tile = g.tile_rows(sizeof(T));
  const int64_t tiles = (R + tile - 1) / tile;
  std::atomic<bool> oom{false};
  k.parallel_for(tiles, 2 * tile * K * g.oc + tile * K, [&](int64_t b, int64_t e) {
    T* col = static_cast<T*>(ThreadScratch(0, static_cast<size_t>(tile * K) * sizeof(T)));
    if (col == nullptr) {
      oom = true;
      return;
    }
    for (int64_t t = b; t < e; ++t) {
      const int64_t r0 = t * tile, r1 = std::min(R, r0 + tile);
      Im2Col(g, x, r0, r1, col);
      TileGemm<T>(panels, packed, r1 - r0, g.oc, K, col, w, false, y + r0 * g.oc);
    }
  });
  if (oom) return ScratchFailed(static_cast<size_t>(tile * K) * sizeof(T));
  return nullptr;
}

// dx = col2im(dy * w^T), image by image (scatters stay within an image).
template <typename T>
loom_status* ConvBackpropInput(const Kernel& k, const Conv& g, const T* w, const T* dy, T* dx) {
  const int64_t K = g.K(), per_img = g.oh * g.ow, img = g.h * g.w * g.c;
  if (g.n * img == 0) return nullptr;
  // B = w^T [oc, K]: element (o, j) is w[j * oc + o].
  Tensor packed;
  bool panels = false;
  LOOM_CPU_RETURN_IF_ERROR(PackFilter<T>(k, w, g.oc, K, 1, g.oc, &packed, &panels));
  if (g.pointwise()) {
    const int64_t R = g.rows(), tile = 256;
    k.parallel_for((R + tile - 1) / tile, 2 * tile * K * g.oc, [&](int64_t b, int64_t e) {
      const int64_t r0 = b * tile, r1 = std::min(R, e * tile);
      TileGemm<T>(panels, packed, r1 - r0, K, g.oc, dy + r0 * g.oc, w, true, dx + r0 * K);
    });
    return nullptr;
  }
  // Even tiles within an image (196 rows: 2 x 98, not 163 + 33).
  const int64_t max_tile = g.tile_rows(sizeof(T));
  const int64_t tile = (per_img + (per_img + max_tile - 1) / max_tile - 1) /
                       ((per_img + max_tile - 1) / max_tile);
  std::atomic<bool> oom{false};
  k.parallel_for(g.n, 2 * per_img * K * g.oc + img, [&](int64_t b, int64_t e) {
    T* col = static_cast<T*>(ThreadScratch(0, static_cast<size_t>(tile * K) * sizeof(T)));
    if (col == nullptr) {
      oom = true;
      return;
    }
    for (int64_t n = b; n < e; ++n) {
      T* dxi = dx + n * img;
      std::fill(dxi, dxi + img, T(0));
      for (int64_t r0 = 0; r0 < per_img; r0 += tile) {
        const int64_t r1 = std::min(per_img, r0 + tile);
        const int64_t gr = n * per_img + r0;
        TileGemm<T>(panels, packed, r1 - r0, K, g.oc, dy + gr * g.oc, w, true, col);
        Col2Im(g, col, r0, r1, dxi);
      }
    }
  });
  if (oom) return ScratchFailed(static_cast<size_t>(tile * K) * sizeof(T));
  return nullptr;
}

// Im2Col into PanelGemm's B layout: the patches of output rows [r0, r1) as
// panels of 16 of the K columns, dst[(p * (r1 - r0) + r) * 16 + j] =
// patch(r0 + r)[16 p + j]. Needs c % 16 == 0: a panel is then 16 channels of
// one tap, one contiguous 64-byte copy from x (or zeros in the padding).
void Im2ColPanels(const Conv& g, const float* x, int64_t r0, int64_t r1, float* dst) {
  static_assert(kPanelWidth == 16, "a panel row is two F8 vectors");
  const int64_t C = g.c, rows = r1 - r0, per_tap = C / kPanelWidth, taps = g.kh * g.kw;
  int64_t ox = r0 % g.ow, t = r0 / g.ow, oy = t % g.oh, n = t / g.oh;
  // Runs of rows within one output image row share the input row of each tap.
  for (int64_t r = 0; r < rows;) {
    const int64_t run = std::min(rows - r, g.ow - ox);
    for (int64_t tap = 0; tap < taps; ++tap) {
      const int64_t ky = tap / g.kw, kx = tap % g.kw;
      const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
      const bool row_in = iy >= 0 && iy < g.h;
      const float* xrow = x + (n * g.h + (row_in ? iy : 0)) * g.w * C;
      for (int64_t q = 0; q < per_tap; ++q) {
        F8* d = reinterpret_cast<F8*>(dst + ((tap * per_tap + q) * rows + r) * kPanelWidth);
        for (int64_t j = 0; j < run; ++j, d += 2) {
          const int64_t ix = (ox + j) * g.sw - g.pl + kx * g.dw;
          if (!row_in || ix < 0 || ix >= g.w) {
            d[0] = F8{};
            d[1] = F8{};
          } else {
            const F8* in = reinterpret_cast<const F8*>(xrow + ix * C + q * kPanelWidth);
            d[0] = in[0];
            d[1] = in[1];
          }
        }
      }
    }
    r += run;
    ox += run;
    g.Wrap(&n, &oy, &ox);
  }
}

// Float backprop filter with c % 16 == 0, on PanelGemm: per part,
// dw^T[oc, K] += dy^T[oc, rows] * patches[rows, K] over its tiles, with the
// patches gathered straight into panels and dy^T (small) packed into row
// strips; the parts' transposed partials are summed into dw at the end.
loom_status* ConvBackpropFilterPanels(const Kernel& k, const Conv& g, const float* x,
                                      const float* dy, float* dw) {
  const int64_t R = g.rows(), K = g.K(), KO = K * g.oc;
  // Tiles of at most 96 rows: the gathered panels (~300 KiB at K = 800) stay
  // in L2 for the product that reads them once.
  const int64_t tile = std::min<int64_t>(96, g.tile_rows(sizeof(float)));
  const int64_t tiles = (R + tile - 1) / tile;
  // Up to 4 parts per thread, so the pool's dynamic claiming can even out
  // threads that run at different speeds (each part: its own partial sum).
  const int64_t parts =
      std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(4 * k.num_threads(), tiles),
                                             2 * R * KO / (4 * kInlineCostCycles) + 1));
  Tensor partials;
  Dims d;
  d.push_back(parts);
  d.push_back(KO);
  LOOM_CPU_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, &partials));
  std::atomic<bool> oom{false};
  const int64_t strip_floats = (g.oc + kStripRows - 1) / kStripRows * kStripRows * tile;
  k.parallel_for(parts, std::numeric_limits<int32_t>::max(), [&](int64_t b, int64_t e) {
    float* col = static_cast<float*>(ThreadScratch(0, static_cast<size_t>(tile * K) * 4));
    float* dyt = static_cast<float*>(ThreadScratch(1, static_cast<size_t>(strip_floats) * 4));
    if (col == nullptr || dyt == nullptr) {
      oom = true;
      return;
    }
    for (int64_t p = b; p < e; ++p) {
      float* acc = partials.as<float>() + p * KO;
      const int64_t t0 = tiles * p / parts, t1 = tiles * (p + 1) / parts;
      if (t0 == t1) std::fill(acc, acc + KO, 0.0f);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r0 = t * tile, r1 = std::min(R, r0 + tile);
        Im2ColPanels(g, x, r0, r1, col);
        PackRowStrips(g.oc, r1 - r0, dy + r0 * g.oc, 1, g.oc, dyt);  // dy^T
        PanelGemm(g.oc, K, r1 - r0, PanelA{dyt, 0, 0, true},
                  PanelB{col, kPanelWidth, kPanelWidth * (r1 - r0)}, acc, K, t > t0);
      }
    }
  });
  if (oom) return ScratchFailed(static_cast<size_t>(tile * K) * 4);
  const float* part = partials.as<const float>();
  k.parallel_for(K, parts * g.oc * 2 + 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int64_t o = 0; o < g.oc; ++o) {
        float sum = part[o * K + i];
        for (int64_t p = 1; p < parts; ++p) sum += part[p * KO + o * K + i];
        dw[i * g.oc + o] = sum;
      }
  });
  return nullptr;
}

// The patches of output rows [r0, r1), transposed into PanelA strips of 6
// of the K patch positions: dst[(i / 6) * 6 * rows + r * 6 + i % 6] =
// patch(r0 + r)[i]. Gathers element by element (cheap next to the product
// when K is small, where a row-wise Im2Col copies a few floats per call);
// `tap_dy/tap_dx/tap_off` give each patch position's offsets (rows, columns,
// and elements from the window's top-left input element).
void Im2ColStrips(const Conv& g, const float* x, int64_t r0, int64_t r1, const int64_t* tap_dy,
                  const int64_t* tap_dx, const int64_t* tap_off, float* dst) {
  const int64_t K = g.K(), C = g.c, rows = r1 - r0;
  const int64_t span_y = (g.kh - 1) * g.dh, span_x = (g.kw - 1) * g.dw;
  int64_t ox = r0 % g.ow, t = r0 / g.ow, oy = t % g.oh, n = t / g.oh;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t iy0 = oy * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
    const float* img = x + n * g.h * g.w * C;
    float* row = dst + r * kStripRows;  // strip 0 of row r; the next strip is 6 * rows on
    const bool inside = iy0 >= 0 && iy0 + span_y < g.h && ix0 >= 0 && ix0 + span_x < g.w;
    const int64_t base = (iy0 * g.w + ix0) * C;  // may be negative: only in-bounds sums are read
    for (int64_t i0 = 0; i0 < K; i0 += kStripRows, row += kStripRows * rows) {
      const int64_t n_i = std::min(kStripRows, K - i0);
      if (inside) {
        for (int64_t j = 0; j < n_i; ++j) row[j] = img[base + tap_off[i0 + j]];
      } else {
        for (int64_t j = 0; j < n_i; ++j) {
          const int64_t iy = iy0 + tap_dy[i0 + j], ix = ix0 + tap_dx[i0 + j];
          const bool in = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
          row[j] = in ? img[base + tap_off[i0 + j]] : 0.0f;
        }
      }
    }
    ++ox;
    g.Wrap(&n, &oy, &ox);
  }
}

// Float backprop filter with oc % 16 == 0 (any c, e.g. the first layer's
// 5x5x1, where K = 25 makes Eigen's GEMM mostly packing): per part,
// dw[K, oc] += patches^T[K, rows] * dy[rows, oc] over its tiles of at most
// 256 rows, patches^T gathered straight into 6-row strips and dy read in
// place as the panels; the parts' partials are summed
// into dw at the end.
loom_status* ConvBackpropFilterStrips(const Kernel& k, const Conv& g, const float* x,
                                      const float* dy, float* dw) {
  const int64_t R = g.rows(), K = g.K(), KO = K * g.oc;
  const int64_t tile = std::min<int64_t>(256, g.pointwise() ? 256 : g.tile_rows(sizeof(float)));
  const int64_t tiles = (R + tile - 1) / tile;
  const int64_t parts =
      std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(4 * k.num_threads(), tiles),
                                             2 * R * KO / (4 * kInlineCostCycles) + 1));
  Tensor partials;
  Dims d;
  d.push_back(parts);
  d.push_back(KO);
  LOOM_CPU_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, &partials));
  const int64_t strip_floats = (K + kStripRows - 1) / kStripRows * kStripRows * tile;
  // Each patch position's offsets from its window's top-left input element.
  std::vector<int64_t> tap_dy(static_cast<size_t>(K)), tap_dx(tap_dy.size()),
      tap_off(tap_dy.size());
  for (int64_t i = 0; i < K; ++i) {
    const int64_t tap = i / g.c;
    tap_dy[i] = (tap / g.kw) * g.dh;
    tap_dx[i] = (tap % g.kw) * g.dw;
    tap_off[i] = (tap_dy[i] * g.w + tap_dx[i]) * g.c + i % g.c;
  }
  std::atomic<bool> oom{false};
  k.parallel_for(parts, std::numeric_limits<int32_t>::max(), [&](int64_t b, int64_t e) {
    float* strips = static_cast<float*>(ThreadScratch(1, static_cast<size_t>(strip_floats) * 4));
    if (strips == nullptr) {
      oom = true;
      return;
    }
    for (int64_t p = b; p < e; ++p) {
      float* acc = partials.as<float>() + p * KO;
      const int64_t t0 = tiles * p / parts, t1 = tiles * (p + 1) / parts;
      if (t0 == t1) std::fill(acc, acc + KO, 0.0f);
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r0 = t * tile, r1 = std::min(R, r0 + tile);
        if (g.pointwise()) {
          PackRowStrips(K, r1 - r0, x + r0 * K, 1, K, strips);  // x^T
        } else {
          Im2ColStrips(g, x, r0, r1, tap_dy.data(), tap_dx.data(), tap_off.data(), strips);
        }
        PanelGemm(K, g.oc, r1 - r0, PanelA{strips, 0, 0, true},
                  PanelB{dy + r0 * g.oc, g.oc, kPanelWidth}, acc, g.oc, t > t0);
      }
    }
  });
  if (oom) return ScratchFailed(static_cast<size_t>(strip_floats) * 4);
  const float* part = partials.as<const float>();
  k.parallel_for(KO, parts + 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float sum = part[i];
      for (int64_t p = 1; p < parts; ++p) sum += part[p * KO + i];
      dw[i] = sum;
    }
  });
  return nullptr;
}

// dw[K, oc] = sum over tiles of patches^T * dy; one partial sum per part.
template <typename T>
loom_status* ConvBackpropFilter(const Kernel& k, const Conv& g, const T* x, const T* dy, T* dw) {
  const int64_t R = g.rows(), K = g.K(), KO = K * g.oc;
  if (KO == 0) return nullptr;
  std::fill(dw, dw + KO, T(0));
  if (R == 0) return nullptr;
  if constexpr (std::is_same_v<T, float>) {
    if (!g.pointwise() && g.c % kPanelWidth == 0) {
      return ConvBackpropFilterPanels(k, g, x, dy, dw);
    }
    if (g.oc % kPanelWidth == 0) return ConvBackpropFilterStrips(k, g, x, dy, dw);
  }
  const int64_t tile = g.pointwise() ? 256 : g.tile_rows(sizeof(T));
  const int64_t tiles = (R + tile - 1) / tile;
  const int64_t parts =
      std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(k.num_threads(), tiles),
                                             2 * R * KO / (4 * kInlineCostCycles) + 1));
  Tensor partials;
  if (parts > 1) {
    Dims d;
    d.push_back(parts - 1);
    d.push_back(KO);
    LOOM_CPU_RETURN_IF_ERROR(k.temp(DtypeOf<T>::value, d, &partials));
  }
  std::atomic<bool> oom{false};
  // One unit per part: each part owns its accumulator (part 0: dw itself).
  k.parallel_for(parts, std::numeric_limits<int32_t>::max(), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* acc = p == 0 ? dw : partials.as<T>() + (p - 1) * KO;
      bool first = true;
      const int64_t t0 = tiles * p / parts, t1 = tiles * (p + 1) / parts;
      T* col = nullptr;
      if (!g.pointwise()) {
        col = static_cast<T*>(ThreadScratch(0, static_cast<size_t>(tile * K) * sizeof(T)));
        if (col == nullptr) {
          oom = true;
          return;
        }
      }
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t r0 = t * tile, r1 = std::min(R, r0 + tile);
        const T* a = x + r0 * K;
        if (!g.pointwise()) {
          Im2Col(g, x, r0, r1, col);
          a = col;
        }
        Gemm<T>(true, false, K, g.oc, r1 - r0, a, K, dy + r0 * g.oc, g.oc, acc, g.oc, !first);
        first = false;
      }
      if (first) std::fill(acc, acc + KO, T(0));
    }
  });
  if (oom) return ScratchFailed(static_cast<size_t>(tile * K) * sizeof(T));
  for (int64_t p = 1; p < parts; ++p) {
    const T* src = partials.as<T>() + (p - 1) * KO;
    for (int64_t i = 0; i < KO; ++i) dw[i] += src[i];
  }
  return nullptr;
}

loom_status* Conv2DImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), f = k.input(1);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "input"));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(f, "filter"));
  Conv g;
  LOOM_CPU_RETURN_IF_ERROR(MakeConv(k, x.dims, f.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.oc};
  Tensor y;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    return ConvForward<T>(k, g, x.as<const T>(), f.as<const T>(), y.as<T>());
  });
}

// Checks out_backprop against the output shape the geometry implies.
loom_status* CheckOutBackprop(const Conv& g, const Tensor& dy) {
  LOOM_CPU_RETURN_IF_ERROR(Require4D(dy, "out_backprop"));
  const int64_t want[4] = {g.n, g.oh, g.ow, g.oc};
  for (int i = 0; i < 4; ++i) {
    if (dy.dim(i) != want[i]) {
      return InvalidArgument("out_backprop has shape ", dy.shape_str(), " but the convolution's "
                             "output has shape ", ShapeString(want, 4));
    }
  }
  return nullptr;
}

loom_status* Conv2DBackpropInputImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor sizes = k.input(0), f = k.input(1), dy = k.input(2);
  int64_t in[4];
  LOOM_CPU_RETURN_IF_ERROR(ReadSizes(sizes, "input_sizes", in));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(f, "filter"));
  Conv g;
  LOOM_CPU_RETURN_IF_ERROR(MakeConv(k, in, f.dims, &g));
  LOOM_CPU_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dx;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, in, 4, &dx));
  return Dispatch(FloatOrDouble{}, f.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    return ConvBackpropInput<T>(k, g, f.as<const T>(), dy.as<const T>(), dx.as<T>());
  });
}

loom_status* Conv2DBackpropFilterImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), sizes = k.input(1), dy = k.input(2);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "input"));
  int64_t fd[4];
  LOOM_CPU_RETURN_IF_ERROR(ReadSizes(sizes, "filter_sizes", fd));
  Conv g;
  LOOM_CPU_RETURN_IF_ERROR(MakeConv(k, x.dims, fd, &g));
  LOOM_CPU_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dw;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, fd, 4, &dw));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    return ConvBackpropFilter<T>(k, g, x.as<const T>(), dy.as<const T>(), dw.as<T>());
  });
}

// ---------------------------------------------------------------- depthwise

// DepthwiseConv2dNative: filter [kh, kw, c, m]; output channel c * m + j is
// input channel c convolved with filter slice [:, :, c, j]. Direct loops: the
// work per output is only kh * kw * m products, too little for a GEMM.
struct Depthwise : Conv {
  int64_t mult = 1;
};

loom_status* MakeDepthwise(const Kernel& k, const int64_t in[4], const int64_t f[4],
                           Depthwise* g) {
  LOOM_CPU_RETURN_IF_ERROR(RequireNhwc(k));
  if (f[2] != in[3]) {
    return InvalidArgument("input depth ", in[3], " must equal the filter's input depth ", f[2],
                           " (input ", ShapeString(in, 4), ", filter ", ShapeString(f, 4), ")");
  }
  if (f[0] < 1 || f[1] < 1) {
    return InvalidArgument("filter spatial dims must be >= 1, got filter ", ShapeString(f, 4));
  }
  g->n = in[0];
  g->h = in[1];
  g->w = in[2];
  g->c = in[3];
  g->kh = f[0];
  g->kw = f[1];
  g->mult = f[3];
  g->oc = in[3] * f[3];
  return ReadWindowAttrs(k, /*dilations=*/true, g);
}

// Calls f(tap_index, input_pixel_offset) for the in-bounds taps of output (oy, ox).
template <typename F>
inline void ForEachTap(const Conv& g, int64_t oy, int64_t ox, F&& f) {
  const int64_t iy0 = oy * g.sh - g.pt, ix0 = ox * g.sw - g.pl;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const int64_t iy = iy0 + ky * g.dh;
    if (iy < 0 || iy >= g.h) continue;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t ix = ix0 + kx * g.dw;
      if (ix < 0 || ix >= g.w) continue;
      f(ky * g.kw + kx, (iy * g.w + ix) * g.c);
    }
  }
}

template <typename T>
void DepthwiseForwardRows(const Depthwise& g, const T* x, const T* w, T* y, int64_t r0,
                          int64_t r1) {
  const int64_t C = g.c, M = g.mult, OC = g.oc;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t ox = r % g.ow, oy = (r / g.ow) % g.oh, n = r / (g.ow * g.oh);
    const T* img = x + n * g.h * g.w * C;
    T* out = y + r * OC;
    std::fill(out, out + OC, T(0));
    ForEachTap(g, oy, ox, [&](int64_t tap, int64_t off) {
      const T* xp = img + off;
      const T* wp = w + tap * OC;
      if (M == 1) {
        for (int64_t ch = 0; ch < C; ++ch) out[ch] += xp[ch] * wp[ch];
      } else {
        for (int64_t ch = 0; ch < C; ++ch)
          for (int64_t j = 0; j < M; ++j) out[ch * M + j] += xp[ch] * wp[ch * M + j];
      }
    });
  }
}

loom_status* DepthwiseImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), f = k.input(1);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "input"));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(f, "filter"));
  Depthwise g;
  LOOM_CPU_RETURN_IF_ERROR(MakeDepthwise(k, x.dims, f.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.oc};
  Tensor y;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    k.parallel_for(g.rows(), 2 * g.kh * g.kw * g.oc + 1, [&](int64_t b, int64_t e) {
      DepthwiseForwardRows<T>(g, x.as<const T>(), f.as<const T>(), y.as<T>(), b, e);
    });
    return nullptr;
  });
}

loom_status* DepthwiseBackpropInputImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor sizes = k.input(0), f = k.input(1), dy = k.input(2);
  int64_t in[4];
  LOOM_CPU_RETURN_IF_ERROR(ReadSizes(sizes, "input_sizes", in));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(f, "filter"));
  Depthwise g;
  LOOM_CPU_RETURN_IF_ERROR(MakeDepthwise(k, in, f.dims, &g));
  LOOM_CPU_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dx;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, in, 4, &dx));
  return Dispatch(FloatOrDouble{}, f.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const int64_t C = g.c, M = g.mult, OC = g.oc, img = g.h * g.w * C, per = g.oh * g.ow;
    const T* w = f.as<const T>();
    k.parallel_for(g.n, 2 * per * g.kh * g.kw * OC + img, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        T* d = dx.as<T>() + n * img;
        std::fill(d, d + img, T(0));
        for (int64_t p = 0; p < per; ++p) {
          const T* gy = dy.as<const T>() + (n * per + p) * OC;
          ForEachTap(g, p / g.ow, p % g.ow, [&](int64_t tap, int64_t off) {
            T* dp = d + off;
            const T* wp = w + tap * OC;
            for (int64_t ch = 0; ch < C; ++ch) {
              T acc = 0;
              for (int64_t j = 0; j < M; ++j) acc += gy[ch * M + j] * wp[ch * M + j];
              dp[ch] += acc;
            }
          });
        }
      }
    });
    return nullptr;
  });
}

loom_status* DepthwiseBackpropFilterImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), sizes = k.input(1), dy = k.input(2);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "input"));
  int64_t fd[4];
  LOOM_CPU_RETURN_IF_ERROR(ReadSizes(sizes, "filter_sizes", fd));
  Depthwise g;
  LOOM_CPU_RETURN_IF_ERROR(MakeDepthwise(k, x.dims, fd, &g));
  LOOM_CPU_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dw;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, fd, 4, &dw));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const int64_t C = g.c, M = g.mult, OC = g.oc, KO = g.kh * g.kw * OC, R = g.rows();
    const int64_t parts = std::max<int64_t>(
        1, std::min<int64_t>(k.num_threads(), 2 * R * KO / (4 * kInlineCostCycles) + 1));
    Tensor partials;
    if (parts > 1) {
      Dims d;
      d.push_back(parts - 1);
      d.push_back(KO);
      LOOM_CPU_RETURN_IF_ERROR(k.temp(DtypeOf<T>::value, d, &partials));
    }
    k.parallel_for(parts, std::numeric_limits<int32_t>::max(), [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) {
        T* acc = p == 0 ? dw.as<T>() : partials.as<T>() + (p - 1) * KO;
        std::fill(acc, acc + KO, T(0));
        for (int64_t r = R * p / parts; r < R * (p + 1) / parts; ++r) {
          const int64_t ox = r % g.ow, oy = (r / g.ow) % g.oh, n = r / (g.ow * g.oh);
          const T* img = x.as<const T>() + n * g.h * g.w * C;
          const T* gy = dy.as<const T>() + r * OC;
          ForEachTap(g, oy, ox, [&](int64_t tap, int64_t off) {
            const T* xp = img + off;
            T* ap = acc + tap * OC;
            for (int64_t ch = 0; ch < C; ++ch)
              for (int64_t j = 0; j < M; ++j) ap[ch * M + j] += xp[ch] * gy[ch * M + j];
          });
        }
      }
    });
    T* out = dw.as<T>();
    for (int64_t p = 1; p < parts; ++p) {
      const T* src = partials.as<T>() + (p - 1) * KO;
      for (int64_t i = 0; i < KO; ++i) out[i] += src[i];
    }
    return nullptr;
  });
}

// ---------------------------------------------------------------- pooling

// Pool geometry from input dims [n,h,w,c] and the ksize/strides/padding attrs.
loom_status* MakePool(const Kernel& k, const int64_t in[4], Window* g) {
  LOOM_CPU_RETURN_IF_ERROR(RequireNhwc(k));
  g->n = in[0];
  g->h = in[1];
  g->w = in[2];
  g->c = in[3];
  LOOM_CPU_RETURN_IF_ERROR(Read4(k, "ksize", &g->kh, &g->kw));
  return ReadWindowAttrs(k, /*dilations=*/false, g);
}

// The clipped window [y0, y1) x [x0, x1) of output (oy, ox).
struct Span {
  int64_t y0, y1, x0, x1;
};
inline Span WindowAt(const Window& g, int64_t oy, int64_t ox) {
  const int64_t ys = oy * g.sh - g.pt, xs = ox * g.sw - g.pl;
  return Span{std::max<int64_t>(ys, 0), std::min(ys + g.kh, g.h), std::max<int64_t>(xs, 0),
              std::min(xs + g.kw, g.w)};
}

template <typename T>
void MaxPoolRows(const Window& g, const T* x, T* y, int64_t b, int64_t e) {
  const int64_t C = g.c;
  for (int64_t row = b; row < e; ++row) {  // row = n * oh + oy
    const int64_t n = row / g.oh, oy = row % g.oh;
    const T* img = x + n * g.h * g.w * C;
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      T* out = y + (row * g.ow + ox) * C;
      std::fill(out, out + C, -std::numeric_limits<T>::infinity());
      const Span s = WindowAt(g, oy, ox);
      for (int64_t iy = s.y0; iy < s.y1; ++iy)
        for (int64_t ix = s.x0; ix < s.x1; ++ix) {
          const T* in = img + (iy * g.w + ix) * C;
          for (int64_t ch = 0; ch < C; ++ch) out[ch] = std::max(out[ch], in[ch]);
        }
    }
  }
}

// Per channel, the value and spatial position of window `s`'s first maximum
// (scan order y, x) in `img`. Branch-free selects over the channels, so the
// scan vectorises; `arg` holds spatial positions (int32: the caller checks
// h * w fits).
template <typename T>
void WindowArgMax(const Window& g, const T* img, const Span& s, T* best, int32_t* arg) {
  const int64_t C = g.c;
  std::fill(best, best + C, -std::numeric_limits<T>::infinity());
  std::fill(arg, arg + C, static_cast<int32_t>(s.y0 * g.w + s.x0));
  for (int64_t iy = s.y0; iy < s.y1; ++iy)
    for (int64_t ix = s.x0; ix < s.x1; ++ix) {
      const int32_t pos = static_cast<int32_t>(iy * g.w + ix);
      const T* in = img + pos * C;
      for (int64_t ch = 0; ch < C; ++ch) {
        const bool gt = in[ch] > best[ch];
        best[ch] = gt ? in[ch] : best[ch];
        arg[ch] = gt ? pos : arg[ch];
      }
    }
}

// For each output (oy, ox) of image `n`: calls f(out_offset, in_offset) per
// channel with the position of the window's first maximum.
template <typename T, typename F>
void ForEachArgMax(const Window& g, const T* img, int64_t oy, T* best, int32_t* arg, F&& f) {
  const int64_t C = g.c;
  for (int64_t ox = 0; ox < g.ow; ++ox) {
    WindowArgMax(g, img, WindowAt(g, oy, ox), best, arg);
    for (int64_t ch = 0; ch < C; ++ch) f((oy * g.ow + ox) * C + ch, arg[ch] * C + ch);
  }
}

// MaxPoolGrad of one image when windows do not overlap (stride >= window, as
// in the usual 2x2 stride-2 pooling): each input element lies in at most one
// window, so every window writes its whole block of dx (the gradient at the
// first maximum, zeros elsewhere) in one pass, with no clearing of dx first
// and no scattered read-modify-write. Elements outside every window (VALID
// pooling of odd sizes, strides above the window) are cleared first.
typedef int32_t I8 __attribute__((vector_size(32), aligned(4)));

// Float with channels a multiple of 8: the window's maximum and its position
// for 8 channels at a time in registers.
void DisjointMaxPoolGradF8(const Window& g, const float* img, const float* go, float* dx) {
  const int64_t C = g.c;
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const Span s = WindowAt(g, oy, ox);
      const float* gw = go + (oy * g.ow + ox) * C;
      for (int64_t c0 = 0; c0 < C; c0 += 8) {
        F8 best = {ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf};
        const int32_t first = static_cast<int32_t>(s.y0 * g.w + s.x0);
        I8 arg = {first, first, first, first, first, first, first, first};
        for (int64_t iy = s.y0; iy < s.y1; ++iy)
          for (int64_t ix = s.x0; ix < s.x1; ++ix) {
            const int32_t pos = static_cast<int32_t>(iy * g.w + ix);
            const F8 v = *reinterpret_cast<const F8*>(img + pos * C + c0);
            const I8 gt = v > best;
            best = gt ? v : best;
            arg = gt ? I8{pos, pos, pos, pos, pos, pos, pos, pos} : arg;
          }
        const F8 gv = *reinterpret_cast<const F8*>(gw + c0);
        const F8 zero = {};
        for (int64_t iy = s.y0; iy < s.y1; ++iy)
          for (int64_t ix = s.x0; ix < s.x1; ++ix) {
            const int32_t pos = static_cast<int32_t>(iy * g.w + ix);
            const I8 hit = arg == I8{pos, pos, pos, pos, pos, pos, pos, pos};
            *reinterpret_cast<F8*>(dx + pos * C + c0) = hit ? gv : zero;
          }
      }
    }
}

template <typename T>
void DisjointMaxPoolGrad(const Window& g, const T* img, const T* go, T* dx, T* best,
                         int32_t* arg) {
  const int64_t C = g.c;
  const bool covered = g.sh == g.kh && g.sw == g.kw && g.oh * g.sh - g.pt >= g.h &&
                       g.ow * g.sw - g.pl >= g.w;
  if (!covered) std::fill(dx, dx + g.h * g.w * C, T(0));
  if constexpr (std::is_same_v<T, float>) {
    if (C % 8 == 0) {
      DisjointMaxPoolGradF8(g, img, go, dx);
      return;
    }
  }
  for (int64_t oy = 0; oy < g.oh; ++oy)
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const Span s = WindowAt(g, oy, ox);
      WindowArgMax(g, img, s, best, arg);
      const T* gw = go + (oy * g.ow + ox) * C;
      for (int64_t iy = s.y0; iy < s.y1; ++iy)
        for (int64_t ix = s.x0; ix < s.x1; ++ix) {
          const int32_t pos = static_cast<int32_t>(iy * g.w + ix);
          T* d = dx + pos * C;
          for (int64_t ch = 0; ch < C; ++ch) d[ch] = arg[ch] == pos ? gw[ch] : T(0);
        }
    }
}

loom_status* MaxPoolImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "input"));
  Window g;
  LOOM_CPU_RETURN_IF_ERROR(MakePool(k, x.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  Tensor y;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    k.parallel_for(g.n * g.oh, g.ow * g.kh * g.kw * g.c + 1, [&](int64_t b, int64_t e) {
      MaxPoolRows<T>(g, x.as<const T>(), y.as<T>(), b, e);
    });
    return nullptr;
  });
}

// MaxPoolGrad (kGradGrad false): dx[argmax] += grad[out], shaped like orig_input.
// MaxPoolGradGrad (true): out[o] = grad[argmax(o)], shaped like orig_output.
template <bool kGradGrad>
loom_status* MaxPoolGradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), y = k.input(1), grad = k.input(2);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "orig_input"));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(y, "orig_output"));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(grad, "grad"));
  Window g;
  LOOM_CPU_RETURN_IF_ERROR(MakePool(k, x.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  for (int i = 0; i < 4; ++i) {
    if (y.dim(i) != od[i]) {
      return InvalidArgument("orig_output has shape ", y.shape_str(), " but pooling orig_input ",
                             x.shape_str(), " gives ", ShapeString(od, 4));
    }
  }
  if (g.h * g.w > std::numeric_limits<int32_t>::max()) {
    return InvalidArgument("images of ", g.h, "x", g.w, " pixels are too large for max-pool "
                           "gradients (at most 2^31 pixels per image)");
  }
  const Tensor& want = kGradGrad ? x : y;
  if (!grad.same_shape(want)) {
    return InvalidArgument("grad has shape ", grad.shape_str(), " but must have shape ",
                           want.shape_str(), kGradGrad ? " (orig_input's)" : " (orig_output's)");
  }
  Tensor out;
  LOOM_CPU_RETURN_IF_ERROR(kGradGrad ? k.allocate(0, od, 4, &out) : k.allocate(0, x.dims, 4, &out));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const int64_t in_img = g.h * g.w * g.c, out_img = g.oh * g.ow * g.c;
    std::atomic<bool> oom{false};
    k.parallel_for(g.n, out_img * g.kh * g.kw + in_img, [&](int64_t b, int64_t e) {
      T* best = static_cast<T*>(ThreadScratch(0, static_cast<size_t>(g.c) * sizeof(T)));
      int32_t* arg =
          static_cast<int32_t*>(ThreadScratch(1, static_cast<size_t>(g.c) * sizeof(int32_t)));
      if (best == nullptr || arg == nullptr) {
        oom = true;
        return;
      }
      for (int64_t n = b; n < e; ++n) {
        const T* img = x.as<const T>() + n * in_img;
        if (kGradGrad) {
          const T* gi = grad.as<const T>() + n * in_img;
          T* o = out.as<T>() + n * out_img;
          for (int64_t oy = 0; oy < g.oh; ++oy)
            ForEachArgMax(g, img, oy, best, arg, [&](int64_t oo, int64_t io) { o[oo] = gi[io]; });
        } else {
          const T* go = grad.as<const T>() + n * out_img;
          T* dx = out.as<T>() + n * in_img;
          if (g.sh >= g.kh && g.sw >= g.kw) {
            DisjointMaxPoolGrad(g, img, go, dx, best, arg);
            continue;
          }
          std::fill(dx, dx + in_img, T(0));
          for (int64_t oy = 0; oy < g.oh; ++oy)
            ForEachArgMax(g, img, oy, best, arg,
                          [&](int64_t oo, int64_t io) { dx[io] += go[oo]; });
        }
      }
    });
    if (oom) return ScratchFailed(static_cast<size_t>(g.c) * 16);
    return nullptr;
  });
}

// AvgPool divides by the number of in-bounds elements (padding excluded).
loom_status* AvgPoolImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "value"));
  Window g;
  LOOM_CPU_RETURN_IF_ERROR(MakePool(k, x.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  Tensor y;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const int64_t C = g.c;
    k.parallel_for(g.n * g.oh, g.ow * g.kh * g.kw * C + 1, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const int64_t n = row / g.oh, oy = row % g.oh;
        const T* img = x.as<const T>() + n * g.h * g.w * C;
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          T* out = y.as<T>() + (row * g.ow + ox) * C;
          std::fill(out, out + C, T(0));
          const Span s = WindowAt(g, oy, ox);
          for (int64_t iy = s.y0; iy < s.y1; ++iy)
            for (int64_t ix = s.x0; ix < s.x1; ++ix) {
              const T* in = img + (iy * g.w + ix) * C;
              for (int64_t ch = 0; ch < C; ++ch) out[ch] += in[ch];
            }
          const int64_t count = (s.y1 - s.y0) * (s.x1 - s.x0);
          const T inv = count > 0 ? T(1) / static_cast<T>(count) : T(0);
          for (int64_t ch = 0; ch < C; ++ch) out[ch] *= inv;
        }
      }
    });
    return nullptr;
  });
}

loom_status* AvgPoolGradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor sizes = k.input(0), grad = k.input(1);
  int64_t in[4];
  LOOM_CPU_RETURN_IF_ERROR(ReadSizes(sizes, "orig_input_shape", in));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(grad, "grad"));
  Window g;
  LOOM_CPU_RETURN_IF_ERROR(MakePool(k, in, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  for (int i = 0; i < 4; ++i) {
    if (grad.dim(i) != od[i]) {
      return InvalidArgument("grad has shape ", grad.shape_str(), " but pooling an input of "
                             "shape ", ShapeString(in, 4), " gives ", ShapeString(od, 4));
    }
  }
  Tensor dx;
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(0, in, 4, &dx));
  return Dispatch(FloatOrDouble{}, grad.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const int64_t C = g.c, in_img = g.h * g.w * C, out_img = g.oh * g.ow * C;
    k.parallel_for(g.n, out_img * g.kh * g.kw + in_img, [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) {
        T* d = dx.as<T>() + n * in_img;
        const T* go = grad.as<const T>() + n * out_img;
        std::fill(d, d + in_img, T(0));
        for (int64_t oy = 0; oy < g.oh; ++oy)
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const Span s = WindowAt(g, oy, ox);
            const int64_t count = (s.y1 - s.y0) * (s.x1 - s.x0);
            if (count == 0) continue;
            const T inv = T(1) / static_cast<T>(count);
            const T* src = go + (oy * g.ow + ox) * C;
            for (int64_t iy = s.y0; iy < s.y1; ++iy)
              for (int64_t ix = s.x0; ix < s.x1; ++ix) {
                T* dst = d + (iy * g.w + ix) * C;
                for (int64_t ch = 0; ch < C; ++ch) dst[ch] += src[ch] * inv;
              }
          }
      }
    });
    return nullptr;
  });
}

// ---------------------------------------------------------------- batch norm

// Per-channel sums of f(row pointer, channel) over the [rows, C] view, split
// over the pool; accumulated in double so 10^5-row batches lose nothing.
template <typename F>
loom_status* ChannelSums(const Kernel& k, int64_t rows, int64_t C, int nsums, double* out,
                         F&& f) {
  std::fill(out, out + nsums * C, 0.0);
  const int64_t parts = std::max<int64_t>(
      1, std::min<int64_t>(k.num_threads(), rows * C / (8 * kInlineCostCycles) + 1));
  Tensor partials;
  Dims d;
  d.push_back(parts);
  d.push_back(nsums * C);
  LOOM_CPU_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_DOUBLE, d, &partials));
  double* ps = partials.as<double>();
  k.parallel_for(parts, std::numeric_limits<int32_t>::max(), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      double* acc = ps + p * nsums * C;
      std::fill(acc, acc + nsums * C, 0.0);
      const int64_t r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
      for (int64_t r = r0; r < r1; ++r) f(r, acc);
    }
  });
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t i = 0; i < nsums * C; ++i) out[i] += ps[p * nsums * C + i];
  return nullptr;
}

// y = x * a[c] + b[c] over the [rows, C] view.
void ScaleShift(const Kernel& k, const float* x, int64_t rows, int64_t C, const float* a,
                const float* b, float* y) {
  k.parallel_for(rows, 2 * C + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xi = x + r * C;
      float* yi = y + r * C;
      for (int64_t ch = 0; ch < C; ++ch) yi[ch] = xi[ch] * a[ch] + b[ch];
    }
  });
}

loom_status* CheckVector(const Tensor& t, const char* what, int64_t C) {
  if (t.rank != 1 || t.dim(0) != C) {
    return InvalidArgument(what, " must be 1-D with ", C, " elements (the channels of x), but "
                           "has shape ", t.shape_str());
  }
  return nullptr;
}

// FusedBatchNorm, V2 and V3 (V3: one more output, reserve_space_3, empty).
loom_status* FusedBatchNormImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), scale = k.input(1), offset = k.input(2), mean_in = k.input(3),
         var_in = k.input(4);
  LOOM_CPU_RETURN_IF_ERROR(RequireNhwc(k));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "x"));
  if (x.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype(x.dtype);
  float eps = 1e-4f, factor = 1.0f;
  bool training = true;
  LOOM_CPU_RETURN_IF_ERROR(k.attr("epsilon", &eps, 1e-4f));
  LOOM_CPU_RETURN_IF_ERROR(k.attr("exponential_avg_factor", &factor, 1.0f));
  LOOM_CPU_RETURN_IF_ERROR(k.attr("is_training", &training, true));
  const int64_t C = x.dim(3), rows = x.size / std::max<int64_t>(C, 1);
  LOOM_CPU_RETURN_IF_ERROR(CheckVector(scale, "scale", C));
  LOOM_CPU_RETURN_IF_ERROR(CheckVector(offset, "offset", C));
  const bool use_running = !training || factor != 1.0f;
  if (use_running) {
    LOOM_CPU_RETURN_IF_ERROR(CheckVector(mean_in, "mean", C));
    LOOM_CPU_RETURN_IF_ERROR(CheckVector(var_in, "variance", C));
  }
  Tensor y, bmean, bvar, r1, r2;
  const int64_t cd[1] = {C};
  LOOM_CPU_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(1, cd, 1, &bmean));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(2, cd, 1, &bvar));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(3, cd, 1, &r1));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(4, cd, 1, &r2));
  if (k.num_outputs() > 5) {
    const int64_t zero[1] = {0};
    Tensor r3;
    LOOM_CPU_RETURN_IF_ERROR(k.allocate(5, zero, 1, &r3));
  }
  const float* xp = x.as<const float>();
  const float* sp = scale.as<const float>();
  const float* op = offset.as<const float>();
  std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C));
  if (!training) {
    const float* m = mean_in.as<const float>();
    const float* v = var_in.as<const float>();
    for (int64_t ch = 0; ch < C; ++ch) {
      a[ch] = sp[ch] / std::sqrt(v[ch] + eps);
      b[ch] = op[ch] - m[ch] * a[ch];
      bmean.as<float>()[ch] = r1.as<float>()[ch] = m[ch];
      bvar.as<float>()[ch] = r2.as<float>()[ch] = v[ch];
    }
    ScaleShift(k, xp, rows, C, a.data(), b.data(), y.as<float>());
    return nullptr;
  }
  // Two passes (mean, then centred squares) for accuracy with large means.
  std::vector<double> sum(static_cast<size_t>(C)), sq(static_cast<size_t>(C));
  LOOM_CPU_RETURN_IF_ERROR(ChannelSums(k, rows, C, 1, sum.data(), [&](int64_t r, double* acc) {
    const float* xi = xp + r * C;
    for (int64_t ch = 0; ch < C; ++ch) acc[ch] += xi[ch];
  }));
  std::vector<float> mean(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) mean[ch] = rows ? static_cast<float>(sum[ch] / rows) : 0.f;
  LOOM_CPU_RETURN_IF_ERROR(ChannelSums(k, rows, C, 1, sq.data(), [&](int64_t r, double* acc) {
    const float* xi = xp + r * C;
    for (int64_t ch = 0; ch < C; ++ch) {
      const double d = static_cast<double>(xi[ch]) - mean[ch];
      acc[ch] += d * d;
    }
  }));
  const double adjust = rows > 1 ? static_cast<double>(rows) / (rows - 1) : 1.0;
  for (int64_t ch = 0; ch < C; ++ch) {
    const float var = rows ? static_cast<float>(sq[ch] / rows) : 0.f;
    a[ch] = sp[ch] / std::sqrt(var + eps);
    b[ch] = op[ch] - mean[ch] * a[ch];
    r1.as<float>()[ch] = mean[ch];
    r2.as<float>()[ch] = var;
    const float unbiased = static_cast<float>(var * adjust);
    if (factor == 1.0f) {
      bmean.as<float>()[ch] = mean[ch];
      bvar.as<float>()[ch] = unbiased;
    } else {
      bmean.as<float>()[ch] = (1 - factor) * mean_in.as<const float>()[ch] + factor * mean[ch];
      bvar.as<float>()[ch] = (1 - factor) * var_in.as<const float>()[ch] + factor * unbiased;
    }
  }
  ScaleShift(k, xp, rows, C, a.data(), b.data(), y.as<float>());
  return nullptr;
}

// FusedBatchNormGrad{,V2,V3}: inputs y_backprop, x, scale, reserve_space_1
// (mean), reserve_space_2 (variance) [, reserve_space_3 (unused)].
loom_status* FusedBatchNormGradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor dy = k.input(0), x = k.input(1), scale = k.input(2), mean = k.input(3),
         var = k.input(4);
  LOOM_CPU_RETURN_IF_ERROR(RequireNhwc(k));
  LOOM_CPU_RETURN_IF_ERROR(Require4D(x, "x"));
  if (!dy.same_shape(x)) {
    return InvalidArgument("y_backprop and x must have the same shape, got ", dy.shape_str(),
                           " and ", x.shape_str());
  }
  if (x.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype(x.dtype);
  float eps = 1e-4f;
  bool training = true;
  LOOM_CPU_RETURN_IF_ERROR(k.attr("epsilon", &eps, 1e-4f));
  LOOM_CPU_RETURN_IF_ERROR(k.attr("is_training", &training, true));
  const int64_t C = x.dim(3), rows = x.size / std::max<int64_t>(C, 1);
  LOOM_CPU_RETURN_IF_ERROR(CheckVector(scale, "scale", C));
  LOOM_CPU_RETURN_IF_ERROR(CheckVector(mean, "reserve_space_1 (mean)", C));
  LOOM_CPU_RETURN_IF_ERROR(CheckVector(var, "reserve_space_2 (variance)", C));
  Tensor dx, dscale, doffset, e3, e4;
  const int64_t cd[1] = {C}, zero[1] = {0};
  LOOM_CPU_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &dx));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(1, cd, 1, &dscale));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(2, cd, 1, &doffset));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(3, zero, 1, &e3));
  LOOM_CPU_RETURN_IF_ERROR(k.allocate(4, zero, 1, &e4));
  const float* dyp = dy.as<const float>();
  const float* xp = x.as<const float>();
  const float* mp = mean.as<const float>();
  std::vector<float> inv(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) inv[ch] = 1.0f / std::sqrt(var.as<const float>()[ch] + eps);
  // sums[0:C] = sum(dy), sums[C:2C] = sum(dy * (x - mean)).
  std::vector<double> sums(static_cast<size_t>(2 * C));
  LOOM_CPU_RETURN_IF_ERROR(ChannelSums(k, rows, C, 2, sums.data(), [&](int64_t r, double* acc) {
    const float* dyi = dyp + r * C;
    const float* xi = xp + r * C;
    for (int64_t ch = 0; ch < C; ++ch) {
      acc[ch] += dyi[ch];
      acc[C + ch] += static_cast<double>(dyi[ch]) * (xi[ch] - mp[ch]);
    }
  }));
  // dx = a * dy + b * (x - mean) + d, per channel.
  std::vector<float> a(static_cast<size_t>(C)), bb(static_cast<size_t>(C)),
      dd(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) {
    const float s = scale.as<const float>()[ch];
    doffset.as<float>()[ch] = static_cast<float>(sums[ch]);
    dscale.as<float>()[ch] = static_cast<float>(sums[C + ch] * inv[ch]);
    a[ch] = s * inv[ch];
    if (training && rows > 0) {
      const double mean_dy = sums[ch] / rows;
      const double mean_dyxc = sums[C + ch] / rows;  // mean(dy * (x - mean))
      bb[ch] = static_cast<float>(-a[ch] * mean_dyxc * inv[ch] * inv[ch]);
      dd[ch] = static_cast<float>(-a[ch] * mean_dy);
    } else {
      bb[ch] = 0;
      dd[ch] = 0;
    }
  }
  float* dxp = dx.as<float>();
  k.parallel_for(rows, 4 * C + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* dyi = dyp + r * C;
      const float* xi = xp + r * C;
      float* o = dxp + r * C;
      for (int64_t ch = 0; ch < C; ++ch)
        o[ch] = a[ch] * dyi[ch] + bb[ch] * (xi[ch] - mp[ch]) + dd[ch];
    }
  });
  return nullptr;
}

}  // namespace

// ---------------------------------------------------------------- registration

namespace {

using ConvCompute = loom_status* (*)(void*, loom_kernel_context*);

struct ConvKernelRow {
  const char* op;
  ConvCompute compute;
  loom_type_constraint constraints[2];
  const char* host_memory[2];
};

#define LOOM_CONV_ENTRY(Impl) \
  [](void*, loom_kernel_context* c) -> loom_status* { return Impl(c); }

constexpr uint64_t kConvTypes = FloatOrDouble::mask();
constexpr uint64_t kF32 = TypeList<float>::mask();

const ConvKernelRow kConvKernels[] = {
    {"Conv2D", LOOM_CONV_ENTRY(Conv2DImpl), {{"T", kConvTypes}}, {}},
    {"Conv2DBackpropInput", LOOM_CONV_ENTRY(Conv2DBackpropInputImpl), {{"T", kConvTypes}},
     {"input_sizes"}},
    {"Conv2DBackpropFilter", LOOM_CONV_ENTRY(Conv2DBackpropFilterImpl), {{"T", kConvTypes}},
     {"filter_sizes"}},
    {"DepthwiseConv2dNative", LOOM_CONV_ENTRY(DepthwiseImpl), {{"T", kConvTypes}}, {}},
    {"DepthwiseConv2dNativeBackpropInput", LOOM_CONV_ENTRY(DepthwiseBackpropInputImpl),
     {{"T", kConvTypes}}, {"input_sizes"}},
    {"DepthwiseConv2dNativeBackpropFilter", LOOM_CONV_ENTRY(DepthwiseBackpropFilterImpl),
     {{"T", kConvTypes}}, {"filter_sizes"}},
    {"MaxPool", LOOM_CONV_ENTRY(MaxPoolImpl), {{"T", kConvTypes}}, {}},
    {"MaxPoolGrad", LOOM_CONV_ENTRY(MaxPoolGradImpl<false>), {{"T", kConvTypes}}, {}},
    {"MaxPoolGradGrad", LOOM_CONV_ENTRY(MaxPoolGradImpl<true>), {{"T", kConvTypes}}, {}},
    {"AvgPool", LOOM_CONV_ENTRY(AvgPoolImpl), {{"T", kConvTypes}}, {}},
    {"AvgPoolGrad", LOOM_CONV_ENTRY(AvgPoolGradImpl), {{"T", kConvTypes}},
     {"orig_input_shape"}},
    {"FusedBatchNorm", LOOM_CONV_ENTRY(FusedBatchNormImpl), {{"T", kF32}}, {}},
    {"FusedBatchNormV2", LOOM_CONV_ENTRY(FusedBatchNormImpl), {{"T", kF32}, {"U", kF32}}, {}},
    {"FusedBatchNormV3", LOOM_CONV_ENTRY(FusedBatchNormImpl), {{"T", kF32}, {"U", kF32}}, {}},
    {"FusedBatchNormGrad", LOOM_CONV_ENTRY(FusedBatchNormGradImpl), {{"T", kF32}}, {}},
    {"FusedBatchNormGradV2", LOOM_CONV_ENTRY(FusedBatchNormGradImpl),
     {{"T", kF32}, {"U", kF32}}, {}},
    {"FusedBatchNormGradV3", LOOM_CONV_ENTRY(FusedBatchNormGradImpl),
     {{"T", kF32}, {"U", kF32}}, {}},
};

#undef LOOM_CONV_ENTRY

}  // namespace

loom_status* RegisterConvKernels(const loom_host_api* host) {
  for (const ConvKernelRow& row : kConvKernels) {
    int nc = 0, nh = 0;
    while (nc < 2 && row.constraints[nc].attr != nullptr) ++nc;
    while (nh < 2 && row.host_memory[nh] != nullptr) ++nh;
    loom_kernel_def def = {};
    def.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
    def.op_type = row.op;
    def.device_type = "CPU";
    def.constraints = nc ? row.constraints : nullptr;
    def.num_constraints = nc;
    def.host_memory_args = nh ? row.host_memory : nullptr;
    def.num_host_memory_args = nh;
    def.priority = 0;
    def.user_data = nullptr;
    def.create = nullptr;
    def.compute = row.compute;
    def.compute_async = nullptr;
    def.destroy = nullptr;
    def.ext = nullptr;
    LOOM_CPU_RETURN_IF_ERROR(host->register_kernel(&def));
  }
  return nullptr;
}

}  // namespace loom_cpu
