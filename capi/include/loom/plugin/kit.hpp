// The Loom plugin kit: a header-only C++17 convenience layer over
// loom/loom_plugin.h for device and op plugins. It is installed with the SDK;
// a plugin that uses it still links nothing of Loom's — every call goes
// through the loom_host_api the host passes to loom_plugin_init.
//
// What it holds (each is what every plugin would otherwise copy):
//   StrCat, Error/InvalidArgument/Unimplemented, LOOM_RETURN_IF_ERROR
//   Dims (a fixed-capacity shape) and Tensor (a borrowed tensor view)
//   Attrs (typed attribute readers; NOT_FOUND takes a default)
//   KernelContext (inputs, outputs, temporaries, attrs, the intra-op pool)
//   ReadIndexVector/ReadIndexScalar/ReadShape, StoreIndices, NormalizeAxis, CheckRank
//   KernelRow + RegisterKernels (the registration loop)
//   LOOM_KIT_PLUGIN (loom_plugin_init: ABI check, plugin info, the host table)
// Op semantics that shape functions need too (broadcasting, Reshape's -1, the
// strided-slice spec, axis ranges) live in the neighbouring headers, which do
// not depend on the host table and which Loom's runtime includes as well;
// host_kernels.hpp holds ready-made kernels for the metadata-only shape ops.
//
// Threading: every helper is reentrant; the host table pointer is written once
// by loom_plugin_init before any kernel runs and only read afterwards.
//
// Usage, in exactly one source file of the plugin:
//
//   loom_status* RegisterAll(const loom_host_api* host) {
//     return loom::kit::RegisterKernels(host, "MYDEV", kKernels);
//   }
//   LOOM_KIT_PLUGIN("mydev", "1.0.0", RegisterAll)
#ifndef LOOM_PLUGIN_KIT_HPP_
#define LOOM_PLUGIN_KIT_HPP_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/loom_plugin.h"
#include "loom/plugin/axis.hpp"
#include "loom/plugin/shape.hpp"

namespace loom::kit {

// The host's function table. Defined by LOOM_KIT_PLUGIN in the plugin's own
// object code (a plain global, not an inline variable: an inline variable
// would be a process-wide unique symbol shared by every plugin using the kit).
extern const loom_host_api* g_host;

// ---------------------------------------------------------------- status

#define LOOM_RETURN_IF_ERROR(expr)                    \
  do {                                                \
    loom_status* _loom_kit_s = (expr);                \
    if (_loom_kit_s != nullptr) return _loom_kit_s;   \
  } while (0)

inline void StrAppend(std::ostringstream&) {}
template <typename A, typename... R>
void StrAppend(std::ostringstream& os, const A& a, const R&... r) {
  os << a;
  StrAppend(os, r...);
}
// Concatenates anything std::ostream prints: StrCat("rank ", 3) == "rank 3".
template <typename... A>
std::string StrCat(const A&... a) {
  std::ostringstream os;
  StrAppend(os, a...);
  return os.str();
}

// A new status owned by the caller (return it from a kernel or init).
inline loom_status* Error(loom_code code, const std::string& msg) {
  return g_host->status_new(code, msg.c_str());
}
template <typename... A>
loom_status* InvalidArgument(const A&... a) {
  return Error(LOOM_CODE_INVALID_ARGUMENT, StrCat(a...));
}
template <typename... A>
loom_status* Unimplemented(const A&... a) {
  return Error(LOOM_CODE_UNIMPLEMENTED, StrCat(a...));
}
// An error text from the op-semantics headers ("" = OK) as a status.
inline loom_status* InvalidArgumentIf(const std::string& error) {
  return error.empty() ? nullptr : Error(LOOM_CODE_INVALID_ARGUMENT, error);
}

// "float", "int32", ...; "invalid" for values outside the enum.
inline const char* DtypeName(loom_dtype dt) { return loom_dtype_name_inline(dt); }

// ---------------------------------------------------------------- shapes

// INVALID_ARGUMENT for ranks above kMaxDims (shape.hpp), which Dims cannot hold.
inline loom_status* CheckRank(int rank) { return InvalidArgumentIf(RankError(rank)); }

// A borrowed tensor: an input, an output just allocated, or a temporary. It
// lives as long as the kernel context it came from. `data` is whatever the
// device's memory handle is (a host pointer on host-memory devices and for
// host-memory arguments; e.g. a cl_mem on OpenCL).
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
  size_t bytes() const { return static_cast<size_t>(size) * loom_dtype_size_inline(dtype); }
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

// ---------------------------------------------------------------- attributes

// Typed readers over a node's attributes (from a kernel context, a kernel
// construction or a shape context). An attr that is NOT_FOUND takes `def` —
// the runtime fills schema defaults, so this only matters for hand-made
// graphs; any other error (a wrong type) is returned.
class Attrs {
 public:
  explicit Attrs(const loom_attrs* a) : a_(a) {}

  loom_status* get(const char* name, int64_t* out, int64_t def) const {
    return Or(g_host->attr_int(a_, name, out), out, def);
  }
  loom_status* get(const char* name, int* out, int def) const {
    int64_t v = 0;
    LOOM_RETURN_IF_ERROR(get(name, &v, int64_t{def}));
    *out = static_cast<int>(v);
    return nullptr;
  }
  loom_status* get(const char* name, float* out, float def) const {
    return Or(g_host->attr_float(a_, name, out), out, def);
  }
  loom_status* get(const char* name, bool* out, bool def) const {
    int v = 0;
    bool found = true;
    LOOM_RETURN_IF_ERROR(Or(g_host->attr_bool(a_, name, &v), &found, false));
    *out = found ? (v != 0) : def;
    return nullptr;
  }
  loom_status* get(const char* name, loom_dtype* out, loom_dtype def) const {
    return Or(g_host->attr_type(a_, name, out), out, def);
  }
  loom_status* get(const char* name, std::string* out, const char* def) const {
    const char* v = nullptr;
    size_t len = 0;
    bool found = true;
    LOOM_RETURN_IF_ERROR(Or(g_host->attr_string(a_, name, &v, &len), &found, false));
    if (found) {
      out->assign(v ? v : "", v ? len : 0);
    } else {
      *out = def;
    }
    return nullptr;
  }
  // A missing list reads as empty.
  loom_status* get(const char* name, std::vector<int64_t>* out) const {
    const int64_t* v = nullptr;
    int n = 0;
    bool found = true;
    LOOM_RETURN_IF_ERROR(Or(g_host->attr_int_list(a_, name, &v, &n), &found, false));
    out->clear();
    if (found && v != nullptr) out->assign(v, v + n);
    return nullptr;
  }

 private:
  // The one NOT_FOUND rule: OK with *out = def, other errors returned as is.
  template <typename T>
  static loom_status* Or(loom_status* s, T* out, T def) {
    if (s == nullptr) return nullptr;
    if (g_host->status_code(s) != LOOM_CODE_NOT_FOUND) return s;
    g_host->status_free(s);
    *out = def;
    return nullptr;
  }
  const loom_attrs* a_;
};

// ---------------------------------------------------------------- the kernel context

// Work below this many estimated cycles runs inline, without the intra-op pool.
constexpr int64_t kInlineCostCycles = 40000;

// The context of one op execution as a small C++ object; stack-allocated per
// compute. Devices with more per-op state derive from it (OpenCL adds its
// device and launches).
class KernelContext {
 public:
  explicit KernelContext(loom_kernel_context* c) : ctx_(c) {}
  loom_kernel_context* ctx() const { return ctx_; }

  const char* op_name() const { return g_host->kernel_op_name(ctx_); }
  int num_inputs() const { return g_host->kernel_num_inputs(ctx_); }
  int num_outputs() const { return g_host->kernel_num_outputs(ctx_); }
  Tensor input(int i) const { return Wrap(g_host->kernel_input(ctx_, i)); }
  loom_dtype output_dtype(int i) const { return g_host->kernel_output_dtype(ctx_, i); }

  loom_status* allocate(int i, const int64_t* dims, int rank, Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_RETURN_IF_ERROR(g_host->kernel_allocate_output(ctx_, i, dims, rank, &t));
    *out = Wrap(t);
    return nullptr;
  }
  loom_status* allocate(int i, const Dims& d, Tensor* out) const {
    return allocate(i, d.d, d.n, out);
  }
  // Reuses one of `candidates` (inputs) for output `i` when the host allows.
  loom_status* forward_or_allocate(const int* candidates, int num, int i, const Dims& d,
                                   Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_RETURN_IF_ERROR(g_host->kernel_forward_input_or_allocate_output(
        ctx_, candidates, num, i, d.d, d.n, &t));
    *out = Wrap(t);
    return nullptr;
  }
  loom_status* forward_or_allocate(std::initializer_list<int> candidates, int i, const Dims& d,
                                   Tensor* out) const {
    return forward_or_allocate(candidates.begin(), static_cast<int>(candidates.size()), i, d,
                               out);
  }
  // Output `out` aliases input `in` with new dims (same element count).
  loom_status* forward(int in, int out, const Dims& d) const {
    return g_host->kernel_forward_input(ctx_, in, out, d.d, d.n);
  }
  loom_status* temp(loom_dtype dt, const Dims& d, Tensor* out) const {
    loom_tensor* t = nullptr;
    LOOM_RETURN_IF_ERROR(g_host->kernel_allocate_temp(ctx_, dt, d.d, d.n, &t));
    *out = Wrap(t);
    return nullptr;
  }

  Attrs attrs() const { return Attrs(g_host->kernel_attrs(ctx_)); }
  template <typename T, typename D>
  loom_status* attr(const char* name, T* out, D def) const {
    return attrs().get(name, out, static_cast<T>(def));
  }
  loom_status* attr_string(const char* name, std::string* out, const char* def) const {
    return attrs().get(name, out, def);
  }
  loom_status* attr_list(const char* name, std::vector<int64_t>* out) const {
    return attrs().get(name, out);
  }

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

// ---------------------------------------------------------------- index inputs

// Reads an int32/int64 scalar or vector in host memory (a shape, an axis list)
// into int64s; INVALID_ARGUMENT naming `what` for other ranks or dtypes.
inline loom_status* ReadIndexVector(const Tensor& t, const char* what,
                                    std::vector<int64_t>* out) {
  if (t.rank > 1) {
    return InvalidArgument(what, " must be a scalar or a vector, but has shape ",
                           t.shape_str());
  }
  out->resize(static_cast<size_t>(t.size));
  if (t.dtype == LOOM_DTYPE_INT32) {
    for (int64_t i = 0; i < t.size; ++i) (*out)[i] = t.as<const int32_t>()[i];
  } else if (t.dtype == LOOM_DTYPE_INT64) {
    for (int64_t i = 0; i < t.size; ++i) (*out)[i] = t.as<const int64_t>()[i];
  } else {
    return InvalidArgument(what, " must be int32 or int64, not ", DtypeName(t.dtype));
  }
  return nullptr;
}

inline loom_status* ReadIndexScalar(const Tensor& t, const char* what, int64_t* out) {
  if (t.size != 1) {
    return InvalidArgument(what, " must be a scalar, but has shape ", t.shape_str());
  }
  if (t.dtype == LOOM_DTYPE_INT32) {
    *out = t.as<const int32_t>()[0];
  } else if (t.dtype == LOOM_DTYPE_INT64) {
    *out = t.as<const int64_t>()[0];
  } else {
    return InvalidArgument(what, " must be int32 or int64, not ", DtypeName(t.dtype));
  }
  return nullptr;
}

// Writes n int64 values into an int32 or int64 tensor in host memory
// (an index output: a shape, axes), narrowing to int32 as needed.
inline void StoreIndices(const Tensor& t, const int64_t* v, int64_t n) {
  if (t.dtype == LOOM_DTYPE_INT32) {
    for (int64_t i = 0; i < n; ++i) t.as<int32_t>()[i] = static_cast<int32_t>(v[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) t.as<int64_t>()[i] = v[i];
  }
}

// Reads a 1-D int32/int64 shape input in host memory (Reshape's shape,
// Fill's dims, ...) into Dims; INVALID_ARGUMENT for other ranks, dtypes or
// more than kMaxDims entries.
inline loom_status* ReadShape(const Tensor& t, const char* what, Dims* out) {
  if (t.rank != 1) {
    return InvalidArgument(what, " must be a 1-D tensor, got shape ", t.shape_str());
  }
  LOOM_RETURN_IF_ERROR(CheckRank(static_cast<int>(t.size < (1 << 20) ? t.size : (1 << 20))));
  std::vector<int64_t> v;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(t, what, &v));
  *out = Dims(v.data(), static_cast<int>(v.size()));
  return nullptr;
}

// INVALID_ARGUMENT "inputs must have the same dtype and shape, got float[4]
// and float[5]" (activation gradients and other same-shape binary ops).
inline loom_status* CheckSameDtypeAndShape(const Tensor& a, const Tensor& b) {
  if (a.same_shape(b) && a.dtype == b.dtype) return nullptr;
  return InvalidArgument("inputs must have the same dtype and shape, got ", DtypeName(a.dtype),
                         a.shape_str(), " and ", DtypeName(b.dtype), b.shape_str());
}

// INVALID_ARGUMENT "<what>[i] must be >= 0, got <d>" for a negative entry.
inline loom_status* CheckNonNegative(const Dims& d, const char* what) {
  for (int i = 0; i < d.n; ++i) {
    if (d[i] < 0) return InvalidArgument(what, "[", i, "] must be >= 0, got ", d[i]);
  }
  return nullptr;
}

// axis in [-rank, rank) -> [0, rank); INVALID_ARGUMENT naming `what` otherwise
// (the words of axis.hpp, which shape inference uses too).
inline loom_status* NormalizeAxis(int64_t axis, int rank, const char* what, int* out) {
  int64_t a = 0;
  LOOM_RETURN_IF_ERROR(InvalidArgumentIf(CanonicalAxis(axis, rank, what, &a)));
  *out = static_cast<int>(a);
  return nullptr;
}

// ---------------------------------------------------------------- registration

using ComputeFn = loom_status* (*)(void* state, loom_kernel_context* ctx);
using CreateFn = loom_status* (*)(void* user_data, loom_kernel_construction* ctx,
                                  void** out_state);
using DestroyFn = void (*)(void* state);

// One line of a plugin's kernel table. Unused trailing entries stay {} / nullptr.
struct KernelRow {
  const char* op;
  ComputeFn compute;
  loom_type_constraint constraints[3];  // up to the first {nullptr}
  const char* host_memory[4];           // inputs/outputs kept in host memory
  const void* user_data = nullptr;      // the kernel's state when create is null
  CreateFn create = nullptr;            // per-node state (e.g. a random stream)
  DestroyFn destroy = nullptr;
};

// Registers every row for `device_type` at `priority`; stops at the first
// error, which names the op (the host's message says why).
template <size_t N>
loom_status* RegisterKernels(const loom_host_api* host, const char* device_type,
                             const KernelRow (&rows)[N], int priority = 0) {
  for (const KernelRow& row : rows) {
    int nc = 0, nh = 0;
    while (nc < 3 && row.constraints[nc].attr != nullptr) ++nc;
    while (nh < 4 && row.host_memory[nh] != nullptr) ++nh;
    loom_kernel_def def = {};
    def.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
    def.op_type = row.op;
    def.device_type = device_type;
    def.constraints = nc ? row.constraints : nullptr;
    def.num_constraints = nc;
    def.host_memory_args = nh ? row.host_memory : nullptr;
    def.num_host_memory_args = nh;
    def.priority = priority;
    def.user_data = const_cast<void*>(row.user_data);
    def.create = row.create;
    def.compute = row.compute;
    def.compute_async = nullptr;
    def.destroy = row.destroy;
    def.ext = nullptr;
    LOOM_RETURN_IF_ERROR(host->register_kernel(&def));
  }
  return nullptr;
}

// ---------------------------------------------------------------- plugin init

// The prologue of every loom_plugin_init: fills `out_info` (so the host can
// name the plugin even when init fails), refuses a host of another ABI major
// or one whose table lacks the kernel functions, and records the table.
inline loom_status* BeginPluginInit(const loom_host_api* host, loom_plugin_info* out_info,
                                    const char* name, const char* version) {
  out_info->struct_size = LOOM_PLUGIN_INFO_STRUCT_SIZE;
  out_info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  out_info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  out_info->name = name;
  out_info->version = version;
  out_info->ext = nullptr;
  if (host->abi_major != LOOM_PLUGIN_ABI_MAJOR) {
    return host->status_new(
        LOOM_CODE_FAILED_PRECONDITION,
        StrCat(name, " plugin built for plugin ABI ", LOOM_PLUGIN_ABI_MAJOR, ".",
               LOOM_PLUGIN_ABI_MINOR, ", host has ", host->abi_major, ".", host->abi_minor)
            .c_str());
  }
  if (host->struct_size < LOOM_STRUCT_SIZE(loom_host_api, kernel_num_threads)) {
    return host->status_new(
        LOOM_CODE_FAILED_PRECONDITION,
        StrCat(name, " plugin: the host function table lacks kernel functions").c_str());
  }
  g_host = host;
  return nullptr;
}

}  // namespace loom::kit

// Defines the kit's host pointer and loom_plugin_init for a plugin named NAME
// (a string literal), which runs BeginPluginInit and then REGISTER(host) — the
// plugin's devices, ops and kernels. Use once per plugin, at namespace scope.
#define LOOM_KIT_PLUGIN(NAME, VERSION, REGISTER)                                        \
  const loom_host_api* loom::kit::g_host = nullptr;                                     \
  extern "C" LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, \
                                                              loom_plugin_info* out_info) { \
    LOOM_RETURN_IF_ERROR(::loom::kit::BeginPluginInit(host, out_info, NAME, VERSION));  \
    return REGISTER(host);                                                              \
  }

#endif  // LOOM_PLUGIN_KIT_HPP_
