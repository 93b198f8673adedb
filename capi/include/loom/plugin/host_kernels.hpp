// Ready-made kernels for the shape ops whose results depend only on tensor
// metadata and on small index tensors in host memory — Shape, Size, Rank and
// BroadcastGradientArgs — so every device registers the same code and gives
// the same answers and errors. Register them with their index outputs (and
// BroadcastGradientArgs' inputs) as host-memory arguments, e.g.
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

namespace loom::kit {

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
