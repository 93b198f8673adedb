// Depthwise convolution kernels (NHWC): DepthwiseConv2dNative and both
// backprops. Direct loops: the work per output is only kh * kw * multiplier
// products, too little for a GEMM.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <vector>

#include "conv_util.h"
#include "kernels.h"

namespace loom_cpu {
namespace {

// DepthwiseConv2dNative: filter [kh, kw, c, m]; output channel c * m + j is
// input channel c convolved with filter slice [:, :, c, j]. Direct loops: the
// work per output is only kh * kw * m products, too little for a GEMM.
struct Depthwise : Conv {
  int64_t mult = 1;
};

loom_status* MakeDepthwise(const Kernel& k, const int64_t in[4], const int64_t f[4],
                           Depthwise* g) {
  LOOM_RETURN_IF_ERROR(RequireNhwc(k));
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
  LOOM_RETURN_IF_ERROR(Require4D(x, "input"));
  LOOM_RETURN_IF_ERROR(Require4D(f, "filter"));
  Depthwise g;
  LOOM_RETURN_IF_ERROR(MakeDepthwise(k, x.dims, f.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.oc};
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
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
  LOOM_RETURN_IF_ERROR(ReadSizes(sizes, "input_sizes", in));
  LOOM_RETURN_IF_ERROR(Require4D(f, "filter"));
  Depthwise g;
  LOOM_RETURN_IF_ERROR(MakeDepthwise(k, in, f.dims, &g));
  LOOM_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dx;
  LOOM_RETURN_IF_ERROR(k.allocate(0, in, 4, &dx));
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
  LOOM_RETURN_IF_ERROR(Require4D(x, "input"));
  int64_t fd[4];
  LOOM_RETURN_IF_ERROR(ReadSizes(sizes, "filter_sizes", fd));
  Depthwise g;
  LOOM_RETURN_IF_ERROR(MakeDepthwise(k, x.dims, fd, &g));
  LOOM_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dw;
  LOOM_RETURN_IF_ERROR(k.allocate(0, fd, 4, &dw));
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
      LOOM_RETURN_IF_ERROR(k.temp(DtypeOf<T>::value, d, &partials));
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

}  // namespace

LOOM_CPU_KERNEL(DepthwiseConv2dNativeKernel) { return DepthwiseImpl(ctx); }
LOOM_CPU_KERNEL(DepthwiseConv2dNativeBackpropInputKernel) { return DepthwiseBackpropInputImpl(ctx); }
LOOM_CPU_KERNEL(DepthwiseConv2dNativeBackpropFilterKernel) { return DepthwiseBackpropFilterImpl(ctx); }

}  // namespace loom_cpu
