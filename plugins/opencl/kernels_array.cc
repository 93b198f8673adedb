// Data movement: Fill/ZerosLike/OnesLike (clEnqueueFillBuffer) and the strided
// gathers Transpose, Tile, BroadcastTo. Reshape/ExpandDims/Squeeze (aliasing
// the input's buffer), Shape/Size/Rank and BroadcastGradientArgs are the
// kit's (loom/plugin/host_kernels.hpp).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "loom/plugin/broadcast.hpp"

namespace loom_opencl {

namespace {

loom_status* FillWith(const Kernel& k, const Tensor& out, double value) {
  unsigned char pattern[8];
  size_t size = loom_dtype_size_inline(out.dtype);
  switch (out.dtype) {
    case LOOM_DTYPE_FLOAT: { float v = static_cast<float>(value); std::memcpy(pattern, &v, 4); break; }
    case LOOM_DTYPE_DOUBLE: std::memcpy(pattern, &value, 8); break;
    case LOOM_DTYPE_INT32: { int32_t v = static_cast<int32_t>(value); std::memcpy(pattern, &v, 4); break; }
    case LOOM_DTYPE_INT64: { int64_t v = static_cast<int64_t>(value); std::memcpy(pattern, &v, 8); break; }
    case LOOM_DTYPE_INT16: { int16_t v = static_cast<int16_t>(value); std::memcpy(pattern, &v, 2); break; }
    case LOOM_DTYPE_INT8: { int8_t v = static_cast<int8_t>(value); std::memcpy(pattern, &v, 1); break; }
    case LOOM_DTYPE_UINT8: { uint8_t v = static_cast<uint8_t>(value); std::memcpy(pattern, &v, 1); break; }
    case LOOM_DTYPE_BOOL: pattern[0] = value != 0; break;
    default: return UnsupportedDtype(k.op_name(), out.dtype);
  }
  return k.dev().Fill(Mem(out), pattern, size, out.bytes(), "filling a tensor");
}

}  // namespace

loom_status* Gather(const Kernel& k, cl_mem src, cl_mem dst, int64_t n, int esize,
                    const GatherView& view) {
  const char* name = esize == 1 ? "gather_8" : esize == 2 ? "gather_16"
                     : esize == 4 ? "gather_32" : esize == 8 ? "gather_64" : nullptr;
  if (!name) return Unimplemented("gathering elements of ", esize, " bytes");
  return k.Launch1D(name, n, {src, dst, n, view});
}

loom_status* TransposeView(const Dims& in, const std::vector<int>& perm, Dims* out,
                           GatherView* view) {
  int64_t strides[kMaxDims];
  RowMajorStrides(in, strides);
  // Drop size-1 output dims (they do not move anything), then merge output
  // dims that are consecutive in the input too.
  int n = 0;
  int64_t dims[kMaxDims], st[kMaxDims];
  out->n = 0;
  for (size_t i = 0; i < perm.size(); ++i) {
    const int p = perm[i];
    out->push_back(in[p]);
    if (in[p] == 1) continue;
    if (n > 0 && st[n - 1] == strides[p] * in[p]) {
      dims[n - 1] *= in[p];
      st[n - 1] = strides[p];
    } else {
      dims[n] = in[p];
      st[n] = strides[p];
      ++n;
    }
  }
  if (n == 0) {
    dims[0] = 1;
    st[0] = 1;
    n = 1;
  }
  if (n > kMaxViewDims) {
    return Unimplemented("transposing ", in.str(), " needs more than ", kMaxViewDims,
                         " dimensions on OpenCL");
  }
  *view = GatherView{};
  view->rank = n;
  view->offset = 0;
  for (int i = 0; i < kMaxViewDims; ++i) {
    view->dims[i] = i < n ? dims[i] : 1;
    view->mods[i] = i < n ? dims[i] : 1;
    view->strides[i] = i < n ? st[i] : 0;
  }
  return nullptr;
}

// ---------------------------------------------------------------- fills

LOOM_CL_KERNEL(FillKernel) {
  Kernel k(ctx);
  Tensor dims_t = k.input(0), value = k.input(1), y;
  Dims d;
  LOOM_RETURN_IF_ERROR(ReadShape(dims_t, "dims", &d));
  for (int i = 0; i < d.n; ++i)
    if (d[i] < 0) return InvalidArgument("dims must be non-negative, got ", d.str());
  LOOM_RETURN_IF_ERROR(CheckScalar(value, "value"));
  LOOM_RETURN_IF_ERROR(k.allocate(0, d, &y));
  if (y.size == 0) return nullptr;
  // value is a host-memory argument: its bytes are the fill pattern.
  return k.dev().Fill(Mem(y), value.data, loom_dtype_size_inline(value.dtype), y.bytes(),
                      "Fill");
}

LOOM_CL_KERNEL(ZerosLikeKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  if (y.size == 0) return nullptr;
  return FillWith(k, y, 0.0);
}

LOOM_CL_KERNEL(OnesLikeKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  if (y.size == 0) return nullptr;
  return FillWith(k, y, 1.0);
}

// ---------------------------------------------------------------- gathers

LOOM_CL_KERNEL(TransposeKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), perm_t = k.input(1), y;
  std::vector<int64_t> p64;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(perm_t, "perm", &p64));
  LOOM_RETURN_IF_ERROR(
      InvalidArgumentIf(loom::kit::CheckPermutation(p64, x.dims, x.rank)));
  std::vector<int> perm(p64.begin(), p64.end());
  Dims out;
  GatherView view;
  LOOM_RETURN_IF_ERROR(TransposeView(x.shape(), perm, &out, &view));
  LOOM_RETURN_IF_ERROR(k.allocate(0, out, &y));
  return Gather(k, Mem(x), Mem(y), y.size, loom_dtype_size_inline(x.dtype), view);
}

namespace {
// Output dims `out` read x (dims in, right-aligned) repeating it: coordinate c
// of output dim i reads input coordinate c % in[i] (in[i] == 1: broadcast).
loom_status* RepeatView(const Dims& in, const Dims& out, GatherView* view) {
  if (out.n > kMaxViewDims) {
    return Unimplemented("tensors of rank ", out.n, " (more than ", kMaxViewDims, ") on OpenCL");
  }
  Dims full;
  for (int i = 0; i < out.n - in.n; ++i) full.push_back(1);
  for (int i = 0; i < in.n; ++i) full.push_back(in[i]);
  int64_t strides[kMaxDims];
  RowMajorStrides(full, strides);
  *view = GatherView{};
  view->rank = out.n == 0 ? 1 : out.n;
  view->offset = 0;
  for (int i = 0; i < kMaxViewDims; ++i) {
    if (i < out.n) {
      view->dims[i] = out[i];
      view->mods[i] = full[i] == 0 ? 1 : full[i];
      view->strides[i] = full[i] == 1 ? 0 : strides[i];
    } else {
      view->dims[i] = 1;
      view->mods[i] = 1;
      view->strides[i] = 0;
    }
  }
  return nullptr;
}
}  // namespace

LOOM_CL_KERNEL(TileKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), m_t = k.input(1), y;
  std::vector<int64_t> mult;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(m_t, "multiples", &mult));
  if (static_cast<int>(mult.size()) != x.rank) {
    return InvalidArgument("Expected multiples argument to be a vector of length ", x.rank,
                           " but got length ", mult.size());
  }
  Dims out;
  for (int i = 0; i < x.rank; ++i) {
    if (mult[i] < 0) return InvalidArgument("Expected multiples[", i, "] >= 0, but got ", mult[i]);
    out.push_back(x.dim(i) * mult[i]);
  }
  LOOM_RETURN_IF_ERROR(k.allocate(0, out, &y));
  if (y.size == 0) return nullptr;
  GatherView view;
  LOOM_RETURN_IF_ERROR(RepeatView(x.shape(), out, &view));
  // Tile repeats along dims whose input size is 1 too: the stride rule above
  // (stride 0 when the input dim is 1) is exactly that.
  return Gather(k, Mem(x), Mem(y), y.size, loom_dtype_size_inline(x.dtype), view);
}

LOOM_CL_KERNEL(BroadcastToKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), s_t = k.input(1), y;
  Dims out;
  LOOM_RETURN_IF_ERROR(ReadShape(s_t, "shape", &out));
  LOOM_RETURN_IF_ERROR(loom::kit::CheckNonNegative(out, "shape"));
  std::vector<int64_t> shape;
  LOOM_RETURN_IF_ERROR(
      InvalidArgumentIf(loom::kit::BroadcastToShape(x.dims, x.rank, out.d, out.n, &shape)));
  LOOM_RETURN_IF_ERROR(k.allocate(0, out, &y));
  if (y.size == 0) return nullptr;
  GatherView view;
  LOOM_RETURN_IF_ERROR(RepeatView(x.shape(), out, &view));
  return Gather(k, Mem(x), Mem(y), y.size, loom_dtype_size_inline(x.dtype), view);
}

}  // namespace loom_opencl
