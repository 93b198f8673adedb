#include "kernel_util.h"

#include <algorithm>

namespace loom_opencl {

std::string ShapeString(const int64_t* dims, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += StrCat(i ? "," : "", dims[i]);
  return s + "]";
}

const char* DtypeName(loom_dtype dt) {
  switch (dt) {
    case LOOM_DTYPE_FLOAT: return "float";
    case LOOM_DTYPE_DOUBLE: return "double";
    case LOOM_DTYPE_INT32: return "int32";
    case LOOM_DTYPE_INT64: return "int64";
    case LOOM_DTYPE_UINT8: return "uint8";
    case LOOM_DTYPE_INT8: return "int8";
    case LOOM_DTYPE_INT16: return "int16";
    case LOOM_DTYPE_BOOL: return "bool";
    case LOOM_DTYPE_HALF: return "half";
    default: return "unsupported dtype";
  }
}

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

Tensor Wrap(const loom_tensor* t) {
  Tensor r;
  r.handle = t;
  r.dtype = g_host->tensor_dtype(t);
  r.rank = g_host->tensor_num_dims(t);
  r.dims = g_host->tensor_dims(t);
  r.size = g_host->tensor_num_elements(t);
  r.data = g_host->tensor_data(t);
  return r;
}

Kernel::Kernel(loom_kernel_context* c) : ctx_(c) {
  int ordinal = g_host->kernel_device_ordinal(c);
  if (ordinal < 0 || ordinal >= static_cast<int>(g_devices.size())) ordinal = 0;
  dev_ = g_devices[ordinal].get();
}

loom_status* Kernel::allocate(int i, const Dims& d, Tensor* out) const {
  loom_tensor* t = nullptr;
  LOOM_CL_RETURN_IF_ERROR(g_host->kernel_allocate_output(ctx_, i, d.d, d.n, &t));
  *out = Wrap(t);
  return nullptr;
}

loom_status* Kernel::forward_or_allocate(int candidate, int i, const Dims& d, Tensor* out) const {
  loom_tensor* t = nullptr;
  LOOM_CL_RETURN_IF_ERROR(
      g_host->kernel_forward_input_or_allocate_output(ctx_, &candidate, 1, i, d.d, d.n, &t));
  *out = Wrap(t);
  return nullptr;
}

loom_status* Kernel::forward_or_allocate2(int c0, int c1, int i, const Dims& d,
                                          Tensor* out) const {
  loom_tensor* t = nullptr;
  const int candidates[2] = {c0, c1};
  LOOM_CL_RETURN_IF_ERROR(
      g_host->kernel_forward_input_or_allocate_output(ctx_, candidates, 2, i, d.d, d.n, &t));
  *out = Wrap(t);
  return nullptr;
}

loom_status* Kernel::temp(loom_dtype dt, const Dims& d, Tensor* out) const {
  loom_tensor* t = nullptr;
  LOOM_CL_RETURN_IF_ERROR(g_host->kernel_allocate_temp(ctx_, dt, d.d, d.n, &t));
  *out = Wrap(t);
  return nullptr;
}

namespace {
// NOT_FOUND means "use the default"; any other error is returned.
bool TakeNotFound(loom_status* s, loom_status** keep) {
  if (s == nullptr) return false;
  if (g_host->status_code(s) == LOOM_CODE_NOT_FOUND) {
    g_host->status_free(s);
    return true;
  }
  *keep = s;
  return false;
}
}  // namespace

loom_status* Kernel::attr(const char* name, bool* out, bool def) const {
  int v = 0;
  loom_status* err = nullptr;
  if (TakeNotFound(g_host->attr_bool(g_host->kernel_attrs(ctx_), name, &v), &err)) {
    *out = def;
    return nullptr;
  }
  if (err) return err;
  *out = v != 0;
  return nullptr;
}

loom_status* Kernel::attr(const char* name, int64_t* out, int64_t def) const {
  loom_status* err = nullptr;
  if (TakeNotFound(g_host->attr_int(g_host->kernel_attrs(ctx_), name, out), &err)) {
    *out = def;
    return nullptr;
  }
  return err;
}

loom_status* Kernel::attr(const char* name, loom_dtype* out, loom_dtype def) const {
  loom_status* err = nullptr;
  if (TakeNotFound(g_host->attr_type(g_host->kernel_attrs(ctx_), name, out), &err)) {
    *out = def;
    return nullptr;
  }
  return err;
}

loom_status* Kernel::attr_string(const char* name, std::string* out, const char* def) const {
  const char* p = nullptr;
  size_t n = 0;
  loom_status* err = nullptr;
  if (TakeNotFound(g_host->attr_string(g_host->kernel_attrs(ctx_), name, &p, &n), &err)) {
    *out = def;
    return nullptr;
  }
  if (err) return err;
  out->assign(p, n);
  return nullptr;
}

loom_status* Kernel::attr_list(const char* name, std::vector<int64_t>* out) const {
  const int64_t* v = nullptr;
  int n = 0;
  loom_status* err = nullptr;
  if (TakeNotFound(g_host->attr_int_list(g_host->kernel_attrs(ctx_), name, &v, &n), &err)) {
    out->clear();
    return nullptr;
  }
  if (err) return err;
  out->assign(v, v + n);
  return nullptr;
}

loom_status* Kernel::Launch1D(const std::string& name, int64_t n,
                              std::initializer_list<KernelArg> args) const {
  if (n <= 0) return nullptr;
  return dev_->Launch(name.c_str(), op_name(), {static_cast<size_t>(n)}, {kLocal}, args);
}

loom_status* ReadIndexVector(const Tensor& t, const char* what, std::vector<int64_t>* out) {
  if (t.rank > 1) {
    return InvalidArgument(what, " must be a scalar or a vector, but got shape ", t.shape_str());
  }
  out->resize(static_cast<size_t>(t.size));
  if (t.dtype == LOOM_DTYPE_INT32) {
    for (int64_t i = 0; i < t.size; ++i) (*out)[i] = t.host<int32_t>()[i];
  } else if (t.dtype == LOOM_DTYPE_INT64) {
    for (int64_t i = 0; i < t.size; ++i) (*out)[i] = t.host<int64_t>()[i];
  } else {
    return InvalidArgument(what, " must be int32 or int64, but got ", DtypeName(t.dtype));
  }
  return nullptr;
}

loom_status* ReadIndexScalar(const Tensor& t, const char* what, int64_t* out) {
  if (t.size != 1) {
    return InvalidArgument(what, " must be a scalar, but got shape ", t.shape_str());
  }
  std::vector<int64_t> v;
  LOOM_CL_RETURN_IF_ERROR(ReadIndexVector(t, what, &v));
  *out = v[0];
  return nullptr;
}

loom_status* NormalizeAxis(int64_t axis, int rank, const char* what, int* out) {
  if (axis < -rank || axis >= rank) {
    return InvalidArgument(what, " ", axis, " is out of range for a tensor of rank ", rank,
                           " (expected [", -rank, ", ", rank, "))");
  }
  *out = static_cast<int>(axis < 0 ? axis + rank : axis);
  return nullptr;
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

void RowMajorStrides(const Dims& d, int64_t* strides) {
  int64_t s = 1;
  for (int i = d.n - 1; i >= 0; --i) {
    strides[i] = s;
    s *= d[i];
  }
}

loom_status* MakeBroadcast(const Dims& a, const Dims& b, Dims* out, BroadcastView* view) {
  const int rank = std::max(a.n, b.n);
  Dims out_dims;
  int64_t da[32], db[32];
  for (int i = 0; i < rank; ++i) {
    da[i] = i < rank - a.n ? 1 : a[i - (rank - a.n)];
    db[i] = i < rank - b.n ? 1 : b[i - (rank - b.n)];
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
      return InvalidArgument("Incompatible shapes: ", a.str(), " vs. ", b.str());
    }
    out_dims.push_back(da[i] == 1 ? db[i] : da[i]);
  }
  *out = out_dims;
  // Collapse: drop size-1 output dims; merge a dim into the previous one when
  // both inputs broadcast the two alike (both real, or both broadcast).
  int64_t cd[32], ca[32], cb[32];  // collapsed dims and "input is real along it"
  int n = 0;
  for (int i = 0; i < rank; ++i) {
    if (out_dims[i] == 1) continue;
    const int64_t ra = da[i] != 1, rb = db[i] != 1;
    if (n > 0 && ca[n - 1] == ra && cb[n - 1] == rb) {
      cd[n - 1] *= out_dims[i];
    } else {
      cd[n] = out_dims[i];
      ca[n] = ra;
      cb[n] = rb;
      ++n;
    }
  }
  if (n == 0) {  // a scalar result
    cd[0] = 1;
    ca[0] = cb[0] = 1;
    n = 1;
  }
  if (n > kMaxDims) {
    return Unimplemented("broadcasting ", a.str(), " with ", b.str(),
                         " needs more than ", kMaxDims, " dimensions on OpenCL");
  }
  view->rank = n;
  int64_t sa = 1, sb = 1;
  for (int i = n - 1; i >= 0; --i) {
    view->dims[i] = cd[i];
    view->sa[i] = ca[i] ? sa : 0;
    view->sb[i] = cb[i] ? sb : 0;
    if (ca[i]) sa *= cd[i];
    if (cb[i]) sb *= cd[i];
  }
  for (int i = n; i < kMaxDims; ++i) view->dims[i] = 1, view->sa[i] = view->sb[i] = 0;
  return nullptr;
}

}  // namespace loom_opencl
