// Data-movement ops on the CPU device: reshapes, Transpose, Concat/Split,
// Slice/StridedSlice, Tile, Pack/Unpack, Fill, Shape/Size/Rank, OneHot,
// BroadcastTo, BroadcastGradientArgs, Range, InvertPermutation, GatherV2,
// DynamicStitch. Values move unchanged, so every comparison is exact.
#include <numeric>

#include "op_test_util.h"

namespace loomtest {
namespace {

class Array : public OpTest {
 protected:
  loom_output I32(std::vector<int32_t> v) {
    return Const<int32_t>({static_cast<int64_t>(v.size())}, v);
  }
};

std::vector<float> Iota(int n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

// Reference transpose of a row-major tensor.
std::vector<float> TransposeRef(const std::vector<float>& x, const std::vector<int64_t>& dims,
                                const std::vector<int>& perm, std::vector<int64_t>* out_dims) {
  const int r = static_cast<int>(dims.size());
  std::vector<int64_t> in_strides(r, 1);
  for (int i = r - 2; i >= 0; --i) in_strides[i] = in_strides[i + 1] * dims[i + 1];
  out_dims->clear();
  for (int i = 0; i < r; ++i) out_dims->push_back(dims[perm[i]]);
  std::vector<float> out(x.size());
  std::vector<int64_t> idx(r, 0);
  for (size_t o = 0; o < x.size(); ++o) {
    int64_t off = 0;
    for (int i = 0; i < r; ++i) off += idx[i] * in_strides[perm[i]];
    out[o] = x[off];
    for (int i = r - 1; i >= 0; --i) {
      if (++idx[i] < (*out_dims)[i]) break;
      idx[i] = 0;
    }
  }
  return out;
}

TEST_F(Array, ReshapeInfersOneDimension) {
  loom_output x = Const<float>({2, 3}, Iota(6));
  auto out = RunOk({B("Reshape", {x, I32({3, -1})}), B("Reshape", {x, I32({6})}),
                    B("Reshape", {Const<float>({1}, {5}), I32({})}),
                    B("Reshape", {Const<float>({0, 2}, {}), I32({2, 0, 3})})});
  ExpectValues<float>(out[0], {3, 2}, Iota(6));
  ExpectValues<float>(out[1], {6}, Iota(6));
  ExpectValues<float>(out[2], {}, {5});
  ExpectValues<float>(out[3], {2, 0, 3}, {});
}

TEST_F(Array, ReshapeToTheWrongSizeNamesBothCounts) {
  loom_output s = Unknown(LOOM_DTYPE_INT32, "s");
  loom_output y = B("Reshape", {Const<float>({2, 3}, Iota(6)), s}, {}, "rs");
  TensorPtr sv = MakeTensor<int32_t>({2}, {4, 2});
  ExpectError(RunErr({y}, {s}, {sv.get()}), "INVALID_ARGUMENT", {"6 elements", "8", "rs"});
  TensorPtr two_unknown = MakeTensor<int32_t>({2}, {-1, -1});
  ExpectError(RunErr({y}, {s}, {two_unknown.get()}), "INVALID_ARGUMENT", {"-1", "rs"});
}

TEST_F(Array, ExpandDimsAndSqueeze) {
  loom_output x = Const<float>({2, 3}, Iota(6));
  loom_output one = Const<float>({1, 2, 1, 3, 1}, Iota(6));
  auto out = RunOk({B("ExpandDims", {x, Scalar<int32_t>(0)}), B("ExpandDims", {x, Scalar<int32_t>(-1)}),
                    B("ExpandDims", {x, Scalar<int64_t>(1)}), B("Squeeze", {one}),
                    B("Squeeze", {one}, IntList("squeeze_dims", {0, -1}))});
  ExpectValues<float>(out[0], {1, 2, 3}, Iota(6));
  ExpectValues<float>(out[1], {2, 3, 1}, Iota(6));
  ExpectValues<float>(out[2], {2, 1, 3}, Iota(6));
  ExpectValues<float>(out[3], {2, 3}, Iota(6));
  ExpectValues<float>(out[4], {2, 1, 3}, Iota(6));
}

TEST_F(Array, SqueezingADimensionThatIsNotOneIsInvalidArgument) {
  loom_output x = Unknown(LOOM_DTYPE_FLOAT, "x");
  loom_output y = B("Squeeze", {x}, IntList("squeeze_dims", {1}), "sq");
  TensorPtr v = MakeTensor<float>({1, 3}, {1, 2, 3});
  ExpectError(RunErr({y}, {x}, {v.get()}), "INVALID_ARGUMENT",
              {"Can not squeeze dim[1]", "got 3", "sq"});
}

TEST_F(Array, TransposeEveryPermutationOfRank3MatchesReference) {
  const std::vector<int64_t> dims = {2, 3, 4};
  const std::vector<float> x = Iota(24);
  std::vector<int> perm = {0, 1, 2};
  do {
    std::vector<int64_t> od;
    std::vector<float> want = TransposeRef(x, dims, perm, &od);
    loom_output y = B("Transpose", {Const<float>(dims, x), I32({perm[0], perm[1], perm[2]})});
    SCOPED_TRACE(testing::Message() << "perm " << perm[0] << perm[1] << perm[2]);
    ExpectValues<float>(RunOk({y})[0], od, want);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST_F(Array, TransposeNHWCToNCHWAndLargeMatrices) {
  const std::vector<float> x4 = Iota(2 * 3 * 4 * 5);
  const std::vector<float> big = Iota(300 * 517);
  std::vector<int64_t> od4, odb;
  std::vector<float> want4 = TransposeRef(x4, {2, 3, 4, 5}, {0, 3, 1, 2}, &od4);
  std::vector<float> wantb = TransposeRef(big, {300, 517}, {1, 0}, &odb);
  auto out = RunOk({B("Transpose", {Const<float>({2, 3, 4, 5}, x4), I32({0, 3, 1, 2})}),
                    B("Transpose", {Const<float>({300, 517}, big), I32({1, 0})})});
  ExpectValues<float>(out[0], od4, want4);
  ExpectValues<float>(out[1], odb, wantb);
}

TEST_F(Array, TransposeOfOtherElementSizes) {
  auto out = RunOk({B("Transpose", {Const<int64_t>({2, 2}, {1, 2, 3, 4}), I32({1, 0})}),
                    B("Transpose", {Const<bool>({2, 1, 2}, {true, false, false, false}), I32({2, 1, 0})}),
                    B("Transpose", {Const<float>({0, 3}, {}), I32({1, 0})})});
  ExpectValues<int64_t>(out[0], {2, 2}, {1, 3, 2, 4});
  ExpectValues<bool>(out[1], {2, 1, 2}, {true, false, false, false});
  ExpectValues<float>(out[2], {3, 0}, {});
}

TEST_F(Array, TransposeRejectsANonPermutation) {
  loom_output p = Unknown(LOOM_DTYPE_INT32, "p");
  loom_output y = B("Transpose", {Const<float>({2, 2}, Iota(4)), p}, {}, "tr");
  TensorPtr pv = MakeTensor<int32_t>({2}, {0, 0});
  ExpectError(RunErr({y}, {p}, {pv.get()}), "INVALID_ARGUMENT", {"permutation", "[0,0]", "tr"});
}

TEST_F(Array, ConcatV2AlongEachAxisAndTheOldConcat) {
  loom_output a = Const<float>({2, 2}, {1, 2, 3, 4});
  loom_output b = Const<float>({2, 1}, {5, 6});
  loom_output c = Const<float>({1, 2}, {7, 8});
  auto out = RunOk({B("ConcatV2", {In::List({a, b}), Scalar<int32_t>(1)}),
                    B("ConcatV2", {In::List({a, c, Const<float>({0, 2}, {})}), Scalar<int64_t>(-2)}),
                    B("Concat", {Scalar<int32_t>(0), In::List({c, a})})});
  ExpectValues<float>(out[0], {2, 3}, {1, 2, 5, 3, 4, 6});
  ExpectValues<float>(out[1], {3, 2}, {1, 2, 3, 4, 7, 8});
  ExpectValues<float>(out[2], {3, 2}, {7, 8, 1, 2, 3, 4});
}

TEST_F(Array, ConcatOfMismatchedShapesNamesThem) {
  loom_output b = Unknown(LOOM_DTYPE_FLOAT, "b");
  loom_output y = B("ConcatV2", {In::List({Const<float>({2, 2}, Iota(4)), b}), Scalar<int32_t>(0)},
                    {}, "cat");
  TensorPtr bv = MakeTensor<float>({1, 3}, {1, 2, 3});
  ExpectError(RunErr({y}, {b}, {bv.get()}), "INVALID_ARGUMENT", {"[2,2]", "[1,3]", "cat"});
}

TEST_F(Array, SplitAndSplitV) {
  loom_output x = Const<float>({2, 4}, Iota(8));
  loom_op* split = Build("Split", {Scalar<int32_t>(1), x}, Int("num_split", 2));
  loom_op* splitv = Build("SplitV", {x, I32({1, -1, 2}), Scalar<int32_t>(1)}, Int("num_split", 3));
  auto out = RunOk({{split, 0}, {split, 1}, {splitv, 0}, {splitv, 1}, {splitv, 2}});
  ExpectValues<float>(out[0], {2, 2}, {0, 1, 4, 5});
  ExpectValues<float>(out[1], {2, 2}, {2, 3, 6, 7});
  ExpectValues<float>(out[2], {2, 1}, {0, 4});
  ExpectValues<float>(out[3], {2, 1}, {1, 5});
  ExpectValues<float>(out[4], {2, 2}, {2, 3, 6, 7});
}

TEST_F(Array, SplitThatDoesNotDivideIsInvalidArgument) {
  loom_output x = Unknown(LOOM_DTYPE_FLOAT, "x");
  loom_op* split = Build("Split", {Scalar<int32_t>(0), x}, Int("num_split", 2), "sp");
  TensorPtr v = MakeTensor<float>({3}, {1, 2, 3});
  ExpectError(RunErr({{split, 0}}, {x}, {v.get()}), "INVALID_ARGUMENT",
              {"evenly divide", "size = 3", "sp"});
}

TEST_F(Array, SliceWithMinusOneSize) {
  loom_output x = Const<float>({3, 4}, Iota(12));
  auto out = RunOk({B("Slice", {x, I32({1, 1}), I32({2, -1})}), B("Slice", {x, I32({0, 3}), I32({3, 1})}),
                    B("Slice", {x, I32({3, 0}), I32({0, 4})})});
  ExpectValues<float>(out[0], {2, 3}, {5, 6, 7, 9, 10, 11});
  ExpectValues<float>(out[1], {3, 1}, {3, 7, 11});
  ExpectValues<float>(out[2], {0, 4}, {});
}

TEST_F(Array, SliceOutOfBoundsIsInvalidArgument) {
  loom_output sz = Unknown(LOOM_DTYPE_INT32, "sz");
  loom_output y = B("Slice", {Const<float>({3}, {1, 2, 3}), I32({1}), sz}, {}, "sl");
  TensorPtr v = MakeTensor<int32_t>({1}, {3});
  ExpectError(RunErr({y}, {sz}, {v.get()}), "INVALID_ARGUMENT", {"size[0]", "[0, 2]", "sl"});
}

class StridedSlice : public Array {
 protected:
  loom_output SS(loom_output x, std::vector<int32_t> b, std::vector<int32_t> e,
                 std::vector<int32_t> s, int64_t begin_mask = 0, int64_t end_mask = 0,
                 int64_t ellipsis = 0, int64_t new_axis = 0, int64_t shrink = 0,
                 const char* name = nullptr) {
    return B("StridedSlice", {x, I32(b), I32(e), I32(s)},
             Attrs({Int("begin_mask", begin_mask), Int("end_mask", end_mask),
                    Int("ellipsis_mask", ellipsis), Int("new_axis_mask", new_axis),
                    Int("shrink_axis_mask", shrink)}),
             name);
  }
};

TEST_F(StridedSlice, OneDimensionalPythonSlices) {
  loom_output x = Const<float>({10}, Iota(10));
  auto out = RunOk({SS(x, {1}, {7}, {2}),                 // x[1:7:2]
                    SS(x, {0}, {0}, {-1}, 1, 1),          // x[::-1]
                    SS(x, {-3}, {0}, {1}, 0, 1),          // x[-3:]
                    SS(x, {8}, {2}, {-2}),                // x[8:2:-2]
                    SS(x, {5}, {2}, {1}),                 // x[5:2] (empty)
                    SS(x, {-100}, {100}, {1})});          // clamped to x[:]
  ExpectValues<float>(out[0], {3}, {1, 3, 5});
  ExpectValues<float>(out[1], {10}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  ExpectValues<float>(out[2], {3}, {7, 8, 9});
  ExpectValues<float>(out[3], {3}, {8, 6, 4});
  ExpectValues<float>(out[4], {0}, {});
  ExpectValues<float>(out[5], {10}, Iota(10));
}

TEST_F(StridedSlice, MasksShrinkNewAxisAndEllipsis) {
  loom_output m = Const<float>({3, 4}, Iota(12));
  auto out = RunOk({SS(m, {1}, {2}, {1}, 0, 0, 0, 0, 1),              // m[1]
                    SS(m, {0, 2}, {0, 3}, {1, 1}, 1, 1, 0, 0, 2),     // m[:, 2]
                    SS(m, {0, 1}, {0, 3}, {1, 1}, 0, 0, 1),           // m[..., 1:3]
                    SS(m, {0, 0}, {0, 2}, {1, 1}, 0, 0, 0, 1),        // m[None, 0:2]
                    SS(m, {-1, 0}, {0, 0}, {1, -1}, 2, 2, 0, 0, 1)}); // m[-1, ::-1]
  ExpectValues<float>(out[0], {4}, {4, 5, 6, 7});
  ExpectValues<float>(out[1], {3}, {2, 6, 10});
  ExpectValues<float>(out[2], {3, 2}, {1, 2, 5, 6, 9, 10});
  ExpectValues<float>(out[3], {1, 2, 4}, {0, 1, 2, 3, 4, 5, 6, 7});
  ExpectValues<float>(out[4], {4}, {11, 10, 9, 8});
}

TEST_F(StridedSlice, ShrinkingPastTheEndIsInvalidArgument) {
  loom_output b = Unknown(LOOM_DTYPE_INT32, "b");
  loom_output y = B("StridedSlice", {Const<float>({3, 4}, Iota(12)), b, I32({6}), I32({1})},
                    Int("shrink_axis_mask", 1), "ss");
  TensorPtr bv = MakeTensor<int32_t>({1}, {5});
  ExpectError(RunErr({y}, {b}, {bv.get()}), "INVALID_ARGUMENT",
              {"slice index 5 of dimension 0 out of bounds", "ss"});
}

TEST_F(StridedSlice, GradScattersDyIntoZeros) {
  // The gradient of m[::2, 1:3] for m of shape [3,4].
  loom_output g = B("StridedSliceGrad", {I32({3, 4}), I32({0, 1}), I32({0, 3}), I32({2, 1}),
                                         Const<float>({2, 2}, {1, 2, 3, 4})},
                    Attrs({Int("begin_mask", 1), Int("end_mask", 1)}));
  // The gradient of x[1] for x of shape [2,2] (shrink axis).
  loom_output h = B("StridedSliceGrad", {I32({2, 2}), I32({1}), I32({2}), I32({1}),
                                         Const<float>({2}, {5, 6})},
                    Int("shrink_axis_mask", 1));
  auto out = RunOk({g, h});
  ExpectValues<float>(out[0], {3, 4}, {0, 1, 2, 0, 0, 0, 0, 0, 0, 3, 4, 0});
  ExpectValues<float>(out[1], {2, 2}, {0, 0, 5, 6});
}

TEST_F(Array, PadWithZeros) {
  auto out = RunOk({B("Pad", {Const<int32_t>({2, 2}, {1, 2, 3, 4}), Const<int32_t>({2, 2}, {1, 0, 0, 2})}),
                    B("Pad", {Const<float>({0, 1}, {}), Const<int64_t>({2, 2}, {1, 1, 0, 0})})});
  ExpectValues<int32_t>(out[0], {3, 4}, {0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0});
  ExpectValues<float>(out[1], {2, 1}, {0, 0});
}

TEST_F(Array, NegativePaddingIsInvalidArgument) {
  loom_output p = Unknown(LOOM_DTYPE_INT32, "p");
  loom_output y = B("Pad", {Const<float>({2}, {1, 2}), p}, {}, "pad");
  TensorPtr pv = MakeTensor<int32_t>({1, 2}, {-1, 0});
  ExpectError(RunErr({y}, {p}, {pv.get()}), "INVALID_ARGUMENT", {"non-negative", "pad"});
}

TEST_F(Array, ConcatOffsetGivesWhereEachInputStarts) {
  loom_op* op = Build("ConcatOffset", {Scalar<int32_t>(1), In::List({I32({2, 3, 5}), I32({2, 4, 5}), I32({2, 1, 5})})});
  auto out = RunOk({{op, 0}, {op, 1}, {op, 2}});
  ExpectValues<int32_t>(out[0], {3}, {0, 0, 0});
  ExpectValues<int32_t>(out[1], {3}, {0, 3, 0});
  ExpectValues<int32_t>(out[2], {3}, {0, 7, 0});
}

TEST_F(Array, TileRepeatsAlongEachAxis) {
  loom_output x = Const<int32_t>({2, 2}, {1, 2, 3, 4});
  auto out = RunOk({B("Tile", {x, I32({2, 1})}), B("Tile", {x, I32({1, 3})}), B("Tile", {x, I32({2, 2})}),
                    B("Tile", {x, I32({0, 2})})});
  ExpectValues<int32_t>(out[0], {4, 2}, {1, 2, 3, 4, 1, 2, 3, 4});
  ExpectValues<int32_t>(out[1], {2, 6}, {1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4});
  ExpectValues<int32_t>(out[2], {4, 4}, {1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4});
  ExpectValues<int32_t>(out[3], {0, 4}, {});
}

TEST_F(Array, TileWithTheWrongNumberOfMultiplesIsInvalidArgument) {
  loom_output mult = Unknown(LOOM_DTYPE_INT32, "mult");
  loom_output y = B("Tile", {Const<float>({2, 2}, Iota(4)), mult}, {}, "tile");
  TensorPtr v = MakeTensor<int32_t>({3}, {1, 1, 1});
  ExpectError(RunErr({y}, {mult}, {v.get()}), "INVALID_ARGUMENT", {"length 2", "length 3", "tile"});
}

TEST_F(Array, PackAndUnpack) {
  loom_output a = Const<float>({2}, {1, 2}), b = Const<float>({2}, {3, 4}), c = Const<float>({2}, {5, 6});
  loom_op* un = Build("Unpack", {Const<float>({2, 3}, Iota(6))}, Attrs({Int("num", 3), Int("axis", 1)}));
  auto out = RunOk({B("Pack", {In::List({a, b, c})}), B("Pack", {In::List({a, b, c})}, Int("axis", 1)),
                    {un, 0}, {un, 1}, {un, 2}});
  ExpectValues<float>(out[0], {3, 2}, {1, 2, 3, 4, 5, 6});
  ExpectValues<float>(out[1], {2, 3}, {1, 3, 5, 2, 4, 6});
  ExpectValues<float>(out[2], {2}, {0, 3});
  ExpectValues<float>(out[3], {2}, {1, 4});
  ExpectValues<float>(out[4], {2}, {2, 5});
}

TEST_F(Array, FillShapeSizeRank) {
  loom_output x = Const<float>({2, 3, 0}, {});
  auto out = RunOk({B("Fill", {I32({2, 2}), Scalar<int64_t>(7)}), B("Shape", {x}),
                    B("Shape", {x}, Type("out_type", LOOM_DTYPE_INT64)), B("Size", {x}),
                    B("Rank", {x}), B("Size", {Const<float>({2, 3}, Iota(6))}, Type("out_type", LOOM_DTYPE_INT64))});
  ExpectValues<int64_t>(out[0], {2, 2}, {7, 7, 7, 7});
  ExpectValues<int32_t>(out[1], {3}, {2, 3, 0});
  ExpectValues<int64_t>(out[2], {3}, {2, 3, 0});
  ExpectValues<int32_t>(out[3], {}, {0});
  ExpectValues<int32_t>(out[4], {}, {3});
  ExpectValues<int64_t>(out[5], {}, {6});
}

TEST_F(Array, OneHotOnEitherAxisWithOutOfRangeIndicesOff) {
  loom_output ind = Const<int32_t>({3}, {0, 2, 5});
  auto out = RunOk({B("OneHot", {ind, Scalar<int32_t>(3), Scalar<float>(1), Scalar<float>(0)}),
                    B("OneHot", {ind, Scalar<int32_t>(3), Scalar<float>(5), Scalar<float>(-1)},
                      Int("axis", 0)),
                    B("OneHot", {Const<int64_t>({2}, {1, -1}), Scalar<int32_t>(2), Scalar<int32_t>(1),
                                 Scalar<int32_t>(0)})});
  ExpectValues<float>(out[0], {3, 3}, {1, 0, 0, 0, 0, 1, 0, 0, 0});
  ExpectValues<float>(out[1], {3, 3}, {5, -1, -1, -1, -1, -1, -1, 5, -1});
  ExpectValues<int32_t>(out[2], {2, 2}, {0, 1, 0, 0});
}

TEST_F(Array, BroadcastTo) {
  auto out = RunOk({B("BroadcastTo", {Const<float>({3}, {1, 2, 3}), I32({2, 3})}),
                    B("BroadcastTo", {Const<float>({2, 1}, {1, 2}), I32({2, 3})})});
  ExpectValues<float>(out[0], {2, 3}, {1, 2, 3, 1, 2, 3});
  ExpectValues<float>(out[1], {2, 3}, {1, 1, 1, 2, 2, 2});
}

TEST_F(Array, BroadcastToAnIncompatibleShapeIsInvalidArgument) {
  loom_output s = Unknown(LOOM_DTYPE_INT32, "s");
  loom_output y = B("BroadcastTo", {Const<float>({3}, {1, 2, 3}), s}, {}, "bt");
  TensorPtr sv = MakeTensor<int32_t>({2}, {2, 4});
  ExpectError(RunErr({y}, {s}, {sv.get()}), "INVALID_ARGUMENT", {"[3]", "[2,4]", "bt"});
}

TEST_F(Array, BroadcastGradientArgsListsTheBroadcastAxes) {
  auto args = [&](std::vector<int32_t> a, std::vector<int32_t> b) {
    return Build("BroadcastGradientArgs", {I32(a), I32(b)});
  };
  loom_op* p = args({2, 3}, {3});
  loom_op* q = args({2, 1}, {1, 3});
  loom_op* r = args({1}, {1});
  loom_op* s = args({4, 1, 3}, {4, 5, 3});
  auto out = RunOk({{p, 0}, {p, 1}, {q, 0}, {q, 1}, {r, 0}, {r, 1}, {s, 0}, {s, 1}});
  ExpectValues<int32_t>(out[0], {0}, {});
  ExpectValues<int32_t>(out[1], {1}, {0});
  ExpectValues<int32_t>(out[2], {1}, {1});
  ExpectValues<int32_t>(out[3], {1}, {0});
  ExpectValues<int32_t>(out[4], {1}, {0});
  ExpectValues<int32_t>(out[5], {1}, {0});
  ExpectValues<int32_t>(out[6], {1}, {1});
  ExpectValues<int32_t>(out[7], {0}, {});
}

TEST_F(Array, RangeOfIntsAndFloats) {
  auto out = RunOk({B("Range", {Scalar<int32_t>(3), Scalar<int32_t>(18), Scalar<int32_t>(5)}),
                    B("Range", {Scalar<int32_t>(3), Scalar<int32_t>(1), Scalar<int32_t>(-1)}),
                    B("Range", {Scalar<float>(0), Scalar<float>(1), Scalar<float>(0.25f)}),
                    B("Range", {Scalar<int64_t>(2), Scalar<int64_t>(2), Scalar<int64_t>(1)})});
  ExpectValues<int32_t>(out[0], {3}, {3, 8, 13});
  ExpectValues<int32_t>(out[1], {2}, {3, 2});
  ExpectValues<float>(out[2], {4}, {0, 0.25f, 0.5f, 0.75f});
  ExpectValues<int64_t>(out[3], {0}, {});
}

TEST_F(Array, RangeWithZeroDeltaIsInvalidArgument) {
  loom_output d = Placeholder(LOOM_DTYPE_INT32, {}, "d");
  loom_output y = B("Range", {Scalar<int32_t>(0), Scalar<int32_t>(5), d}, {}, "rg");
  TensorPtr dv = MakeTensor<int32_t>({}, {0});
  ExpectError(RunErr({y}, {d}, {dv.get()}), "INVALID_ARGUMENT", {"delta != 0", "rg"});
}

TEST_F(Array, InvertPermutation) {
  auto out = RunOk({B("InvertPermutation", {I32({3, 4, 0, 2, 1})})});
  ExpectValues<int32_t>(out[0], {5}, {2, 4, 3, 0, 1});
  loom_output bad = B("InvertPermutation", {I32({0, 0})}, {}, "inv");
  ExpectError(RunErr({bad}), "INVALID_ARGUMENT", {"duplicated", "inv"});
}

TEST_F(Array, GatherV2OnEachAxisWithMatrixIndices) {
  loom_output p = Const<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  auto out = RunOk({B("GatherV2", {p, I32({2, 0, 2}), Scalar<int32_t>(0)}),
                    B("GatherV2", {p, Const<int64_t>({2, 2}, {1, 0, 0, 0}), Scalar<int32_t>(1)}),
                    B("GatherV2", {p, Scalar<int32_t>(1), Scalar<int64_t>(0)}),
                    B("GatherV2", {p, Const<int32_t>({3, 1}, {1, 0, 1}), Scalar<int32_t>(1)},
                      Int("batch_dims", 1))});
  ExpectValues<float>(out[0], {3, 2}, {5, 6, 1, 2, 5, 6});
  ExpectValues<float>(out[1], {3, 2, 2}, {2, 1, 1, 1, 4, 3, 3, 3, 6, 5, 5, 5});
  ExpectValues<float>(out[2], {2}, {3, 4});
  ExpectValues<float>(out[3], {3, 1}, {2, 3, 6});
}

TEST_F(Array, GatherV2OutOfRangeIndexNamesItAndTheRange) {
  loom_output y = B("GatherV2", {Const<float>({5}, Iota(5)), I32({1, 7}), Scalar<int32_t>(0)}, {}, "gather");
  ExpectError(RunErr({y}), "INVALID_ARGUMENT", {"indices[1] = 7", "[0, 5)", "gather"});
}

TEST_F(Array, DynamicStitchInterleavesAndLaterIndicesWin) {
  // TensorFlow's documentation example.
  loom_output y = B("DynamicStitch",
                    {In::List({Scalar<int32_t>(6), I32({4, 1}), Const<int32_t>({2, 2}, {5, 2, 0, 3})}),
                     In::List({Const<float>({2}, {61, 62}), Const<float>({2, 2}, {41, 42, 11, 12}),
                               Const<float>({2, 2, 2}, {51, 52, 21, 22, 1, 2, 31, 32})})});
  loom_output z = B("DynamicStitch", {In::List({I32({0, 1}), I32({1})}),
                                      In::List({Const<int32_t>({2}, {10, 20}), Const<int32_t>({1}, {30})})});
  auto out = RunOk({y, z});
  ExpectValues<float>(out[0], {7, 2}, {1, 2, 11, 12, 21, 22, 31, 32, 41, 42, 51, 52, 61, 62});
  ExpectValues<int32_t>(out[1], {2}, {10, 30});
}

}  // namespace
}  // namespace loomtest
