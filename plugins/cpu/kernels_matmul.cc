// MatMul, BatchMatMul, BatchMatMulV2 on Eigen's GEMM.
//
// Eigen is single-threaded here (no OpenMP); we split the product into row
// (or column) blocks over the session's intra-op pool, one Eigen GEMM per
// block. Measured on the 2-core AMD EPYC (Zen 3) dev machine, 1024x1024 fp32:
// Eigen 1 thread ~80 GFLOP/s, 2 threads ~145 GFLOP/s, against OpenBLAS 0.3.21
// (cblas_sgemm, its own 2 threads) ~150-170 GFLOP/s: within the noise of a
// shared machine, without a second library or global BLAS thread settings.
#include <algorithm>

#include <Eigen/Core>

#include "kernels.h"

namespace loom_cpu {
namespace {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<Matrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

// C[m, n] = op(A) * op(B), A stored [m, k] (or [k, m] when ta), B stored
// [k, n] (or [n, k] when tb). `parallel` lets the product split over the pool.
template <typename T>
void Gemm(const Kernel& k, bool parallel, const T* a, bool ta, const T* b, bool tb, T* c,
          int64_t m, int64_t n, int64_t kd) {
  if (m == 0 || n == 0) return;
  MatrixMap<T> C(c, m, n);
  if (kd == 0) {
    C.setZero();
    return;
  }
  ConstMatrixMap<T> A(a, ta ? kd : m, ta ? m : kd);
  ConstMatrixMap<T> B(b, tb ? n : kd, tb ? kd : n);
  // The four (ta, tb) combinations, restricted to rows [r0, r1) and columns
  // [c0, c1) of C.
  auto block = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    auto Cb = C.block(r0, c0, r1 - r0, c1 - c0);
    if (!ta && !tb) {
      Cb.noalias() = A.middleRows(r0, r1 - r0) * B.middleCols(c0, c1 - c0);
    } else if (!ta && tb) {
      Cb.noalias() = A.middleRows(r0, r1 - r0) * B.middleRows(c0, c1 - c0).transpose();
    } else if (ta && !tb) {
      Cb.noalias() = A.middleCols(r0, r1 - r0).transpose() * B.middleCols(c0, c1 - c0);
    } else {
      Cb.noalias() =
          A.middleCols(r0, r1 - r0).transpose() * B.middleRows(c0, c1 - c0).transpose();
    }
  };
  const int64_t flops = 2 * m * n * kd;
  const int threads = parallel ? k.num_threads() : 1;
  if (threads <= 1 || flops < 2 * kInlineCostCycles * 8) {
    block(0, m, 0, n);
    return;
  }
  // Split the longer side of C in blocks of at least 32 (rows) / 64 (cols),
  // about 4 per thread so uneven thread speeds even out.
  if (m >= n) {
    const int64_t bs = std::max<int64_t>(32, (m + 4 * threads - 1) / (4 * threads));
    const int64_t nb = (m + bs - 1) / bs;
    k.parallel_for(nb, 2 * bs * n * kd, [&](int64_t s, int64_t e) {
      block(s * bs, std::min(m, e * bs), 0, n);
    });
  } else {
    const int64_t bs = std::max<int64_t>(64, (n + 4 * threads - 1) / (4 * threads));
    const int64_t nb = (n + bs - 1) / bs;
    k.parallel_for(nb, 2 * bs * m * kd, [&](int64_t s, int64_t e) {
      block(0, m, s * bs, std::min(n, e * bs));
    });
  }
}

loom_status* MatMulImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor a = k.input(0), b = k.input(1);
  bool ta = false, tb = false;
  LOOM_RETURN_IF_ERROR(k.attr("transpose_a", &ta, false));
  LOOM_RETURN_IF_ERROR(k.attr("transpose_b", &tb, false));
  if (a.rank != 2) {
    return InvalidArgument("In[0] is not a matrix. Instead it has shape ", a.shape_str());
  }
  if (b.rank != 2) {
    return InvalidArgument("In[1] is not a matrix. Instead it has shape ", b.shape_str());
  }
  const int64_t m = ta ? a.dim(1) : a.dim(0), ka = ta ? a.dim(0) : a.dim(1);
  const int64_t kb = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  if (ka != kb) {
    return InvalidArgument("Matrix size-incompatible: In[0]: ", a.shape_str(), ", In[1]: ",
                           b.shape_str(), " (transpose_a=", ta, ", transpose_b=", tb, ")");
  }
  Dims od;
  od.push_back(m);
  od.push_back(n);
  Tensor out;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &out));
  return Dispatch(NumericTypes{}, a.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    Gemm<T>(k, true, a.as<const T>(), ta, b.as<const T>(), tb, out.as<T>(), m, n, ka);
    return nullptr;
  });
}

// x: [..., m, k] (adj_x: [..., k, m]), y: [..., k, n]. V1 requires equal batch
// dims; V2 broadcasts them.
template <bool kV2>
loom_status* BatchMatMulImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), y = k.input(1);
  bool adj_x = false, adj_y = false;
  LOOM_RETURN_IF_ERROR(k.attr("adj_x", &adj_x, false));
  LOOM_RETURN_IF_ERROR(k.attr("adj_y", &adj_y, false));
  if (x.rank < 2 || y.rank < 2) {
    return InvalidArgument("In[0] and In[1] must have rank >= 2, but got ", x.shape_str(),
                           " and ", y.shape_str());
  }
  if (!kV2) {
    bool same = x.rank == y.rank;
    for (int i = 0; same && i < x.rank - 2; ++i) same = x.dim(i) == y.dim(i);
    if (!same) {
      return InvalidArgument("In[0] and In[1] must have the same batch dimensions: ",
                             x.shape_str(), " vs. ", y.shape_str());
    }
  }
  const int64_t m = adj_x ? x.dim(x.rank - 1) : x.dim(x.rank - 2);
  const int64_t kx = adj_x ? x.dim(x.rank - 2) : x.dim(x.rank - 1);
  const int64_t ky = adj_y ? y.dim(y.rank - 1) : y.dim(y.rank - 2);
  const int64_t n = adj_y ? y.dim(y.rank - 2) : y.dim(y.rank - 1);
  if (kx != ky) {
    return InvalidArgument("Matrix size-incompatible: In[0]: ", x.shape_str(), ", In[1]: ",
                           y.shape_str(), " (adj_x=", adj_x, ", adj_y=", adj_y, ")");
  }
  // Broadcast the batch dims (shapes without the two matrix dims).
  Tensor xb = x, yb = y;
  xb.rank -= 2;
  yb.rank -= 2;
  Broadcast bc;
  const Tensor* in[2] = {&xb, &yb};
  loom_status* s = BroadcastInputs(in, 2, &bc);
  if (s != nullptr) {
    g_host->status_free(s);
    return InvalidArgument("In[0] and In[1] must have compatible batch dimensions: ",
                           x.shape_str(), " vs. ", y.shape_str());
  }
  Dims od = bc.out;
  od.push_back(m);
  od.push_back(n);
  LOOM_RETURN_IF_ERROR(CheckRank(od.n));
  Tensor out;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &out));
  const int64_t batch = bc.out.num_elements();
  if (out.size == 0) return nullptr;
  // Per output batch index: the matrix index of x and of y.
  std::vector<int64_t> xi(static_cast<size_t>(batch)), yi(static_cast<size_t>(batch));
  const int64_t inner = bc.inner();
  bc.ForRows(0, bc.rows(), [&](int64_t row, const int64_t* off) {
    for (int64_t j = 0; j < inner; ++j) {
      xi[row * inner + j] = off[0] + j * bc.strides[0][bc.rank - 1];
      yi[row * inner + j] = off[1] + j * bc.strides[1][bc.rank - 1];
    }
  });
  return Dispatch(NumericTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* xp = x.as<const T>();
    const T* yp = y.as<const T>();
    T* op = out.as<T>();
    const int64_t xs = m * kx, ys = kx * n, os = m * n;
    const int64_t flops = 2 * m * n * kx;
    if (batch >= 2 * k.num_threads() || flops < 1000000) {
      k.parallel_for(batch, flops + 100, [&](int64_t s, int64_t e) {
        for (int64_t b = s; b < e; ++b)
          Gemm<T>(k, false, xp + xi[b] * xs, adj_x, yp + yi[b] * ys, adj_y, op + b * os, m,
                  n, kx);
      });
    } else {  // few large products: parallelise inside each
      for (int64_t b = 0; b < batch; ++b)
        Gemm<T>(k, true, xp + xi[b] * xs, adj_x, yp + yi[b] * ys, adj_y, op + b * os, m, n,
                kx);
    }
    return nullptr;
  });
}

}  // namespace

LOOM_CPU_KERNEL(MatMulKernel) { return MatMulImpl(ctx); }
LOOM_CPU_KERNEL(BatchMatMulKernel) { return BatchMatMulImpl<false>(ctx); }
LOOM_CPU_KERNEL(BatchMatMulV2Kernel) { return BatchMatMulImpl<true>(ctx); }

}  // namespace loom_cpu
