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

// The largest rank the kernels index (TensorFlow's GPU kernels stop at 8 too).
constexpr int kMaxDims = 8;

std::string ShapeString(const int64_t* dims, int rank);  // "[2,3]"
const char* DtypeName(loom_dtype dt);
// The OpenCL C spelling of a dtype's element ("float", "int", "long", "uchar"),
// as used in kernel names; nullptr if the kernels do not handle it.
const char* ClTypeName(loom_dtype dt);

struct Dims {
  int64_t d[32];
  int n = 0;
  Dims() = default;
  Dims(const int64_t* dims, int rank) : n(rank) {
    for (int i = 0; i < rank; ++i) d[i] = dims[i];
  }
  void push_back(int64_t v) { d[n++] = v; }
  int64_t operator[](int i) const { return d[i]; }
  int64_t& operator[](int i) { return d[i]; }
  int64_t num_elements() const {
    int64_t e = 1;
    for (int i = 0; i < n; ++i) e *= d[i];
    return e;
  }
  bool operator==(const Dims& o) const {
    if (n != o.n) return false;
    for (int i = 0; i < n; ++i)
      if (d[i] != o.d[i]) return false;
    return true;
  }
  std::string str() const { return ShapeString(d, n); }
};

// A borrowed tensor. For tensors in device memory `data` is a cl_mem (see
// cl_device.h); for host-memory arguments it is a host pointer.
struct Tensor {
  const loom_tensor* handle = nullptr;
  loom_dtype dtype = LOOM_DTYPE_INVALID;
  int rank = 0;
  const int64_t* dims = nullptr;
  int64_t size = 0;  // number of elements
  void* data = nullptr;

  int64_t dim(int i) const { return dims[i]; }
  Dims shape() const { return Dims(dims, rank); }
  std::string shape_str() const { return ShapeString(dims, rank); }
  bool same_shape(const Tensor& o) const { return shape() == o.shape(); }
  size_t bytes() const { return static_cast<size_t>(size) * loom_dtype_size_inline(dtype); }
  cl_mem mem() const { return static_cast<cl_mem>(data); }
  template <typename T>
  const T* host() const { return static_cast<const T*>(data); }
};

Tensor Wrap(const loom_tensor* t);

// The kernel context of one op execution, and the device it runs on.
class Kernel {
 public:
  explicit Kernel(loom_kernel_context* c);
  loom_kernel_context* ctx() const { return ctx_; }
  ClDevice& dev() const { return *dev_; }
  const char* op_name() const { return g_host->kernel_op_name(ctx_); }

  int num_inputs() const { return g_host->kernel_num_inputs(ctx_); }
  Tensor input(int i) const { return Wrap(g_host->kernel_input(ctx_, i)); }
  loom_dtype output_dtype(int i) const { return g_host->kernel_output_dtype(ctx_, i); }

  loom_status* allocate(int i, const Dims& d, Tensor* out) const;
  // Reuses input `candidate`'s buffer for output i when the host allows.
  loom_status* forward_or_allocate(int candidate, int i, const Dims& d, Tensor* out) const;
  loom_status* forward_or_allocate2(int c0, int c1, int i, const Dims& d, Tensor* out) const;
  // Output `out` aliases input `in` with new dims.
  loom_status* forward(int in, int out, const Dims& d) const {
    return g_host->kernel_forward_input(ctx_, in, out, d.d, d.n);
  }
  loom_status* temp(loom_dtype dt, const Dims& d, Tensor* out) const;

  // Attributes; a NOT_FOUND attr takes `def`.
  loom_status* attr(const char* name, bool* out, bool def) const;
  loom_status* attr(const char* name, int64_t* out, int64_t def) const;
  loom_status* attr(const char* name, loom_dtype* out, loom_dtype def) const;
  loom_status* attr_string(const char* name, std::string* out, const char* def) const;
  loom_status* attr_list(const char* name, std::vector<int64_t>* out) const;

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
  loom_kernel_context* ctx_;
  ClDevice* dev_;
};

// The work-group size of element-wise launches: PoCL runs a work-group as a
// loop (vectorised across work-items), so groups must be large enough to
// amortise their overhead; GPUs like multiples of 64.
constexpr size_t kLocal = 256;

// Host-memory index arguments (shapes, axes) as int64s.
loom_status* ReadIndexVector(const Tensor& t, const char* what, std::vector<int64_t>* out);
loom_status* ReadIndexScalar(const Tensor& t, const char* what, int64_t* out);
loom_status* NormalizeAxis(int64_t axis, int rank, const char* what, int* out);
loom_status* CheckScalar(const Tensor& t, const char* what);
loom_status* UnsupportedDtype(const char* op, loom_dtype dt);

// ---------------------------------------------------------------- index views
// These structs are passed to kernels by value; cl/common.cl declares the same
// layouts (only 64-bit fields, so host and device agree on the layout).

// numpy broadcasting of two inputs, collapsed to few dims: element i of the
// output reads a[sum(c_d * sa[d])], b[sum(c_d * sb[d])] for its coordinates c.
struct BroadcastView {
  int64_t rank;
  int64_t dims[kMaxDims];
  int64_t sa[kMaxDims];
  int64_t sb[kMaxDims];
};

// Computes the broadcast output shape of a and b and the collapsed view.
// INVALID_ARGUMENT "Incompatible shapes: [2,3] vs. [4]" when they do not
// broadcast; UNIMPLEMENTED when the collapsed rank exceeds kMaxDims.
loom_status* MakeBroadcast(const Dims& a, const Dims& b, Dims* out, BroadcastView* view);

// A strided view for gathers: output element with coordinates c (over dims)
// reads src[offset + sum((c_d % mods[d]) * strides[d])]. Covers Transpose
// (mods = dims), Tile (mods = input dims) and BroadcastTo (strides 0).
struct GatherView {
  int64_t rank;
  int64_t offset;
  int64_t dims[kMaxDims];
  int64_t mods[kMaxDims];
  int64_t strides[kMaxDims];
};

// Row-major strides (in elements) of d.
void RowMajorStrides(const Dims& d, int64_t* strides);

}  // namespace loom_opencl

#endif  // LOOM_PLUGINS_OPENCL_KERNEL_UTIL_H_
