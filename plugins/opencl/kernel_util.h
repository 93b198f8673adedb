// Helpers shared by the OpenCL plugin's kernels: a C++ view of the kernel
// context (inputs, outputs, attrs), tensors whose data is a cl_mem, shape
// checks, and the index descriptors (broadcasting, strided views) passed to
// the OpenCL C kernels by value.
#ifndef LOOM_PLUGINS_OPENCL_KERNEL_UTIL_H_
#define LOOM_PLUGINS_OPENCL_KERNEL_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cl_device.h"

namespace loom_opencl {

using loom::kit::CheckRank;
using loom::kit::Dims;
using loom::kit::DtypeName;
using loom::kit::InvalidArgumentIf;
using loom::kit::kMaxDims;
using loom::kit::NormalizeAxis;
using loom::kit::ReadIndexScalar;
using loom::kit::ReadShape;
using loom::kit::ReadIndexVector;
using loom::kit::RowMajorStrides;
using loom::kit::ShapeString;
using loom::kit::StoreIndices;
using loom::kit::Tensor;

// The most (collapsed) dims the index views below carry to the OpenCL C
// kernels; cl/common.cl's LOOM_MAX_DIMS must match. Shapes up to the kit's
// kMaxDims are accepted; a view that cannot be collapsed to this many dims is
// refused with UNIMPLEMENTED (TensorFlow's GPU kernels stop at 8 too).
constexpr int kMaxViewDims = 8;

// The OpenCL C spelling of a dtype's element ("float", "int", "long", "uchar"),
// as used in kernel names; nullptr if the kernels do not handle it.
const char* ClTypeName(loom_dtype dt);

// A tensor in device memory: its data is a cl_mem (see cl_device.h). For
// host-memory arguments use t.as<const T>() instead.
inline cl_mem Mem(const Tensor& t) { return static_cast<cl_mem>(t.data); }

// The kernel context of one op execution, and the device it runs on.
class Kernel : public loom::kit::KernelContext {
 public:
  explicit Kernel(loom_kernel_context* c);
  ClDevice& dev() const { return *dev_; }

  // Enqueues an OpenCL kernel on this op's device (see ClDevice::Launch).
  loom_status* Launch(const char* name, std::initializer_list<size_t> global,
                      std::initializer_list<size_t> local,
                      std::initializer_list<KernelArg> args) const {
    return dev_->Launch(name, op_name(), global, local, args);
  }
  // One work-item per element, in groups of kLocal: the shape of most launches.
  loom_status* Launch1D(const std::string& name, int64_t n,
                        std::initializer_list<KernelArg> args) const;

 private:
  ClDevice* dev_;
};

// The work-group size of element-wise launches: PoCL runs a work-group as a
// loop (vectorised across work-items), so groups must be large enough to
// amortise their overhead; GPUs like multiples of 64.
constexpr size_t kLocal = 256;

loom_status* CheckScalar(const Tensor& t, const char* what);
loom_status* UnsupportedDtype(const char* op, loom_dtype dt);

// ---------------------------------------------------------------- index views
// These structs are passed to kernels by value; cl/common.cl declares the same
// layouts (only 64-bit fields, so host and device agree on the layout).

// numpy broadcasting of two inputs, collapsed to few dims: element i of the
// output reads a[sum(c_d * sa[d])], b[sum(c_d * sb[d])] for its coordinates c.
struct BroadcastView {
  int64_t rank;
  int64_t dims[kMaxViewDims];
  int64_t sa[kMaxViewDims];
  int64_t sb[kMaxViewDims];
};

// Computes the broadcast output shape of a and b and the collapsed view.
// INVALID_ARGUMENT "Incompatible shapes: [2,3] vs. [4]" when they do not
// broadcast; UNIMPLEMENTED when the collapsed rank exceeds kMaxViewDims.
loom_status* MakeBroadcast(const Dims& a, const Dims& b, Dims* out, BroadcastView* view);

// A strided view for gathers: output element with coordinates c (over dims)
// reads src[offset + sum((c_d % mods[d]) * strides[d])]. Covers Transpose
// (mods = dims), Tile (mods = input dims) and BroadcastTo (strides 0).
struct GatherView {
  int64_t rank;
  int64_t offset;
  int64_t dims[kMaxViewDims];
  int64_t mods[kMaxViewDims];
  int64_t strides[kMaxViewDims];
};

}  // namespace loom_opencl

#endif  // LOOM_PLUGINS_OPENCL_KERNEL_UTIL_H_
