// Element-wise ops: unary math, binary math and comparisons with numpy
// broadcasting, activation gradients, Cast, BiasAdd, AddN.
#include <string>

#include "kernels.h"

namespace loom_opencl {

namespace {

// "exp" + float -> "exp_float".
std::string KernelName(const char* base, loom_dtype dt, const char* suffix = "") {
  return StrCat(base, "_", ClTypeName(dt), suffix);
}

}  // namespace

LOOM_CL_KERNEL(UnaryKernel) {
  const char* base = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor x = k.input(0), y;
  if (!ClTypeName(x.dtype)) return UnsupportedDtype(base, x.dtype);
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  cl_mem xm = Mem(x), ym = Mem(y);
  return k.Launch1D(KernelName(base, x.dtype), x.size, {xm, ym, x.size});
}

LOOM_CL_KERNEL(BinaryKernel) {
  const char* base = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor a = k.input(0), b = k.input(1), y;
  if (a.dtype != b.dtype) {
    return InvalidArgument("both inputs must have one dtype, got ", DtypeName(a.dtype), " and ",
                           DtypeName(b.dtype));
  }
  if (!ClTypeName(a.dtype)) return UnsupportedDtype(base, a.dtype);
  cl_mem am = Mem(a), bm = Mem(b);
  if (a.same_shape(b)) {
    LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0, 1}, 0, a.shape(), &y));
    cl_mem ym = Mem(y);
    return k.Launch1D(KernelName(base, a.dtype), a.size, {am, bm, ym, a.size});
  }
  Dims out;
  BroadcastView view;
  LOOM_RETURN_IF_ERROR(MakeBroadcast(a.shape(), b.shape(), &out, &view));
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0, 1}, 0, out, &y));
  cl_mem ym = Mem(y);
  return k.Launch1D(KernelName(base, a.dtype, "_bcast"), y.size, {am, bm, ym, y.size, view});
}

// TensorFlow's activation gradients take two tensors of one shape.
LOOM_CL_KERNEL(SameShapeKernel) {
  const char* base = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor a = k.input(0), b = k.input(1), y;
  LOOM_RETURN_IF_ERROR(loom::kit::CheckSameDtypeAndShape(a, b));
  if (!ClTypeName(a.dtype)) return UnsupportedDtype(base, a.dtype);
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0, 1}, 0, a.shape(), &y));
  cl_mem am = Mem(a), bm = Mem(b), ym = Mem(y);
  return k.Launch1D(KernelName(base, a.dtype), a.size, {am, bm, ym, a.size});
}

LOOM_CL_KERNEL(CastKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), y;
  const loom_dtype dst = k.output_dtype(0);
  if (x.dtype == dst) return k.forward(0, 0, x.shape());
  if (!ClTypeName(x.dtype)) return UnsupportedDtype("Cast", x.dtype);
  if (!ClTypeName(dst)) return UnsupportedDtype("Cast", dst);
  LOOM_RETURN_IF_ERROR(k.allocate(0, x.shape(), &y));
  cl_mem xm = Mem(x), ym = Mem(y);
  return k.Launch1D(StrCat("cast_", ClTypeName(x.dtype), "_", ClTypeName(dst)), x.size,
                    {xm, ym, x.size});
}

LOOM_CL_KERNEL(BiasAddKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), bias = k.input(1), y;
  std::string format;
  LOOM_RETURN_IF_ERROR(k.attr_string("data_format", &format, "NHWC"));
  if (x.rank < 2) {
    return InvalidArgument("Input tensor must be at least 2D: ", x.shape_str());
  }
  if (bias.rank != 1) {
    return InvalidArgument("Biases must be 1D: ", bias.shape_str());
  }
  int channel_dim;
  if (format == "NHWC") {
    channel_dim = x.rank - 1;
  } else if (format == "NCHW") {
    channel_dim = 1;
  } else {
    return InvalidArgument("data_format must be NHWC or NCHW, got '", format, "'");
  }
  const int64_t c = x.dim(channel_dim);
  if (bias.dim(0) != c) {
    return InvalidArgument("Must provide as many biases as the channel dimension of the input "
                           "tensor: ", bias.shape_str(), " vs. ", x.shape_str());
  }
  int64_t inner = 1;
  for (int i = channel_dim + 1; i < x.rank; ++i) inner *= x.dim(i);
  if (x.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype("BiasAdd", x.dtype);
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  cl_mem xm = Mem(x), bm = Mem(bias), ym = Mem(y);
  return k.Launch1D("bias_add_float", x.size, {xm, bm, ym, x.size, c, inner});
}

LOOM_CL_KERNEL(AddNKernel) {
  Kernel k(ctx);
  const int n = k.num_inputs();
  Tensor first = k.input(0), y;
  for (int i = 1; i < n; ++i) {
    Tensor t = k.input(i);
    if (!t.same_shape(first)) {
      return InvalidArgument("Inputs to operation AddN must have the same size and shape. Input 0: ",
                             first.shape_str(), " != input ", i, ": ", t.shape_str());
    }
  }
  const char* type = first.dtype == LOOM_DTYPE_FLOAT   ? "float"
                     : first.dtype == LOOM_DTYPE_INT32 ? "int"
                                                       : nullptr;
  if (!type) return UnsupportedDtype("AddN", first.dtype);
  if (n == 1) return k.forward(0, 0, first.shape());
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0, 1}, 0, first.shape(), &y));
  cl_mem a = Mem(first), b = Mem(k.input(1)), ym = Mem(y);
  LOOM_RETURN_IF_ERROR(
      k.Launch1D(StrCat("add_", type), first.size, {a, b, ym, first.size}));
  for (int i = 2; i < n; ++i) {
    cl_mem x = Mem(k.input(i));
    LOOM_RETURN_IF_ERROR(
        k.Launch1D(StrCat("accumulate_", type), first.size, {ym, x, first.size}));
  }
  return nullptr;
}

}  // namespace loom_opencl
