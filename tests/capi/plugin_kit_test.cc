// The plugin kit's op semantics (capi/include/loom/plugin/*.hpp), checked
// directly: the same functions run in the runtime's shape functions and in
// every device's kernels, so these are the rules and the words of both.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "loom/plugin/axis.hpp"
#include "loom/plugin/broadcast.hpp"
#include "loom/plugin/reshape.hpp"
#include "loom/plugin/strided_slice.hpp"

namespace {

using loom::kit::Dims;
using V = std::vector<int64_t>;

TEST(KitBroadcast, ShapesAlignFromTheRightAndOnesStretch) {
  V out;
  const V a = {5, 1, 3}, b = {4, 1};
  EXPECT_EQ(loom::kit::BroadcastShape(a.data(), 3, b.data(), 2, &out), "");
  EXPECT_EQ(out, (V{5, 4, 3}));
}

TEST(KitBroadcast, UnknownDimsTakeTheKnownSizeOtherThanOne) {
  V out;
  const V a = {-1, 3}, b = {5, 1};
  EXPECT_EQ(loom::kit::BroadcastShape(a.data(), 2, b.data(), 2, &out), "");
  EXPECT_EQ(out, (V{5, 3}));
}

TEST(KitBroadcast, IncompatibleShapesNameBothAndTheClash) {
  V out;
  const V a = {2, 3}, b = {4, 5};
  EXPECT_EQ(loom::kit::BroadcastShape(a.data(), 2, b.data(), 2, &out),
            "Incompatible shapes: [2,3] vs. [4,5] (dimensions must be equal or 1 for "
            "broadcasting, but are 2 and 4)");
}

TEST(KitBroadcast, CollapsedWalkMergesDimsBroadcastAlike) {
  const int64_t x[] = {2, 3, 4}, y[] = {4};
  Dims a(x, 3), b(y, 1);
  const Dims* in[2] = {&a, &b};
  loom::kit::Broadcast bc;
  ASSERT_EQ(bc.Init(in, 2), "");
  EXPECT_EQ(bc.out, a);
  ASSERT_EQ(bc.rank, 2);  // [6, 4]: b repeats over the first two dims of a
  EXPECT_EQ(bc.dims[0], 6);
  EXPECT_EQ(bc.dims[1], 4);
  EXPECT_EQ(bc.strides[1][0], 0);
  EXPECT_EQ(bc.strides[1][1], 1);
}

TEST(KitBroadcast, GradientAxesReduceWhereEachInputWasStretched) {
  V r0, r1;
  const V a = {2, 1, 3}, b = {4, 1};
  EXPECT_EQ(loom::kit::BroadcastGradientAxes(a.data(), 3, b.data(), 2, &r0, &r1), "");
  EXPECT_EQ(r0, (V{1}));
  EXPECT_EQ(r1, (V{0, 2}));
}

TEST(KitReshape, MinusOneTakesWhatIsLeft) {
  V d = {-1, 3};
  EXPECT_EQ(loom::kit::ResolveReshape(12, "[4,3]", d.data(), 2), "");
  EXPECT_EQ(d, (V{4, 3}));
}

TEST(KitReshape, BadRequestsSayWhy) {
  V two = {-1, -1}, neg = {-2, 2}, wrong = {4, 2}, odd = {2, -1};
  EXPECT_EQ(loom::kit::ResolveReshape(4, "[4]", two.data(), 2),
            "Reshape can infer only one input size (-1), not both 0 and 1");
  EXPECT_EQ(loom::kit::ResolveReshape(4, "[4]", neg.data(), 2),
            "Size 0 of the requested shape must be >= -1, not -2");
  EXPECT_EQ(loom::kit::ResolveReshape(6, "[2,3]", wrong.data(), 2),
            "Cannot reshape a tensor with 6 elements (shape [2,3]) to shape [4,2] (8 elements)");
  EXPECT_EQ(loom::kit::ResolveReshape(7, "[7]", odd.data(), 2),
            "Cannot reshape a tensor with 7 elements (shape [7]) to shape [2,-1]: 7 is not a "
            "multiple of 2, the product of the known dimensions");
}

TEST(KitStridedSlice, MasksEllipsisNewAxisAndShrink) {
  // x[1, ..., ::-1, tf.newaxis] on a [3, 4, 5] input -> [4, 5, 1]
  const int64_t dims[] = {3, 4, 5};
  const int64_t begin[] = {1, 0, 0, 0}, end[] = {2, 0, 0, 0}, strides[] = {1, 1, -1, 1};
  loom::kit::StridedSliceMasks m;
  m.ellipsis = 1 << 1;
  m.begin = 1 << 2;
  m.end = 1 << 2;
  m.new_axis = 1 << 3;
  m.shrink_axis = 1 << 0;
  loom::kit::StridedSliceSpec spec;
  ASSERT_EQ(loom::kit::ResolveStridedSlice(dims, 3, 4, begin, end, strides, m, &spec), "");
  EXPECT_EQ(spec.final_shape, (V{4, 5, 1}));
  EXPECT_EQ(spec.begin, (V{1, 0, 4}));
  EXPECT_EQ(spec.stride, (V{1, 1, -1}));
  EXPECT_FALSE(spec.identity);
}

TEST(KitStridedSlice, UnknownValuesGiveUnknownSizes) {
  const int64_t dims[] = {3, -1};
  const int64_t strides[] = {1, 1};
  loom::kit::StridedSliceSpec spec;
  ASSERT_EQ(loom::kit::ResolveStridedSlice(dims, 2, 2, nullptr, nullptr, strides, {}, &spec), "");
  EXPECT_EQ(spec.final_shape, (V{-1, -1}));
}

TEST(KitStridedSlice, ErrorsNameTheEntry) {
  const int64_t dims[] = {3};
  const int64_t b[] = {5}, e[] = {6}, s[] = {1}, zero[] = {0};
  loom::kit::StridedSliceMasks shrink;
  shrink.shrink_axis = 1;
  loom::kit::StridedSliceSpec spec;
  EXPECT_EQ(loom::kit::ResolveStridedSlice(dims, 1, 1, b, e, s, shrink, &spec),
            "slice index 5 of dimension 0 out of bounds (input shape [3])");
  EXPECT_EQ(loom::kit::ResolveStridedSlice(dims, 1, 1, b, e, zero, {}, &spec),
            "strides[0] must be non-zero");
}

TEST(KitAxis, NegativeAxesCountFromTheEnd) {
  int64_t a = 0;
  EXPECT_EQ(loom::kit::CanonicalAxis(-1, 3, "axis", &a), "");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(loom::kit::CanonicalAxis(3, 3, "axis", &a),
            "axis 3 is out of range for a tensor of rank 3 (expected a value in [-3, 3))");
}

}  // namespace
