// The OpenCL plugin's kernels (host side): each enqueues OpenCL C kernels
// from cl/ on the op's device. Element-wise kernels take the OpenCL kernel's
// base name ("exp", "add", ...) as their state (the kernel table's user_data).
#ifndef LOOM_PLUGINS_OPENCL_KERNELS_H_
#define LOOM_PLUGINS_OPENCL_KERNELS_H_

#include "kernel_util.h"

namespace loom_opencl {

using ComputeFn = loom_status* (*)(void*, loom_kernel_context*);
#define LOOM_CL_KERNEL(name) loom_status* name(void* state, loom_kernel_context* ctx)

// kernels_elementwise.cc
LOOM_CL_KERNEL(UnaryKernel);        // state: base name
LOOM_CL_KERNEL(BinaryKernel);       // state: base name; numpy broadcasting
LOOM_CL_KERNEL(SameShapeKernel);    // state: base name; activation gradients
LOOM_CL_KERNEL(CastKernel);
LOOM_CL_KERNEL(BiasAddKernel);
LOOM_CL_KERNEL(AddNKernel);

// kernels_matmul.cc
LOOM_CL_KERNEL(MatMulKernel);
LOOM_CL_KERNEL(BatchMatMulKernel);  // BatchMatMul and BatchMatMulV2

// kernels_reduce.cc
LOOM_CL_KERNEL(ReduceKernel);       // state: "sum", "mean", "max", "min", "prod"
LOOM_CL_KERNEL(ArgReduceKernel);    // state: "argmax", "argmin"
LOOM_CL_KERNEL(L2LossKernel);
LOOM_CL_KERNEL(BiasAddGradKernel);

// kernels_nn.cc
LOOM_CL_KERNEL(SoftmaxKernel);      // state: "softmax", "log_softmax"
LOOM_CL_KERNEL(XentKernel);
LOOM_CL_KERNEL(SparseXentKernel);
LOOM_CL_KERNEL(AssignUpdateKernel);  // state: "assign_add", "assign_sub"
LOOM_CL_KERNEL(ApplyGradientDescentKernel);
LOOM_CL_KERNEL(ApplyMomentumKernel);
LOOM_CL_KERNEL(ApplyAdamKernel);
LOOM_CL_KERNEL(ApplyAdagradKernel);
LOOM_CL_KERNEL(ApplyRMSPropKernel);

// kernels_array.cc
LOOM_CL_KERNEL(FillKernel);
LOOM_CL_KERNEL(ZerosLikeKernel);
LOOM_CL_KERNEL(OnesLikeKernel);
LOOM_CL_KERNEL(TransposeKernel);
LOOM_CL_KERNEL(TileKernel);
LOOM_CL_KERNEL(BroadcastToKernel);

// Shared by kernels: gathers `src` through `view` into `dst` (n elements of
// esize bytes) — Transpose, Tile, BroadcastTo, MatMul's transpose of B.
loom_status* Gather(const Kernel& k, cl_mem src, cl_mem dst, int64_t n, int esize,
                    const GatherView& view);
// A view of `in` (dims) permuted by perm: the output of Transpose.
loom_status* TransposeView(const Dims& in, const std::vector<int>& perm, Dims* out,
                           GatherView* view);

}  // namespace loom_opencl

#endif  // LOOM_PLUGINS_OPENCL_KERNELS_H_
