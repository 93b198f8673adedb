// MatMul, BatchMatMul and BatchMatMulV2 (float) with cl/matmul.cl: A is
// read through strides; B directly when its rows are short and contiguous,
// else from a packed copy of its 16-column panels gathered first.
#include <algorithm>

#include "kernels.h"

namespace loom_opencl {

namespace {

// C[batch] = op(A)[batch] x op(B)[batch]. a_dims/b_dims are the operands'
// full shapes (batch dims first); batch_view maps an output batch index to
// each operand's batch index (numpy broadcasting of the batch dims).
loom_status* BatchedProduct(const Kernel& k, const Tensor& a, const Tensor& b, bool ta, bool tb,
                            int64_t batches, const BroadcastView& batch_view, const Tensor& c) {
  const int64_t a0 = a.dim(a.rank - 2), a1 = a.dim(a.rank - 1);
  const int64_t b0 = b.dim(b.rank - 2), b1 = b.dim(b.rank - 1);
  const int64_t m = ta ? a1 : a0, kk = ta ? a0 : a1, n = tb ? b0 : b1;
  if (c.size == 0) return nullptr;
  cl_mem am = Mem(a), bm = Mem(b), cm = Mem(c), bp = bm;
  if (kk == 0) {  // an empty sum: zeros
    const float zero = 0.0f;
    return k.dev().Fill(cm, &zero, sizeof zero, c.bytes(), "MatMul with an empty inner dimension");
  }
  // B(k, j) = B[k * b_rs + j * b_cs] within its matrix; A(i, k) likewise.
  const int64_t b_rs = tb ? 1 : b1, b_cs = tb ? b1 : 1;
  const int64_t a_rs = ta ? 1 : a1, a_cs = ta ? a1 : 1;
  // Pack B's full 16-column panels when B is transposed (the vector loads
  // need columns side by side) or when its rows are long (>= 2 KiB: loads a
  // row apart then thrash the TLB) and enough rows of A reuse each panel.
  const int64_t panels = n / 16;
  const int32_t packed = panels > 0 && (tb || (n >= 512 && m >= 64)) ? 1 : 0;
  Tensor packed_b;
  if (packed) {
    const int64_t bb = b.size / (b0 * b1);  // B's batch count
    Dims d;
    d.push_back(bb * panels * kk * 16);
    LOOM_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_FLOAT, d, &packed_b));
    GatherView v = {};
    v.rank = 4;
    v.offset = 0;
    const int64_t dims[4] = {bb, panels, kk, 16};
    const int64_t strides[4] = {kk * n, 16 * b_cs, b_rs, b_cs};
    for (int i = 0; i < kMaxViewDims; ++i) {
      v.dims[i] = i < 4 ? dims[i] : 1;
      v.mods[i] = i < 4 ? dims[i] : 1;
      v.strides[i] = i < 4 ? strides[i] : 0;
    }
    bp = Mem(packed_b);
    LOOM_RETURN_IF_ERROR(Gather(k, bm, bp, packed_b.size, 4, v));
  }
  const size_t gx = static_cast<size_t>((n + 15) / 16), gy = static_cast<size_t>((m + 3) / 4);
  return k.Launch("matmul_float", {gx, gy, static_cast<size_t>(batches)}, {4, 4, 1},
                  {am, bm, bp, cm, m, n, kk, a_rs, a_cs, b_rs, b_cs, packed, batch_view});
}

BroadcastView SingleBatch() {
  BroadcastView v = {};
  v.rank = 1;
  v.dims[0] = 1;
  for (int i = 1; i < kMaxViewDims; ++i) v.dims[i] = 1;
  return v;
}

}  // namespace

LOOM_CL_KERNEL(MatMulKernel) {
  Kernel k(ctx);
  Tensor a = k.input(0), b = k.input(1), c;
  bool ta = false, tb = false;
  LOOM_RETURN_IF_ERROR(k.attr("transpose_a", &ta, false));
  LOOM_RETURN_IF_ERROR(k.attr("transpose_b", &tb, false));
  if (a.rank != 2 || b.rank != 2) {
    return InvalidArgument("In[0] and In[1] must be matrices, got shapes ", a.shape_str(),
                           " and ", b.shape_str());
  }
  if (a.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype("MatMul", a.dtype);
  const int64_t m = a.dim(ta ? 1 : 0), ka = a.dim(ta ? 0 : 1);
  const int64_t kb = b.dim(tb ? 1 : 0), n = b.dim(tb ? 0 : 1);
  if (ka != kb) {
    return InvalidArgument("Matrix size-incompatible: In[0]: ", a.shape_str(), ", In[1]: ",
                           b.shape_str(), " (transpose_a=", ta, ", transpose_b=", tb, ")");
  }
  Dims d;
  d.push_back(m);
  d.push_back(n);
  LOOM_RETURN_IF_ERROR(k.allocate(0, d, &c));
  return BatchedProduct(k, a, b, ta, tb, 1, SingleBatch(), c);
}

// BatchMatMul: equal batch dims; BatchMatMulV2: batch dims broadcast.
LOOM_CL_KERNEL(BatchMatMulKernel) {
  Kernel k(ctx);
  Tensor a = k.input(0), b = k.input(1), c;
  bool adj_x = false, adj_y = false;
  LOOM_RETURN_IF_ERROR(k.attr("adj_x", &adj_x, false));
  LOOM_RETURN_IF_ERROR(k.attr("adj_y", &adj_y, false));
  if (a.rank < 2 || b.rank < 2) {
    return InvalidArgument("In[0] and In[1] must have rank >= 2, got shapes ", a.shape_str(),
                           " and ", b.shape_str());
  }
  if (a.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype("BatchMatMul", a.dtype);
  const int64_t m = a.dim(a.rank - (adj_x ? 1 : 2)), ka = a.dim(a.rank - (adj_x ? 2 : 1));
  const int64_t kb = b.dim(b.rank - (adj_y ? 1 : 2)), n = b.dim(b.rank - (adj_y ? 2 : 1));
  if (ka != kb) {
    return InvalidArgument("Matrix size-incompatible: In[0]: ", a.shape_str(), ", In[1]: ",
                           b.shape_str(), " (adj_x=", adj_x, ", adj_y=", adj_y, ")");
  }
  Dims ab(a.dims, a.rank - 2), bb(b.dims, b.rank - 2), batch;
  BroadcastView view;
  LOOM_RETURN_IF_ERROR(MakeBroadcast(ab, bb, &batch, &view));
  Dims d = batch;
  d.push_back(m);
  d.push_back(n);
  LOOM_RETURN_IF_ERROR(k.allocate(0, d, &c));
  return BatchedProduct(k, a, b, adj_x, adj_y, batch.num_elements(), view, c);
}

}  // namespace loom_opencl
