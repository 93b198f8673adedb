// Reductions: Sum, Mean, Prod, Max, Min (any set of axes), ArgMax/ArgMin,
// L2Loss, BiasAddGrad, Cumsum, UnsortedSegmentSum.
//
// Any reduction is brought down to passes of one shape: [outer, mid, inner]
// reduced over mid. Contiguous runs of reduced axes merge into one pass, so
// the common cases (all axes, the last axes, the first axes) take exactly one.
#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Core>

#include "kernels.h"

namespace loom_cpu {
namespace {

template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

struct SumReducer {
  template <typename T> static T init() { return T(0); }
  template <typename T> static T combine(T a, T b) { return a + b; }
  template <typename T> static T row(const T* p, int64_t n) { return ConstArrayMap<T>(p, n).sum(); }
};
struct ProdReducer {
  template <typename T> static T init() { return T(1); }
  template <typename T> static T combine(T a, T b) { return a * b; }
  template <typename T> static T row(const T* p, int64_t n) { return ConstArrayMap<T>(p, n).prod(); }
};
struct MaxReducer {
  template <typename T> static T init() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  template <typename T> static T combine(T a, T b) { return a < b ? b : a; }
  template <typename T> static T row(const T* p, int64_t n) { return ConstArrayMap<T>(p, n).maxCoeff(); }
};
struct MinReducer {
  template <typename T> static T init() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  template <typename T> static T combine(T a, T b) { return b < a ? b : a; }
  template <typename T> static T row(const T* p, int64_t n) { return ConstArrayMap<T>(p, n).minCoeff(); }
};

constexpr int64_t kBlock = 16384;  // elements per parallel block of a long row
constexpr int64_t kRowBlock = 256;  // rows accumulated locally before joining the total

// A long row reduced block by block: float sums then carry an error growing
// with the number of blocks, not with the row's length.
template <typename R, typename T>
T ReduceRow(const T* p, int64_t n) {
  if (n <= kBlock) return R::row(p, n);
  T acc = R::row(p, kBlock);
  for (int64_t lo = kBlock; lo < n; lo += kBlock) {
    acc = R::combine(acc, R::row(p + lo, std::min(kBlock, n - lo)));
  }
  return acc;
}

// out[o, i] = R over m of in[o, m, i]. mid > 0.
template <typename R, typename T>
void Reduce3D(const Kernel& k, const T* in, int64_t outer, int64_t mid, int64_t inner, T* out) {
  if (inner == 1) {
    if (outer == 1 && mid > 2 * kBlock) {  // one long row: partial results per block
      const int64_t nb = (mid + kBlock - 1) / kBlock;
      std::vector<T> partial(static_cast<size_t>(nb));
      k.parallel_for(nb, kBlock, [&](int64_t s, int64_t e) {
        for (int64_t b = s; b < e; ++b) {
          const int64_t lo = b * kBlock, hi = std::min(mid, lo + kBlock);
          partial[b] = R::row(in + lo, hi - lo);
        }
      });
      out[0] = ReduceRow<R>(partial.data(), nb);
      return;
    }
    k.parallel_for(outer, mid + 5, [&](int64_t s, int64_t e) {
      for (int64_t o = s; o < e; ++o) out[o] = ReduceRow<R>(in + o * mid, mid);
    });
    return;
  }
  // Columns: accumulate rows of `inner` elements; split over (outer, column
  // block). Rows are folded kRowBlock at a time into a local partial, which
  // then joins the output: the same work, a shorter chain of float additions.
  const int64_t cb = std::min<int64_t>(inner, 1024);
  const int64_t nb = (inner + cb - 1) / cb;
  // Folds rows [ma, mb) of column block u into acc[0, w).
  auto fold = [&](int64_t u, int64_t ma, int64_t mb, T* acc) {
    T part[1024];
    const int64_t o = u / nb, lo = (u % nb) * cb, w = std::min(inner, lo + cb) - lo;
    const T* src = in + o * mid * inner + lo;
    for (int64_t m0 = ma; m0 < mb; m0 += kRowBlock) {
      const int64_t m1 = std::min(mb, m0 + kRowBlock);
      T* dst = m0 == ma ? acc : part;
      for (int64_t i = 0; i < w; ++i) dst[i] = src[m0 * inner + i];
      for (int64_t m = m0 + 1; m < m1; ++m) {
        const T* row = src + m * inner;
        for (int64_t i = 0; i < w; ++i) dst[i] = R::combine(dst[i], row[i]);
      }
      if (m0 != ma) {
        for (int64_t i = 0; i < w; ++i) acc[i] = R::combine(acc[i], part[i]);
      }
    }
  };
  auto out_of = [&](int64_t u) { return out + (u / nb) * inner + (u % nb) * cb; };
  const int64_t units = outer * nb;
  // Fewer column blocks than threads over many rows (BiasAddGrad of an
  // activation with few channels: [N*H*W, C]): the rows are split too, each
  // slice into its own partial, and the slices joined at the end.
  const int64_t slices =
      std::min<int64_t>(4 * k.num_threads() / std::max<int64_t>(1, units), mid / kRowBlock);
  if (units < k.num_threads() && slices > 1 && mid * inner >= 8 * kInlineCostCycles) {
    std::vector<T> partial(static_cast<size_t>(slices * outer * inner));
    k.parallel_for(slices * units, mid / slices * cb + 5, [&](int64_t s, int64_t e) {
      for (int64_t v = s; v < e; ++v) {
        const int64_t sl = v / units, u = v % units;
        fold(u, mid * sl / slices, mid * (sl + 1) / slices,
             partial.data() + sl * outer * inner + (out_of(u) - out));
      }
    });
    for (int64_t j = 0; j < outer * inner; ++j) {
      T acc = partial[j];
      for (int64_t sl = 1; sl < slices; ++sl) acc = R::combine(acc, partial[sl * outer * inner + j]);
      out[j] = acc;
    }
    return;
  }
  k.parallel_for(units, mid * cb + 5, [&](int64_t s, int64_t e) {
    for (int64_t u = s; u < e; ++u) fold(u, 0, mid, out_of(u));
  });
}

// Reduces `in` of shape dims (with reduce[i] set for reduced axes) into out.
// Returns false if nothing is reduced (out is then not written).
template <typename R, typename T>
bool ReduceAxes(const Kernel& k, const T* in, const Dims& dims, const bool* reduce, T* out,
                int64_t* reduced_count) {
  // Collapse: drop size-1 axes, merge neighbours with the same flag.
  int64_t cd[kMaxDims];
  bool cr[kMaxDims];
  int n = 0;
  *reduced_count = 1;
  for (int i = 0; i < dims.n; ++i) {
    if (reduce[i]) *reduced_count *= dims[i];
    if (dims[i] == 1) continue;
    if (n > 0 && cr[n - 1] == reduce[i]) {
      cd[n - 1] *= dims[i];
    } else {
      cd[n] = dims[i];
      cr[n] = reduce[i];
      ++n;
    }
  }
  int runs = 0;
  for (int i = 0; i < n; ++i) runs += cr[i];
  if (runs == 0) return false;
  // Passes from the innermost reduced run outwards.
  std::vector<T> buf[2];
  const T* src = in;
  int pass = 0;
  for (int i = n - 1; i >= 0; --i) {
    if (!cr[i]) continue;
    int64_t outer = 1, inner = 1;
    for (int j = 0; j < i; ++j) outer *= cd[j];
    for (int j = i + 1; j < n; ++j) inner *= cd[j];
    T* dst;
    if (--runs == 0) {
      dst = out;
    } else {
      buf[pass & 1].resize(static_cast<size_t>(outer * inner));
      dst = buf[pass & 1].data();
    }
    Reduce3D<R>(k, src, outer, cd[i], inner, dst);
    src = dst;
    cd[i] = 1;
    ++pass;
  }
  return true;
}

template <typename R, bool kMean>
loom_status* ReduceImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), axes_t = k.input(1);
  bool keep_dims = false;
  LOOM_RETURN_IF_ERROR(k.attr("keep_dims", &keep_dims, false));
  std::vector<int64_t> axes;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(axes_t, "reduction_indices", &axes));
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank));
  bool reduce[kMaxDims] = {};
  for (int64_t a : axes) {
    LOOM_RETURN_IF_ERROR(
        InvalidArgumentIf(loom::kit::CheckReductionAxis(a, x.dims, x.rank)));
    reduce[a < 0 ? a + x.rank : a] = true;
  }
  Dims out_dims;
  for (int i = 0; i < x.rank; ++i) {
    if (!reduce[i]) out_dims.push_back(x.dim(i));
    else if (keep_dims) out_dims.push_back(1);
  }
  return Dispatch(NumericTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    Tensor y;
    const Dims xs = x.shape();
    bool any = false;
    for (int i = 0; i < x.rank; ++i) any |= reduce[i] && x.dim(i) != 1;
    if (!any) return k.forward(0, 0, out_dims);  // only size-1 axes: same data
    LOOM_RETURN_IF_ERROR(k.allocate(0, out_dims, &y));
    if (y.size == 0) return nullptr;
    T* out = y.as<T>();
    int64_t count = 1;
    if (x.size == 0) {  // reducing over an empty axis: the identity
      const T v = kMean ? (std::is_integral_v<T> ? T(0) : std::numeric_limits<T>::quiet_NaN())
                        : R::template init<T>();
      std::fill(out, out + y.size, v);
      return nullptr;
    }
    ReduceAxes<R>(k, x.as<const T>(), xs, reduce, out, &count);
    if constexpr (kMean) {
      const T n = static_cast<T>(count);  // divide, as TensorFlow's MeanReducer
      for (int64_t i = 0; i < y.size; ++i) out[i] /= n;
    }
    return nullptr;
  });
}

// ---------------------------------------------------------------- ArgMax / ArgMin

template <bool kMax>
loom_status* ArgImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), dim_t = k.input(1);
  int64_t axis64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(dim_t, "dimension", &axis64));
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(axis64, x.rank, "dimension", &axis));
  if (x.dim(axis) == 0) {
    return InvalidArgument("Reduction axis ", axis, " is empty in shape ", x.shape_str());
  }
  Dims od;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < x.rank; ++i) {
    if (i != axis) od.push_back(x.dim(i));
    if (i < axis) outer *= x.dim(i);
    if (i > axis) inner *= x.dim(i);
  }
  const int64_t mid = x.dim(axis);
  const loom_dtype out_dt = k.output_dtype(0);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  return Dispatch(ComparableTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* in = x.as<const T>();
    auto better = [](T a, T b) { return kMax ? a > b : a < b; };
    auto run = [&](auto* out) {
      using I = std::remove_pointer_t<decltype(out)>;
      k.parallel_for(outer * inner, mid + 2, [&](int64_t s, int64_t e) {
        for (int64_t u = s; u < e; ++u) {
          const int64_t o = u / inner, i = u % inner;
          const T* p = in + o * mid * inner + i;
          int64_t best = 0;
          T bv = p[0];
          for (int64_t m = 1; m < mid; ++m) {
            if (better(p[m * inner], bv)) {
              bv = p[m * inner];
              best = m;
            }
          }
          out[u] = static_cast<I>(best);
        }
      });
    };
    if (out_dt == LOOM_DTYPE_INT32) run(y.as<int32_t>());
    else run(y.as<int64_t>());
    return nullptr;
  });
}

// ---------------------------------------------------------------- L2Loss, BiasAddGrad

loom_status* L2LossImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, Dims(), &y));
  return Dispatch(FloatTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* p = x.as<const T>();
    const int64_t nb = (x.size + kBlock - 1) / kBlock;
    std::vector<T> partial(static_cast<size_t>(nb));
    k.parallel_for(nb, kBlock, [&](int64_t s, int64_t e) {
      for (int64_t b = s; b < e; ++b) {
        const int64_t lo = b * kBlock, hi = std::min(x.size, lo + kBlock);
        partial[b] = ConstArrayMap<T>(p + lo, hi - lo).square().sum();
      }
    });
    T sum = 0;
    for (T v : partial) sum += v;
    y.as<T>()[0] = sum / T(2);
    return nullptr;
  });
}

loom_status* BiasAddGradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor g = k.input(0);
  std::string fmt;
  LOOM_RETURN_IF_ERROR(k.attr_string("data_format", &fmt, "NHWC"));
  if (g.rank < 2) {
    return InvalidArgument("Input tensor must be at least 2D: ", g.shape_str());
  }
  const int cdim = fmt == "NCHW" ? 1 : g.rank - 1;
  Dims od;
  od.push_back(g.dim(cdim));
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  return Dispatch(NumericTypes{}, g.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    T* out = y.as<T>();
    if (g.size == 0) {
      std::fill(out, out + y.size, T(0));
      return nullptr;
    }
    bool reduce[kMaxDims];
    for (int i = 0; i < g.rank; ++i) reduce[i] = i != cdim;
    int64_t count;
    if (!ReduceAxes<SumReducer>(k, g.as<const T>(), g.shape(), reduce, out, &count)) {
      std::copy(g.as<const T>(), g.as<const T>() + y.size, out);
    }
    return nullptr;
  });
}

// ---------------------------------------------------------------- Cumsum

loom_status* CumsumImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), axis_t = k.input(1);
  bool exclusive = false, reverse = false;
  LOOM_RETURN_IF_ERROR(k.attr("exclusive", &exclusive, false));
  LOOM_RETURN_IF_ERROR(k.attr("reverse", &reverse, false));
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(axis_t, "axis", &a64));
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, x.rank, "axis", &axis));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.dim(i);
  for (int i = axis + 1; i < x.rank; ++i) inner *= x.dim(i);
  const int64_t mid = x.dim(axis);
  return Dispatch(NumericTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    Tensor y;
    LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
    const T* in = x.as<const T>();
    T* out = y.as<T>();
    k.parallel_for(outer * inner, mid * 2 + 2, [&](int64_t s, int64_t e) {
      for (int64_t u = s; u < e; ++u) {
        const int64_t o = u / inner, i = u % inner;
        const int64_t base = o * mid * inner + i;
        T acc = 0;
        for (int64_t j = 0; j < mid; ++j) {
          const int64_t m = reverse ? mid - 1 - j : j;
          const int64_t at = base + m * inner;
          const T v = in[at];  // read before writing: out may alias in
          if (exclusive) {
            out[at] = acc;
            acc += v;
          } else {
            acc += v;
            out[at] = acc;
          }
        }
      }
    });
    return nullptr;
  });
}

// ---------------------------------------------------------------- UnsortedSegmentSum

loom_status* UnsortedSegmentSumImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor data = k.input(0), ids = k.input(1), num_t = k.input(2);
  int64_t num = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(num_t, "num_segments", &num));
  if (num < 0) return InvalidArgument("num_segments must be >= 0, got ", num);
  bool prefix = ids.rank <= data.rank;
  for (int i = 0; prefix && i < ids.rank; ++i) prefix = ids.dim(i) == data.dim(i);
  if (!prefix) {
    return InvalidArgument("data.shape = ", data.shape_str(),
                           " does not start with segment_ids.shape = ", ids.shape_str());
  }
  Dims od;
  od.push_back(num);
  int64_t inner = 1;
  for (int i = ids.rank; i < data.rank; ++i) {
    od.push_back(data.dim(i));
    inner *= data.dim(i);
  }
  std::vector<int64_t> seg;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(
      Tensor{ids.handle, ids.dtype, ids.size == 0 ? 0 : 1, &ids.size, ids.size, ids.data},
      "segment_ids", &seg));
  for (size_t j = 0; j < seg.size(); ++j) {
    if (seg[j] >= num) {
      return InvalidArgument("segment_ids[", j, "] = ", seg[j], " is out of range [0, ", num,
                             ")");
    }
  }
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  return Dispatch(NumericTypes{}, data.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    T* out = y.as<T>();
    const T* in = data.as<const T>();
    std::fill(out, out + y.size, T(0));
    // Split over columns so no two chunks touch the same output element.
    k.parallel_for(inner, static_cast<int64_t>(seg.size()) + 1, [&](int64_t s, int64_t e) {
      for (size_t j = 0; j < seg.size(); ++j) {
        if (seg[j] < 0) continue;  // negative ids are dropped, as in TensorFlow
        T* o = out + seg[j] * inner;
        const T* p = in + static_cast<int64_t>(j) * inner;
        for (int64_t i = s; i < e; ++i) o[i] += p[i];
      }
    });
    return nullptr;
  });
}

}  // namespace

LOOM_CPU_KERNEL(SumKernel) { return ReduceImpl<SumReducer, false>(ctx); }
LOOM_CPU_KERNEL(MeanKernel) { return ReduceImpl<SumReducer, true>(ctx); }
LOOM_CPU_KERNEL(ProdKernel) { return ReduceImpl<ProdReducer, false>(ctx); }
LOOM_CPU_KERNEL(MaxKernel) { return ReduceImpl<MaxReducer, false>(ctx); }
LOOM_CPU_KERNEL(MinKernel) { return ReduceImpl<MinReducer, false>(ctx); }
LOOM_CPU_KERNEL(ArgMaxKernel) { return ArgImpl<true>(ctx); }
LOOM_CPU_KERNEL(ArgMinKernel) { return ArgImpl<false>(ctx); }
LOOM_CPU_KERNEL(L2LossKernel) { return L2LossImpl(ctx); }
LOOM_CPU_KERNEL(BiasAddGradKernel) { return BiasAddGradImpl(ctx); }
LOOM_CPU_KERNEL(CumsumKernel) { return CumsumImpl(ctx); }
LOOM_CPU_KERNEL(UnsortedSegmentSumKernel) { return UnsortedSegmentSumImpl(ctx); }

}  // namespace loom_cpu
