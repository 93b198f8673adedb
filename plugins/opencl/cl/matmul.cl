// Matrix products. C[b] = A[b] x B[b] over a batch (MatMul: one), with A
// read through strides (so transpose_a / adj_x cost nothing).
//
// Register blocking: each work-item computes a 4 x 16 block of C, holding it
// in four float16 accumulators; per k it loads 16 consecutive floats of B
// (one vector), broadcasts four elements of A and does four vector FMAs.
// Explicit vectors matter on PoCL's CPU device: it vectorises this code
// directly, where the classic GPU kernel (a 64x64 tile staged through local
// memory with barriers, each work-item holding a 4x4 block in scalars) ran
// ~2x slower here, and a naive one-output-per-work-item kernel ~5x slower.
// Work-groups of 4 x 4 items cover a 64 x 64 block of C.
//
// B's 16-column vectors come either straight from B (when its rows are
// contiguous and short) or from a packed copy Bp[batch][panel][k][16] that
// the host gathers first (kernels_matmul.cc): a panel is then one contiguous
// stream instead of K loads a row apart, which keeps large products out of
// TLB and cache-set trouble (1024^3: ~2x), and packing from strides makes a
// transposed B free. Columns past the last full panel, and rows past the
// last full block of 4, take a scalar path reading B through its strides.

#define MM_ROWS 4
#define MM_COLS 16

__kernel __attribute__((reqd_work_group_size(4, 4, 1)))
void matmul_float(__global const float* A, __global const float* B, __global const float* Bp,
                  __global float* C, long M, long N, long K, long a_rs, long a_cs, long b_rs,
                  long b_cs, int packed, bview batch) {
  const long j0 = get_global_id(0) * MM_COLS;
  const long i0 = get_global_id(1) * MM_ROWS;
  if (j0 >= N || i0 >= M) return;
  long ba, bb;
  bview_offsets(&batch, get_global_id(2), &ba, &bb);
  __global const float* a = A + ba * (M * K) + i0 * a_rs;
  __global float* c = C + get_global_id(2) * (M * N) + i0 * N + j0;
  if (i0 + MM_ROWS <= M && j0 + MM_COLS <= N) {
    // Vector elements of B: Bv[k * step] (packed panel, or a row of B).
    const long panels = N / MM_COLS;
    __global const float* bv_base =
        packed ? Bp + (bb * panels + j0 / MM_COLS) * (K * MM_COLS) : B + bb * (K * N) + j0;
    const long step = packed ? MM_COLS : N;
    float16 acc0 = (float16)(0.0f), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    const long r1 = a_rs, r2 = 2 * a_rs, r3 = 3 * a_rs;
    for (long k = 0; k < K; ++k) {
      const float16 bv = vload16(0, bv_base + k * step);
      const long ak = k * a_cs;
      acc0 = fma((float16)(a[ak]), bv, acc0);
      acc1 = fma((float16)(a[ak + r1]), bv, acc1);
      acc2 = fma((float16)(a[ak + r2]), bv, acc2);
      acc3 = fma((float16)(a[ak + r3]), bv, acc3);
    }
    vstore16(acc0, 0, c);
    vstore16(acc1, 0, c + N);
    vstore16(acc2, 0, c + 2 * N);
    vstore16(acc3, 0, c + 3 * N);
    return;
  }
  __global const float* b = B + bb * (K * N) + j0 * b_cs;
  for (int r = 0; r < MM_ROWS && i0 + r < M; ++r) {
    for (int j = 0; j < MM_COLS && j0 + j < N; ++j) {
      float s = 0.0f;
      for (long k = 0; k < K; ++k) s = fma(a[r * a_rs + k * a_cs], b[k * b_rs + j * b_cs], s);
      c[r * N + j] = s;
    }
  }
}
