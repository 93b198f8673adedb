// Helpers of the CPU plugin's kernels that only the CPU needs: dtype dispatch,
// the broadcast walk over host memory and strided copies. Everything every
// plugin needs (tensor views, the kernel context, attrs, index inputs, status
// helpers) comes from the SDK's plugin kit, loom/plugin/kit.hpp; the op
// semantics shape inference shares (broadcasting, Reshape, StridedSlice) from
// its neighbours.
//
// Everything here talks to Loom only through the host table the runtime
// handed to loom_plugin_init; nothing includes runtime/.
#ifndef LOOM_PLUGINS_CPU_KERNEL_UTIL_H_
#define LOOM_PLUGINS_CPU_KERNEL_UTIL_H_

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "loom/plugin/broadcast.hpp"
#include "loom/plugin/kit.hpp"

namespace loom_cpu {

using loom::kit::Broadcast;
using loom::kit::CheckRank;
using loom::kit::Dims;
using loom::kit::DtypeName;
using loom::kit::Error;
using loom::kit::g_host;
using loom::kit::InvalidArgument;
using loom::kit::InvalidArgumentIf;
using loom::kit::kInlineCostCycles;
using loom::kit::kMaxDims;
using loom::kit::NormalizeAxis;
using loom::kit::ReadIndexScalar;
using loom::kit::ReadShape;
using loom::kit::ReadIndexVector;
using loom::kit::RowMajorStrides;
using loom::kit::ShapeString;
using loom::kit::StoreIndices;
using loom::kit::StrCat;
using loom::kit::Tensor;
using Kernel = loom::kit::KernelContext;

// UNIMPLEMENTED "the CPU kernel has no implementation for dtype <dt>".
loom_status* UnsupportedDtype(loom_dtype dt);

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

// bc->Init over the inputs' shapes (loom/plugin/broadcast.hpp), its error text
// as INVALID_ARGUMENT.
loom_status* BroadcastInputs(const Tensor* const* inputs, int n, Broadcast* bc);

// Copies a strided view of `src` (element size `esize`) into contiguous `dst`:
// dst[i0..in] = src[sum(i_k * strides[k])]. Strides in elements, may be negative.
void CopyStrided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides,
                 const void* src, void* dst);

// The inverse: dst[sum(i_k * strides[k])] = src[i0..in] for contiguous `src`.
void ScatterStrided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides,
                    const void* src, void* dst);

}  // namespace loom_cpu

#endif  // LOOM_PLUGINS_CPU_KERNEL_UTIL_H_
