// Data movement: Transpose, Concat(V2), Split(V),
// Slice, StridedSlice(Grad), Pad, ConcatOffset, Tile, Pack, Unpack, Fill,
// OneHot, BroadcastTo, Range, InvertPermutation, GatherV2, DynamicStitch.
// Reshape, ExpandDims, Squeeze, Shape, Size, Rank and BroadcastGradientArgs
// are the kit's (loom/plugin/host_kernels.hpp).
//
// These kernels never look at values, only at element sizes, so one
// instantiation per size (1, 2, 4, 8 bytes) serves every dtype.
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "loom/plugin/strided_slice.hpp"

namespace loom_cpu {
namespace {

int64_t Product(const Dims& d, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= d[i];
  return p;
}

// ---------------------------------------------------------------- Transpose

// dst[b][i][j] = src[b_off + i + j * sj] for i < d1, j < d2, tiled for caches.
template <typename U>
void TransposeTile(const U* src, int64_t sj, U* dst, int64_t d1, int64_t d2, int64_t i0,
                   int64_t i1) {
  constexpr int64_t kTile = 32;
  for (int64_t ib = i0; ib < i1; ib += kTile) {
    const int64_t ie = std::min(i1, ib + kTile);
    for (int64_t jb = 0; jb < d2; jb += kTile) {
      const int64_t je = std::min(d2, jb + kTile);
      for (int64_t i = ib; i < ie; ++i)
        for (int64_t j = jb; j < je; ++j) dst[i * d2 + j] = src[i + j * sj];
    }
  }
}

loom_status* TransposeImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), perm_t = k.input(1);
  std::vector<int64_t> perm;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(perm_t, "perm", &perm));
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank));
  LOOM_RETURN_IF_ERROR(
      InvalidArgumentIf(loom::kit::CheckPermutation(perm, x.dims, x.rank)));
  const Dims xs = x.shape();
  int64_t in_strides[kMaxDims];
  RowMajorStrides(xs, in_strides);
  Dims od;
  for (int i = 0; i < x.rank; ++i) od.push_back(xs[static_cast<int>(perm[i])]);
  // Collapse: drop size-1 dims; merge output neighbours adjacent in the input.
  Dims cd;
  int64_t cs[kMaxDims];
  int last_src = -2;
  for (int i = 0; i < x.rank; ++i) {
    const int p = static_cast<int>(perm[i]);
    if (xs[p] == 1) continue;
    if (cd.n > 0 && p == last_src + 1) {
      cd[cd.n - 1] *= xs[p];
      cs[cd.n - 1] = in_strides[p];
    } else {
      cd.push_back(xs[p]);
      cs[cd.n - 1] = in_strides[p];
    }
    last_src = p;
  }
  bool identity = true;
  for (int i = 1; i < cd.n; ++i) identity &= cs[i - 1] > cs[i];
  if (identity) return k.forward(0, 0, od);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  return DispatchBySize(x.dtype, [&](auto zero) -> loom_status* {
    using U = decltype(zero);
    const U* src = x.as<const U>();
    U* dst = y.as<U>();
    const int r = cd.n;
    if (r >= 2 && cs[r - 2] == 1) {
      // Batched 2-D transpose: output [..., d1, d2] reads src stride 1 along d1.
      const int64_t d1 = cd[r - 2], d2 = cd[r - 1], sj = cs[r - 1];
      const int64_t batch = Product(cd, 0, r - 2);
      const int64_t rows_per_unit = 32;
      const int64_t units_per_batch = (d1 + rows_per_unit - 1) / rows_per_unit;
      k.parallel_for(batch * units_per_batch, rows_per_unit * d2 * 2, [&](int64_t s, int64_t e) {
        for (int64_t u = s; u < e; ++u) {
          const int64_t b = u / units_per_batch, ib = (u % units_per_batch) * rows_per_unit;
          int64_t off = 0, rem = b;
          for (int d = r - 3; d >= 0; --d) {
            off += (rem % cd[d]) * cs[d];
            rem /= cd[d];
          }
          TransposeTile(src + off, sj, dst + b * d1 * d2, d1, d2, ib,
                        std::min(d1, ib + rows_per_unit));
        }
      });
    } else {
      CopyStrided(k, sizeof(U), cd, cs, src, dst);
    }
    return nullptr;
  });
}

// ---------------------------------------------------------------- concat / split family

// out[o, (parts...)] = parts[i][o, :] where part i has row_bytes[i] per outer row.
void ConcatRows(const Kernel& k, int64_t outer, const std::vector<const char*>& parts,
                const std::vector<int64_t>& row_bytes, char* out) {
  int64_t total = 0;
  for (int64_t b : row_bytes) total += b;
  k.parallel_for(outer, total / 4 + 10, [&](int64_t s, int64_t e) {
    for (int64_t o = s; o < e; ++o) {
      char* dst = out + o * total;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (row_bytes[i] == 0) continue;
        std::memcpy(dst, parts[i] + o * row_bytes[i], static_cast<size_t>(row_bytes[i]));
        dst += row_bytes[i];
      }
    }
  });
}

// The inverse: parts[i][o, :] = in[o, (parts...)].
void SplitRows(const Kernel& k, int64_t outer, const char* in,
               const std::vector<char*>& parts, const std::vector<int64_t>& row_bytes) {
  int64_t total = 0;
  for (int64_t b : row_bytes) total += b;
  k.parallel_for(outer, total / 4 + 10, [&](int64_t s, int64_t e) {
    for (int64_t o = s; o < e; ++o) {
      const char* src = in + o * total;
      for (size_t i = 0; i < parts.size(); ++i) {
        if (row_bytes[i] == 0) continue;
        std::memcpy(parts[i] + o * row_bytes[i], src, static_cast<size_t>(row_bytes[i]));
        src += row_bytes[i];
      }
    }
  });
}

// Concatenates inputs [first, first + n) along the axis in input `axis_input`.
loom_status* ConcatCommon(loom_kernel_context* c, int first, int n, int axis_input) {
  Kernel k(c);
  Tensor axis_t = k.input(axis_input);
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(axis_t, "axis", &a64));
  std::vector<Tensor> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[i] = k.input(first + i);
  const Tensor& v0 = v[0];
  if (v0.rank == 0) {
    return InvalidArgument("Can't concatenate scalars (use Pack instead)");
  }
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, v0.rank, "concat axis", &axis));
  Dims od = v0.shape();
  od[axis] = 0;
  for (int i = 0; i < n; ++i) {
    bool ok = v[i].rank == v0.rank && v[i].dtype == v0.dtype;
    for (int d = 0; ok && d < v0.rank; ++d) ok = d == axis || v[i].dim(d) == v0.dim(d);
    if (!ok) {
      return InvalidArgument("Dimensions of inputs should match (except along axis ", axis,
                             "): shape[0] = ", v0.shape_str(), " vs. shape[", i,
                             "] = ", v[i].shape_str());
    }
    od[axis] += v[i].dim(axis);
  }
  if (n == 1) return k.forward(first, 0, od);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  const int64_t esize = static_cast<int64_t>(loom_dtype_size_inline(v0.dtype));
  const int64_t outer = Product(od, 0, axis), inner = Product(od, axis + 1, od.n);
  std::vector<const char*> parts(static_cast<size_t>(n));
  std::vector<int64_t> bytes(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    parts[i] = static_cast<const char*>(v[i].data);
    bytes[i] = v[i].dim(axis) * inner * esize;
  }
  ConcatRows(k, outer, parts, bytes, static_cast<char*>(y.data));
  return nullptr;
}

// Splits input `value_input` along `axis` into pieces of `sizes`.
loom_status* SplitCommon(const Kernel& k, int value_input, int axis,
                         const std::vector<int64_t>& sizes) {
  Tensor x = k.input(value_input);
  const int n = static_cast<int>(sizes.size());
  if (n == 1) return k.forward(value_input, 0, x.shape());
  const Dims xs = x.shape();
  const int64_t esize = static_cast<int64_t>(loom_dtype_size_inline(x.dtype));
  const int64_t outer = Product(xs, 0, axis), inner = Product(xs, axis + 1, xs.n);
  std::vector<char*> parts(static_cast<size_t>(n));
  std::vector<int64_t> bytes(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Dims od = xs;
    od[axis] = sizes[i];
    Tensor y;
    LOOM_RETURN_IF_ERROR(k.allocate(i, od, &y));
    parts[i] = static_cast<char*>(y.data);
    bytes[i] = sizes[i] * inner * esize;
  }
  if (x.size == 0) return nullptr;
  SplitRows(k, outer, static_cast<const char*>(x.data), parts, bytes);
  return nullptr;
}

loom_status* SplitImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor dim_t = k.input(0), x = k.input(1);
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(dim_t, "split_dim", &a64));
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, x.rank, "split_dim", &axis));
  const int n = k.num_outputs();
  if (n <= 0 || x.dim(axis) % n != 0) {
    return InvalidArgument("Number of ways to split should evenly divide the split dimension, "
                           "but got split_dim ", axis, " (size = ", x.dim(axis),
                           ") and num_split ", n, " (input shape ", x.shape_str(), ")");
  }
  return SplitCommon(k, 1, axis, std::vector<int64_t>(static_cast<size_t>(n), x.dim(axis) / n));
}

loom_status* SplitVImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), sizes_t = k.input(1), dim_t = k.input(2);
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(dim_t, "split_dim", &a64));
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, x.rank, "split_dim", &axis));
  std::vector<int64_t> sizes;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(sizes_t, "size_splits", &sizes));
  const int n = k.num_outputs();
  if (static_cast<int>(sizes.size()) != n) {
    return InvalidArgument("size_splits must have num_split = ", n, " elements, got ",
                           sizes.size());
  }
  int unknown = -1;
  int64_t known = 0;
  for (int i = 0; i < n; ++i) {
    if (sizes[i] == -1) {
      if (unknown >= 0) return InvalidArgument("There can only be one -1 in size_splits");
      unknown = i;
    } else if (sizes[i] < 0) {
      return InvalidArgument("size_splits[", i, "] = ", sizes[i], " must be >= 0 or -1");
    } else {
      known += sizes[i];
    }
  }
  const int64_t dim = x.dim(axis);
  if ((unknown < 0 && known != dim) || (unknown >= 0 && known > dim)) {
    return InvalidArgument("size_splits must sum to the size of dimension ", axis, " (", dim,
                           ") of the input ", x.shape_str(), ", got sum ", known,
                           unknown >= 0 ? " plus a -1" : "");
  }
  if (unknown >= 0) sizes[unknown] = dim - known;
  return SplitCommon(k, 0, axis, sizes);
}

loom_status* PackImpl(loom_kernel_context* c) {
  Kernel k(c);
  const int n = k.num_inputs();
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(k.attr("axis", &a64, 0));
  std::vector<Tensor> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[i] = k.input(i);
  const Tensor& v0 = v[0];
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, v0.rank + 1, "axis", &axis));
  for (int i = 1; i < n; ++i) {
    if (!v[i].same_shape(v0) || v[i].dtype != v0.dtype) {
      return InvalidArgument("Shapes of all inputs must match: values[0].shape = ",
                             v0.shape_str(), " != values[", i, "].shape = ", v[i].shape_str());
    }
  }
  LOOM_RETURN_IF_ERROR(CheckRank(v0.rank + 1));
  Dims od;
  for (int i = 0; i < v0.rank; ++i) {
    if (i == axis) od.push_back(n);
    od.push_back(v0.dim(i));
  }
  if (axis == v0.rank) od.push_back(n);
  if (n == 1) return k.forward(0, 0, od);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  const Dims s0 = v0.shape();
  const int64_t esize = static_cast<int64_t>(loom_dtype_size_inline(v0.dtype));
  const int64_t outer = Product(s0, 0, axis), chunk = Product(s0, axis, s0.n) * esize;
  std::vector<const char*> parts(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) parts[i] = static_cast<const char*>(v[i].data);
  ConcatRows(k, outer, parts, std::vector<int64_t>(static_cast<size_t>(n), chunk),
             static_cast<char*>(y.data));
  return nullptr;
}

loom_status* UnpackImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(k.attr("axis", &a64, 0));
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, x.rank, "axis", &axis));
  const int n = k.num_outputs();
  if (x.dim(axis) != n) {
    return InvalidArgument("Input shape axis ", axis, " must equal num = ", n, ", got shape ",
                           x.shape_str());
  }
  const Dims xs = x.shape();
  Dims od;
  for (int i = 0; i < xs.n; ++i)
    if (i != axis) od.push_back(xs[i]);
  const int64_t esize = static_cast<int64_t>(loom_dtype_size_inline(x.dtype));
  const int64_t outer = Product(xs, 0, axis), chunk = Product(xs, axis + 1, xs.n) * esize;
  std::vector<char*> parts(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Tensor y;
    LOOM_RETURN_IF_ERROR(k.allocate(i, od, &y));
    parts[i] = static_cast<char*>(y.data);
  }
  if (x.size == 0) return nullptr;
  SplitRows(k, outer, static_cast<const char*>(x.data), parts,
            std::vector<int64_t>(static_cast<size_t>(n), chunk));
  return nullptr;
}

// ---------------------------------------------------------------- Slice, StridedSlice

loom_status* SliceImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), begin_t = k.input(1), size_t_ = k.input(2);
  std::vector<int64_t> begin, size;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(begin_t, "begin", &begin));
  LOOM_RETURN_IF_ERROR(ReadIndexVector(size_t_, "size", &size));
  if (begin_t.rank != 1 || size_t_.rank != 1 || static_cast<int64_t>(begin.size()) != x.rank ||
      static_cast<int64_t>(size.size()) != x.rank) {
    return InvalidArgument("Expected begin and size arguments to be 1-D tensors of size ",
                           x.rank, ", but got shapes ", begin_t.shape_str(), " and ",
                           size_t_.shape_str(), " instead (input shape ", x.shape_str(), ")");
  }
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank));
  Dims od;
  bool full = true;
  for (int i = 0; i < x.rank; ++i) {
    const int64_t b = begin[i], d = x.dim(i);
    if (b < 0 || b > d) {
      return InvalidArgument("Expected begin[", i, "] in [0, ", d, "], but got ", b,
                             " (input shape ", x.shape_str(), ")");
    }
    int64_t s = size[i] == -1 ? d - b : size[i];
    if (s < 0 || b + s > d) {
      return InvalidArgument("Expected size[", i, "] in [0, ", d - b, "], but got ", size[i],
                             " (input shape ", x.shape_str(), ")");
    }
    od.push_back(s);
    full &= b == 0 && s == d;
  }
  if (full) return k.forward(0, 0, od);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  int64_t strides[kMaxDims];
  RowMajorStrides(x.shape(), strides);
  int64_t off = 0;
  for (int i = 0; i < x.rank; ++i) off += begin[i] * strides[i];
  const int esize = static_cast<int>(loom_dtype_size_inline(x.dtype));
  CopyStrided(k, esize, od, strides, static_cast<const char*>(x.data) + off * esize, y.data);
  return nullptr;
}

// A strided slice resolved against a shape (loom/plugin/strided_slice.hpp,
// which the StridedSlice shape function uses too), as fixed-size arrays.
struct StridedSliceSpec {
  Dims proc;                 // the slice's extent per input dim (shrunk dims: 1)
  int64_t begin[kMaxDims];   // first index per input dim
  int64_t stride[kMaxDims];  // step per input dim
  Dims final_shape;          // the output shape (new axes added, shrunk dims dropped)
  bool identity = false;     // the slice is the whole input, unchanged
};

loom_status* ResolveStridedSlice(const Kernel& k, const Dims& shape, const Tensor& bt,
                                 const Tensor& et, const Tensor& st, StridedSliceSpec* spec) {
  loom::kit::StridedSliceMasks m;
  LOOM_RETURN_IF_ERROR(k.attr("begin_mask", &m.begin, 0));
  LOOM_RETURN_IF_ERROR(k.attr("end_mask", &m.end, 0));
  LOOM_RETURN_IF_ERROR(k.attr("ellipsis_mask", &m.ellipsis, 0));
  LOOM_RETURN_IF_ERROR(k.attr("new_axis_mask", &m.new_axis, 0));
  LOOM_RETURN_IF_ERROR(k.attr("shrink_axis_mask", &m.shrink_axis, 0));
  std::vector<int64_t> sb, se, ss;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(bt, "begin", &sb));
  LOOM_RETURN_IF_ERROR(ReadIndexVector(et, "end", &se));
  LOOM_RETURN_IF_ERROR(ReadIndexVector(st, "strides", &ss));
  if (bt.rank != 1 || sb.size() != se.size() || sb.size() != ss.size()) {
    return InvalidArgument("Expected begin, end, and strides to be 1D equal size tensors, but "
                           "got shapes ", bt.shape_str(), ", ", et.shape_str(), ", and ",
                           st.shape_str(), " instead.");
  }
  if (sb.size() > 32) return InvalidArgument("StridedSlice supports at most 32 indices");
  LOOM_RETURN_IF_ERROR(CheckRank(shape.n));
  loom::kit::StridedSliceSpec s;
  LOOM_RETURN_IF_ERROR(InvalidArgumentIf(loom::kit::ResolveStridedSlice(
      shape.d, shape.n, static_cast<int>(sb.size()), sb.data(), se.data(), ss.data(), m, &s)));
  LOOM_RETURN_IF_ERROR(CheckRank(static_cast<int>(s.final_shape.size())));
  spec->proc = Dims(s.size.data(), shape.n);
  for (int i = 0; i < shape.n; ++i) {
    spec->begin[i] = s.begin[static_cast<size_t>(i)];
    spec->stride[i] = s.stride[static_cast<size_t>(i)];
  }
  spec->final_shape = Dims(s.final_shape.data(), static_cast<int>(s.final_shape.size()));
  spec->identity = s.identity;
  return nullptr;
}

// The element offset of the slice's first element and its per-dim strides in
// a row-major tensor of `shape`.
int64_t SliceStrides(const Dims& shape, const StridedSliceSpec& spec, int64_t* strides) {
  int64_t in_strides[kMaxDims];
  RowMajorStrides(shape, in_strides);
  int64_t off = 0;
  for (int i = 0; i < shape.n; ++i) {
    off += spec.begin[i] * in_strides[i];
    strides[i] = spec.stride[i] * in_strides[i];
  }
  return off;
}

loom_status* StridedSliceImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  StridedSliceSpec spec;
  const Dims xs = x.shape();
  LOOM_RETURN_IF_ERROR(ResolveStridedSlice(k, xs, k.input(1), k.input(2), k.input(3), &spec));
  if (spec.identity) return k.forward(0, 0, spec.final_shape);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, spec.final_shape, &y));
  if (y.size == 0) return nullptr;
  int64_t strides[kMaxDims];
  const int64_t off = SliceStrides(xs, spec, strides);
  const int esize = static_cast<int>(loom_dtype_size_inline(x.dtype));
  CopyStrided(k, esize, spec.proc, strides, static_cast<const char*>(x.data) + off * esize,
              y.data);
  return nullptr;
}

// The gradient of StridedSlice: zeros of `shape` with dy scattered into the slice.
loom_status* StridedSliceGradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor shape_t = k.input(0), dy = k.input(4);
  Dims shape;
  LOOM_RETURN_IF_ERROR(ReadShape(shape_t, "shape", &shape));
  LOOM_RETURN_IF_ERROR(loom::kit::CheckNonNegative(shape, "shape"));
  StridedSliceSpec spec;
  LOOM_RETURN_IF_ERROR(ResolveStridedSlice(k, shape, k.input(1), k.input(2), k.input(3), &spec));
  if (spec.final_shape != dy.shape()) {
    return InvalidArgument("shape of dy was ", dy.shape_str(), " instead of ",
                           spec.final_shape.str());
  }
  if (spec.identity) return k.forward(4, 0, shape);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, shape, &y));
  const int esize = static_cast<int>(loom_dtype_size_inline(dy.dtype));
  if (y.size == 0) return nullptr;
  std::memset(y.data, 0, static_cast<size_t>(y.size * esize));
  if (dy.size == 0) return nullptr;
  int64_t strides[kMaxDims];
  const int64_t off = SliceStrides(shape, spec, strides);
  ScatterStrided(k, esize, spec.proc, strides, dy.data, static_cast<char*>(y.data) + off * esize);
  return nullptr;
}

// ---------------------------------------------------------------- Pad, ConcatOffset

loom_status* PadImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), p = k.input(1);
  if (p.rank != 2 || p.dim(0) != x.rank || p.dim(1) != 2) {
    return InvalidArgument("paddings must be a matrix of shape [", x.rank,
                           ",2] (the input's rank by 2), got ", p.shape_str(),
                           " for input shape ", x.shape_str());
  }
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank));
  std::vector<int64_t> pad;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(
      Tensor{p.handle, p.dtype, p.size == 0 ? 0 : 1, &p.size, p.size, p.data}, "paddings", &pad));
  Dims od;
  bool identity = true;
  for (int i = 0; i < x.rank; ++i) {
    if (pad[2 * i] < 0 || pad[2 * i + 1] < 0) {
      return InvalidArgument("Paddings must be non-negative: ", pad[2 * i], " ", pad[2 * i + 1],
                             " (dimension ", i, ")");
    }
    od.push_back(x.dim(i) + pad[2 * i] + pad[2 * i + 1]);
    identity &= pad[2 * i] == 0 && pad[2 * i + 1] == 0;
  }
  if (identity) return k.forward(0, 0, od);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  const int esize = static_cast<int>(loom_dtype_size_inline(x.dtype));
  if (y.size == 0) return nullptr;
  std::memset(y.data, 0, static_cast<size_t>(y.size * esize));
  if (x.size == 0) return nullptr;
  int64_t strides[kMaxDims];
  RowMajorStrides(od, strides);
  int64_t off = 0;
  for (int i = 0; i < x.rank; ++i) off += pad[2 * i] * strides[i];
  ScatterStrided(k, esize, x.shape(), strides, x.data, static_cast<char*>(y.data) + off * esize);
  return nullptr;
}

// offset[i] = where input i starts in ConcatV2(inputs, concat_dim): zero but
// for the concat dim, the sum of the earlier inputs' sizes there.
loom_status* ConcatOffsetImpl(loom_kernel_context* c) {
  Kernel k(c);
  const int n = k.num_inputs() - 1;
  int64_t a64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(k.input(0), "concat_dim", &a64));
  std::vector<std::vector<int64_t>> shapes(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    LOOM_RETURN_IF_ERROR(ReadIndexVector(k.input(1 + i), "shape", &shapes[i]));
  }
  const int rank = static_cast<int>(shapes[0].size());
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, rank, "concat_dim", &axis));
  int64_t offset = 0;
  for (int i = 0; i < n; ++i) {
    const std::vector<int64_t>& s = shapes[i];
    bool ok = static_cast<int>(s.size()) == rank;
    for (int d = 0; ok && d < rank; ++d) ok = d == axis || s[d] == shapes[0][d];
    if (!ok) {
      return InvalidArgument("All dimensions except ", axis, " must match: shape[0] = ",
                             ShapeString(shapes[0].data(), rank), " vs. shape[", i, "] = ",
                             ShapeString(s.data(), static_cast<int>(s.size())));
    }
    std::vector<int64_t> v(static_cast<size_t>(rank), 0);
    v[axis] = offset;
    offset += s[axis];
    Tensor y;
    Dims d;
    d.push_back(rank);
    LOOM_RETURN_IF_ERROR(k.allocate(i, d, &y));
    StoreIndices(y, v.data(), rank);
  }
  return nullptr;
}

// ---------------------------------------------------------------- Tile, BroadcastTo

loom_status* TileImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), m_t = k.input(1);
  std::vector<int64_t> mult;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(m_t, "multiples", &mult));
  if (m_t.rank != 1 || static_cast<int64_t>(mult.size()) != x.rank) {
    return InvalidArgument("Expected multiples argument to be a vector of length ", x.rank,
                           " but got length ", mult.size(), " (input shape ", x.shape_str(),
                           ")");
  }
  LOOM_RETURN_IF_ERROR(CheckRank(x.rank));
  Dims od;
  bool identity = true;
  for (int i = 0; i < x.rank; ++i) {
    if (mult[i] < 0) {
      return InvalidArgument("Expected multiples[", i, "] >= 0, but got ", mult[i]);
    }
    od.push_back(x.dim(i) * mult[i]);
    identity &= mult[i] == 1;
  }
  if (identity) return k.forward(0, 0, od);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  const Dims xs = x.shape();
  return DispatchBySize(x.dtype, [&](auto zero) -> loom_status* {
    using U = decltype(zero);
    const U* src = x.as<const U>();
    U* dst = y.as<U>();
    if (x.rank == 0) {
      dst[0] = src[0];
      return nullptr;
    }
    const int r = x.rank;
    int64_t in_strides[kMaxDims];
    RowMajorStrides(xs, in_strides);
    const int64_t in_inner = xs[r - 1], reps = mult[r - 1];
    const int64_t rows = Product(od, 0, r - 1);
    k.parallel_for(rows, od[r - 1] + 10, [&](int64_t s, int64_t e) {
      for (int64_t row = s; row < e; ++row) {
        int64_t rem = row, off = 0;
        for (int d = r - 2; d >= 0; --d) {
          off += ((rem % od[d]) % xs[d]) * in_strides[d];
          rem /= od[d];
        }
        U* o = dst + row * od[r - 1];
        for (int64_t t = 0; t < reps; ++t)
          std::memcpy(o + t * in_inner, src + off, static_cast<size_t>(in_inner) * sizeof(U));
      }
    });
    return nullptr;
  });
}

loom_status* BroadcastToImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), shape_t = k.input(1);
  Dims target;
  LOOM_RETURN_IF_ERROR(ReadShape(shape_t, "shape", &target));
  LOOM_RETURN_IF_ERROR(loom::kit::CheckNonNegative(target, "shape"));
  std::vector<int64_t> shape;
  LOOM_RETURN_IF_ERROR(InvalidArgumentIf(
      loom::kit::BroadcastToShape(x.dims, x.rank, target.d, target.n, &shape)));
  Tensor t;  // a stand-in with the target shape
  t.rank = target.n;
  t.dims = target.d;
  Broadcast bc;
  const Tensor* in[2] = {&x, &t};
  LOOM_RETURN_IF_ERROR(BroadcastInputs(in, 2, &bc));
  if (x.same_shape(t)) return k.forward(0, 0, target);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, target, &y));
  if (y.size == 0) return nullptr;
  return DispatchBySize(x.dtype, [&](auto zero) -> loom_status* {
    using U = decltype(zero);
    const U* src = x.as<const U>();
    U* dst = y.as<U>();
    const int64_t inner = bc.inner();
    const bool contiguous = bc.inner_contiguous(0);
    k.parallel_for(bc.rows(), inner + 5, [&](int64_t s, int64_t e) {
      bc.ForRows(s, e, [&](int64_t row, const int64_t* off) {
        U* o = dst + row * inner;
        if (contiguous) {
          std::memcpy(o, src + off[0], static_cast<size_t>(inner) * sizeof(U));
        } else {
          std::fill(o, o + inner, src[off[0]]);
        }
      });
    });
    return nullptr;
  });
}

// ---------------------------------------------------------------- Fill

loom_status* FillImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor dims_t = k.input(0), value = k.input(1);
  Dims d;
  LOOM_RETURN_IF_ERROR(ReadShape(dims_t, "dims", &d));
  if (value.rank != 0) {
    return InvalidArgument("value must be a scalar, got shape ", value.shape_str());
  }
  for (int i = 0; i < d.n; ++i) {
    if (d[i] < 0) return InvalidArgument("dims[", i, "] must be >= 0, got ", d[i]);
  }
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, d, &y));
  return DispatchBySize(value.dtype, [&](auto zero) -> loom_status* {
    using U = decltype(zero);
    const U v = value.as<const U>()[0];
    U* o = y.as<U>();
    k.parallel_for(y.size, 1, [&](int64_t s, int64_t e) { std::fill(o + s, o + e, v); });
    return nullptr;
  });
}

// ---------------------------------------------------------------- OneHot

loom_status* OneHotImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor ind = k.input(0), depth_t = k.input(1), on = k.input(2), off = k.input(3);
  int64_t axis = -1, depth = 0;
  LOOM_RETURN_IF_ERROR(k.attr("axis", &axis, -1));
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(depth_t, "depth", &depth));
  if (depth < 0) return InvalidArgument("depth must be non-negative, got: ", depth);
  if (axis < -1 || axis > ind.rank) {
    return InvalidArgument("Expected axis to be -1 or between [0, ", ind.rank + 1,
                           ").  But received: ", axis);
  }
  if (on.rank != 0 || off.rank != 0) {
    return InvalidArgument("on_value and off_value must be scalars, got shapes ",
                           on.shape_str(), " and ", off.shape_str());
  }
  const int a = axis == -1 ? ind.rank : static_cast<int>(axis);
  LOOM_RETURN_IF_ERROR(CheckRank(ind.rank + 1));
  Dims od;
  for (int i = 0; i < ind.rank; ++i) {
    if (i == a) od.push_back(depth);
    od.push_back(ind.dim(i));
  }
  if (a == ind.rank) od.push_back(depth);
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  const Dims is = ind.shape();
  const int64_t prefix = Product(is, 0, a), suffix = Product(is, a, is.n);
  return Dispatch(TypeList<uint8_t, int32_t, int64_t>{}, ind.dtype, [&](auto izero) {
    using I = decltype(izero);
    return DispatchBySize(on.dtype, [&](auto zero) -> loom_status* {
      using U = decltype(zero);
      const I* ip = ind.as<const I>();
      const U onv = on.as<const U>()[0], offv = off.as<const U>()[0];
      U* o = y.as<U>();
      k.parallel_for(prefix * depth, suffix + 5, [&](int64_t s, int64_t e) {
        for (int64_t u = s; u < e; ++u) {  // u = (p, d)
          const int64_t p = u / depth, d = u % depth;
          const I* row = ip + p * suffix;
          U* out = o + u * suffix;
          for (int64_t j = 0; j < suffix; ++j)
            out[j] = static_cast<int64_t>(row[j]) == d ? onv : offv;
        }
      });
      return nullptr;
    });
  });
}

// ---------------------------------------------------------------- Range, InvertPermutation

loom_status* RangeImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor st = k.input(0), lt = k.input(1), dt = k.input(2);
  for (const Tensor* t : {&st, &lt, &dt}) {
    if (t->rank != 0) return InvalidArgument("start, limit and delta must be scalars, got ",
                                             t->shape_str());
  }
  return Dispatch(NumericTypes{}, st.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T start = st.as<const T>()[0], limit = lt.as<const T>()[0],
            delta = dt.as<const T>()[0];
    if (delta == 0) return InvalidArgument("Requires delta != 0: ", delta);
    if (delta > 0 && start > limit) {
      return InvalidArgument("Requires start <= limit when delta > 0: ", start, "/", limit);
    }
    if (delta < 0 && start < limit) {
      return InvalidArgument("Requires start >= limit when delta < 0: ", start, "/", limit);
    }
    int64_t size;
    if constexpr (std::is_integral_v<T>) {
      const int64_t span = std::abs(static_cast<int64_t>(limit) - static_cast<int64_t>(start));
      const int64_t ad = std::abs(static_cast<int64_t>(delta));
      size = (span + ad - 1) / ad;
    } else {
      const double sz = std::ceil(std::abs((static_cast<double>(limit) - start) / delta));
      if (!(sz < 9.0e18)) return InvalidArgument("Requires a finite range, got size ", sz);
      size = static_cast<int64_t>(sz);
    }
    Dims d;
    d.push_back(size);
    Tensor y;
    LOOM_RETURN_IF_ERROR(k.allocate(0, d, &y));
    T* o = y.as<T>();
    for (int64_t i = 0; i < size; ++i) o[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    return nullptr;
  });
}

loom_status* InvertPermutationImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  if (x.rank != 1) {
    return InvalidArgument("invert_permutation expects a 1D vector, got shape ", x.shape_str());
  }
  std::vector<int64_t> p;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(x, "x", &p));
  const int64_t n = x.size;
  std::vector<int64_t> inv(static_cast<size_t>(n), -1);
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] < 0 || p[i] >= n) {
      return InvalidArgument(p[i], " is not between 0 and ", n);
    }
    if (inv[p[i]] != -1) return InvalidArgument(p[i], " is duplicated in the input.");
    inv[p[i]] = i;
  }
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, x.shape(), &y));
  StoreIndices(y, inv.data(), n);
  return nullptr;
}

// ---------------------------------------------------------------- GatherV2, DynamicStitch

loom_status* GatherV2Impl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor params = k.input(0), ind = k.input(1), axis_t = k.input(2);
  int64_t a64 = 0, batch_dims = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(axis_t, "axis", &a64));
  LOOM_RETURN_IF_ERROR(k.attr("batch_dims", &batch_dims, 0));
  if (params.rank < 1) {
    return InvalidArgument("params must be at least 1 dimensional, got shape ",
                           params.shape_str());
  }
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(a64, params.rank, "axis", &axis));
  if (batch_dims < 0) batch_dims += ind.rank;
  if (batch_dims < 0 || batch_dims > ind.rank || batch_dims > axis) {
    return InvalidArgument("batch_dims must be in [0, min(indices rank ", ind.rank, ", axis ",
                           axis, ")], got ", batch_dims);
  }
  for (int i = 0; i < batch_dims; ++i) {
    if (params.dim(i) != ind.dim(i)) {
      return InvalidArgument("params.shape[", i, "]: ", params.dim(i),
                             " should be equal to indices.shape[", i, "]: ", ind.dim(i));
    }
  }
  const int bd = static_cast<int>(batch_dims);
  LOOM_RETURN_IF_ERROR(CheckRank(params.rank + ind.rank));
  const Dims ps = params.shape(), is = ind.shape();
  Dims od;
  for (int i = 0; i < axis; ++i) od.push_back(ps[i]);
  for (int i = bd; i < is.n; ++i) od.push_back(is[i]);
  for (int i = axis + 1; i < ps.n; ++i) od.push_back(ps[i]);
  const int64_t batch = Product(ps, 0, bd), outer = Product(ps, bd, axis), g = ps[axis];
  const int64_t inner = Product(ps, axis + 1, ps.n), n = Product(is, bd, is.n);
  std::vector<int64_t> idx;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(
      Tensor{ind.handle, ind.dtype, ind.size == 0 ? 0 : 1, &ind.size, ind.size, ind.data},
      "indices", &idx));
  for (size_t i = 0; i < idx.size(); ++i) {
    if (idx[i] < 0 || idx[i] >= g) {
      return InvalidArgument("indices[", i, "] = ", idx[i], " is not in [0, ", g,
                             ") (params shape ", params.shape_str(), ", axis ", axis, ")");
    }
  }
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  if (y.size == 0) return nullptr;
  const int64_t esize = static_cast<int64_t>(loom_dtype_size_inline(params.dtype));
  const int64_t row = inner * esize;
  const char* src = static_cast<const char*>(params.data);
  char* dst = static_cast<char*>(y.data);
  k.parallel_for(batch * outer * n, inner / 4 + 10, [&](int64_t s, int64_t e) {
    for (int64_t u = s; u < e; ++u) {  // u = (b, o, j)
      const int64_t j = u % n, bo = u / n, b = bo / outer;
      const int64_t from = (bo * g + idx[b * n + j]) * row;
      std::memcpy(dst + u * row, src + from, static_cast<size_t>(row));
    }
  });
  return nullptr;
}

loom_status* DynamicStitchImpl(loom_kernel_context* c) {
  Kernel k(c);
  const int n = k.num_inputs() / 2;
  std::vector<Tensor> ind(static_cast<size_t>(n)), data(static_cast<size_t>(n));
  int64_t max_index = -1;
  for (int i = 0; i < n; ++i) {
    ind[i] = k.input(i);
    data[i] = k.input(n + i);
  }
  // Every data[i].shape = indices[i].shape + constant (the same for all i).
  Dims constant;
  const Tensor& d0 = data[0];
  for (int j = ind[0].rank; j < d0.rank; ++j) constant.push_back(d0.dim(j));
  for (int i = 0; i < n; ++i) {
    bool prefix = ind[i].rank <= data[i].rank;
    for (int j = 0; prefix && j < ind[i].rank; ++j) prefix = ind[i].dim(j) == data[i].dim(j);
    if (!prefix) {
      return InvalidArgument("data[", i, "].shape = ", data[i].shape_str(),
                             " does not start with indices[", i, "].shape = ",
                             ind[i].shape_str());
    }
    Dims rest;
    for (int j = ind[i].rank; j < data[i].rank; ++j) rest.push_back(data[i].dim(j));
    if (rest != constant) {
      return InvalidArgument("Need data[0].shape[", ind[0].rank, ":] = ", constant.str(),
                             " to match data[", i, "].shape[", ind[i].rank, ":] = ",
                             rest.str());
    }
    const int32_t* ip = ind[i].as<const int32_t>();
    for (int64_t j = 0; j < ind[i].size; ++j) {
      if (ip[j] < 0) return InvalidArgument("indices[", i, "][", j, "] = ", ip[j], " is negative");
      max_index = std::max<int64_t>(max_index, ip[j]);
    }
  }
  Dims od;
  od.push_back(max_index + 1);
  for (int j = 0; j < constant.n; ++j) od.push_back(constant[j]);
  LOOM_RETURN_IF_ERROR(CheckRank(od.n));
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.allocate(0, od, &y));
  const int64_t esize = static_cast<int64_t>(loom_dtype_size_inline(d0.dtype));
  const int64_t row = constant.num_elements() * esize;
  char* dst = static_cast<char*>(y.data);
  if (y.size > 0) std::memset(dst, 0, static_cast<size_t>(y.size * esize));
  for (int i = 0; i < n; ++i) {  // in order: later indices win, as in TensorFlow
    const int32_t* ip = ind[i].as<const int32_t>();
    const char* src = static_cast<const char*>(data[i].data);
    for (int64_t j = 0; j < ind[i].size; ++j)
      std::memcpy(dst + ip[j] * row, src + j * row, static_cast<size_t>(row));
  }
  return nullptr;
}

}  // namespace

LOOM_CPU_KERNEL(TransposeKernel) { return TransposeImpl(ctx); }
LOOM_CPU_KERNEL(ConcatV2Kernel) {
  const int n = g_host->kernel_num_inputs(ctx) - 1;
  return ConcatCommon(ctx, 0, n, n);
}
LOOM_CPU_KERNEL(ConcatKernel) {
  return ConcatCommon(ctx, 1, g_host->kernel_num_inputs(ctx) - 1, 0);
}
LOOM_CPU_KERNEL(SplitKernel) { return SplitImpl(ctx); }
LOOM_CPU_KERNEL(SplitVKernel) { return SplitVImpl(ctx); }
LOOM_CPU_KERNEL(SliceKernel) { return SliceImpl(ctx); }
LOOM_CPU_KERNEL(StridedSliceKernel) { return StridedSliceImpl(ctx); }
LOOM_CPU_KERNEL(StridedSliceGradKernel) { return StridedSliceGradImpl(ctx); }
LOOM_CPU_KERNEL(PadKernel) { return PadImpl(ctx); }
LOOM_CPU_KERNEL(ConcatOffsetKernel) { return ConcatOffsetImpl(ctx); }
LOOM_CPU_KERNEL(TileKernel) { return TileImpl(ctx); }
LOOM_CPU_KERNEL(PackKernel) { return PackImpl(ctx); }
LOOM_CPU_KERNEL(UnpackKernel) { return UnpackImpl(ctx); }
LOOM_CPU_KERNEL(FillKernel) { return FillImpl(ctx); }
LOOM_CPU_KERNEL(OneHotKernel) { return OneHotImpl(ctx); }
LOOM_CPU_KERNEL(BroadcastToKernel) { return BroadcastToImpl(ctx); }
LOOM_CPU_KERNEL(RangeKernel) { return RangeImpl(ctx); }
LOOM_CPU_KERNEL(InvertPermutationKernel) { return InvertPermutationImpl(ctx); }
LOOM_CPU_KERNEL(GatherV2Kernel) { return GatherV2Impl(ctx); }
LOOM_CPU_KERNEL(DynamicStitchKernel) { return DynamicStitchImpl(ctx); }

}  // namespace loom_cpu
