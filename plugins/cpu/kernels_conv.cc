// Convolution kernels (NHWC): Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter.
// Depthwise convolutions, pooling and batch normalisation have their own files
// (kernels_depthwise.cc, kernels_pool.cc, kernels_batch_norm.cc); the GEMM,
// scratch buffers and window geometry they share are in conv_util.h.
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

#include "conv_util.h"
#include "kernels.h"
#include "panel_gemm.h"

namespace loom_cpu {
namespace {

// Builds the Conv geometry from input [n,h,w,c] and filter [kh,kw,c,oc] dims.
loom_status* MakeConv(const Kernel& k, const int64_t in[4], const int64_t f[4], Conv* g) {
  LOOM_RETURN_IF_ERROR(RequireNhwc(k));  // before reading dims in NHWC order
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
    LOOM_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, packed));
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
  LOOM_RETURN_IF_ERROR(PackFilter<T>(k, w, K, g.oc, g.oc, 1, &packed, &panels));
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
  LOOM_RETURN_IF_ERROR(PackFilter<T>(k, w, g.oc, K, 1, g.oc, &packed, &panels));
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
  LOOM_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, &partials));
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
  LOOM_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, &partials));
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
    LOOM_RETURN_IF_ERROR(k.temp(DtypeOf<T>::value, d, &partials));
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
  LOOM_RETURN_IF_ERROR(Require4D(x, "input"));
  LOOM_RETURN_IF_ERROR(Require4D(f, "filter"));
  Conv g;
  LOOM_RETURN_IF_ERROR(MakeConv(k, x.dims, f.dims, &g));
  const int64_t od[4] = {g.n, g.oh, g.ow, g.oc};
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, 4, &y));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    return ConvForward<T>(k, g, x.as<const T>(), f.as<const T>(), y.as<T>());
  });
}

// Checks out_backprop against the output shape the geometry implies.
loom_status* Conv2DBackpropInputImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor sizes = k.input(0), f = k.input(1), dy = k.input(2);
  int64_t in[4];
  LOOM_RETURN_IF_ERROR(ReadSizes(sizes, "input_sizes", in));
  LOOM_RETURN_IF_ERROR(Require4D(f, "filter"));
  Conv g;
  LOOM_RETURN_IF_ERROR(MakeConv(k, in, f.dims, &g));
  LOOM_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dx;
  LOOM_RETURN_IF_ERROR(k.allocate(0, in, 4, &dx));
  return Dispatch(FloatOrDouble{}, f.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    return ConvBackpropInput<T>(k, g, f.as<const T>(), dy.as<const T>(), dx.as<T>());
  });
}

loom_status* Conv2DBackpropFilterImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), sizes = k.input(1), dy = k.input(2);
  LOOM_RETURN_IF_ERROR(Require4D(x, "input"));
  int64_t fd[4];
  LOOM_RETURN_IF_ERROR(ReadSizes(sizes, "filter_sizes", fd));
  Conv g;
  LOOM_RETURN_IF_ERROR(MakeConv(k, x.dims, fd, &g));
  LOOM_RETURN_IF_ERROR(CheckOutBackprop(g, dy));
  Tensor dw;
  LOOM_RETURN_IF_ERROR(k.allocate(0, fd, 4, &dw));
  return Dispatch(FloatOrDouble{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    return ConvBackpropFilter<T>(k, g, x.as<const T>(), dy.as<const T>(), dw.as<T>());
  });
}

}  // namespace

LOOM_CPU_KERNEL(Conv2DKernel) { return Conv2DImpl(ctx); }
LOOM_CPU_KERNEL(Conv2DBackpropInputKernel) { return Conv2DBackpropInputImpl(ctx); }
LOOM_CPU_KERNEL(Conv2DBackpropFilterKernel) { return Conv2DBackpropFilterImpl(ctx); }

}  // namespace loom_cpu
