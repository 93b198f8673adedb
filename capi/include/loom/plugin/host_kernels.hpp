// Ready-made kernels for the shape ops whose results depend only on tensor
// metadata and on small index tensors in host memory — Reshape, ExpandDims
// and Squeeze (which alias their input's buffer, wherever it lives), Shape,
// Size, Rank and BroadcastGradientArgs — so every device registers the same
// code and gives the same answers and errors. Register them with their index
// arguments in host memory, e.g.
//   {"Shape", loom::kit::ShapeKernel, {{"T", kAll}, {"out_type", kIdx}}, {"output"}},
//   {"BroadcastGradientArgs", loom::kit::BroadcastGradientArgsKernel, {{"T", kIdx}},
//    {"s0", "s1", "r0", "r1"}},
// They never touch the data of a device-memory input.
#ifndef LOOM_PLUGIN_HOST_KERNELS_HPP_
#define LOOM_PLUGIN_HOST_KERNELS_HPP_

#include <cstdint>
#include <vector>

#include "loom/plugin/broadcast.hpp"
#include "loom/plugin/kit.hpp"
#include "loom/plugin/reshape.hpp"

namespace loom::kit {

// Reshape(x, shape): x's buffer with the requested shape (reshape.hpp
// resolves its -1).
inline loom_status* ReshapeKernel(void*, loom_kernel_context* c) {
  KernelContext k(c);
  Tensor x = k.input(0), shape_t = k.input(1);
  Dims d;
  LOOM_RETURN_IF_ERROR(ReadShape(shape_t, "shape", &d));
  LOOM_RETURN_IF_ERROR(
      InvalidArgumentIf(ResolveReshape(x.size, x.shape_str(), d.d, d.n)));
  return k.forward(0, 0, d);
}

// ExpandDims(x, dim): x's buffer with a 1 inserted at dim in [-rank-1, rank].
inline loom_status* ExpandDimsKernel(void*, loom_kernel_context* c) {
  KernelContext k(c);
  Tensor x = k.input(0), dim_t = k.input(1);
  int64_t dim = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(dim_t, "dim", &dim));
  if (dim < -1 - x.rank || dim > x.rank) {
    return InvalidArgument("Tried to expand dim index ", dim, " for tensor with ", x.rank,
                           " dimensions; expected a dim in [", -1 - x.rank, ", ", x.rank, "]");
  }
  if (dim < 0) dim += x.rank + 1;
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank + 1));
  Dims d;
  for (int i = 0; i < x.rank; ++i) {
    if (i == dim) d.push_back(1);
    d.push_back(x.dim(i));
  }
  if (dim == x.rank) d.push_back(1);
  return k.forward(0, 0, d);
}

// Squeeze(x): x's buffer without the size-1 dims listed in squeeze_dims (all
// of them when the list is empty).
inline loom_status* SqueezeKernel(void*, loom_kernel_context* c) {
  KernelContext k(c);
  Tensor x = k.input(0);
  std::vector<int64_t> sq;
  LOOM_RETURN_IF_ERROR(k.attr_list("squeeze_dims", &sq));
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank));
  bool drop[kMaxDims] = {};
  for (int64_t s : sq) {
    if (s < -x.rank || s >= x.rank) {
      return InvalidArgument("Tried to squeeze dim index ", s, " for tensor with ", x.rank,
                             " dimensions");
    }
    const int a = static_cast<int>(s < 0 ? s + x.rank : s);
    if (x.dim(a) != 1) {
      return InvalidArgument("Can not squeeze dim[", a, "], expected a dimension of 1, got ",
                             x.dim(a), " (input shape ", x.shape_str(), ")");
    }
    drop[a] = true;
  }
  Dims d;
  for (int i = 0; i < x.rank; ++i) {
    const bool squeeze = sq.empty() ? x.dim(i) == 1 : drop[i];
    if (!squeeze) d.push_back(x.dim(i));
  }
  return k.forward(0, 0, d);
}

// Shape(x): x's dims as int32 or int64 (the output's dtype); INVALID_ARGUMENT
// when a dim does not fit in int32.
inline loom_status* ShapeKernel(void*, loom_kernel_context* ctx) {
  KernelContext k(ctx);
  Tensor x = k.input(0), y;
  Dims d;
  d.push_back(x.rank);
  LOOM_RETURN_IF_ERROR(k.allocate(0, d, &y));
  if (y.dtype == LOOM_DTYPE_INT32) {
    for (int i = 0; i < x.rank; ++i) {
      if (x.dim(i) > INT32_MAX) {
        return InvalidArgument("Shape output type is int32 but dimension ", i, " is ",
                               x.dim(i), "; use out_type int64");
      }
    }
  }
  StoreIndices(y, x.dims, x.rank);
  return nullptr;
}

// Size(x): x's element count as a scalar of the output's dtype.
inline loom_status* SizeKernel(void*, loom_kernel_context* ctx) {
  KernelContext k(ctx);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, Dims(), &y));
  if (y.dtype == LOOM_DTYPE_INT32 && x.size > INT32_MAX) {
    return InvalidArgument("Number of elements ", x.size,
                           " does not fit in int32; use out_type int64");
  }
  StoreIndices(y, &x.size, 1);
  return nullptr;
}

// Rank(x): x's rank as an int32 scalar.
inline loom_status* RankKernel(void*, loom_kernel_context* ctx) {
  KernelContext k(ctx);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, Dims(), &y));
  const int64_t r = x.rank;
  StoreIndices(y, &r, 1);
  return nullptr;
}

// BroadcastGradientArgs(s0, s1) -> (r0, r1): the axes along which each shape
// was broadcast (broadcast.hpp's BroadcastGradientAxes).
inline loom_status* BroadcastGradientArgsKernel(void*, loom_kernel_context* ctx) {
  KernelContext k(ctx);
  Tensor t0 = k.input(0), t1 = k.input(1), o0, o1;
  std::vector<int64_t> s0, s1, r0, r1;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(t0, "s0", &s0));
  LOOM_RETURN_IF_ERROR(ReadIndexVector(t1, "s1", &s1));
  LOOM_RETURN_IF_ERROR(InvalidArgumentIf(BroadcastGradientAxes(
      s0.data(), static_cast<int>(s0.size()), s1.data(), static_cast<int>(s1.size()), &r0, &r1)));
  Dims d0, d1;
  d0.push_back(static_cast<int64_t>(r0.size()));
  d1.push_back(static_cast<int64_t>(r1.size()));
  LOOM_RETURN_IF_ERROR(k.allocate(0, d0, &o0));
  LOOM_RETURN_IF_ERROR(k.allocate(1, d1, &o1));
  StoreIndices(o0, r0.data(), static_cast<int64_t>(r0.size()));
  StoreIndices(o1, r1.data(), static_cast<int64_t>(r1.size()));
  return nullptr;
}

}  // namespace loom::kit

#endif  // LOOM_PLUGIN_HOST_KERNELS_HPP_
