#include "kernel_util.h"

#include "loom/plugin/broadcast.hpp"

namespace loom_opencl {

const char* ClTypeName(loom_dtype dt) {
  switch (dt) {
    case LOOM_DTYPE_FLOAT: return "float";
    case LOOM_DTYPE_INT32: return "int";
    case LOOM_DTYPE_INT64: return "long";
    case LOOM_DTYPE_BOOL: return "bool";  // stored as uchar 0/1
    case LOOM_DTYPE_UINT8: return "uchar";
    case LOOM_DTYPE_INT8: return "char";
    case LOOM_DTYPE_INT16: return "short";
    default: return nullptr;
  }
}

Kernel::Kernel(loom_kernel_context* c) : KernelContext(c) {
  int ordinal = g_host->kernel_device_ordinal(c);
  if (ordinal < 0 || ordinal >= static_cast<int>(g_devices.size())) ordinal = 0;
  dev_ = g_devices[ordinal].get();
}

loom_status* Kernel::Launch1D(const std::string& name, int64_t n,
                              std::initializer_list<KernelArg> args) const {
  if (n <= 0) return nullptr;
  return dev_->Launch(name.c_str(), op_name(), {static_cast<size_t>(n)}, {kLocal}, args);
}

loom_status* CheckScalar(const Tensor& t, const char* what) {
  if (t.rank != 0 && t.size != 1) {
    return InvalidArgument(what, " must be a scalar, but got shape ", t.shape_str());
  }
  return nullptr;
}

loom_status* UnsupportedDtype(const char* op, loom_dtype dt) {
  return Unimplemented("the OpenCL kernel of ", op, " does not support dtype ", DtypeName(dt));
}

loom_status* MakeBroadcast(const Dims& a, const Dims& b, Dims* out, BroadcastView* view) {
  loom::kit::Broadcast bc;
  const Dims* in[2] = {&a, &b};
  LOOM_RETURN_IF_ERROR(InvalidArgumentIf(bc.Init(in, 2)));
  *out = bc.out;
  if (bc.rank > kMaxViewDims) {
    return Unimplemented("broadcasting ", a.str(), " with ", b.str(),
                         " needs more than ", kMaxViewDims, " dimensions on OpenCL");
  }
  view->rank = bc.rank;
  for (int i = 0; i < kMaxViewDims; ++i) {
    const bool used = i < bc.rank;
    view->dims[i] = used ? bc.dims[i] : 1;
    view->sa[i] = used ? bc.strides[0][i] : 0;
    view->sb[i] = used ? bc.strides[1][i] : 0;
  }
  return nullptr;
}

}  // namespace loom_opencl
