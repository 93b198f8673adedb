// Helpers shared by the CPU plugin's kernels: a thin C++ view over the host
// function table (inputs, outputs, attrs, parallel_for), dtype dispatch,
// shape strings for error messages, and numpy broadcasting.
//
// Everything here talks to Loom only through `g_host` (the loom_host_api the
// runtime handed to loom_plugin_init); nothing includes runtime/.
#ifndef LOOM_PLUGINS_CPU_KERNEL_UTIL_H_
#define LOOM_PLUGINS_CPU_KERNEL_UTIL_H_

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "loom/loom_plugin.h"

namespace loom_cpu {

// Set once by loom_plugin_init before any kernel can run; read-only after.
extern const loom_host_api* g_host;

// Ranks above this are refused with INVALID_ARGUMENT (TensorFlow's Eigen
// kernels stop at 8; we allow more for the data-movement ops).
constexpr int kMaxDims = 32;

// Work below this many estimated cycles runs inline, without the intra-op pool.
constexpr int64_t kInlineCostCycles = 40000;

#define LOOM_CPU_RETURN_IF_ERROR(expr)     \
  do {                                     \
    loom_status* _loom_cpu_s = (expr);     \
    if (_loom_cpu_s != nullptr) return _loom_cpu_s; \
  } while (0)

// ---------------------------------------------------------------- messages

inline void StrAppend(std::ostringstream&) {}
template <typename A, typename... R>
void StrAppend(std::ostringstream& os, const A& a, const R&... r) {
  os << a;
  StrAppend(os, r...);
}
template <typename... A>
std::string StrCat(const A&... a) {
  std::ostringstream os;
  StrAppend(os, a...);
  return os.str();
}

std::string ShapeString(const int64_t* dims, int rank);  // "[2,3]"

inline loom_status* Error(loom_code code, const std::string& msg) {
  return g_host->status_new(code, msg.c_str());
}
template <typename... A>
loom_status* InvalidArgument(const A&... a) {
  return Error(LOOM_CODE_INVALID_ARGUMENT, StrCat(a...));
}
const char* DtypeName(loom_dtype dt);
loom_status* UnsupportedDtype(loom_dtype dt);

// ---------------------------------------------------------------- shapes

// A fixed-capacity shape; cheap to build on the stack in every compute.
struct Dims {
  int64_t d[kMaxDims];
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
  bool operator!=(const Dims& o) const { return !(*this == o); }
  std::string str() const { return ShapeString(d, n); }
};

// A borrowed tensor: an input, an output just allocated, or a temporary.
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
  bool same_shape(const Tensor& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  bool is_scalar() const { return rank == 0; }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

inline Tensor Wrap(const loom_tensor* t) {
  Tensor r;
  r.handle = t;
  r.dtype = g_host->tensor_dtype(t);
  r.rank = g_host->tensor_num_dims(t);
  r.dims = g_host->tensor_dims(t);
  r.size = g_host->tensor_num_elements(t);
  r.data = g_host->tensor_data(t);
  return r;
}

// ---------------------------------------------------------------- the context

// The kernel context as a small C++ object. Stack-allocated per compute.
class Kernel {
 public:
  explicit Kernel(loom_kernel_context* c) : ctx_(c) {}
  loom_kernel_context* ctx() const { return ctx_; }

  int num_inputs() const { return g_host->kernel_num_inputs(ctx_); }
  int num_outputs() const { return g_host->kernel_num_outputs(ctx_); }
  Tensor input(int i) const { return Wrap(g_host->kernel_input(ctx_, i)); }
  loom_dtype output_dtype(int i) const { return g_host->kernel_output_dtype(ctx_, i); }
  const char* op_name() const { return g_host->kernel_op_name(ctx_); }

  loom_status* allocate(int i, const int64_t* dims, int rank, Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_CPU_RETURN_IF_ERROR(g_host->kernel_allocate_output(ctx_, i, dims, rank, &t));
    *out = Wrap(t);
    return nullptr;
  }
  loom_status* allocate(int i, const Dims& d, Tensor* out) const {
    return allocate(i, d.d, d.n, out);
  }
  // Reuses one of `candidates` (inputs) for output `i` when the host allows.
  loom_status* forward_or_allocate(std::initializer_list<int> candidates, int i,
                                   const Dims& d, Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_CPU_RETURN_IF_ERROR(g_host->kernel_forward_input_or_allocate_output(
        ctx_, candidates.begin(), static_cast<int>(candidates.size()), i, d.d, d.n, &t));
    *out = Wrap(t);
    return nullptr;
  }
  loom_status* forward_or_allocate(const int* candidates, int num, int i, const Dims& d,
                                   Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_CPU_RETURN_IF_ERROR(g_host->kernel_forward_input_or_allocate_output(
        ctx_, candidates, num, i, d.d, d.n, &t));
    *out = Wrap(t);
    return nullptr;
  }
  // Output `out` aliases input `in` with new dims (same element count).
  loom_status* forward(int in, int out, const Dims& d) const {
    return g_host->kernel_forward_input(ctx_, in, out, d.d, d.n);
  }
  loom_status* temp(loom_dtype dt, const Dims& d, Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_CPU_RETURN_IF_ERROR(g_host->kernel_allocate_temp(ctx_, dt, d.d, d.n, &t));
    *out = Wrap(t);
    return nullptr;
  }

  // Attributes. A NOT_FOUND attr takes `def` (the runtime fills schema
  // defaults, so this only matters for hand-made graphs).
  loom_status* attr(const char* name, int64_t* out, int64_t def) const;
  loom_status* attr(const char* name, bool* out, bool def) const;
  loom_status* attr(const char* name, float* out, float def) const;
  loom_status* attr(const char* name, loom_dtype* out, loom_dtype def) const;
  loom_status* attr_string(const char* name, std::string* out, const char* def) const;
  loom_status* attr_list(const char* name, std::vector<int64_t>* out) const;

  int num_threads() const { return g_host->kernel_num_threads(ctx_); }

  // Runs f(begin, end) over [0, n), split over the intra-op pool when the total
  // cost (n * cost_per_unit cycles) is worth it; inline otherwise.
  template <typename F>
  void parallel_for(int64_t n, int64_t cost_per_unit, F&& f) const {
    if (n <= 0) return;
    if (n == 1 || n * cost_per_unit < kInlineCostCycles || num_threads() <= 1) {
      f(int64_t{0}, n);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    g_host->kernel_parallel_for(
        ctx_, n, cost_per_unit,
        [](void* arg, int64_t b, int64_t e) { (*static_cast<Fn*>(arg))(b, e); },
        const_cast<void*>(static_cast<const void*>(&f)));
  }

 private:
  loom_kernel_context* ctx_;
};

// Reads an int32/int64 scalar or vector (a shape, an axis list) into int64s.
loom_status* ReadIndexVector(const Tensor& t, const char* what, std::vector<int64_t>* out);
loom_status* ReadIndexScalar(const Tensor& t, const char* what, int64_t* out);
// axis in [-rank, rank) -> [0, rank); INVALID_ARGUMENT naming `what` otherwise.
loom_status* NormalizeAxis(int64_t axis, int rank, const char* what, int* out);
loom_status* CheckRank(int rank);

// Row-major strides (in elements) of `d`.
void RowMajorStrides(const Dims& d, int64_t* strides);

// ---------------------------------------------------------------- dtypes

template <typename T>
struct DtypeOf;
template <> struct DtypeOf<float> { static constexpr loom_dtype value = LOOM_DTYPE_FLOAT; };
template <> struct DtypeOf<double> { static constexpr loom_dtype value = LOOM_DTYPE_DOUBLE; };
template <> struct DtypeOf<int32_t> { static constexpr loom_dtype value = LOOM_DTYPE_INT32; };
template <> struct DtypeOf<int64_t> { static constexpr loom_dtype value = LOOM_DTYPE_INT64; };
template <> struct DtypeOf<uint8_t> { static constexpr loom_dtype value = LOOM_DTYPE_UINT8; };
template <> struct DtypeOf<int8_t> { static constexpr loom_dtype value = LOOM_DTYPE_INT8; };
template <> struct DtypeOf<int16_t> { static constexpr loom_dtype value = LOOM_DTYPE_INT16; };
template <> struct DtypeOf<uint16_t> { static constexpr loom_dtype value = LOOM_DTYPE_UINT16; };
template <> struct DtypeOf<uint32_t> { static constexpr loom_dtype value = LOOM_DTYPE_UINT32; };
template <> struct DtypeOf<uint64_t> { static constexpr loom_dtype value = LOOM_DTYPE_UINT64; };
template <> struct DtypeOf<bool> { static constexpr loom_dtype value = LOOM_DTYPE_BOOL; };

template <typename... Ts>
struct TypeList {
  static constexpr uint64_t mask() { return (uint64_t{0} | ... | LOOM_DTYPE_BIT(DtypeOf<Ts>::value)); }
};

// The dtype sets kernels are written for; cpu_plugin.cc registers the same masks.
using FloatTypes = TypeList<float, double>;
using NumericTypes = TypeList<float, double, int32_t, int64_t>;
using SignedTypes = NumericTypes;
using IndexTypes = TypeList<int32_t, int64_t>;
using CastTypes = TypeList<float, double, int32_t, int64_t, bool, uint8_t, int8_t, int16_t>;
using ComparableTypes = TypeList<float, double, int32_t, int64_t, uint8_t, int8_t, int16_t>;
using EqualityTypes = TypeList<float, double, int32_t, int64_t, uint8_t, int8_t, int16_t, bool>;
using FillTypes = EqualityTypes;

// Data-movement kernels work on any fixed-size dtype: they dispatch on the
// element size only.
constexpr uint64_t kAllPodMask =
    LOOM_DTYPE_BIT(LOOM_DTYPE_FLOAT) | LOOM_DTYPE_BIT(LOOM_DTYPE_DOUBLE) |
    LOOM_DTYPE_BIT(LOOM_DTYPE_INT32) | LOOM_DTYPE_BIT(LOOM_DTYPE_INT64) |
    LOOM_DTYPE_BIT(LOOM_DTYPE_UINT8) | LOOM_DTYPE_BIT(LOOM_DTYPE_INT8) |
    LOOM_DTYPE_BIT(LOOM_DTYPE_INT16) | LOOM_DTYPE_BIT(LOOM_DTYPE_UINT16) |
    LOOM_DTYPE_BIT(LOOM_DTYPE_UINT32) | LOOM_DTYPE_BIT(LOOM_DTYPE_UINT64) |
    LOOM_DTYPE_BIT(LOOM_DTYPE_BOOL) | LOOM_DTYPE_BIT(LOOM_DTYPE_HALF) |
    LOOM_DTYPE_BIT(LOOM_DTYPE_BFLOAT16);

// Calls f(T{}) for the T of `dt` in the list; UNIMPLEMENTED for other dtypes.
template <typename F>
loom_status* Dispatch(TypeList<>, loom_dtype dt, F&&) {
  return UnsupportedDtype(dt);
}
template <typename T, typename... Ts, typename F>
loom_status* Dispatch(TypeList<T, Ts...>, loom_dtype dt, F&& f) {
  if (dt == DtypeOf<T>::value) return f(T{});
  return Dispatch(TypeList<Ts...>{}, dt, std::forward<F>(f));
}

// Calls f(U{}) with U the unsigned integer of the element size (1, 2, 4, 8).
template <typename F>
loom_status* DispatchBySize(loom_dtype dt, F&& f) {
  switch (loom_dtype_size_inline(dt)) {
    case 1: return f(uint8_t{});
    case 2: return f(uint16_t{});
    case 4: return f(uint32_t{});
    case 8: return f(uint64_t{});
    default: return UnsupportedDtype(dt);
  }
}

// ---------------------------------------------------------------- broadcasting

// numpy broadcasting of up to 3 inputs, collapsed to as few dims as possible
// (adjacent dims merge when every input broadcasts them alike). The innermost
// collapsed dim is the "row": each input steps through it with stride 0 or 1.
struct Broadcast {
  static constexpr int kMaxInputs = 3;
  int num_inputs = 0;
  Dims out;                          // the full output shape
  int rank = 0;                      // collapsed rank (>= 1)
  int64_t dims[kMaxDims];            // collapsed output dims
  int64_t strides[kMaxInputs][kMaxDims];  // collapsed input strides; 0 = broadcast

  // INVALID_ARGUMENT "Incompatible shapes: [2,3] vs. [4]" when they do not broadcast.
  loom_status* Init(const Tensor* const* inputs, int n);
  int64_t inner() const { return dims[rank - 1]; }
  int64_t rows() const {
    int64_t r = 1;
    for (int i = 0; i < rank - 1; ++i) r *= dims[i];
    return r;
  }
  bool inner_contiguous(int k) const { return strides[k][rank - 1] != 0; }
  // Calls f(row, offsets[num_inputs]) for rows [begin, end), where offsets are
  // each input's element offset at the start of that row.
  template <typename F>
  void ForRows(int64_t begin, int64_t end, F&& f) const {
    int64_t idx[kMaxDims];
    int64_t off[kMaxInputs] = {0, 0, 0};
    int64_t r = begin;
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = r % dims[d];
      r /= dims[d];
      for (int k = 0; k < num_inputs; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (int64_t row = begin; row < end; ++row) {
      f(row, off);
      for (int d = rank - 2; d >= 0; --d) {
        for (int k = 0; k < num_inputs; ++k) off[k] += strides[k][d];
        if (++idx[d] < dims[d]) break;
        for (int k = 0; k < num_inputs; ++k) off[k] -= idx[d] * strides[k][d];
        idx[d] = 0;
      }
    }
  }
};

// Copies a strided view of `src` (element size `esize`) into contiguous `dst`:
// dst[i0..in] = src[sum(i_k * strides[k])]. Strides in elements, may be negative.
void CopyStrided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides,
                 const void* src, void* dst);

// The inverse: dst[sum(i_k * strides[k])] = src[i0..in] for contiguous `src`.
void ScatterStrided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides,
                    const void* src, void* dst);

}  // namespace loom_cpu

#endif  // LOOM_PLUGINS_CPU_KERNEL_UTIL_H_
