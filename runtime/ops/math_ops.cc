// Schemas and shape functions of the math ops (TensorFlow's math_ops.cc):
// element-wise unary and binary ops, comparisons, logic, selection, matrix
// products, reductions, casts, ranges and segment sums. Dtype sets are
// TensorFlow's, with the dtypes Loom lacks (complex, quantized) left out.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

using shape_fns::CanonicalAxis;

// TensorFlow's dtype sets, by the macro names it uses for them.
const char* const kUnaryReal = "T: {bfloat16, half, float, double, int8, int16, int32, int64}";
const char* const kUnaryFloat = "T: {bfloat16, half, float, double}";
const char* const kUnaryFloatComplex = "T: {bfloat16, half, float, double, complex64, complex128}";
const char* const kSignedComplex =
    "T: {bfloat16, half, float, double, int8, int16, int32, int64, complex64, complex128}";
const char* const kBinaryMore =
    "T: {bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, uint64, int64, "
    "complex64, complex128}";
const char* const kMinMax =
    "T: {bfloat16, half, float, double, int8, uint8, int16, uint16, int32, uint32, int64, uint64}";

// ---------------------------------------------------------------- shape fns

Status SelectShape(InferenceContext& c) {
  // TensorFlow 1 Select: `t` and `e` have one shape; `condition` is a scalar,
  // that same shape, or a vector over its first dimension.
  PartialShape data;
  RETURN_IF_ERROR(shape_fns::MergeNamed(c.input(1), "t", c.input(2), "e", &data));
  const PartialShape& cond = c.input(0);
  if (cond.rank_known() && data.rank_known()) {
    if (cond.rank() == 0) {
      c.set_output(0, data);
      return Status::OK();
    }
    if (cond.rank() != 1 || data.rank() <= 1) {
      PartialShape merged;
      RETURN_IF_ERROR(shape_fns::MergeNamed(cond, "condition", data, "t", &merged));
      c.set_output(0, merged);
      return Status::OK();
    }
    // A vector condition picks whole rows: its length is t's first dimension.
    const int64_t n = cond.dim(0), d0 = data.dim(0);
    if (n >= 0 && d0 >= 0 && n != d0) {
      return InvalidArgument("A vector condition must have one entry per row of t, but has ", n,
                             " entries for t of shape ", data.ToString());
    }
    std::vector<int64_t> dims = data.dims();
    if (dims[0] < 0) dims[0] = n;
    c.set_output(0, PartialShape(std::move(dims)));
    return Status::OK();
  }
  c.set_output(0, data);
  return Status::OK();
}

Status SelectV2Shape(InferenceContext& c) {
  PartialShape te, out;
  RETURN_IF_ERROR(shape_fns::BroadcastShapes(c.input(1), c.input(2), &te));
  RETURN_IF_ERROR(shape_fns::BroadcastShapes(c.input(0), te, &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

Status MatMulShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 2));
  RETURN_IF_ERROR(c.WithRank(1, 2));
  const PartialShape& a = c.input(0);
  const PartialShape& b = c.input(1);
  const bool ta = c.GetBoolAttr("transpose_a", false);
  const bool tb = c.GetBoolAttr("transpose_b", false);
  const int64_t rows = a.rank_known() ? a.dim(ta ? 1 : 0) : -1;
  const int64_t inner_a = a.rank_known() ? a.dim(ta ? 0 : 1) : -1;
  const int64_t inner_b = b.rank_known() ? b.dim(tb ? 1 : 0) : -1;
  const int64_t cols = b.rank_known() ? b.dim(tb ? 0 : 1) : -1;
  if (inner_a >= 0 && inner_b >= 0 && inner_a != inner_b) {
    return InvalidArgument("Dimensions must be equal, but are ", inner_a, " and ", inner_b,
                           " for inputs with shapes ", a.ToString(), " and ", b.ToString(),
                           " (transpose_a=", ta ? "true" : "false",
                           ", transpose_b=", tb ? "true" : "false", ")");
  }
  c.set_output(0, PartialShape({rows, cols}));
  return Status::OK();
}

// BatchMatMul (batch dims must match) and BatchMatMulV2 (they broadcast).
Status BatchMatMulShapeImpl(InferenceContext& c, bool broadcast) {
  RETURN_IF_ERROR(c.WithRankAtLeast(0, 2));
  RETURN_IF_ERROR(c.WithRankAtLeast(1, 2));
  const PartialShape& x = c.input(0);
  const PartialShape& y = c.input(1);
  const bool adj_x = c.GetBoolAttr("adj_x", false);
  const bool adj_y = c.GetBoolAttr("adj_y", false);
  const int rx = x.rank(), ry = y.rank();
  const int64_t rows = x.rank_known() ? x.dim(adj_x ? rx - 1 : rx - 2) : -1;
  const int64_t inner_x = x.rank_known() ? x.dim(adj_x ? rx - 2 : rx - 1) : -1;
  const int64_t inner_y = y.rank_known() ? y.dim(adj_y ? ry - 1 : ry - 2) : -1;
  const int64_t cols = y.rank_known() ? y.dim(adj_y ? ry - 2 : ry - 1) : -1;
  if (inner_x >= 0 && inner_y >= 0 && inner_x != inner_y) {
    return InvalidArgument("Dimensions must be equal, but are ", inner_x, " and ", inner_y,
                           " for inputs with shapes ", x.ToString(), " and ", y.ToString(),
                           " (adj_x=", adj_x ? "true" : "false", ", adj_y=",
                           adj_y ? "true" : "false", ")");
  }
  PartialShape bx = x.rank_known() ? PartialShape(std::vector<int64_t>(x.dims().begin(),
                                                                       x.dims().end() - 2))
                                   : PartialShape::Unknown();
  PartialShape by = y.rank_known() ? PartialShape(std::vector<int64_t>(y.dims().begin(),
                                                                       y.dims().end() - 2))
                                   : PartialShape::Unknown();
  PartialShape batch;
  if (broadcast) {
    Status s = shape_fns::BroadcastShapes(bx, by, &batch);
    if (!s.ok()) {
      return InvalidArgument("The batch dimensions of inputs with shapes ", x.ToString(), " and ",
                             y.ToString(), " cannot be broadcast: ", s.message());
    }
  } else if (!bx.Merge(by, &batch).ok()) {
    return InvalidArgument("BatchMatMul needs equal batch dimensions, but the inputs have shapes ",
                           x.ToString(), " and ", y.ToString(),
                           " (BatchMatMulV2 broadcasts them)");
  }
  if (!batch.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  std::vector<int64_t> dims = batch.dims();
  dims.push_back(rows);
  dims.push_back(cols);
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status BatchMatMulShape(InferenceContext& c) { return BatchMatMulShapeImpl(c, false); }
Status BatchMatMulV2Shape(InferenceContext& c) { return BatchMatMulShapeImpl(c, true); }

Status ArgMinMaxShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(1, 0));
  const PartialShape& in = c.input(0);
  if (!in.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  if (in.rank() == 0) {
    return InvalidArgument("ArgMax/ArgMin need an input of rank >= 1, but it is a scalar");
  }
  std::vector<int64_t> dim;
  if (!c.InputAsInts(1, &dim) || dim.size() != 1) {
    c.set_output(0, PartialShape::UnknownOfRank(in.rank() - 1));
    return Status::OK();
  }
  int64_t axis;
  RETURN_IF_ERROR(CanonicalAxis(dim[0], in.rank(), "dimension", &axis));
  std::vector<int64_t> dims = in.dims();
  dims.erase(dims.begin() + axis);
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

// A numeric scalar constant as double; false if not a constant of a real dtype.
bool ScalarAsDouble(const Tensor* t, double* out) {
  if (t == nullptr || t->data() == nullptr || t->num_elements() != 1) return false;
  switch (t->dtype()) {
    case LOOM_DTYPE_FLOAT: *out = t->data_as<float>()[0]; return true;
    case LOOM_DTYPE_DOUBLE: *out = t->data_as<double>()[0]; return true;
    case LOOM_DTYPE_INT32: *out = t->data_as<int32_t>()[0]; return true;
    case LOOM_DTYPE_INT64: *out = static_cast<double>(t->data_as<int64_t>()[0]); return true;
    case LOOM_DTYPE_INT16: *out = t->data_as<int16_t>()[0]; return true;
    case LOOM_DTYPE_INT8: *out = t->data_as<int8_t>()[0]; return true;
    default: return false;
  }
}

Status RangeShape(InferenceContext& c) {
  const char* names[] = {"start", "limit", "delta"};
  for (int i = 0; i < 3; ++i) {
    if (c.input(i).rank_known() && c.input(i).rank() != 0) {
      return InvalidArgument(names[i], " must be a scalar, but has shape ",
                             c.input(i).ToString());
    }
  }
  double start, limit, delta;
  if (!ScalarAsDouble(c.input_tensor(0), &start) || !ScalarAsDouble(c.input_tensor(1), &limit) ||
      !ScalarAsDouble(c.input_tensor(2), &delta)) {
    c.set_output(0, PartialShape({-1}));
    return Status::OK();
  }
  if (delta == 0) return InvalidArgument("Range requires delta != 0");
  if (delta > 0 && start > limit) {
    return InvalidArgument("Range requires start <= limit when delta > 0, but start is ", start,
                           " and limit is ", limit);
  }
  if (delta < 0 && start < limit) {
    return InvalidArgument("Range requires start >= limit when delta < 0, but start is ", start,
                           " and limit is ", limit);
  }
  const DataType dt = c.input_tensor(0)->dtype();
  int64_t size;
  if (dt == LOOM_DTYPE_FLOAT || dt == LOOM_DTYPE_DOUBLE) {
    const double n = std::ceil(std::abs((limit - start) / delta));
    size = n < 9.0e18 ? static_cast<int64_t>(n) : -1;  // -1: too large to say
  } else {
    // Integer operands are exact in double up to 2^53; beyond that, read them as int64.
    const Tensor* t[3] = {c.input_tensor(0), c.input_tensor(1), c.input_tensor(2)};
    int64_t v[3];
    for (int i = 0; i < 3; ++i) {
      v[i] = t[i]->dtype() == LOOM_DTYPE_INT64 ? t[i]->data_as<int64_t>()[0]
                                               : static_cast<int64_t>(i == 0 ? start
                                                                      : i == 1 ? limit : delta);
    }
    // |limit - start| and |delta| as unsigned: no overflow for any int64 operands.
    const uint64_t span = v[1] > v[0] ? static_cast<uint64_t>(v[1]) - static_cast<uint64_t>(v[0])
                                      : static_cast<uint64_t>(v[0]) - static_cast<uint64_t>(v[1]);
    const uint64_t ad = v[2] < 0 ? 0 - static_cast<uint64_t>(v[2]) : static_cast<uint64_t>(v[2]);
    const uint64_t n = span / ad + (span % ad != 0 ? 1 : 0);
    size = n <= static_cast<uint64_t>(INT64_MAX) ? static_cast<int64_t>(n) : -1;
  }
  c.set_output(0, PartialShape({size}));
  return Status::OK();
}

Status UnsortedSegmentSumShape(InferenceContext& c) {
  const PartialShape& data = c.input(0);
  const PartialShape& ids = c.input(1);
  RETURN_IF_ERROR(c.WithRank(2, 0));
  std::vector<int64_t> num_v;
  int64_t num = -1;
  if (c.InputAsInts(2, &num_v) && num_v.size() == 1) {
    num = num_v[0];
    if (num < 0) return InvalidArgument("num_segments must be non-negative, but is ", num);
  }
  if (!data.rank_known() || !ids.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  bool prefix = data.rank() >= ids.rank();
  for (int k = 0; prefix && k < ids.rank(); ++k) {
    if (ids.dim(k) >= 0 && data.dim(k) >= 0 && ids.dim(k) != data.dim(k)) prefix = false;
  }
  if (!prefix) {
    return InvalidArgument("segment_ids.shape ", ids.ToString(),
                           " must be a prefix of data.shape ", data.ToString());
  }
  std::vector<int64_t> dims{num};
  dims.insert(dims.end(), data.dims().begin() + ids.rank(), data.dims().end());
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status CumsumShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(1, 0));
  const PartialShape& in = c.input(0);
  std::vector<int64_t> axis;
  if (in.rank_known() && c.InputAsInts(1, &axis) && axis.size() == 1) {
    int64_t unused;
    RETURN_IF_ERROR(CanonicalAxis(axis[0], in.rank(), "Cumsum axis", &unused));
  }
  c.set_output(0, in);
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------- unary

#define LOOM_UNARY_OP(name, types)       \
  REGISTER_OP(name)                      \
      .Input("x: T")                     \
      .Output("y: T")                    \
      .Attr(types)                       \
      .SetShapeFn(shape_fns::UnchangedShape)

LOOM_UNARY_OP("Neg", kSignedComplex);
LOOM_UNARY_OP("Abs", kUnaryReal);
LOOM_UNARY_OP("Exp", kUnaryFloatComplex);
LOOM_UNARY_OP("Log", kUnaryFloatComplex);
LOOM_UNARY_OP("Log1p", kUnaryFloatComplex);
LOOM_UNARY_OP("Sqrt", kUnaryFloatComplex);
LOOM_UNARY_OP("Rsqrt", kUnaryFloatComplex);
LOOM_UNARY_OP("Square",
              "T: {bfloat16, half, float, double, int8, int16, int32, int64, uint8, uint16, "
              "uint32, uint64, complex64, complex128}");
LOOM_UNARY_OP("Reciprocal", kSignedComplex);
LOOM_UNARY_OP("Sign", kSignedComplex);
LOOM_UNARY_OP("Floor", kUnaryFloat);
LOOM_UNARY_OP("Ceil", kUnaryFloat);
LOOM_UNARY_OP("Round", kSignedComplex);
LOOM_UNARY_OP("Sin", kUnaryFloatComplex);
LOOM_UNARY_OP("Cos", kUnaryFloatComplex);
LOOM_UNARY_OP("Sigmoid", kUnaryFloatComplex);
LOOM_UNARY_OP("Tanh", kUnaryFloatComplex);
LOOM_UNARY_OP("Erf", kUnaryFloat);
LOOM_UNARY_OP("Expm1", kUnaryFloatComplex);
LOOM_UNARY_OP("Tan", kUnaryFloatComplex);
LOOM_UNARY_OP("Asin", kUnaryFloatComplex);
LOOM_UNARY_OP("Acos", kUnaryFloatComplex);
LOOM_UNARY_OP("Atan", kUnaryFloatComplex);
LOOM_UNARY_OP("Sinh", kUnaryFloatComplex);
LOOM_UNARY_OP("Cosh", kUnaryFloatComplex);

#undef LOOM_UNARY_OP

// Gradients of unary ops: (y, dy) -> z, all of one shape.
#define LOOM_UNARY_GRAD_OP(name)          \
  REGISTER_OP(name)                       \
      .Input("y: T")                      \
      .Input("dy: T")                     \
      .Output("z: T")                     \
      .Attr(kUnaryFloatComplex)           \
      .SetShapeFn(shape_fns::MergeBothInputs)

LOOM_UNARY_GRAD_OP("SigmoidGrad");
LOOM_UNARY_GRAD_OP("TanhGrad");
LOOM_UNARY_GRAD_OP("SqrtGrad");
LOOM_UNARY_GRAD_OP("RsqrtGrad");
LOOM_UNARY_GRAD_OP("ReciprocalGrad");

#undef LOOM_UNARY_GRAD_OP

// ---------------------------------------------------------------- binary (broadcasting)

#define LOOM_BINARY_OP(name, types)      \
  REGISTER_OP(name)                      \
      .Input("x: T")                     \
      .Input("y: T")                     \
      .Output("z: T")                     \
      .Attr(types)                       \
      .SetShapeFn(shape_fns::BroadcastBinaryOp)

LOOM_BINARY_OP("Add",
               "T: {bfloat16, half, float, double, uint8, int8, int16, int32, int64, complex64, "
               "complex128, string}");
LOOM_BINARY_OP("AddV2",
               "T: {bfloat16, half, float, double, uint8, uint16, uint32, uint64, int8, int16, "
               "int32, int64, complex64, complex128}");
LOOM_BINARY_OP("Sub", kBinaryMore);
LOOM_BINARY_OP("Mul", kBinaryMore);
LOOM_BINARY_OP("Div", kBinaryMore);
LOOM_BINARY_OP("RealDiv", kBinaryMore);
LOOM_BINARY_OP("FloorDiv", kBinaryMore);
LOOM_BINARY_OP("FloorMod",
               "T: {int8, int16, int32, int64, uint8, uint16, uint32, uint64, bfloat16, half, "
               "float, double}");
LOOM_BINARY_OP("Maximum", kMinMax);
LOOM_BINARY_OP("Atan2", kUnaryFloat);  // atan2(x, y): TensorFlow's (y, x) order
LOOM_BINARY_OP("Minimum", kMinMax);
LOOM_BINARY_OP("Pow",
               "T: {bfloat16, float, half, double, int8, int16, int32, int64, complex64, "
               "complex128}");
LOOM_BINARY_OP("SquaredDifference",
               "T: {bfloat16, half, float, double, int32, int64, complex64, complex128}");

#undef LOOM_BINARY_OP

// ---------------------------------------------------------------- comparisons and logic

REGISTER_OP("Equal")
    .Input("x: T")
    .Input("y: T")
    .Output("z: bool")
    .Attr("T: type")
    .Attr("incompatible_shape_error: bool = true")
    .SetShapeFn(shape_fns::BroadcastBinaryOp);

REGISTER_OP("NotEqual")
    .Input("x: T")
    .Input("y: T")
    .Output("z: bool")
    .Attr("T: type")
    .Attr("incompatible_shape_error: bool = true")
    .SetShapeFn(shape_fns::BroadcastBinaryOp);

#define LOOM_COMPARISON_OP(name)          \
  REGISTER_OP(name)                       \
      .Input("x: T")                      \
      .Input("y: T")                      \
      .Output("z: bool")                  \
      .Attr("T: realnumbertype")          \
      .SetShapeFn(shape_fns::BroadcastBinaryOp)

LOOM_COMPARISON_OP("Less");
LOOM_COMPARISON_OP("LessEqual");
LOOM_COMPARISON_OP("Greater");
LOOM_COMPARISON_OP("GreaterEqual");

#undef LOOM_COMPARISON_OP

REGISTER_OP("LogicalAnd")
    .Input("x: bool")
    .Input("y: bool")
    .Output("z: bool")
    .SetShapeFn(shape_fns::BroadcastBinaryOp);

REGISTER_OP("LogicalOr")
    .Input("x: bool")
    .Input("y: bool")
    .Output("z: bool")
    .SetShapeFn(shape_fns::BroadcastBinaryOp);

// Classification of floats: x -> bool, elementwise (not differentiable).
#define LOOM_CLASSIFY_OP(name)  \
  REGISTER_OP(name)             \
      .Input("x: T")            \
      .Output("y: bool")        \
      .Attr(kUnaryFloat)        \
      .SetShapeFn(shape_fns::UnchangedShape)
LOOM_CLASSIFY_OP("IsNan");
LOOM_CLASSIFY_OP("IsInf");
LOOM_CLASSIFY_OP("IsFinite");
#undef LOOM_CLASSIFY_OP

REGISTER_OP("LogicalNot")
    .Input("x: bool")
    .Output("y: bool")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("Select")
    .Input("condition: bool")
    .Input("t: T")
    .Input("e: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(SelectShape);

REGISTER_OP("SelectV2")
    .Input("condition: bool")
    .Input("t: T")
    .Input("e: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(SelectV2Shape);

// ---------------------------------------------------------------- matrix products

REGISTER_OP("MatMul")
    .Input("a: T")
    .Input("b: T")
    .Output("product: T")
    .Attr("transpose_a: bool = false")
    .Attr("transpose_b: bool = false")
    .Attr("T: {bfloat16, half, float, double, int32, int64, complex64, complex128}")
    .SetShapeFn(MatMulShape);

REGISTER_OP("BatchMatMul")
    .Input("x: T")
    .Input("y: T")
    .Output("output: T")
    .Attr("T: {bfloat16, half, float, double, int32, int64, complex64, complex128}")
    .Attr("adj_x: bool = false")
    .Attr("adj_y: bool = false")
    .SetShapeFn(BatchMatMulShape);

REGISTER_OP("BatchMatMulV2")
    .Input("x: T")
    .Input("y: T")
    .Output("output: T")
    .Attr("T: {bfloat16, half, float, double, int16, int32, int64, complex64, complex128}")
    .Attr("adj_x: bool = false")
    .Attr("adj_y: bool = false")
    .SetShapeFn(BatchMatMulV2Shape);

// ---------------------------------------------------------------- reductions

#define LOOM_REDUCTION_OP(name, types)              \
  REGISTER_OP(name)                                 \
      .Input("input: T")                            \
      .Input("reduction_indices: Tidx")             \
      .Output("output: T")                          \
      .Attr("keep_dims: bool = false")              \
      .Attr(types)                                  \
      .Attr("Tidx: {int32, int64} = DT_INT32")      \
      .SetShapeFn(shape_fns::Reduction)

LOOM_REDUCTION_OP("Sum", "T: numbertype");
LOOM_REDUCTION_OP("Mean", "T: numbertype");
LOOM_REDUCTION_OP("Prod", "T: numbertype");
LOOM_REDUCTION_OP("Max", "T: realnumbertype");
LOOM_REDUCTION_OP("Min", "T: realnumbertype");

#undef LOOM_REDUCTION_OP

REGISTER_OP("ArgMax")
    .Input("input: T")
    .Input("dimension: Tidx")
    .Output("output: output_type")
    .Attr("T: {numbertype, bool}")
    .Attr("Tidx: {int16, int32, int64} = DT_INT32")
    .Attr("output_type: {int16, uint16, int32, int64} = DT_INT64")
    .SetShapeFn(ArgMinMaxShape);

REGISTER_OP("ArgMin")
    .Input("input: T")
    .Input("dimension: Tidx")
    .Output("output: output_type")
    .Attr("T: {numbertype, bool}")
    .Attr("Tidx: {int16, int32, int64} = DT_INT32")
    .Attr("output_type: {int16, uint16, int32, int64} = DT_INT64")
    .SetShapeFn(ArgMinMaxShape);

// ---------------------------------------------------------------- everything else

REGISTER_OP("Cast")
    .Input("x: SrcT")
    .Output("y: DstT")
    .Attr("SrcT: type")
    .Attr("DstT: type")
    .Attr("Truncate: bool = false")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("AddN")
    .Input("inputs: N * T")
    .Output("sum: T")
    .Attr("N: int >= 1")
    .Attr("T: numbertype")
    .SetShapeFn(shape_fns::MergeAllInputs);

REGISTER_OP("Range")
    .Input("start: Tidx")
    .Input("limit: Tidx")
    .Input("delta: Tidx")
    .Output("output: Tidx")
    .Attr("Tidx: {bfloat16, half, float, double, int8, int16, int32, int64, uint16, uint32} = "
          "DT_INT32")
    .SetShapeFn(RangeShape);

REGISTER_OP("UnsortedSegmentSum")
    .Input("data: T")
    .Input("segment_ids: Tindices")
    .Input("num_segments: Tnumsegments")
    .Output("output: T")
    .Attr("T: numbertype")
    .Attr("Tindices: {int32, int64}")
    .Attr("Tnumsegments: {int32, int64} = DT_INT32")
    .SetShapeFn(UnsortedSegmentSumShape);

REGISTER_OP("Cumsum")
    .Input("x: T")
    .Input("axis: Tidx")
    .Output("out: T")
    .Attr("exclusive: bool = false")
    .Attr("reverse: bool = false")
    .Attr("T: numbertype")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .SetShapeFn(CumsumShape);

}  // namespace loom
