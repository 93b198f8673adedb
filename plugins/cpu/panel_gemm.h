// A small float GEMM for the convolution kernels' shapes: C (+)= A * B with
// B's columns in panels of 16, each panel stored k-major (row kk of panel p
// at b + p * panel_stride + kk * ldb). A is read in place through two
// strides, so a row-major patch matrix needs no packing; B is packed once
// per op (PackPanels) and shared read-only by every thread.
//
// Why not Eigen here: Eigen packs both operands inside every call, and the
// convolutions call it once per tile of ~100-160 rows, so the [K, 64] filter
// was re-packed ~120 times per op and each patch tile copied once more. On
// the development machine (Zen 3, one thread), the 6x16 register kernel
// below reaches 88-89 GFLOP/s on the CNN's conv2 tiles where Eigen's GEMM
// reached 63-75 (forward: 163x800x64; backprop input: 98x64x800).
//
// Single-threaded: callers split rows over the pool. Not for double (the
// callers keep Eigen there).
#ifndef LOOM_PLUGINS_CPU_PANEL_GEMM_H_
#define LOOM_PLUGINS_CPU_PANEL_GEMM_H_

#include <cstdint>

namespace loom_cpu {

constexpr int64_t kPanelWidth = 16;

// Operand A: element (i, kk) at a[i * row_stride + kk * col_stride]; or,
// with `strips` (see PackRowStrips), rows in strips of 6 stored k-major:
// element (i, kk) at a[(i / 6) * 6 * k + kk * 6 + i % 6].
struct PanelA {
  const float* a;
  int64_t row_stride, col_stride;
  bool strips = false;
};

constexpr int64_t kStripRows = 6;

// Operand B: n columns in n / 16 panels; element (kk, p * 16 + j) at
// b[p * panel_stride + kk * ldb + j].
struct PanelB {
  const float* b;
  int64_t ldb, panel_stride;
};

// C[m, n] = A[m, k] * B[k, n] (accumulate: C +=), C row-major with leading
// dimension ldc; n must be a multiple of kPanelWidth.
void PanelGemm(int64_t m, int64_t n, int64_t k, const PanelA& a, const PanelB& b, float* c,
               int64_t ldc, bool accumulate);

// Packs the [k, n] matrix with element (kk, j) at src[kk * k_stride + j *
// n_stride] into panels for PanelGemm (ldb 16, panel_stride 16 * k): dst
// holds k * n floats; n must be a multiple of kPanelWidth.
void PackPanels(int64_t k, int64_t n, const float* src, int64_t k_stride, int64_t n_stride,
                float* dst);
// Packs A[m, k] (element (i, kk) at src[i * row_stride + kk * col_stride])
// into strips of 6 rows for PanelA::strips: dst holds ceil(m / 6) * 6 * k
// floats (the last strip's unused rows are left unset; never read).
void PackRowStrips(int64_t m, int64_t k, const float* src, int64_t row_stride,
                   int64_t col_stride, float* dst);

inline PanelB PackedPanels(const float* packed, int64_t k) {
  return PanelB{packed, kPanelWidth, kPanelWidth * k};
}

}  // namespace loom_cpu

#endif  // LOOM_PLUGINS_CPU_PANEL_GEMM_H_
