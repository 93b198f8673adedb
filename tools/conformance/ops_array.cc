// Shapes and data movement: Reshape, ExpandDims, Squeeze, Shape, Size,
// Rank, Fill, ZerosLike, OnesLike, BroadcastGradientArgs, Transpose, Tile,
// BroadcastTo. All exact: they move or produce values without arithmetic.
#include "conformance.h"

namespace conformance {

namespace {

Case Op2(const char* op, const char* name, Input a, Input b) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {std::move(a), std::move(b)};
  return c;
}

Case Op1(const char* op, const char* name, Input a) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {std::move(a)};
  return c;
}

}  // namespace

std::vector<Case> ArrayCases() {
  std::vector<Case> v = {
      Op2("Reshape", "matrix", Uniform({4, 6}), Vector({3, 8})),
      Op2("Reshape", "infer_dim", Uniform({4, 6}), Vector({2, -1, 3})),
      Op2("Reshape", "to_scalar", Uniform({1, 1}), Vector({})),
      Op2("Reshape", "int64_shape", Ints({12}, 0, 9), Vector({3, 4}, LOOM_DTYPE_INT64)),
      Op2("Reshape", "wrong_size", Uniform({4, 6}), Vector({5, 5})),
      Op2("ExpandDims", "front", Uniform({3, 4}), Scalar(0, LOOM_DTYPE_INT32)),
      Op2("ExpandDims", "negative", Uniform({3, 4}), Scalar(-1, LOOM_DTYPE_INT32)),
      Op1("Squeeze", "all_ones", Uniform({1, 3, 1, 4})),
      [] { Case c = Op1("Squeeze", "given_dims", Uniform({1, 3, 1, 4}));
           c.attrs = [](loom_op_builder* b) { int64_t d[] = {2}; loom_op_builder_set_attr_int_list(b, "squeeze_dims", d, 1); };
           return c; }(),
      Op1("Shape", "matrix", Uniform({3, 5})),
      [] { Case c = Op1("Shape", "int64", Uniform({2, 0, 4}));
           c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_type(b, "out_type", LOOM_DTYPE_INT64); };
           return c; }(),
      Op1("Size", "rank3", Uniform({2, 3, 4})),
      Op1("Rank", "rank3", Uniform({2, 3, 4})),
      Op2("Fill", "float", Vector({3, 4}), Scalar(2.5)),
      Op2("Fill", "int32", Vector({5}), Scalar(-7, LOOM_DTYPE_INT32)),
      Op2("Fill", "empty", Vector({0, 2}), Scalar(1)),
      Op1("ZerosLike", "float", Uniform({3, 3})),
      Op1("ZerosLike", "int64", Ints({4}, 1, 9, LOOM_DTYPE_INT64)),
      Op1("OnesLike", "float", Uniform({2, 7})),
      Op1("OnesLike", "bool", Given({3}, {0, 1, 0}, LOOM_DTYPE_BOOL)),
      Op2("BroadcastGradientArgs", "row", Vector({6, 10}), Vector({10})),
      Op2("BroadcastGradientArgs", "both", Vector({6, 1}), Vector({1, 10})),
      Op2("BroadcastGradientArgs", "ones", Vector({1, 1}), Vector({1})),
      Op2("Transpose", "matrix", Uniform({5, 7}), Vector({1, 0})),
      Op2("Transpose", "rank4", Uniform({2, 3, 4, 5}), Vector({2, 0, 3, 1})),
      Op2("Transpose", "identity_perm", Uniform({3, 4}), Vector({0, 1})),
      Op2("Transpose", "int32_values", Ints({3, 4, 2}, -9, 9), Vector({2, 1, 0})),
      Op2("Transpose", "bad_perm", Uniform({3, 4}), Vector({0, 0})),
      Op2("Tile", "matrix", Uniform({2, 3}), Vector({3, 2})),
      Op2("Tile", "ones_dims", Uniform({1, 3}), Vector({4, 1})),
      Op2("Tile", "zero_multiple", Uniform({2, 3}), Vector({0, 2})),
      Op2("BroadcastTo", "row", Uniform({4}), Vector({3, 4})),
      Op2("BroadcastTo", "column", Uniform({3, 1}), Vector({2, 3, 5})),
      Op2("BroadcastTo", "incompatible", Uniform({3}), Vector({4})),
  };
  {
    Case c = Op2("BroadcastGradientArgs", "incompatible", Vector({2, 3}), Vector({4}));
    c.num_outputs = 2;
    v.push_back(c);
  }
  for (Case& c : v) {
    if (c.op == "BroadcastGradientArgs") c.num_outputs = 2;
    if (c.name == "wrong_size" || c.name == "bad_perm" || c.name == "incompatible") {
      c.error = "INVALID_ARGUMENT";
    }
  }
  return v;
}

}  // namespace conformance

namespace conformance {

// Data-movement and indexing ops of the standard set beyond the MLP's: the
// CPU runs them all; other devices run those they have kernels for and skip
// the rest (with the reason). Exact: no arithmetic except Cumsum and
// UnsortedSegmentSum, whose few-term sums are argued below.
std::vector<Case> IndexingCases() {
  auto with = [](Case c, std::function<void(loom_op_builder*)> attrs) {
    c.attrs = std::move(attrs);
    return c;
  };
  auto list = [](Case c, int begin, int size) {
    c.list_begin = begin;
    c.list_size = size;
    return c;
  };
  auto outs = [](Case c, int n) {
    c.num_outputs = n;
    return c;
  };
  auto op = [](const char* type, const char* name, std::vector<Input> in) {
    Case c;
    c.op = type;
    c.name = name;
    c.inputs = std::move(in);
    return c;
  };
  auto int_attr = [](const char* n, int64_t v) {
    return [n, v](loom_op_builder* b) { loom_op_builder_set_attr_int(b, n, v); };
  };
  std::vector<Case> v = {
      list(op("ConcatV2", "axis1", {Uniform({2, 3}), Uniform({2, 4}), Scalar(1, LOOM_DTYPE_INT32)}), 0, 2),
      list(op("ConcatV2", "axis0_three", {Uniform({1, 3}), Uniform({2, 3}), Uniform({3, 3}),
                                          Scalar(0, LOOM_DTYPE_INT32)}), 0, 3),
      list(op("ConcatV2", "negative_axis_int32", {Ints({2, 2}, 0, 9), Ints({2, 1}, 0, 9),
                                                  Scalar(-1, LOOM_DTYPE_INT32)}), 0, 2),
      list(op("Concat", "old_signature", {Scalar(0, LOOM_DTYPE_INT32), Uniform({2, 2}), Uniform({1, 2})}), 1, 2),
      with(outs(op("Split", "three_ways", {Scalar(1, LOOM_DTYPE_INT32), Uniform({2, 6})}), 3),
           int_attr("num_split", 3)),
      with(outs(op("SplitV", "sizes", {Uniform({7, 2}), Vector({2, -1, 1}), Scalar(0, LOOM_DTYPE_INT32)}), 3),
           int_attr("num_split", 3)),
      op("Slice", "middle", {Uniform({4, 5}), Vector({1, 2}), Vector({2, -1})}),
      op("StridedSlice", "steps", {Uniform({6, 8}), Vector({1, 0}), Vector({5, 8}), Vector({2, 3})}),
      with(op("StridedSlice", "shrink_and_reverse", {Uniform({6, 8}), Vector({2, -1}), Vector({3, 0}),
                                                      Vector({1, -1})}),
           int_attr("shrink_axis_mask", 1)),
      with(list(op("Pack", "axis1", {Uniform({3}), Uniform({3}), Uniform({3})}), 0, 3),
           int_attr("axis", 1)),
      with(outs(op("Unpack", "axis0", {Uniform({3, 4})}), 3), [](loom_op_builder* b) {
        loom_op_builder_set_attr_int(b, "num", 3);
        loom_op_builder_set_attr_int(b, "axis", 0);
      }),
      op("Select", "same_shape", {Given({4}, {1, 0, 0, 1}, LOOM_DTYPE_BOOL), Uniform({4}), Uniform({4})}),
      op("Select", "row_condition", {Given({3}, {0, 1, 0}, LOOM_DTYPE_BOOL), Uniform({3, 2}), Uniform({3, 2})}),
      op("SelectV2", "broadcast", {Given({1, 3}, {1, 0, 1}, LOOM_DTYPE_BOOL), Uniform({2, 3}), Scalar(0)}),
      op("OneHot", "labels", {Ints({6}, -1, 4), Scalar(4, LOOM_DTYPE_INT32), Scalar(1), Scalar(0)}),
      op("Range", "int32", {Scalar(2, LOOM_DTYPE_INT32), Scalar(17, LOOM_DTYPE_INT32), Scalar(3, LOOM_DTYPE_INT32)}),
      op("Range", "float_negative_delta", {Scalar(1), Scalar(-2), Scalar(-0.5)}),
      op("InvertPermutation", "perm", {Vector({2, 0, 3, 1})}),
      op("GatherV2", "rows", {Uniform({5, 3}), Vector({4, 0, 4, 2}), Scalar(0, LOOM_DTYPE_INT32)}),
      op("GatherV2", "columns_int64_indices", {Uniform({3, 5}), Vector({1, 3}, LOOM_DTYPE_INT64),
                                               Scalar(1, LOOM_DTYPE_INT32)}),
      op("GatherV2", "index_out_of_range", {Uniform({5, 3}), Vector({5}), Scalar(0, LOOM_DTYPE_INT32)}),
  };
  {
    Case c = op("UnsortedSegmentSum", "segments",
                {Uniform({6, 2}), Vector({0, 2, 0, 1, 2, 2}), Scalar(4, LOOM_DTYPE_INT32)});
    c.tol = Summed(0, 3 * 0x1p-24, "sums of <= 3 terms, each rounded once, in any order");
    v.push_back(c);
    c = op("Cumsum", "axis1", {Uniform({3, 7}), Scalar(1, LOOM_DTYPE_INT32)});
    c.tol = Summed(7 * 0x1p-24 * 7, 0, "prefix sums of <= 7 terms of |x| <= 1: 7 roundings of <= 7");
    v.push_back(c);
    c = with(c, [](loom_op_builder* b) {
      loom_op_builder_set_attr_bool(b, "exclusive", 1);
      loom_op_builder_set_attr_bool(b, "reverse", 1);
    });
    c.name = "exclusive_reverse";
    v.push_back(c);
  }
  for (Case& c : v)
    if (c.name == "index_out_of_range") c.error = "INVALID_ARGUMENT";
  return v;
}

}  // namespace conformance
