// Pooling kernels (NHWC): MaxPool, MaxPoolGrad, MaxPoolGradGrad, AvgPool and
// AvgPoolGrad.
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

// Pool geometry from input dims [n,h,w,c] and the ksize/strides/padding attrs.
loom_status* MakePool(const Kernel& k, const int64_t in[4], Window* g) {
  LOOM_RETURN_IF_ERROR(RequireNhwc(k));
  g->n = in[0];
  g->h = in[1];
  g->w = in[2];
  g->c = in[3];
  LOOM_RETURN_IF_ERROR(Read4(k, "ksize", &g->kh, &g->kw));
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
  LOOM_RETURN_IF_ERROR(Require4D(x, "input"));
  Window g;
  LOOM_RETURN_IF_ERROR(MakePool(k, x.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
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
  LOOM_RETURN_IF_ERROR(Require4D(x, "orig_input"));
  LOOM_RETURN_IF_ERROR(Require4D(y, "orig_output"));
  LOOM_RETURN_IF_ERROR(Require4D(grad, "grad"));
  Window g;
  LOOM_RETURN_IF_ERROR(MakePool(k, x.dims, &g));
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
  LOOM_RETURN_IF_ERROR(kGradGrad ? k.allocate(0, od, 4, &out) : k.allocate(0, x.dims, 4, &out));
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
  LOOM_RETURN_IF_ERROR(Require4D(x, "value"));
  Window g;
  LOOM_RETURN_IF_ERROR(MakePool(k, x.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
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
  LOOM_RETURN_IF_ERROR(ReadSizes(sizes, "orig_input_shape", in));
  LOOM_RETURN_IF_ERROR(Require4D(grad, "grad"));
  Window g;
  LOOM_RETURN_IF_ERROR(MakePool(k, in, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.c};
  for (int i = 0; i < 4; ++i) {
    if (grad.dim(i) != od[i]) {
      return InvalidArgument("grad has shape ", grad.shape_str(), " but pooling an input of "
                             "shape ", ShapeString(in, 4), " gives ", ShapeString(od, 4));
    }
  }
  Tensor dx;
  LOOM_RETURN_IF_ERROR(k.allocate(0, in, 4, &dx));
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

}  // namespace

LOOM_CPU_KERNEL(MaxPoolKernel) { return MaxPoolImpl(ctx); }
LOOM_CPU_KERNEL(MaxPoolGradKernel) { return MaxPoolGradImpl<false>(ctx); }
LOOM_CPU_KERNEL(MaxPoolGradGradKernel) { return MaxPoolGradImpl<true>(ctx); }
LOOM_CPU_KERNEL(AvgPoolKernel) { return AvgPoolImpl(ctx); }
LOOM_CPU_KERNEL(AvgPoolGradKernel) { return AvgPoolGradImpl(ctx); }

}  // namespace loom_cpu
