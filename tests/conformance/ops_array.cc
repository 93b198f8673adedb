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
