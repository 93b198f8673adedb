// Shape functions of the standard ops, run the way NodeBuilder runs them
// (defaults filled from the schema), against shapes worked out by hand from
// TensorFlow's semantics.
#include "runtime/ops/shape_inference.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

namespace loom {
namespace {

using Dims = std::vector<int64_t>;
const PartialShape kUnknown = PartialShape::Unknown();
PartialShape S(Dims d) { return PartialShape(std::move(d)); }

Tensor IntTensor(const Dims& shape, const std::vector<int64_t>& values,
                 DataType dt = LOOM_DTYPE_INT32) {
  Tensor t;
  EXPECT_TRUE(Tensor::Allocate(dt, TensorShape(shape), &t).ok());
  for (size_t k = 0; k < values.size(); ++k) {
    if (dt == LOOM_DTYPE_INT32) {
      t.data_as<int32_t>()[k] = static_cast<int32_t>(values[k]);
    } else {
      t.data_as<int64_t>()[k] = values[k];
    }
  }
  return t;
}
Tensor Vec(const std::vector<int64_t>& v) { return IntTensor({static_cast<int64_t>(v.size())}, v); }
Tensor Scalar(int64_t v) { return IntTensor({}, {v}); }
Tensor FloatScalar(float v) {
  Tensor t;
  EXPECT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape({}), &t).ok());
  t.data_as<float>()[0] = v;
  return t;
}

// One shape-inference call. Inputs that are constants get their shape from
// the tensor.
struct Case {
  std::string op;
  std::vector<PartialShape> shapes;
  std::map<int, Tensor> consts;
  AttrMap attrs;
  int num_outputs = 1;

  Case(std::string o, std::vector<PartialShape> s) : op(std::move(o)), shapes(std::move(s)) {}
  Case& Const(int i, Tensor t) {
    shapes[static_cast<size_t>(i)] = PartialShape(t.shape());
    consts[i] = std::move(t);
    return *this;
  }
  Case& Attr(const std::string& name, AttrValue v) {
    attrs.Set(name, std::move(v));
    return *this;
  }
  Case& Outputs(int n) {
    num_outputs = n;
    return *this;
  }

  Status Run(std::vector<PartialShape>* out) const {
    const OpDef* def = OpRegistry::Global()->Find(op);
    EXPECT_NE(def, nullptr) << op;
    if (def == nullptr) return NotFound(op);
    AttrMap filled = attrs;
    for (const AttrDef& a : def->attrs) {
      if (!filled.Find(a.name) && a.has_default) filled.Set(a.name, a.default_value);
    }
    std::vector<const Tensor*> values(shapes.size(), nullptr);
    for (const auto& kv : consts) values[static_cast<size_t>(kv.first)] = &kv.second;
    InferenceContext c(nullptr, &filled, shapes, values,
                       std::vector<DataType>(shapes.size(), LOOM_DTYPE_FLOAT), num_outputs);
    Status s = def->shape_fn ? def->shape_fn(c) : shape_fns::Unknown(c);
    *out = c.outputs();
    return s;
  }
  PartialShape Out(int i = 0) const {
    std::vector<PartialShape> out;
    Status s = Run(&out);
    EXPECT_TRUE(s.ok()) << op << ": " << s.message();
    return s.ok() ? out[static_cast<size_t>(i)] : PartialShape(Dims{-999});
  }
  std::string Error() const {
    std::vector<PartialShape> out;
    Status s = Run(&out);
    EXPECT_FALSE(s.ok()) << op << " unexpectedly succeeded";
    EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT) << s.message();
    return s.message();
  }
};

void ExpectShape(const PartialShape& got, const PartialShape& want) {
  EXPECT_EQ(got.rank_known(), want.rank_known()) << got.ToString() << " vs " << want.ToString();
  if (got.rank_known() && want.rank_known()) {
    EXPECT_EQ(got.dims(), want.dims()) << got.ToString() << " vs " << want.ToString();
  }
}

#define EXPECT_SHAPE(c, ...) ExpectShape((c).Out(), S(Dims{__VA_ARGS__}))
#define EXPECT_CONTAINS(text, fragment) \
  EXPECT_NE(std::string(text).find(fragment), std::string::npos) << (text)

// ---------------------------------------------------------------- broadcasting

TEST(Broadcast, KnownShapes) {
  EXPECT_SHAPE(Case("Add", {S({2, 3}), S({2, 3})}), 2, 3);
  EXPECT_SHAPE(Case("Add", {S({2, 1}), S({1, 3})}), 2, 3);
  EXPECT_SHAPE(Case("Mul", {S({4, 1, 5}), S({3, 1})}), 4, 3, 5);
  EXPECT_SHAPE(Case("Sub", {S({}), S({7})}), 7);
  EXPECT_SHAPE(Case("Maximum", {S({0, 3}), S({1, 3})}), 0, 3);
}

TEST(Broadcast, UnknownDims) {
  EXPECT_SHAPE(Case("Add", {S({-1, 3}), S({3})}), -1, 3);
  EXPECT_SHAPE(Case("Add", {S({-1, 3}), S({5, 1})}), 5, 3);  // ? vs 5: result 5 (or error)
  EXPECT_SHAPE(Case("Add", {S({-1}), S({1})}), -1);
  EXPECT_SHAPE(Case("Add", {S({-1}), S({-1})}), -1);
  ExpectShape(Case("Add", {kUnknown, S({2, 3})}).Out(), kUnknown);
}

TEST(Broadcast, IncompatibleShapesNameBoth) {
  std::string m = Case("Add", {S({2, 3}), S({4, 5})}).Error();
  EXPECT_CONTAINS(m, "but are 2 and 4");
  EXPECT_CONTAINS(m, "[2,3]");
  EXPECT_CONTAINS(m, "[4,5]");
}

TEST(Broadcast, ComparisonsAndSelectV2) {
  EXPECT_SHAPE(Case("Less", {S({3, 1}), S({4})}), 3, 4);
  EXPECT_SHAPE(Case("SelectV2", {S({3, 1}), S({1, 4}), S({})}), 3, 4);
  EXPECT_SHAPE(Case("LogicalNot", {S({2, 2})}), 2, 2);
}

TEST(Select, ConditionScalarSameShapeOrRowVector) {
  EXPECT_SHAPE(Case("Select", {S({}), S({2, 3}), S({2, 3})}), 2, 3);
  EXPECT_SHAPE(Case("Select", {S({2, 3}), S({2, 3}), S({-1, 3})}), 2, 3);
  EXPECT_SHAPE(Case("Select", {S({4}), S({-1, 3}), S({-1, 3})}), 4, 3);
  EXPECT_CONTAINS(Case("Select", {S({5}), S({4, 3}), S({4, 3})}).Error(), "one entry per row");
  EXPECT_CONTAINS(Case("Select", {S({}), S({4, 3}), S({3, 3})}).Error(), "Shapes must be equal");
}

// ---------------------------------------------------------------- reductions

TEST(Reduction, ConstantAxes) {
  EXPECT_SHAPE(Case("Sum", {S({2, 3, 4}), {}}).Const(1, Vec({1})), 2, 4);
  EXPECT_SHAPE(Case("Sum", {S({2, 3, 4}), {}}).Const(1, Scalar(0)), 3, 4);
  EXPECT_SHAPE(Case("Mean", {S({2, 3, 4}), {}}).Const(1, Vec({-1, 0})), 3);
  EXPECT_SHAPE(Case("Max", {S({2, 3, 4}), {}}).Const(1, Vec({0, 1, 2})));
  EXPECT_SHAPE(Case("Min", {S({2, 3}), {}}).Const(1, Vec({})), 2, 3);
  EXPECT_SHAPE(Case("Prod", {S({-1, 3}), {}}).Const(1, Vec({1})), -1);
}

TEST(Reduction, KeepDims) {
  EXPECT_SHAPE(Case("Sum", {S({2, 3, 4}), {}})
                   .Const(1, Vec({-1, 1}))
                   .Attr("keep_dims", AttrValue::Bool(true)),
               2, 1, 1);
  // Non-constant axes with keep_dims: the rank is kept.
  EXPECT_SHAPE(Case("Sum", {S({2, 3}), S({1})}).Attr("keep_dims", AttrValue::Bool(true)), -1, -1);
}

TEST(Reduction, UnknownWhenAxesNotConstant) {
  ExpectShape(Case("Sum", {S({2, 3}), S({1})}).Out(), kUnknown);
  ExpectShape(Case("Sum", {kUnknown, {}}).Const(1, Vec({0})).Out(), kUnknown);
}

TEST(Reduction, AxisOutOfRange) {
  std::string m = Case("Sum", {S({2, 3}), {}}).Const(1, Vec({2})).Error();
  EXPECT_CONTAINS(m, "Invalid reduction dimension 2");
  EXPECT_CONTAINS(m, "2 dimensions");
  Case("Sum", {S({2, 3}), {}}).Const(1, Vec({-3})).Error();
}

TEST(ArgMax, RemovesTheDimension) {
  EXPECT_SHAPE(Case("ArgMax", {S({2, 3, 4}), {}}).Const(1, Scalar(1)), 2, 4);
  EXPECT_SHAPE(Case("ArgMin", {S({2, 3}), {}}).Const(1, Scalar(-1)), 2);
  EXPECT_SHAPE(Case("ArgMax", {S({2, 3}), S({})}), -1);
  EXPECT_CONTAINS(Case("ArgMax", {S({2, 3}), {}}).Const(1, Scalar(2)).Error(), "out of range");
}

// ---------------------------------------------------------------- matrix products

TEST(MatMul, Shapes) {
  EXPECT_SHAPE(Case("MatMul", {S({2, 3}), S({3, 5})}), 2, 5);
  EXPECT_SHAPE(Case("MatMul", {S({3, 2}), S({3, 5})}).Attr("transpose_a", AttrValue::Bool(true)),
               2, 5);
  EXPECT_SHAPE(Case("MatMul", {S({2, 3}), S({5, 3})}).Attr("transpose_b", AttrValue::Bool(true)),
               2, 5);
  EXPECT_SHAPE(Case("MatMul", {S({-1, 3}), S({-1, -1})}), -1, -1);
  EXPECT_SHAPE(Case("MatMul", {kUnknown, S({3, 7})}), -1, 7);
}

TEST(MatMul, InnerDimensionMismatch) {
  std::string m = Case("MatMul", {S({2, 3}), S({4, 5})}).Error();
  EXPECT_CONTAINS(m, "Dimensions must be equal, but are 3 and 4");
  EXPECT_CONTAINS(m, "[2,3] and [4,5]");
  EXPECT_CONTAINS(Case("MatMul", {S({2, 3, 4}), S({4, 5})}).Error(), "rank 2");
}

TEST(BatchMatMul, V2BroadcastsBatchDims) {
  EXPECT_SHAPE(Case("BatchMatMulV2", {S({4, 1, 2, 3}), S({5, 3, 6})}), 4, 5, 2, 6);
  EXPECT_SHAPE(Case("BatchMatMulV2", {S({2, 3}), S({7, 3, 6})}), 7, 2, 6);
  EXPECT_SHAPE(Case("BatchMatMulV2", {S({7, 3, 2}), S({7, 6, 3})})
                   .Attr("adj_x", AttrValue::Bool(true))
                   .Attr("adj_y", AttrValue::Bool(true)),
               7, 2, 6);
  EXPECT_CONTAINS(Case("BatchMatMulV2", {S({2, 2, 3}), S({3, 3, 6})}).Error(), "broadcast");
  EXPECT_CONTAINS(Case("BatchMatMulV2", {S({2, 3}), S({4, 6})}).Error(),
                  "Dimensions must be equal, but are 3 and 4");
}

TEST(BatchMatMul, V1NeedsEqualBatchDims) {
  EXPECT_SHAPE(Case("BatchMatMul", {S({5, 2, 3}), S({-1, 3, 6})}), 5, 2, 6);
  EXPECT_CONTAINS(Case("BatchMatMul", {S({5, 2, 3}), S({1, 3, 6})}).Error(), "BatchMatMulV2");
}

// ---------------------------------------------------------------- reshape

TEST(Reshape, InfersTheMinusOne) {
  EXPECT_SHAPE(Case("Reshape", {S({2, 3, 4}), {}}).Const(1, Vec({-1, 4})), 6, 4);
  EXPECT_SHAPE(Case("Reshape", {S({2, 3}), {}}).Const(1, Vec({6})), 6);
  EXPECT_SHAPE(Case("Reshape", {S({1}), {}}).Const(1, Vec({})));
  EXPECT_SHAPE(Case("Reshape", {S({-1, 3}), {}}).Const(1, Vec({-1, 3})), -1, 3);
  EXPECT_SHAPE(Case("Reshape", {S({0, 3}), {}}).Const(1, Vec({-1, 0})), -1, 0);
}

TEST(Reshape, SizeMismatchIsAClearError) {
  std::string m = Case("Reshape", {S({2, 3}), {}}).Const(1, Vec({4, 2})).Error();
  EXPECT_CONTAINS(m, "Cannot reshape a tensor with 6 elements");
  EXPECT_CONTAINS(m, "[4,2]");
  m = Case("Reshape", {S({7}), {}}).Const(1, Vec({2, -1})).Error();
  EXPECT_CONTAINS(m, "7 elements");
  EXPECT_CONTAINS(m, "not a multiple of 2");
  EXPECT_CONTAINS(Case("Reshape", {S({4}), {}}).Const(1, Vec({-1, -1})).Error(), "only one");
  EXPECT_CONTAINS(Case("Reshape", {S({4}), {}}).Const(1, Vec({-2, 2})).Error(), ">= -1");
}

TEST(Reshape, NonConstantShapeGivesRank) {
  EXPECT_SHAPE(Case("Reshape", {S({2, 3}), S({3})}), -1, -1, -1);
  ExpectShape(Case("Reshape", {S({2, 3}), S({-1})}).Out(), kUnknown);
  EXPECT_SHAPE(Case("Reshape", {S({2, 3}), S({1})}), 6);  // one unknown dim: all 6 elements
}

// ---------------------------------------------------------------- other array ops

TEST(ArrayOps, TransposeWithConstantPerm) {
  EXPECT_SHAPE(Case("Transpose", {S({2, 3, 4}), {}}).Const(1, Vec({2, 0, 1})), 4, 2, 3);
  EXPECT_SHAPE(Case("Transpose", {S({2, 3}), S({2})}), -1, -1);
  EXPECT_CONTAINS(Case("Transpose", {S({2, 3}), {}}).Const(1, Vec({0, 0})).Error(),
                  "not a permutation");
  EXPECT_CONTAINS(Case("Transpose", {S({2, 3}), {}}).Const(1, Vec({0, 1, 2})).Error(), "rank 2");
}

TEST(ArrayOps, ExpandDimsAndSqueeze) {
  EXPECT_SHAPE(Case("ExpandDims", {S({2, 3}), {}}).Const(1, Scalar(0)), 1, 2, 3);
  EXPECT_SHAPE(Case("ExpandDims", {S({2, 3}), {}}).Const(1, Scalar(-1)), 2, 3, 1);
  EXPECT_SHAPE(Case("ExpandDims", {S({2, 3}), {}}).Const(1, Vec({2})), 2, 3, 1);
  EXPECT_CONTAINS(Case("ExpandDims", {S({2, 3}), {}}).Const(1, Scalar(4)).Error(), "out of range");

  EXPECT_SHAPE(Case("Squeeze", {S({1, 2, 1, 3})}), 2, 3);
  EXPECT_SHAPE(Case("Squeeze", {S({1, 2, 1, 3})}).Attr("squeeze_dims", AttrValue::IntList({-2})),
               1, 2, 3);
  ExpectShape(Case("Squeeze", {S({-1, 2})}).Out(), kUnknown);
  std::string m =
      Case("Squeeze", {S({1, 2, 3})}).Attr("squeeze_dims", AttrValue::IntList({1})).Error();
  EXPECT_CONTAINS(m, "Can not squeeze dim[1], expected a dimension of 1, got 2");
}

TEST(ArrayOps, ConcatWithConstantAxis) {
  EXPECT_SHAPE(Case("ConcatV2", {S({2, 3}), S({2, 5}), {}}).Const(2, Scalar(1)), 2, 8);
  EXPECT_SHAPE(Case("ConcatV2", {S({2, 3}), S({-1, -1}), {}}).Const(2, Scalar(-1)), 2, -1);
  EXPECT_SHAPE(Case("ConcatV2", {S({2, 3}), kUnknown, {}}).Const(2, Scalar(0)), -1, 3);
  EXPECT_SHAPE(Case("ConcatV2", {S({2, 3}), S({4, 3}), S({})}), -1, -1);
  EXPECT_SHAPE(Case("Concat", {{}, S({2, 3}), S({4, 3})}).Const(0, Scalar(0)), 6, 3);
  std::string m = Case("ConcatV2", {S({2, 3}), S({3, 3}), {}}).Const(2, Scalar(1)).Error();
  EXPECT_CONTAINS(m, "Dimension 0 in both shapes must be equal, but are 2 and 3");
  EXPECT_CONTAINS(Case("ConcatV2", {S({2, 3}), S({3}), {}}).Const(2, Scalar(0)).Error(), "rank");
}

TEST(ArrayOps, SplitAndSplitV) {
  EXPECT_SHAPE(Case("Split", {{}, S({6, 4})}).Const(0, Scalar(0)).Outputs(3).Attr(
                   "num_split", AttrValue::Int(3)),
               2, 4);
  EXPECT_CONTAINS(Case("Split", {{}, S({5, 4})})
                      .Const(0, Scalar(0))
                      .Outputs(3)
                      .Attr("num_split", AttrValue::Int(3))
                      .Error(),
                  "evenly divisible by num_split 3");
  Case sv = Case("SplitV", {S({2, 10}), {}, {}})
                .Const(1, Vec({3, -1, 2}))
                .Const(2, Scalar(1))
                .Outputs(3)
                .Attr("num_split", AttrValue::Int(3));
  std::vector<PartialShape> out;
  ASSERT_TRUE(sv.Run(&out).ok());
  ExpectShape(out[0], S({2, 3}));
  ExpectShape(out[1], S({2, 5}));
  ExpectShape(out[2], S({2, 2}));
  EXPECT_CONTAINS(Case("SplitV", {S({2, 10}), {}, {}})
                      .Const(1, Vec({3, 3}))
                      .Const(2, Scalar(1))
                      .Outputs(2)
                      .Attr("num_split", AttrValue::Int(2))
                      .Error(),
                  "sum to 6");
}

TEST(ArrayOps, PackAndUnpack) {
  EXPECT_SHAPE(Case("Pack", {S({2, 3}), S({2, -1})}), 2, 2, 3);
  EXPECT_SHAPE(Case("Pack", {S({2, 3}), S({2, 3})}).Attr("axis", AttrValue::Int(-1)), 2, 3, 2);
  EXPECT_CONTAINS(Case("Pack", {S({2, 3}), S({3})}).Error(), "must match");
  Case u = Case("Unpack", {S({2, 3, 4})}).Attr("num", AttrValue::Int(3)).Attr(
      "axis", AttrValue::Int(1));
  u.Outputs(3);
  EXPECT_SHAPE(u, 2, 4);
  EXPECT_CONTAINS(Case("Unpack", {S({2, 3})}).Attr("num", AttrValue::Int(3)).Outputs(3).Error(),
                  "must be 3 (num) but is 2");
}

TEST(ArrayOps, SliceWithConstants) {
  EXPECT_SHAPE(Case("Slice", {S({4, 5}), {}, {}}).Const(1, Vec({1, 0})).Const(2, Vec({2, -1})), 2,
               5);
  EXPECT_SHAPE(Case("Slice", {S({4, 5}), S({2}), {}}).Const(2, Vec({2, -1})), 2, -1);
  EXPECT_SHAPE(Case("Slice", {S({4, 5}), S({2}), S({2})}), -1, -1);
  EXPECT_CONTAINS(
      Case("Slice", {S({4, 5}), {}, {}}).Const(1, Vec({3, 0})).Const(2, Vec({2, 1})).Error(),
      "Expected size[0] in [0, 1], but got 2");
}

TEST(ArrayOps, StridedSlice) {
  auto ss = [](PartialShape in, Dims b, Dims e, Dims s) {
    return Case("StridedSlice", {std::move(in), {}, {}, {}})
        .Const(1, Vec(b))
        .Const(2, Vec(e))
        .Const(3, Vec(s));
  };
  EXPECT_SHAPE(ss(S({10, 8}), {1, 2}, {5, 8}, {1, 2}), 4, 3);
  EXPECT_SHAPE(ss(S({10}), {-3}, {10}, {1}), 3);                   // x[-3:]
  EXPECT_SHAPE(ss(S({10}), {0}, {0}, {-1}).Attr("begin_mask", AttrValue::Int(1))
                   .Attr("end_mask", AttrValue::Int(1)),
               10);                                                  // x[::-1]
  EXPECT_SHAPE(ss(S({10, 8}), {2}, {3}, {1}).Attr("shrink_axis_mask", AttrValue::Int(1)), 8);
  EXPECT_SHAPE(ss(S({10, 8}), {0, 0}, {0, 0}, {1, 1})
                   .Attr("new_axis_mask", AttrValue::Int(1))
                   .Attr("end_mask", AttrValue::Int(2)),
               1, 10, 8);                                            // x[newaxis, :]
  EXPECT_SHAPE(ss(S({2, 3, 4}), {0, 1}, {0, 2}, {1, 1})
                   .Attr("ellipsis_mask", AttrValue::Int(1))
                   .Attr("shrink_axis_mask", AttrValue::Int(2)),
               2, 3);                                                // x[..., 1]
  EXPECT_SHAPE(ss(S({-1, 5}), {0, 1}, {0, 4}, {1, 1}).Attr("begin_mask", AttrValue::Int(1))
                   .Attr("end_mask", AttrValue::Int(1)),
               -1, 3);
  EXPECT_SHAPE(ss(S({5}), {4}, {1}, {1}), 0);                        // empty range
  EXPECT_CONTAINS(ss(S({5}), {0}, {1}, {0}).Error(), "non-zero");
  EXPECT_CONTAINS(ss(S({5}), {7}, {8}, {1}).Attr("shrink_axis_mask", AttrValue::Int(1)).Error(),
                  "out of bounds");
  // Non-constant begin: known rank, unknown size where it depends on begin.
  EXPECT_SHAPE(Case("StridedSlice", {S({10, 8}), S({1}), {}, {}})
                   .Const(2, Vec({0}))
                   .Const(3, Vec({1}))
                   .Attr("shrink_axis_mask", AttrValue::Int(1)),
               8);
}

TEST(ArrayOps, TileAndPad) {
  EXPECT_SHAPE(Case("Tile", {S({2, -1}), {}}).Const(1, Vec({3, 2})), 6, -1);
  EXPECT_SHAPE(Case("Tile", {S({2, -1}), {}}).Const(1, Vec({3, 0})), 6, 0);
  EXPECT_CONTAINS(Case("Tile", {S({2, 3}), {}}).Const(1, Vec({3})).Error(), "one entry per");
  EXPECT_SHAPE(Case("Pad", {S({2, 3}), {}}).Const(1, IntTensor({2, 2}, {1, 1, 0, 2})), 4, 5);
}

TEST(ArrayOps, FillOneHotAndRandom) {
  EXPECT_SHAPE(Case("Fill", {{}, S({})}).Const(0, Vec({2, 3})), 2, 3);
  EXPECT_SHAPE(Case("Fill", {S({2}), S({})}), -1, -1);
  EXPECT_CONTAINS(Case("Fill", {{}, S({2})}).Const(0, Vec({2})).Error(), "scalar");
  EXPECT_SHAPE(Case("OneHot", {S({4}), {}, S({}), S({})}).Const(1, Scalar(10)), 4, 10);
  EXPECT_SHAPE(
      Case("OneHot", {S({4, 2}), {}, S({}), S({})}).Const(1, Scalar(10)).Attr("axis",
                                                                                AttrValue::Int(0)),
      10, 4, 2);
  EXPECT_SHAPE(Case("OneHot", {S({4}), S({}), S({}), S({})}), 4, -1);
  EXPECT_SHAPE(Case("RandomUniform", {{}}).Const(0, Vec({3, 4})).Attr(
                   "dtype", AttrValue::Type(LOOM_DTYPE_FLOAT)),
               3, 4);
  EXPECT_SHAPE(Case("TruncatedNormal", {S({2})}), -1, -1);
}

TEST(ArrayOps, ShapeSizeRank) {
  EXPECT_SHAPE(Case("Shape", {S({2, -1, 4})}), 3);
  EXPECT_SHAPE(Case("Shape", {kUnknown}), -1);
  EXPECT_SHAPE(Case("Size", {S({2, 3})}));
  EXPECT_SHAPE(Case("Rank", {kUnknown}));
  std::vector<PartialShape> out;
  ASSERT_TRUE(Case("BroadcastGradientArgs", {S({2}), S({3})}).Outputs(2).Run(&out).ok());
  ExpectShape(out[0], S({-1}));
  ExpectShape(out[1], S({-1}));
}

TEST(ArrayOps, BroadcastTo) {
  EXPECT_SHAPE(Case("BroadcastTo", {S({3}), {}}).Const(1, Vec({2, 3})), 2, 3);
  EXPECT_SHAPE(Case("BroadcastTo", {S({1, 3}), {}}).Const(1, Vec({4, -1})), 4, 3);
  EXPECT_CONTAINS(Case("BroadcastTo", {S({3}), {}}).Const(1, Vec({2, 4})).Error(),
                  "Cannot broadcast a tensor of shape [3] to shape [2,4]");
}

TEST(ArrayOps, GatherV2) {
  EXPECT_SHAPE(Case("GatherV2", {S({5, 6}), S({2, 3}), {}}).Const(2, Scalar(0)), 2, 3, 6);
  EXPECT_SHAPE(Case("GatherV2", {S({5, 6, 7}), S({4}), {}}).Const(2, Scalar(-2)), 5, 4, 7);
  EXPECT_SHAPE(Case("GatherV2", {S({5, 6}), S({5, 3}), {}})
                   .Const(2, Scalar(1))
                   .Attr("batch_dims", AttrValue::Int(1)),
               5, 3);
  EXPECT_SHAPE(Case("GatherV2", {S({5, 6}), S({2}), S({})}), -1, -1);
  EXPECT_CONTAINS(Case("GatherV2", {S({5, 6}), S({2}), {}}).Const(2, Scalar(2)).Error(),
                  "out of range");
}

TEST(ArrayOps, UnsortedSegmentSumAndDynamicStitch) {
  EXPECT_SHAPE(Case("UnsortedSegmentSum", {S({6, 4}), S({6}), {}}).Const(2, Scalar(3)), 3, 4);
  EXPECT_SHAPE(Case("UnsortedSegmentSum", {S({6, 4}), S({6}), S({})}), -1, 4);
  EXPECT_CONTAINS(
      Case("UnsortedSegmentSum", {S({6, 4}), S({5}), {}}).Const(2, Scalar(3)).Error(), "prefix");
  EXPECT_SHAPE(Case("DynamicStitch", {{}, {}, S({2, 5}), S({3, 5})})
                   .Const(0, Vec({0, 4}))
                   .Const(1, Vec({1, 2, 3})),
               5, 5);
  EXPECT_SHAPE(Case("DynamicStitch", {S({2}), S({3}), S({2, 5}), S({3, 5})}), -1, 5);
}

TEST(MathOps, RangeFromConstants) {
  EXPECT_SHAPE(Case("Range", {{}, {}, {}}).Const(0, Scalar(0)).Const(1, Scalar(10)).Const(
                   2, Scalar(3)),
               4);
  EXPECT_SHAPE(Case("Range", {{}, {}, {}}).Const(0, Scalar(10)).Const(1, Scalar(0)).Const(
                   2, Scalar(-2)),
               5);
  EXPECT_SHAPE(
      Case("Range", {{}, {}, {}}).Const(0, FloatScalar(0)).Const(1, FloatScalar(1)).Const(
          2, FloatScalar(0.3f)),
      4);
  EXPECT_SHAPE(Case("Range", {S({}), S({}), S({})}), -1);
  EXPECT_CONTAINS(
      Case("Range", {{}, {}, {}}).Const(0, Scalar(0)).Const(1, Scalar(1)).Const(2, Scalar(0))
          .Error(),
      "delta != 0");
}

// ---------------------------------------------------------------- nn ops

TEST(NnOps, SoftmaxNeedsRankOne) {
  EXPECT_SHAPE(Case("Softmax", {S({2, 3})}), 2, 3);
  EXPECT_CONTAINS(Case("LogSoftmax", {S({})}).Error(), "at least rank 1");
}

TEST(NnOps, BiasAdd) {
  EXPECT_SHAPE(Case("BiasAdd", {S({2, 3}), S({3})}), 2, 3);
  EXPECT_SHAPE(Case("BiasAdd", {S({2, -1}), S({3})}), 2, 3);
  EXPECT_SHAPE(Case("BiasAdd", {S({2, 3, 4, 5}), S({3})}).Attr("data_format",
                                                              AttrValue::String("NCHW")),
               2, 3, 4, 5);
  EXPECT_CONTAINS(Case("BiasAdd", {S({2, 3}), S({4})}).Error(), "but are 3 and 4");
  EXPECT_CONTAINS(Case("BiasAdd", {S({2, 3}), S({3, 1})}).Error(), "1-D");
  EXPECT_CONTAINS(Case("BiasAdd", {S({3}), S({3})}).Error(), "rank >= 2");
  EXPECT_SHAPE(Case("BiasAddGrad", {S({2, 7})}), 7);
  EXPECT_SHAPE(Case("BiasAddGrad", {S({2, 7, 4})}).Attr("data_format", AttrValue::String("NCHW")),
               7);
}

TEST(NnOps, Losses) {
  std::vector<PartialShape> out;
  ASSERT_TRUE(Case("SoftmaxCrossEntropyWithLogits", {S({8, 10}), S({-1, 10})})
                  .Outputs(2)
                  .Run(&out)
                  .ok());
  ExpectShape(out[0], S({8}));
  ExpectShape(out[1], S({8, 10}));
  ASSERT_TRUE(
      Case("SoftmaxCrossEntropyWithLogits", {S({8, 10}), S({10})}).Outputs(2).Run(&out).ok());
  ExpectShape(out[1], S({8, 10}));
  EXPECT_CONTAINS(
      Case("SoftmaxCrossEntropyWithLogits", {S({8, 10}), S({8, 9})}).Outputs(2).Error(),
      "broadcastable");
  ASSERT_TRUE(Case("SparseSoftmaxCrossEntropyWithLogits", {S({-1, 10}), S({8})})
                  .Outputs(2)
                  .Run(&out)
                  .ok());
  ExpectShape(out[0], S({8}));
  ExpectShape(out[1], S({8, 10}));
  EXPECT_CONTAINS(
      Case("SparseSoftmaxCrossEntropyWithLogits", {S({8, 10}), S({8, 1})}).Outputs(2).Error(),
      "labels must be 1-D");
  EXPECT_SHAPE(Case("L2Loss", {S({3, 4})}));
}

TEST(NnOps, GradOpsMergeTheirInputs) {
  EXPECT_SHAPE(Case("ReluGrad", {S({2, -1}), S({-1, 3})}), 2, 3);
  EXPECT_CONTAINS(Case("SigmoidGrad", {S({2, 3}), S({3, 2})}).Error(), "Shapes must be equal");
  EXPECT_SHAPE(Case("AddN", {S({2, -1}), S({-1, 3}), kUnknown}), 2, 3);
  EXPECT_CONTAINS(Case("AddN", {S({2, 3}), S({3})}).Error(), "same shape");
}

// ---------------------------------------------------------------- state ops

TEST(StateOps, ApplyOpsCheckScalarsAndShapes) {
  EXPECT_SHAPE(Case("ApplyGradientDescent", {S({3, 4}), S({}), S({3, 4})}), 3, 4);
  EXPECT_CONTAINS(Case("ApplyGradientDescent", {S({3, 4}), S({1}), S({3, 4})}).Error(),
                  "alpha must be a scalar");
  EXPECT_CONTAINS(Case("ApplyGradientDescent", {S({3, 4}), S({}), S({4, 3})}).Error(),
                  "delta must have the shape of var");
  EXPECT_SHAPE(Case("ApplyAdam", {S({5}), S({5}), S({5}), S({}), S({}), S({}), S({}), S({}), S({}),
                                  S({-1})}),
               5);
  EXPECT_CONTAINS(Case("ApplyMomentum", {S({5}), S({4}), S({}), S({5}), S({})}).Error(), "accum");
  EXPECT_SHAPE(Case("ApplyRMSProp", {S({2}), S({2}), S({2}), S({}), S({}), S({}), S({}), S({2})}),
               2);
  EXPECT_SHAPE(Case("ApplyAdagrad", {kUnknown, S({2}), S({}), S({2})}), 2);
}

TEST(StateOps, VariablesAndAssign) {
  EXPECT_SHAPE(Case("VariableV2", {}).Attr("shape", AttrValue::Shape(S({3, 4}))).Attr(
                   "dtype", AttrValue::Type(LOOM_DTYPE_FLOAT)),
               3, 4);
  EXPECT_SHAPE(Case("Assign", {S({3, 4}), S({3, -1})}), 3, 4);
  EXPECT_CONTAINS(Case("Assign", {S({3, 4}), S({4})}).Error(), "ref has shape [3,4]");
  EXPECT_SHAPE(
      Case("Assign", {S({3, 4}), S({4})}).Attr("validate_shape", AttrValue::Bool(false)), 4);
  EXPECT_SHAPE(Case("AssignAdd", {S({3}), S({3})}), 3);
  EXPECT_SHAPE(Case("IsVariableInitialized", {S({3})}));
}

TEST(Intrinsics, ConstAndPlaceholders) {
  EXPECT_SHAPE(Case("Const", {}).Attr("value", AttrValue::TensorValue(IntTensor({2, 3}, {})))
                   .Attr("dtype", AttrValue::Type(LOOM_DTYPE_INT32)),
               2, 3);
  EXPECT_CONTAINS(Case("Const", {})
                      .Attr("value", AttrValue::TensorValue(IntTensor({2}, {})))
                      .Attr("dtype", AttrValue::Type(LOOM_DTYPE_FLOAT))
                      .Error(),
                  "dtype");
  ExpectShape(Case("Placeholder", {}).Attr("dtype", AttrValue::Type(LOOM_DTYPE_FLOAT)).Out(),
              kUnknown);
  EXPECT_SHAPE(Case("Placeholder", {})
                   .Attr("dtype", AttrValue::Type(LOOM_DTYPE_FLOAT))
                   .Attr("shape", AttrValue::Shape(S({-1, 784}))),
               -1, 784);
  EXPECT_SHAPE(
      Case("PlaceholderWithDefault", {S({2, 3})}).Attr("shape", AttrValue::Shape(S({-1, 3}))), -1,
      3);
  EXPECT_CONTAINS(
      Case("PlaceholderWithDefault", {S({2, 4})}).Attr("shape", AttrValue::Shape(S({-1, 3})))
          .Error(),
      "not compatible");
  EXPECT_SHAPE(Case("Identity", {S({5})}), 5);
}

// ---------------------------------------------------------------- InferenceContext

TEST(InferenceContext, MakeShapeFromInput) {
  AttrMap attrs;
  Tensor dims = Vec({2, -1, 3});
  Tensor bad = Vec({2, -3});
  InferenceContext c(nullptr, &attrs, {S({3}), S({4}), kUnknown, S({2})},
                     {&dims, nullptr, nullptr, &bad}, {}, 1);
  PartialShape s;
  ASSERT_TRUE(c.MakeShapeFromInput(0, &s).ok());
  ExpectShape(s, S({2, -1, 3}));
  ASSERT_TRUE(c.MakeShapeFromInput(1, &s).ok());
  ExpectShape(s, S({-1, -1, -1, -1}));
  ASSERT_TRUE(c.MakeShapeFromInput(2, &s).ok());
  ExpectShape(s, kUnknown);
  EXPECT_EQ(c.MakeShapeFromInput(3, &s).code(), LOOM_CODE_INVALID_ARGUMENT);
  std::vector<int64_t> v;
  EXPECT_TRUE(c.InputAsInts(0, &v));
  EXPECT_EQ(v, (Dims{2, -1, 3}));
  EXPECT_FALSE(c.InputAsInts(1, &v));
}

TEST(InferenceContext, RankChecksNameTheInput) {
  AttrMap attrs;
  InferenceContext c(nullptr, &attrs, {S({2, 3}), kUnknown}, {}, {}, 1);
  EXPECT_TRUE(c.WithRank(0, 2).ok());
  EXPECT_TRUE(c.WithRank(1, 5).ok());  // unknown rank passes
  Status s = c.WithRank(0, 1);
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.message(), "Shape must be rank 1 but is rank 2 for input 0 with shape [2,3]");
  EXPECT_FALSE(c.WithRankAtLeast(0, 3).ok());
  EXPECT_TRUE(c.WithRankAtLeast(0, 2).ok());
  EXPECT_FALSE(c.WithRankAtMost(0, 1).ok());
}

TEST(ShapeFns, BroadcastShapesDirectly) {
  PartialShape out;
  ASSERT_TRUE(shape_fns::BroadcastShapes(S({5, 1, 3}), S({4, 1}), &out).ok());
  ExpectShape(out, S({5, 4, 3}));
  Status s = shape_fns::BroadcastShapes(S({2, 3}), S({4, 5}), &out);
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.message(), "Incompatible shapes: [2,3] vs. [4,5]");
}

// ---------------------------------------------------------------- robustness

// Every shape function, fed random partial shapes and random small constants
// (as a hostile GraphDef could), must return a status and well-formed shapes,
// never crash. Run under ASan/UBSan to catch out-of-range reads.
TEST(ShapeFnRobustness, RandomInputsNeverCrash) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state](int n) {  // xorshift: reproducible, in [0, n)
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<int>(state % static_cast<uint64_t>(n));
  };
  int runs = 0, errors = 0;
  for (const std::string& name : OpRegistry::Global()->ListNames()) {
    const OpDef* def = OpRegistry::Global()->Find(name);
    if (!def->shape_fn) continue;
    for (int trial = 0; trial < 200; ++trial) {
      AttrMap attrs;
      const int list_len = 2 + next(2);
      for (const AttrDef& a : def->attrs) {
        if (a.has_default && next(3) != 0) {
          attrs.Set(a.name, a.default_value);
        } else if (a.type == "int") {
          attrs.Set(a.name, AttrValue::Int(next(7) - 2));
        } else if (a.type == "bool") {
          attrs.Set(a.name, AttrValue::Bool(next(2) == 1));
        } else if (a.type == "float") {
          attrs.Set(a.name, AttrValue::Float(0.5f));
        } else if (a.type == "type") {
          attrs.Set(a.name, AttrValue::Type(a.has_allowed ? a.allowed[0] : LOOM_DTYPE_FLOAT));
        } else if (a.type == "shape") {
          attrs.Set(a.name, AttrValue::Shape(next(2) ? S({2, -1}) : kUnknown));
        } else if (a.type == "string") {
          attrs.Set(a.name, AttrValue::String(next(2) ? "NHWC" : "NCHW"));
        } else if (a.type == "tensor") {
          attrs.Set(a.name, AttrValue::TensorValue(Vec({1, 2})));
        } else if (a.type == "list(int)") {
          attrs.Set(a.name, AttrValue::IntList({next(5) - 2}));
        }
      }
      for (const ArgDef& arg : def->inputs) {  // list lengths agree with the inputs
        if (!arg.number_attr.empty()) attrs.Set(arg.number_attr, AttrValue::Int(list_len));
      }
      std::vector<PartialShape> shapes;
      std::vector<Tensor> tensors;
      tensors.reserve(16);
      std::vector<const Tensor*> values;
      for (const ArgDef& arg : def->inputs) {
        const int n = arg.number_attr.empty() && arg.type_list_attr.empty() ? 1 : list_len;
        for (int k = 0; k < n; ++k) {
          if (next(3) == 0) {  // a constant int32 scalar, vector or matrix
            const int r = next(3);
            Dims shape;
            for (int d = 0; d < r; ++d) shape.push_back(r == 2 && d == 1 ? 2 : next(4));
            std::vector<int64_t> vals;
            int64_t count = 1;
            for (int64_t d : shape) count *= d;
            for (int64_t e = 0; e < count; ++e) vals.push_back(next(9) - 3);
            tensors.push_back(IntTensor(shape, vals));
            shapes.push_back(PartialShape(shape));
            values.push_back(&tensors.back());
          } else if (next(5) == 0) {
            shapes.push_back(kUnknown);
            values.push_back(nullptr);
          } else {
            Dims dims;
            const int r = next(5);
            for (int d = 0; d < r; ++d) dims.push_back(next(7) - 1);
            shapes.push_back(S(dims));
            values.push_back(nullptr);
          }
        }
      }
      int num_outputs = 0;
      for (const ArgDef& arg : def->outputs) {
        const AttrValue* n = arg.number_attr.empty() ? nullptr : attrs.Find(arg.number_attr);
        num_outputs += n ? static_cast<int>(std::max<int64_t>(0, n->i())) : 1;
      }
      InferenceContext c(nullptr, &attrs, shapes, values,
                         std::vector<DataType>(shapes.size(), LOOM_DTYPE_INT32), num_outputs);
      Status s = def->shape_fn(c);
      ++runs;
      if (!s.ok()) {
        ++errors;
        EXPECT_FALSE(s.message().empty()) << name;
        continue;
      }
      for (const PartialShape& o : c.outputs()) {
        EXPECT_LE(o.rank(), shape_fns::kMaxRank) << name;
        for (int d = 0; o.rank_known() && d < o.rank(); ++d) {
          EXPECT_GE(o.dim(d), -1) << name << " output " << o.ToString();
        }
      }
    }
  }
  EXPECT_GT(runs, 10000);
  EXPECT_LT(errors, runs);  // some random cases are valid
}

TEST(ShapeFnRobustness, HugeSizesGiveUnknownNotOverflow) {
  const int64_t big = int64_t{1} << 40;
  EXPECT_SHAPE(Case("Reshape", {S({big, big, big}), {}}).Const(1, Vec({-1, 2})), -1, 2);
  EXPECT_SHAPE(Case("Tile", {S({big}), {}}).Const(1, IntTensor({1}, {big}, LOOM_DTYPE_INT64)), -1);
  // A shape input too long to be a rank gives an unknown shape.
  ExpectShape(Case("Fill", {S({big}), S({})}).Out(), kUnknown);
  EXPECT_CONTAINS(Case("Reshape", {S({2}), {}}).Const(1, Vec(std::vector<int64_t>(300, 1))).Error(),
                  "at most 254");
}

// ---------------------------------------------------------------- through NodeBuilder

Node* AddPlaceholder(Graph* g, const std::string& name, PartialShape shape) {
  Node* n = nullptr;
  Status s = NodeBuilder(g, "Placeholder", name)
                 .Attr("dtype", AttrValue::Type(LOOM_DTYPE_FLOAT))
                 .Attr("shape", AttrValue::Shape(std::move(shape)))
                 .Finish(&n);
  EXPECT_TRUE(s.ok()) << s.message();
  return n;
}

Node* AddConst(Graph* g, const std::string& name, Tensor t) {
  Node* n = nullptr;
  DataType dt = t.dtype();
  Status s = NodeBuilder(g, "Const", name)
                 .Attr("value", AttrValue::TensorValue(std::move(t)))
                 .Attr("dtype", AttrValue::Type(dt))
                 .Finish(&n);
  EXPECT_TRUE(s.ok()) << s.message();
  return n;
}

TEST(NodeBuilderShapes, ErrorsArePrefixedWithTheOp) {
  Graph g;
  Node* a = AddPlaceholder(&g, "a", S({2, 3}));
  Node* b = AddPlaceholder(&g, "b", S({4, 5}));
  Status s = NodeBuilder(&g, "MatMul", "mm").Input({a, 0}).Input({b, 0}).Finish();
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_CONTAINS(s.message(), "MatMul op 'mm'");
  EXPECT_CONTAINS(s.message(), "Dimensions must be equal, but are 3 and 4");
}

TEST(NodeBuilderShapes, ReshapeSeesThroughShapeAndPack) {
  Graph g;
  Node* x = AddPlaceholder(&g, "x", S({4, 3}));
  Node* y = AddPlaceholder(&g, "y", S({-1, 3}));
  Node* shape = nullptr;
  ASSERT_TRUE(NodeBuilder(&g, "Shape", "shape").Input({y, 0}).Finish(&shape).ok());
  ExpectShape(shape->output_shape(0), S({2}));
  Node* r = nullptr;
  ASSERT_TRUE(NodeBuilder(&g, "Reshape", "r").Input({x, 0}).Input({shape, 0}).Finish(&r).ok());
  ExpectShape(r->output_shape(0), S({4, 3}));  // [?,3] from Shape(y); 12 elements fix the ?

  Node* m1 = AddConst(&g, "m1", Scalar(-1));
  Node* two = AddConst(&g, "two", Scalar(2));
  Node* pack = nullptr;
  ASSERT_TRUE(
      NodeBuilder(&g, "Pack", "pack").InputList({{m1, 0}, {two, 0}}).Finish(&pack).ok());
  ExpectShape(pack->output_shape(0), S({2}));
  ASSERT_TRUE(NodeBuilder(&g, "Reshape", "r2").Input({x, 0}).Input({pack, 0}).Finish(&r).ok());
  ExpectShape(r->output_shape(0), S({6, 2}));

  // tf.reshape(z, [tf.shape(z)[0], -1]) with z of shape [5, 2, 3]: [5, 6].
  Node* z = AddPlaceholder(&g, "z", S({5, 2, 3}));
  Node* zshape = nullptr;
  ASSERT_TRUE(NodeBuilder(&g, "Shape", "zshape").Input({z, 0}).Finish(&zshape).ok());
  Node* b0 = AddConst(&g, "b0", Vec({0}));
  Node* e0 = AddConst(&g, "e0", Vec({1}));
  Node* s0 = AddConst(&g, "s0", Vec({1}));
  Node* dim0 = nullptr;
  ASSERT_TRUE(NodeBuilder(&g, "StridedSlice", "dim0")
                  .Input({zshape, 0})
                  .Input({b0, 0})
                  .Input({e0, 0})
                  .Input({s0, 0})
                  .Attr("shrink_axis_mask", 1)
                  .Finish(&dim0)
                  .ok());
  ExpectShape(dim0->output_shape(0), S({}));
  Node* pack2 = nullptr;
  ASSERT_TRUE(
      NodeBuilder(&g, "Pack", "pack2").InputList({{dim0, 0}, {m1, 0}}).Finish(&pack2).ok());
  ASSERT_TRUE(NodeBuilder(&g, "Reshape", "r3").Input({z, 0}).Input({pack2, 0}).Finish(&r).ok());
  ExpectShape(r->output_shape(0), S({5, 6}));
}

TEST(NodeBuilderShapes, ConcatV2WithListInputs) {
  Graph g;
  Node* a = AddPlaceholder(&g, "a", S({2, 3}));
  Node* b = AddPlaceholder(&g, "b", S({2, -1}));
  Node* axis = AddConst(&g, "axis", Scalar(1));
  Node* c = nullptr;
  ASSERT_TRUE(NodeBuilder(&g, "ConcatV2", "c")
                  .InputList({{a, 0}, {b, 0}})
                  .Input({axis, 0})
                  .Finish(&c)
                  .ok());
  ExpectShape(c->output_shape(0), S({2, -1}));
  Node* split_dim = AddConst(&g, "split_dim", Scalar(0));
  Node* sp = nullptr;
  Status s = NodeBuilder(&g, "Split", "sp")
                 .Input({split_dim, 0})
                 .Input({a, 0})
                 .Attr("num_split", 2)
                 .Finish(&sp);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(sp->num_outputs(), 2);
  ExpectShape(sp->output_shape(1), S({1, 3}));
}

}  // namespace
}  // namespace loom
