#include "panel_gemm.h"

#include <algorithm>

namespace loom_cpu {
namespace {

// 8 floats, loadable from any 4-byte-aligned address (GCC/Clang vector
// extension: AVX registers when compiled with -mavx2 -mfma, SSE pairs otherwise).
typedef float F8 __attribute__((vector_size(32), aligned(4)));

inline F8 Load8(const float* p) { return *reinterpret_cast<const F8*>(p); }
inline void Store8(float* p, F8 v) { *reinterpret_cast<F8*>(p) = v; }
inline F8 Broadcast(float x) { return F8{x, x, x, x, x, x, x, x}; }

// C[M, 16] (+)= A[M, k] * B[k, 16] for M <= 6 rows: 12 accumulators (named,
// so the compiler keeps them in registers), per kk two loads of B and M
// broadcasts of A.
template <int M>
inline void Micro(int64_t k, const float* a, int64_t a_rs, int64_t a_cs, const float* b,
                  int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  static_assert(M >= 1 && M <= 6, "1 to 6 rows");
  F8 c00 = {}, c01 = {}, c10 = {}, c11 = {}, c20 = {}, c21 = {};
  F8 c30 = {}, c31 = {}, c40 = {}, c41 = {}, c50 = {}, c51 = {};
  const float* a0 = a;
  const float* a1 = a + a_rs;
  const float* a2 = a + 2 * a_rs;
  const float* a3 = a + 3 * a_rs;
  const float* a4 = a + 4 * a_rs;
  const float* a5 = a + 5 * a_rs;
  for (int64_t kk = 0; kk < k; ++kk) {
    const F8 b0 = Load8(b), b1 = Load8(b + 8);
    b += ldb;
    F8 x = Broadcast(*a0);
    c00 += x * b0;
    c01 += x * b1;
    a0 += a_cs;
    if constexpr (M > 1) {
      x = Broadcast(*a1);
      c10 += x * b0;
      c11 += x * b1;
      a1 += a_cs;
    }
    if constexpr (M > 2) {
      x = Broadcast(*a2);
      c20 += x * b0;
      c21 += x * b1;
      a2 += a_cs;
    }
    if constexpr (M > 3) {
      x = Broadcast(*a3);
      c30 += x * b0;
      c31 += x * b1;
      a3 += a_cs;
    }
    if constexpr (M > 4) {
      x = Broadcast(*a4);
      c40 += x * b0;
      c41 += x * b1;
      a4 += a_cs;
    }
    if constexpr (M > 5) {
      x = Broadcast(*a5);
      c50 += x * b0;
      c51 += x * b1;
      a5 += a_cs;
    }
  }
  auto put = [&](int i, F8 v0, F8 v1) {
    float* p = c + i * ldc;
    if (accumulate) {
      v0 += Load8(p);
      v1 += Load8(p + 8);
    }
    Store8(p, v0);
    Store8(p + 8, v1);
  };
  put(0, c00, c01);
  if constexpr (M > 1) put(1, c10, c11);
  if constexpr (M > 2) put(2, c20, c21);
  if constexpr (M > 3) put(3, c30, c31);
  if constexpr (M > 4) put(4, c40, c41);
  if constexpr (M > 5) put(5, c50, c51);
}

}  // namespace

void PanelGemm(int64_t m, int64_t n, int64_t k, const PanelA& a, const PanelB& b, float* c,
               int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  // k in slices of 256: a panel's slice of B (16 KiB) stays in L1 while
  // every row block of A streams past it.
  constexpr int64_t kSlice = 256;
  for (int64_t k0 = 0; k0 < k; k0 += kSlice) {
    const int64_t kc = std::min(kSlice, k - k0);
    const bool acc = accumulate || k0 > 0;
    for (int64_t p = 0; p < n / kPanelWidth; ++p) {
      const float* bp = b.b + p * b.panel_stride + k0 * b.ldb;
      float* cp = c + p * kPanelWidth;
      // Rows [i, i + 6) of A from k0 on, and the strides within them.
      const int64_t rs = a.strips ? 1 : a.row_stride;
      const int64_t cs = a.strips ? kStripRows : a.col_stride;
      auto rows_at = [&](int64_t i) {
        return a.strips ? a.a + i * k + k0 * kStripRows
                        : a.a + i * a.row_stride + k0 * a.col_stride;
      };
      int64_t i = 0;
      for (; i + 6 <= m; i += 6)
        Micro<6>(kc, rows_at(i), rs, cs, bp, b.ldb, cp + i * ldc, ldc, acc);
      const float* ai = rows_at(i);
      float* ci = cp + i * ldc;
      switch (m - i) {
        case 5: Micro<5>(kc, ai, rs, cs, bp, b.ldb, ci, ldc, acc); break;
        case 4: Micro<4>(kc, ai, rs, cs, bp, b.ldb, ci, ldc, acc); break;
        case 3: Micro<3>(kc, ai, rs, cs, bp, b.ldb, ci, ldc, acc); break;
        case 2: Micro<2>(kc, ai, rs, cs, bp, b.ldb, ci, ldc, acc); break;
        case 1: Micro<1>(kc, ai, rs, cs, bp, b.ldb, ci, ldc, acc); break;
        default: break;
      }
    }
  }
}

void PackRowStrips(int64_t m, int64_t k, const float* src, int64_t row_stride,
                   int64_t col_stride, float* dst) {
  for (int64_t i0 = 0; i0 < m; i0 += kStripRows) {
    const int64_t rows = std::min(kStripRows, m - i0);
    float* d = dst + i0 * k;
    if (rows == kStripRows && row_stride == 1) {  // 6 contiguous values per kk
      for (int64_t kk = 0; kk < k; ++kk, d += kStripRows) {
        const float* s = src + i0 + kk * col_stride;
        for (int64_t r = 0; r < kStripRows; ++r) d[r] = s[r];
      }
      continue;
    }
    for (int64_t kk = 0; kk < k; ++kk, d += kStripRows)
      for (int64_t r = 0; r < rows; ++r) d[r] = src[(i0 + r) * row_stride + kk * col_stride];
  }
}

void PackPanels(int64_t k, int64_t n, const float* src, int64_t k_stride, int64_t n_stride,
                float* dst) {
  for (int64_t p = 0; p < n / kPanelWidth; ++p)
    for (int64_t kk = 0; kk < k; ++kk) {
      const float* s = src + kk * k_stride + p * kPanelWidth * n_stride;
      for (int64_t j = 0; j < kPanelWidth; ++j) *dst++ = s[j * n_stride];
    }
}

}  // namespace loom_cpu
