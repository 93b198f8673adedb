// Schemas and shape functions of the array ops (TensorFlow's array_ops.cc),
// including the host intrinsics Const, Placeholder(WithDefault), Identity,
// StopGradient and PreventGradient.
#include <algorithm>
#include <set>

#include "loom/plugin/broadcast.hpp"
#include "loom/plugin/reshape.hpp"
#include "loom/plugin/strided_slice.hpp"
#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

using shape_fns::CanonicalAxis;
using shape_fns::kMaxRank;
using shape_fns::MergeNamed;
using shape_fns::UnknownOfRankOrUnknown;

// A constant that lists one entry per dimension must not imply a rank above kMaxRank.
Status CheckLength(size_t n, const char* what) {
  if (n > static_cast<size_t>(kMaxRank)) {
    return InvalidArgument(what, " has ", n, " entries; at most ", kMaxRank,
                           " dimensions are supported");
  }
  return Status::OK();
}

PartialShape Vector(int64_t n) { return PartialShape(std::vector<int64_t>{n}); }

// Sizes from a hostile graph may be huge: arithmetic on them that would
// overflow int64 yields -1 (unknown) instead, and the kernel reports the error.
int64_t MulOrUnknown(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? -1 : r;
}
int64_t AddOrUnknown(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? -1 : r;
}

// Number of elements of a fully defined shape; -1 otherwise.
int64_t NumElements(const PartialShape& s) {
  if (!s.fully_defined()) return -1;
  int64_t n = 1;
  for (int64_t d : s.dims()) {
    n = MulOrUnknown(n, d);
    if (n < 0) return -1;
  }
  return n;
}

// The length of a 1-D input: from its constant value or its shape; -1 unknown.
int64_t VectorLength(const InferenceContext& c, int i) {
  std::vector<int64_t> v;
  if (c.InputAsInts(i, &v) && c.input_tensor(i)->rank() == 1) return static_cast<int64_t>(v.size());
  const PartialShape& s = c.input(i);
  return s.rank_known() && s.rank() == 1 ? s.dim(0) : -1;
}

std::vector<int64_t> Concat3(const std::vector<int64_t>& a, const std::vector<int64_t>& b,
                             const std::vector<int64_t>& c) {
  std::vector<int64_t> r(a);
  r.insert(r.end(), b.begin(), b.end());
  r.insert(r.end(), c.begin(), c.end());
  return r;
}

std::vector<int64_t> Sub(const PartialShape& s, int begin, int end) {
  return std::vector<int64_t>(s.dims().begin() + begin, s.dims().begin() + end);
}

// ---------------------------------------------------------------- intrinsics

Status ConstShape(InferenceContext& c) {
  const AttrValue* v = c.attrs().Find("value");
  if (v == nullptr || v->kind() != AttrValue::kTensor || !v->tensor().valid()) {
    return InvalidArgument("Const requires a tensor-valued 'value' attr");
  }
  const AttrValue* dt = c.attrs().Find("dtype");
  if (dt != nullptr && dt->kind() == AttrValue::kType && dt->type() != v->tensor().dtype()) {
    return InvalidArgument("The value tensor has dtype ", DataTypeName(v->tensor().dtype()),
                           " but the dtype attr is ", DataTypeName(dt->type()));
  }
  c.set_output(0, PartialShape(v->tensor().shape()));
  return Status::OK();
}

Status ShapeAttrShape(InferenceContext& c) {
  const AttrValue* v = c.attrs().Find("shape");
  c.set_output(0, v && v->kind() == AttrValue::kShape ? v->shape() : PartialShape::Unknown());
  return Status::OK();
}

Status PlaceholderWithDefaultShape(InferenceContext& c) {
  const AttrValue* v = c.attrs().Find("shape");
  PartialShape s = v && v->kind() == AttrValue::kShape ? v->shape() : PartialShape::Unknown();
  if (!s.IsCompatibleWith(c.input(0))) {
    return InvalidArgument("The default value has shape ", c.input(0).ToString(),
                           ", which is not compatible with the shape attr ", s.ToString());
  }
  c.set_output(0, std::move(s));
  return Status::OK();
}

// ---------------------------------------------------------------- reshaping

Status ReshapeShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 1));
  std::vector<int64_t> vals;
  const bool constant = c.InputAsInts(1, &vals);
  PartialShape target;
  int num_infer = 0;
  if (constant) {
    RETURN_IF_ERROR(CheckLength(vals.size(), "The requested shape"));
    kit::ReshapeRequest request;
    const std::string error =
        kit::CheckReshapeRequest(vals.data(), static_cast<int>(vals.size()), &request);
    if (!error.empty()) return InvalidArgument(error);
    num_infer = request.unknown_at >= 0 ? 1 : 0;
    target = PartialShape(vals);
  } else {
    RETURN_IF_ERROR(c.MakeShapeFromInput(1, &target));
    if (!target.rank_known()) {
      c.set_output(0, PartialShape::Unknown());
      return Status::OK();
    }
  }
  // Product of the known target dims, and the position of the unknown ones.
  int64_t known = 1;
  int unknown = 0, unknown_at = -1;
  bool overflow = false;
  for (int k = 0; k < target.rank(); ++k) {
    if (target.dim(k) < 0) {
      ++unknown;
      unknown_at = k;
    } else if (!overflow) {
      known = MulOrUnknown(known, target.dim(k));
      overflow = known < 0;
    }
  }
  const int64_t n_in = overflow ? -1 : NumElements(in);
  std::vector<int64_t> dims = target.dims();
  // A constant request that cannot hold the input's (known) element count is
  // refused with the words the kernels use (loom/plugin/reshape.hpp).
  auto mismatch = [&]() {
    kit::ReshapeRequest request;
    request.unknown_at = unknown_at;
    request.known = known;
    return InvalidArgument(kit::ReshapeMismatch(n_in, in.ToString(), dims.data(),
                                                static_cast<int>(dims.size()), request));
  };
  if (constant && num_infer == 0) {
    if (n_in >= 0 && known != n_in) return mismatch();
  } else if (unknown == 1 && n_in >= 0) {
    if (known == 0) {
      if (n_in != 0 && constant) return mismatch();
      dims[static_cast<size_t>(unknown_at)] = -1;  // any size fits an empty tensor
    } else if (n_in % known != 0) {
      if (constant) return mismatch();
      dims[static_cast<size_t>(unknown_at)] = -1;
    } else {
      dims[static_cast<size_t>(unknown_at)] = n_in / known;
    }
  } else {
    for (int64_t& d : dims) d = d < 0 ? -1 : d;
  }
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status TransposeShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 1));
  std::vector<int64_t> perm;
  if (!c.InputAsInts(1, &perm)) {
    const int64_t n = VectorLength(c, 1);
    if (in.rank_known()) {
      if (n >= 0 && n != in.rank()) {
        return InvalidArgument("perm must have one entry per input dimension (", in.rank(),
                               ") but has ", n);
      }
      c.set_output(0, PartialShape::UnknownOfRank(in.rank()));
    } else {
      c.set_output(0, UnknownOfRankOrUnknown(n));
    }
    return Status::OK();
  }
  RETURN_IF_ERROR(CheckLength(perm.size(), "perm"));
  const int n = static_cast<int>(perm.size());
  if (in.rank_known() && in.rank() != n) {
    return InvalidArgument("perm ", PartialShape(perm).ToString(), " has ", n,
                           " entries but the input has rank ", in.rank(), " (shape ",
                           in.ToString(), ")");
  }
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= n || seen[static_cast<size_t>(p)]) {
      return InvalidArgument("perm ", PartialShape(perm).ToString(),
                             " is not a permutation of 0..", n - 1);
    }
    seen[static_cast<size_t>(p)] = true;
  }
  std::vector<int64_t> dims;
  for (int64_t p : perm) dims.push_back(in.rank_known() ? in.dim(static_cast<int>(p)) : -1);
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status ExpandDimsShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  std::vector<int64_t> dim;
  if (!c.InputAsInts(1, &dim)) {
    c.set_output(0, in.rank_known() ? PartialShape::UnknownOfRank(in.rank() + 1)
                                    : PartialShape::Unknown());
    return Status::OK();
  }
  if (dim.size() != 1) {
    return InvalidArgument("'dim' must hold exactly one value, but holds ", dim.size());
  }
  if (!in.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  int64_t axis;
  RETURN_IF_ERROR(CanonicalAxis(dim[0], in.rank() + 1, "ExpandDims dim", &axis));
  std::vector<int64_t> dims = in.dims();
  dims.insert(dims.begin() + axis, 1);
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status SqueezeShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  if (!in.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  const int rank = in.rank();
  std::vector<int64_t> attr = c.GetIntListAttr("squeeze_dims");
  std::vector<bool> drop(static_cast<size_t>(rank), false);
  for (int64_t a : attr) {
    int64_t k;
    RETURN_IF_ERROR(CanonicalAxis(a, rank, "squeeze_dims entry", &k));
    const int64_t d = in.dim(static_cast<int>(k));
    if (d >= 0 && d != 1) {
      return InvalidArgument("Can not squeeze dim[", k, "], expected a dimension of 1, got ", d,
                             " (input shape ", in.ToString(), ")");
    }
    drop[static_cast<size_t>(k)] = true;
  }
  std::vector<int64_t> dims;
  for (int k = 0; k < rank; ++k) {
    const int64_t d = in.dim(k);
    if (attr.empty()) {
      if (d < 0) {  // might be 1: the output rank is unknown
        c.set_output(0, PartialShape::Unknown());
        return Status::OK();
      }
      if (d == 1) continue;
    } else if (drop[static_cast<size_t>(k)]) {
      continue;
    }
    dims.push_back(d);
  }
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

// ---------------------------------------------------------------- concat / split

// Concatenates inputs [first, first+n) along the axis held by input axis_input.
Status ConcatShapeHelper(InferenceContext& c, int first, int n, int axis_input) {
  RETURN_IF_ERROR(c.WithRank(axis_input, 0));
  int rank = -1;
  for (int i = first; i < first + n; ++i) {
    const PartialShape& s = c.input(i);
    if (!s.rank_known()) continue;
    if (s.rank() == 0) {
      return InvalidArgument("Can't concatenate scalars (use Pack instead): input ", i - first,
                             " is a scalar");
    }
    if (rank < 0) {
      rank = s.rank();
    } else if (s.rank() != rank) {
      return InvalidArgument("Shape must be rank ", rank, " but is rank ", s.rank(),
                             " for value ", i - first, " with shape ", s.ToString(),
                             " (all values must have the same rank)");
    }
  }
  std::vector<int64_t> axis_v;
  if (!c.InputAsInts(axis_input, &axis_v) || axis_v.size() != 1) {
    c.set_output(0, rank >= 0 ? PartialShape::UnknownOfRank(rank) : PartialShape::Unknown());
    return Status::OK();
  }
  if (rank < 0) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  int64_t axis;
  RETURN_IF_ERROR(CanonicalAxis(axis_v[0], rank, "Concat axis", &axis));
  std::vector<int64_t> dims(static_cast<size_t>(rank), -1);
  int64_t total = 0;
  const PartialShape* first_known = nullptr;
  int first_known_index = 0;
  for (int i = first; i < first + n; ++i) {
    const PartialShape& s = c.input(i);
    if (!s.rank_known()) {
      total = -1;
      continue;
    }
    for (int k = 0; k < rank; ++k) {
      const int64_t d = s.dim(k);
      if (k == axis) {
        if (d < 0) total = -1;
        if (total >= 0) total = AddOrUnknown(total, d);
        continue;
      }
      int64_t& out = dims[static_cast<size_t>(k)];
      if (d >= 0 && out >= 0 && d != out) {
        return InvalidArgument("Dimension ", k, " in both shapes must be equal, but are ", out,
                               " and ", d, ". Shapes are ", first_known->ToString(), " (value ",
                               first_known_index, ") and ", s.ToString(), " (value ", i - first,
                               "); they may differ only in the concat axis ", axis);
      }
      if (d >= 0 && out < 0) out = d;
    }
    if (first_known == nullptr) {
      first_known = &s;
      first_known_index = i - first;
    }
  }
  dims[static_cast<size_t>(axis)] = total;
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status ConcatV2Shape(InferenceContext& c) {
  return ConcatShapeHelper(c, 0, c.num_inputs() - 1, c.num_inputs() - 1);
}

Status ConcatShape(InferenceContext& c) { return ConcatShapeHelper(c, 1, c.num_inputs() - 1, 0); }

Status ConcatOffsetShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 0));
  for (int i = 1; i < c.num_inputs(); ++i) {
    RETURN_IF_ERROR(c.WithRank(i, 1));
    c.set_output(i - 1, c.input(i));
  }
  return Status::OK();
}

Status SplitShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 0));
  const PartialShape& in = c.input(1);
  const int64_t num = c.GetIntAttr("num_split", c.num_outputs());
  std::vector<int64_t> axis_v;
  PartialShape out;
  if (!c.InputAsInts(0, &axis_v) || axis_v.size() != 1 || !in.rank_known()) {
    out = in.rank_known() ? PartialShape::UnknownOfRank(in.rank()) : PartialShape::Unknown();
  } else {
    int64_t axis;
    RETURN_IF_ERROR(CanonicalAxis(axis_v[0], in.rank(), "Split dimension", &axis));
    std::vector<int64_t> dims = in.dims();
    int64_t& d = dims[static_cast<size_t>(axis)];
    if (d >= 0) {
      if (num <= 0 || d % num != 0) {
        return InvalidArgument("Dimension ", axis, " of size ", d,
                               " must be evenly divisible by num_split ", num, " (input shape ",
                               in.ToString(), ")");
      }
      d /= num;
    }
    out = PartialShape(std::move(dims));
  }
  for (int i = 0; i < c.num_outputs(); ++i) c.set_output(i, out);
  return Status::OK();
}

Status SplitVShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 1));
  RETURN_IF_ERROR(c.WithRank(2, 0));
  const int num = c.num_outputs();
  const int64_t n_sizes = VectorLength(c, 1);
  if (n_sizes >= 0 && n_sizes != num) {
    return InvalidArgument("size_splits has ", n_sizes, " entries but num_split is ", num);
  }
  std::vector<int64_t> axis_v;
  if (!c.InputAsInts(2, &axis_v) || axis_v.size() != 1 || !in.rank_known()) {
    PartialShape out =
        in.rank_known() ? PartialShape::UnknownOfRank(in.rank()) : PartialShape::Unknown();
    for (int i = 0; i < num; ++i) c.set_output(i, out);
    return Status::OK();
  }
  int64_t axis;
  RETURN_IF_ERROR(CanonicalAxis(axis_v[0], in.rank(), "SplitV split_dim", &axis));
  std::vector<int64_t> sizes;
  if (!c.InputAsInts(1, &sizes)) {
    std::vector<int64_t> dims = in.dims();
    dims[static_cast<size_t>(axis)] = -1;
    for (int i = 0; i < num; ++i) c.set_output(i, PartialShape(dims));
    return Status::OK();
  }
  int infer_at = -1;
  int64_t sum = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    if (sizes[k] == -1) {
      if (infer_at >= 0) {
        return InvalidArgument("size_splits ", PartialShape(sizes).ToString(),
                               " may contain at most one -1");
      }
      infer_at = static_cast<int>(k);
    } else if (sizes[k] < 0) {
      return InvalidArgument("size_splits ", PartialShape(sizes).ToString(),
                             " has a negative entry other than -1");
    } else {
      sum = AddOrUnknown(sum, sizes[k]);
      if (sum < 0) {
        return InvalidArgument("size_splits ", PartialShape(sizes).ToString(), " overflow int64");
      }
    }
  }
  const int64_t d = in.dim(static_cast<int>(axis));
  if (d >= 0) {
    if (infer_at < 0 && sum != d) {
      return InvalidArgument("size_splits ", PartialShape(sizes).ToString(), " sum to ", sum,
                             " but dimension ", axis, " of the input ", in.ToString(), " is ", d);
    }
    if (infer_at >= 0 && sum > d) {
      return InvalidArgument("size_splits ", PartialShape(sizes).ToString(), " sum to ", sum,
                             ", more than dimension ", axis, " of the input ", in.ToString());
    }
    if (infer_at >= 0) sizes[static_cast<size_t>(infer_at)] = d - sum;
  }
  for (int i = 0; i < num; ++i) {
    std::vector<int64_t> dims = in.dims();
    dims[static_cast<size_t>(axis)] = sizes[static_cast<size_t>(i)];
    c.set_output(i, PartialShape(std::move(dims)));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- slicing

Status SliceShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 1));
  RETURN_IF_ERROR(c.WithRank(2, 1));
  std::vector<int64_t> begin, size;
  const bool begin_known = c.InputAsInts(1, &begin);
  const bool size_known = c.InputAsInts(2, &size);
  int64_t n = VectorLength(c, 1);
  const int64_t n2 = VectorLength(c, 2);
  if (n >= 0 && n2 >= 0 && n != n2) {
    return InvalidArgument("begin and size must have the same length, but have ", n, " and ", n2);
  }
  if (n < 0) n = n2;
  if (n < 0) n = in.rank();
  if (in.rank_known() && n >= 0 && n != in.rank()) {
    return InvalidArgument("begin and size must have one entry per input dimension (", in.rank(),
                           "), but have ", n, " (input shape ", in.ToString(), ")");
  }
  if (n < 0 || n > kMaxRank) {
    if (n > kMaxRank) RETURN_IF_ERROR(CheckLength(static_cast<size_t>(n), "begin"));
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  std::vector<int64_t> dims(static_cast<size_t>(n), -1);
  for (int k = 0; k < n; ++k) {
    const int64_t d = in.rank_known() ? in.dim(k) : -1;
    const int64_t b = begin_known ? begin[static_cast<size_t>(k)] : -1;
    if (begin_known && (b < 0 || (d >= 0 && b > d))) {
      return InvalidArgument("Expected begin[", k, "] in [0, ", d < 0 ? std::string("?") : StrCat(d),
                             "], but got ", b, " (input shape ", in.ToString(), ")");
    }
    if (!size_known) continue;
    const int64_t s = size[static_cast<size_t>(k)];
    if (s == -1) {
      if (d >= 0 && begin_known) dims[static_cast<size_t>(k)] = d - b;
      continue;
    }
    if (s < 0) {
      return InvalidArgument("Expected size[", k, "] >= -1, but got ", s);
    }
    if (d >= 0 && begin_known && b + s > d) {
      return InvalidArgument("Expected size[", k, "] in [0, ", d - b, "], but got ", s,
                             " (begin ", b, ", input shape ", in.ToString(), ")");
    }
    dims[static_cast<size_t>(k)] = s;
  }
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

// The strided-slice spec over the input's dims, built as TensorFlow does: an
// explicit or implicit ellipsis expands to full dims, new axes insert 1s,
// shrunk axes disappear. Begin/end/stride values may be unknown.
struct SliceValues {
  bool known = false;
  std::vector<int64_t> v;
};

// The output shape from the spec every device's kernel uses too
// (loom/plugin/strided_slice.hpp); unknown dims and values stay unknown.
Status StridedSliceOutput(const PartialShape& in, int64_t n, const SliceValues& begin,
                          const SliceValues& end, const SliceValues& strides,
                          const kit::StridedSliceMasks& masks, PartialShape* out) {
  if (!in.rank_known() || n < 0 || n > kMaxRank) {
    *out = PartialShape::Unknown();
    return Status::OK();
  }
  auto values = [](const SliceValues& v) { return v.known ? v.v.data() : nullptr; };
  const std::vector<int64_t> dims = in.dims();
  kit::StridedSliceSpec spec;
  const std::string error = kit::ResolveStridedSlice(
      dims.data(), in.rank(), static_cast<int>(n), values(begin), values(end), values(strides),
      masks, &spec);
  if (!error.empty()) return InvalidArgument(error);
  *out = PartialShape(std::move(spec.final_shape));
  return Status::OK();
}

Status StridedSliceShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  for (int i = 1; i <= 3; ++i) RETURN_IF_ERROR(c.WithRank(i, 1));
  SliceValues v[3];
  int64_t n = -1;
  for (int i = 0; i < 3; ++i) {
    v[i].known = c.InputAsInts(i + 1, &v[i].v);
    const int64_t len = VectorLength(c, i + 1);
    if (len >= 0) {
      if (n >= 0 && len != n) {
        return InvalidArgument("begin, end and strides must have the same length, but have ",
                               VectorLength(c, 1), ", ", VectorLength(c, 2), " and ",
                               VectorLength(c, 3));
      }
      n = len;
    }
  }
  PartialShape out;
  kit::StridedSliceMasks masks;
  masks.begin = c.GetIntAttr("begin_mask", 0);
  masks.end = c.GetIntAttr("end_mask", 0);
  masks.ellipsis = c.GetIntAttr("ellipsis_mask", 0);
  masks.new_axis = c.GetIntAttr("new_axis_mask", 0);
  masks.shrink_axis = c.GetIntAttr("shrink_axis_mask", 0);
  RETURN_IF_ERROR(StridedSliceOutput(in, n, v[0], v[1], v[2], masks, &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

Status StridedSliceGradShape(InferenceContext& c) {
  PartialShape out;
  RETURN_IF_ERROR(c.MakeShapeFromInput(0, &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

Status TileShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 1));
  std::vector<int64_t> mult;
  const int64_t n = VectorLength(c, 1);
  if (in.rank_known() && n >= 0 && n != in.rank()) {
    return InvalidArgument("multiples must have one entry per input dimension (", in.rank(),
                           "), but has ", n, " (input shape ", in.ToString(), ")");
  }
  if (!c.InputAsInts(1, &mult)) {
    c.set_output(0, UnknownOfRankOrUnknown(in.rank_known() ? in.rank() : n));
    return Status::OK();
  }
  RETURN_IF_ERROR(CheckLength(mult.size(), "multiples"));
  std::vector<int64_t> dims;
  for (size_t k = 0; k < mult.size(); ++k) {
    if (mult[k] < 0) {
      return InvalidArgument("multiples ", PartialShape(mult).ToString(),
                             " must be non-negative");
    }
    const int64_t d = in.rank_known() ? in.dim(static_cast<int>(k)) : -1;
    dims.push_back(mult[k] == 0 ? 0 : (d < 0 ? -1 : MulOrUnknown(d, mult[k])));
  }
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status PadShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 2));
  const PartialShape& p = c.input(1);
  if (p.rank_known() && p.dim(1) >= 0 && p.dim(1) != 2) {
    return InvalidArgument("paddings must have shape [rank, 2], but has shape ", p.ToString());
  }
  if (in.rank_known() && p.rank_known() && p.dim(0) >= 0 && p.dim(0) != in.rank()) {
    return InvalidArgument("paddings must have one row per input dimension (", in.rank(),
                           "), but has shape ", p.ToString());
  }
  const int64_t rows = in.rank_known() ? in.rank() : (p.rank_known() ? p.dim(0) : -1);
  // Paddings are 2-D, so read the constant directly (InputAsInts reads rank <= 1).
  const Tensor* t = c.input_tensor(1);
  if (t == nullptr || t->data() == nullptr || t->rank() != 2 || t->shape().dim(1) != 2 ||
      (t->dtype() != LOOM_DTYPE_INT32 && t->dtype() != LOOM_DTYPE_INT64)) {
    c.set_output(0, UnknownOfRankOrUnknown(rows));
    return Status::OK();
  }
  RETURN_IF_ERROR(CheckLength(static_cast<size_t>(t->shape().dim(0)), "paddings"));
  std::vector<int64_t> pads;
  const int64_t count = t->num_elements();
  for (int64_t k = 0; k < count; ++k) {
    pads.push_back(t->dtype() == LOOM_DTYPE_INT64 ? t->data_as<int64_t>()[k]
                                                  : t->data_as<int32_t>()[k]);
  }
  const int rank = static_cast<int>(count / 2);
  std::vector<int64_t> dims;
  for (int k = 0; k < rank; ++k) {
    const int64_t before = pads[static_cast<size_t>(2 * k)];
    const int64_t after = pads[static_cast<size_t>(2 * k + 1)];
    if (before < 0 || after < 0) {
      return InvalidArgument("paddings must be non-negative, but row ", k, " is [", before, ", ",
                             after, "]");
    }
    const int64_t d = in.rank_known() ? in.dim(k) : -1;
    dims.push_back(d < 0 ? -1 : AddOrUnknown(AddOrUnknown(d, before), after));
  }
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

// ---------------------------------------------------------------- pack / unpack

Status PackShape(InferenceContext& c) {
  PartialShape cur;
  for (int i = 0; i < c.num_inputs(); ++i) {
    PartialShape next;
    if (!cur.Merge(c.input(i), &next).ok()) {
      return InvalidArgument("Shapes of all inputs must match: values[0].shape = ",
                             c.input(0).ToString(), " != values[", i,
                             "].shape = ", c.input(i).ToString());
    }
    cur = std::move(next);
  }
  if (!cur.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  int64_t axis;
  RETURN_IF_ERROR(CanonicalAxis(c.GetIntAttr("axis", 0), cur.rank() + 1, "Pack axis", &axis));
  std::vector<int64_t> dims = cur.dims();
  dims.insert(dims.begin() + axis, c.num_inputs());
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status UnpackShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  PartialShape out;
  if (in.rank_known()) {
    int64_t axis;
    RETURN_IF_ERROR(CanonicalAxis(c.GetIntAttr("axis", 0), in.rank(), "Unpack axis", &axis));
    const int64_t d = in.dim(static_cast<int>(axis));
    const int64_t num = c.GetIntAttr("num", c.num_outputs());
    if (d >= 0 && d != num) {
      return InvalidArgument("Dimension ", axis, " of the input ", in.ToString(), " must be ",
                             num, " (num) but is ", d);
    }
    std::vector<int64_t> dims = in.dims();
    dims.erase(dims.begin() + axis);
    out = PartialShape(std::move(dims));
  }
  for (int i = 0; i < c.num_outputs(); ++i) c.set_output(i, out);
  return Status::OK();
}

// ---------------------------------------------------------------- creation

Status FillShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 1));
  if (c.input(1).rank_known() && c.input(1).rank() != 0) {
    return InvalidArgument("value must be a scalar, but has shape ", c.input(1).ToString());
  }
  std::vector<int64_t> dims;
  if (c.InputAsInts(0, &dims)) {
    for (int64_t d : dims) {
      if (d < 0) {
        return InvalidArgument("dims ", PartialShape(dims).ToString(),
                               " must be non-negative");
      }
    }
  }
  PartialShape out;
  RETURN_IF_ERROR(c.MakeShapeFromInput(0, &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

Status OneHotShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 0));
  RETURN_IF_ERROR(c.WithRank(2, 0));
  RETURN_IF_ERROR(c.WithRank(3, 0));
  const int64_t axis = c.GetIntAttr("axis", -1);
  if (axis < -1) return InvalidArgument("axis must be -1 or in [0, rank], but is ", axis);
  std::vector<int64_t> depth_v;
  int64_t depth = -1;
  if (c.InputAsInts(1, &depth_v) && depth_v.size() == 1) {
    depth = depth_v[0];
    if (depth < 0) return InvalidArgument("depth must be non-negative, but is ", depth);
  }
  if (!in.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  if (axis > in.rank()) {
    return InvalidArgument("axis ", axis, " must be -1 or in [0, ", in.rank(),
                           "] for indices of shape ", in.ToString());
  }
  std::vector<int64_t> dims = in.dims();
  dims.insert(axis == -1 ? dims.end() : dims.begin() + axis, depth);
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

// ---------------------------------------------------------------- shape ops

Status ShapeShape(InferenceContext& c) {
  c.set_output(0, Vector(c.input(0).rank_known() ? c.input(0).rank() : -1));
  return Status::OK();
}

Status BroadcastGradientArgsShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 1));
  RETURN_IF_ERROR(c.WithRank(1, 1));
  c.set_output(0, Vector(-1));
  c.set_output(1, Vector(-1));
  return Status::OK();
}

Status BroadcastToShape(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  RETURN_IF_ERROR(c.WithRank(1, 1));
  PartialShape target;
  RETURN_IF_ERROR(c.MakeShapeFromInput(1, &target));
  if (!target.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  if (!in.rank_known()) {
    c.set_output(0, target);
    return Status::OK();
  }
  const std::vector<int64_t> in_dims = in.dims(), target_dims = target.dims();
  std::vector<int64_t> dims;
  const std::string error = kit::BroadcastToShape(in_dims.data(), in.rank(), target_dims.data(),
                                                  target.rank(), &dims);
  if (!error.empty()) return InvalidArgument(error);
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status InvertPermutationShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 1));
  c.set_output(0, c.input(0).rank_known() ? c.input(0) : Vector(-1));
  return Status::OK();
}

// ---------------------------------------------------------------- gather / stitch

Status GatherV2Shape(InferenceContext& c) {
  const PartialShape& params = c.input(0);
  const PartialShape& indices = c.input(1);
  RETURN_IF_ERROR(c.WithRankAtLeast(0, 1));
  RETURN_IF_ERROR(c.WithRank(2, 0));
  int64_t batch_dims = c.GetIntAttr("batch_dims", 0);
  if (batch_dims < 0) {
    if (!indices.rank_known()) {
      c.set_output(0, PartialShape::Unknown());
      return Status::OK();
    }
    batch_dims += indices.rank();
    if (batch_dims < 0) {
      return InvalidArgument("batch_dims ", c.GetIntAttr("batch_dims", 0),
                             " is out of range for indices of shape ", indices.ToString());
    }
  }
  if (indices.rank_known() && batch_dims > indices.rank()) {
    return InvalidArgument("batch_dims (", batch_dims, ") must be <= the rank of indices (",
                           indices.rank(), ")");
  }
  std::vector<int64_t> axis_v;
  if (!c.InputAsInts(2, &axis_v) || axis_v.size() != 1 || !params.rank_known() ||
      !indices.rank_known()) {
    if (params.rank_known() && indices.rank_known()) {
      c.set_output(0, PartialShape::UnknownOfRank(
                          static_cast<int>(params.rank() + indices.rank() - 1 - batch_dims)));
    } else {
      c.set_output(0, PartialShape::Unknown());
    }
    return Status::OK();
  }
  int64_t axis;
  RETURN_IF_ERROR(CanonicalAxis(axis_v[0], params.rank(), "GatherV2 axis", &axis));
  if (batch_dims > axis) {
    return InvalidArgument("batch_dims (", batch_dims, ") must be <= axis (", axis, ")");
  }
  std::vector<int64_t> batch;
  for (int k = 0; k < batch_dims; ++k) {
    int64_t a = params.dim(k), b = indices.dim(k);
    if (a >= 0 && b >= 0 && a != b) {
      return InvalidArgument("params and indices must agree on the first batch_dims (",
                             batch_dims, ") dimensions, but have shapes ", params.ToString(),
                             " and ", indices.ToString());
    }
    batch.push_back(a >= 0 ? a : b);
  }
  std::vector<int64_t> dims = batch;
  std::vector<int64_t> mid = Sub(params, static_cast<int>(batch_dims), static_cast<int>(axis));
  dims.insert(dims.end(), mid.begin(), mid.end());
  dims = Concat3(dims, Sub(indices, static_cast<int>(batch_dims), indices.rank()),
                 Sub(params, static_cast<int>(axis) + 1, params.rank()));
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status DynamicStitchShape(InferenceContext& c) {
  const int n = c.num_inputs() / 2;
  int64_t max_index = -1;
  bool all_constant = true;
  PartialShape extra;  // data[i].shape[indices[i].rank:], merged
  for (int i = 0; i < n; ++i) {
    const PartialShape& idx = c.input(i);
    const PartialShape& data = c.input(n + i);
    std::vector<int64_t> vals;
    const Tensor* t = c.input_tensor(i);
    if (t != nullptr && t->dtype() == LOOM_DTYPE_INT32 && t->data() != nullptr) {
      for (int64_t k = 0; k < t->num_elements(); ++k) {
        max_index = std::max<int64_t>(max_index, t->data_as<int32_t>()[k]);
      }
    } else {
      all_constant = false;
    }
    if (!idx.rank_known() || !data.rank_known()) continue;
    if (data.rank() < idx.rank()) {
      return InvalidArgument("data[", i, "].shape ", data.ToString(),
                             " must start with indices[", i, "].shape ", idx.ToString());
    }
    for (int k = 0; k < idx.rank(); ++k) {
      if (idx.dim(k) >= 0 && data.dim(k) >= 0 && idx.dim(k) != data.dim(k)) {
        return InvalidArgument("data[", i, "].shape ", data.ToString(),
                               " must start with indices[", i, "].shape ", idx.ToString());
      }
    }
    PartialShape tail(Sub(data, idx.rank(), data.rank()));
    PartialShape merged;
    if (!extra.Merge(tail, &merged).ok()) {
      return InvalidArgument("The trailing dimensions of every data[i] must match, but data[", i,
                             "] has ", tail.ToString(), " after its index dimensions and an "
                             "earlier one has ", extra.ToString());
    }
    extra = std::move(merged);
  }
  if (!extra.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  std::vector<int64_t> dims{all_constant ? max_index + 1 : -1};
  dims.insert(dims.end(), extra.dims().begin(), extra.dims().end());
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------- intrinsics

REGISTER_OP("Const")
    .Output("output: dtype")
    .Attr("value: tensor")
    .Attr("dtype: type")
    .SetShapeFn(ConstShape);

REGISTER_OP("Placeholder")
    .Output("output: dtype")
    .Attr("dtype: type")
    .Attr("shape: shape = { unknown_rank: true }")
    .SetShapeFn(ShapeAttrShape);

REGISTER_OP("PlaceholderWithDefault")
    .Input("input: dtype")
    .Output("output: dtype")
    .Attr("dtype: type")
    .Attr("shape: shape")
    .SetShapeFn(PlaceholderWithDefaultShape);

REGISTER_OP("Identity")
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("StopGradient")
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("PreventGradient")
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("message: string = ''")
    .SetShapeFn(shape_fns::UnchangedShape);

// ---------------------------------------------------------------- reshaping

REGISTER_OP("Reshape")
    .Input("tensor: T")
    .Input("shape: Tshape")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tshape: {int32, int64} = DT_INT32")
    .SetShapeFn(ReshapeShape);

REGISTER_OP("Transpose")
    .Input("x: T")
    .Input("perm: Tperm")
    .Output("y: T")
    .Attr("T: type")
    .Attr("Tperm: {int32, int64} = DT_INT32")
    .SetShapeFn(TransposeShape);

REGISTER_OP("InvertPermutation")
    .Input("x: T")
    .Output("y: T")
    .Attr("T: {int32, int64} = DT_INT32")
    .SetShapeFn(InvertPermutationShape);

REGISTER_OP("ExpandDims")
    .Input("input: T")
    .Input("dim: Tdim")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tdim: {int32, int64} = DT_INT32")
    .SetShapeFn(ExpandDimsShape);

REGISTER_OP("Squeeze")
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("squeeze_dims: list(int) >= 0 = []")
    .SetShapeFn(SqueezeShape);

// ---------------------------------------------------------------- concat / split

REGISTER_OP("ConcatV2")
    .Input("values: N * T")
    .Input("axis: Tidx")
    .Output("output: T")
    .Attr("N: int >= 2")
    .Attr("T: type")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .SetShapeFn(ConcatV2Shape);

REGISTER_OP("Concat")
    .Input("concat_dim: int32")
    .Input("values: N * T")
    .Output("output: T")
    .Attr("N: int >= 2")
    .Attr("T: type")
    .SetShapeFn(ConcatShape);

// Used by Concat's gradient: the offset of each input within the output.
REGISTER_OP("ConcatOffset")
    .Input("concat_dim: int32")
    .Input("shape: N * int32")
    .Output("offset: N * int32")
    .Attr("N: int >= 2")
    .SetShapeFn(ConcatOffsetShape);

REGISTER_OP("Split")
    .Input("split_dim: int32")
    .Input("value: T")
    .Output("output: num_split * T")
    .Attr("num_split: int >= 1")
    .Attr("T: type")
    .SetShapeFn(SplitShape);

REGISTER_OP("SplitV")
    .Input("value: T")
    .Input("size_splits: Tlen")
    .Input("split_dim: int32")
    .Output("output: num_split * T")
    .Attr("num_split: int >= 1")
    .Attr("T: type")
    .Attr("Tlen: {int8, int32, int64} = DT_INT64")
    .SetShapeFn(SplitVShape);

// ---------------------------------------------------------------- slicing

REGISTER_OP("Slice")
    .Input("input: T")
    .Input("begin: Index")
    .Input("size: Index")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Index: {int32, int64}")
    .SetShapeFn(SliceShape);

REGISTER_OP("StridedSlice")
    .Input("input: T")
    .Input("begin: Index")
    .Input("end: Index")
    .Input("strides: Index")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Index: {int16, int32, int64}")
    .Attr("begin_mask: int = 0")
    .Attr("end_mask: int = 0")
    .Attr("ellipsis_mask: int = 0")
    .Attr("new_axis_mask: int = 0")
    .Attr("shrink_axis_mask: int = 0")
    .SetShapeFn(StridedSliceShape);

// Used by StridedSlice's gradient: scatters dy into zeros of shape `shape`.
REGISTER_OP("StridedSliceGrad")
    .Input("shape: Index")
    .Input("begin: Index")
    .Input("end: Index")
    .Input("strides: Index")
    .Input("dy: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Index: {int32, int64}")
    .Attr("begin_mask: int = 0")
    .Attr("end_mask: int = 0")
    .Attr("ellipsis_mask: int = 0")
    .Attr("new_axis_mask: int = 0")
    .Attr("shrink_axis_mask: int = 0")
    .SetShapeFn(StridedSliceGradShape);

REGISTER_OP("Tile")
    .Input("input: T")
    .Input("multiples: Tmultiples")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tmultiples: {int32, int64} = DT_INT32")
    .SetShapeFn(TileShape);

// Used by Slice's gradient.
REGISTER_OP("Pad")
    .Input("input: T")
    .Input("paddings: Tpaddings")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tpaddings: {int32, int64} = DT_INT32")
    .SetShapeFn(PadShape);

// ---------------------------------------------------------------- pack / unpack

REGISTER_OP("Pack")
    .Input("values: N * T")
    .Output("output: T")
    .Attr("N: int >= 1")
    .Attr("T: type")
    .Attr("axis: int = 0")
    .SetShapeFn(PackShape);

REGISTER_OP("Unpack")
    .Input("value: T")
    .Output("output: num * T")
    .Attr("num: int >= 0")
    .Attr("T: type")
    .Attr("axis: int = 0")
    .SetShapeFn(UnpackShape);

// ---------------------------------------------------------------- creation

REGISTER_OP("Fill")
    .Input("dims: index_type")
    .Input("value: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("index_type: {int32, int64} = DT_INT32")
    .SetShapeFn(FillShape);

REGISTER_OP("ZerosLike")
    .Input("x: T")
    .Output("y: T")
    .Attr("T: type")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("OnesLike")
    .Input("x: T")
    .Output("y: T")
    .Attr("T: {bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, int64, "
          "uint64, bool}")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("OneHot")
    .Input("indices: TI")
    .Input("depth: int32")
    .Input("on_value: T")
    .Input("off_value: T")
    .Output("output: T")
    .Attr("axis: int = -1")
    .Attr("T: type")
    .Attr("TI: {uint8, int8, int32, int64} = DT_INT64")
    .SetShapeFn(OneHotShape);

// ---------------------------------------------------------------- shape ops

REGISTER_OP("Shape")
    .Input("input: T")
    .Output("output: out_type")
    .Attr("T: type")
    .Attr("out_type: {int32, int64} = DT_INT32")
    .SetShapeFn(ShapeShape);

REGISTER_OP("Size")
    .Input("input: T")
    .Output("output: out_type")
    .Attr("T: type")
    .Attr("out_type: {int32, int64} = DT_INT32")
    .SetShapeFn(shape_fns::ScalarShape);

REGISTER_OP("Rank")
    .Input("input: T")
    .Output("output: int32")
    .Attr("T: type")
    .SetShapeFn(shape_fns::ScalarShape);

REGISTER_OP("BroadcastGradientArgs")
    .Input("s0: T")
    .Input("s1: T")
    .Output("r0: T")
    .Output("r1: T")
    .Attr("T: {int32, int64} = DT_INT32")
    .SetShapeFn(BroadcastGradientArgsShape);

REGISTER_OP("BroadcastTo")
    .Input("input: T")
    .Input("shape: Tidx")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .SetShapeFn(BroadcastToShape);

// ---------------------------------------------------------------- gather / stitch

REGISTER_OP("GatherV2")
    .Input("params: Tparams")
    .Input("indices: Tindices")
    .Input("axis: Taxis")
    .Output("output: Tparams")
    .Attr("batch_dims: int = 0")
    .Attr("Tparams: type")
    .Attr("Tindices: {int16, int32, int64}")
    .Attr("Taxis: {int32, int64}")
    .SetShapeFn(GatherV2Shape);

REGISTER_OP("DynamicStitch")
    .Input("indices: N * int32")
    .Input("data: N * T")
    .Output("merged: T")
    .Attr("N: int >= 1")
    .Attr("T: type")
    .SetShapeFn(DynamicStitchShape);

}  // namespace loom
