// Reductions on the CPU device: Sum, Mean, Max, Min, Prod over any axes,
// ArgMax/ArgMin, L2Loss, BiasAddGrad, Cumsum, UnsortedSegmentSum. Inputs are
// small integers, so float sums are exact and compared exactly unless noted.
#include <cmath>
#include <limits>

#include "op_test_util.h"

namespace loomtest {
namespace {

class Reduce : public OpTest {
 protected:
  loom_output R(const char* op, loom_output x, std::vector<int32_t> axes, bool keep = false) {
    return B(op, {x, Const<int32_t>({static_cast<int64_t>(axes.size())}, axes)},
             Bool("keep_dims", keep));
  }
};

const std::vector<float> k23 = {1, 2, 3, 4, 5, 6};

TEST_F(Reduce, SumOverEachAxisAllAxesAndNegativeAxes) {
  loom_output x = Const<float>({2, 3}, k23);
  auto out = RunOk({R("Sum", x, {0}), R("Sum", x, {1}), R("Sum", x, {0, 1}), R("Sum", x, {-1}),
                    R("Sum", x, {1}, true), R("Sum", x, {})});
  ExpectValues<float>(out[0], {3}, {5, 7, 9});
  ExpectValues<float>(out[1], {2}, {6, 15});
  ExpectValues<float>(out[2], {}, {21});
  ExpectValues<float>(out[3], {2}, {6, 15});
  ExpectValues<float>(out[4], {2, 1}, {6, 15});
  ExpectValues<float>(out[5], {2, 3}, k23);  // no axes: the input
}

TEST_F(Reduce, SumOverNonAdjacentAxesOfRank3) {
  // x[i,j,k] = 12i + 4j + k; summing i and k gives 60 + 32j.
  std::vector<int32_t> v(24);
  for (int i = 0; i < 24; ++i) v[i] = i;
  loom_output x = Const<int32_t>({2, 3, 4}, v);
  auto out = RunOk({R("Sum", x, {0, 2}), R("Sum", x, {2, 0}, true)});
  ExpectValues<int32_t>(out[0], {3}, {60, 92, 124});
  ExpectValues<int32_t>(out[1], {1, 3, 1}, {60, 92, 124});
}

TEST_F(Reduce, MeanMaxMinProd) {
  loom_output x = Const<float>({2, 3}, k23);
  auto out = RunOk({R("Mean", x, {0}), R("Max", x, {1}), R("Min", x, {0}), R("Prod", x, {1}),
                    R("Mean", Const<int32_t>({2, 2}, {1, 2, 3, 5}), {1}),
                    R("Max", Const<int64_t>({3}, {-5, -2, -9}), {0})});
  ExpectValues<float>(out[0], {3}, {2.5f, 3.5f, 4.5f});
  ExpectValues<float>(out[1], {2}, {3, 6});
  ExpectValues<float>(out[2], {3}, {1, 2, 3});
  ExpectValues<float>(out[3], {2}, {6, 120});
  ExpectValues<int32_t>(out[4], {2}, {1, 4});  // integer mean truncates, as TensorFlow
  ExpectValues<int64_t>(out[5], {}, {-2});
}

TEST_F(Reduce, ReducingAnEmptyAxisGivesTheIdentity) {
  loom_output x = Const<float>({0, 3}, {});
  auto out = RunOk({R("Sum", x, {0}), R("Prod", x, {0}), R("Max", x, {0}), R("Min", x, {0}),
                    R("Mean", x, {0}), R("Sum", x, {1})});
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ExpectValues<float>(out[0], {3}, {0, 0, 0});
  ExpectValues<float>(out[1], {3}, {1, 1, 1});
  ExpectValues<float>(out[2], {3}, {-inf, -inf, -inf});
  ExpectValues<float>(out[3], {3}, {inf, inf, inf});
  ExpectNear<float>(out[4], {3}, {nan, nan, nan}, 0);
  ExpectValues<float>(out[5], {0}, {});
}

TEST_F(Reduce, InvalidAxisIsInvalidArgumentNamingTheAxisAndRank) {
  loom_output axes = Unknown(LOOM_DTYPE_INT32, "axes");
  loom_output y = B("Sum", {Const<float>({2, 3}, k23), axes}, {}, "total");
  TensorPtr av = MakeTensor<int32_t>({1}, {2});
  ExpectError(RunErr({y}, {axes}, {av.get()}), "INVALID_ARGUMENT",
              {"Invalid reduction dimension 2", "2 dimension", "total"});
}

TEST_F(Reduce, LargeSumsAreExactForIntegersValuedFloats) {
  // 3e6 ones: exact because partial sums stay below 2^24 per block.
  const int n = 3000000;
  loom_output ones = B("Fill", {Const<int32_t>({1}, {n}), Scalar<float>(1.0f)});
  // Column sums of [1000, 300] with x[i,j] = j: 1000 * j.
  std::vector<float> m(1000 * 300);
  for (int i = 0; i < 1000; ++i)
    for (int j = 0; j < 300; ++j) m[i * 300 + j] = static_cast<float>(j);
  loom_output mx = Const<float>({1000, 300}, m);
  auto out = RunOk({R("Sum", ones, {0}), R("Mean", ones, {0}), R("Sum", mx, {0}),
                    R("Max", mx, {1})});
  ExpectValues<float>(out[0], {}, {3000000.0f});
  ExpectValues<float>(out[1], {}, {1.0f});
  std::vector<float> cols(300), rows(1000, 299.0f);
  for (int j = 0; j < 300; ++j) cols[j] = 1000.0f * j;
  ExpectValues<float>(out[2], {300}, cols);
  ExpectValues<float>(out[3], {1000}, rows);
}

TEST_F(Reduce, LongFloatSumsStayAccurate) {
  // 0.1f summed 200000 times down columns and 1e6 times along rows. Summing
  // sequentially in float drifts by ~1e-4 relative; the kernels sum in blocks,
  // bounding the error by (block length + number of blocks) * eps:
  // (256 + 782) * 6e-8 = 6.2e-5 for columns, (16384/8 + 62) * 6e-8 = 1.3e-4
  // for rows (Eigen sums a block with 8-lane vectors).
  loom_output cols = B("Fill", {Const<int32_t>({2}, {200000, 3}), Scalar<float>(0.1f)});
  loom_output rows = B("Fill", {Const<int32_t>({2}, {2, 1000000}), Scalar<float>(0.1f)});
  auto out = RunOk({R("Sum", cols, {0}), R("Sum", rows, {1}), R("Mean", rows, {1})});
  const double c = 200000 * static_cast<double>(0.1f), r = 1000000 * static_cast<double>(0.1f);
  ExpectNear<float>(out[0], {3}, {static_cast<float>(c), static_cast<float>(c), static_cast<float>(c)}, 6.2e-5);
  ExpectNear<float>(out[1], {2}, {static_cast<float>(r), static_cast<float>(r)}, 1.3e-4);
  ExpectNear<float>(out[2], {2}, {0.1f, 0.1f}, 1.3e-4);
}

TEST_F(Reduce, ArgMaxArgMinPickTheFirstOfTies) {
  loom_output x = Const<float>({2, 3}, {1, 5, 5, 7, 2, 7});
  auto out = RunOk({B("ArgMax", {x, Scalar<int32_t>(1)}), B("ArgMax", {x, Scalar<int32_t>(0)}),
                    B("ArgMin", {x, Scalar<int64_t>(-1)}),
                    B("ArgMax", {x, Scalar<int32_t>(1)}, Type("output_type", LOOM_DTYPE_INT32))});
  ExpectValues<int64_t>(out[0], {2}, {1, 0});
  ExpectValues<int64_t>(out[1], {3}, {1, 0, 1});
  ExpectValues<int64_t>(out[2], {2}, {0, 1});
  ExpectValues<int32_t>(out[3], {2}, {1, 0});
}

TEST_F(Reduce, ArgMaxOverAnEmptyAxisIsInvalidArgument) {
  loom_output x = Unknown(LOOM_DTYPE_FLOAT, "x");
  loom_output y = B("ArgMax", {x, Scalar<int32_t>(1)}, {}, "am");
  TensorPtr v = MakeTensor<float>({2, 0}, {});
  ExpectError(RunErr({y}, {x}, {v.get()}), "INVALID_ARGUMENT", {"empty", "[2,0]", "am"});
}

TEST_F(Reduce, L2LossIsHalfTheSumOfSquares) {
  auto out = RunOk({B("L2Loss", {Const<float>({3}, {1, 2, 3})}),
                    B("L2Loss", {Const<double>({2, 2}, {1, 1, 1, 1})}),
                    B("L2Loss", {Const<float>({0}, {})})});
  ExpectValues<float>(out[0], {}, {7});
  ExpectValues<double>(out[1], {}, {2});
  ExpectValues<float>(out[2], {}, {0});
}

TEST_F(Reduce, BiasAddGradSumsAllButTheChannelDimension) {
  std::vector<float> v(8);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<float>(i);
  auto out = RunOk({B("BiasAddGrad", {Const<float>({2, 3}, k23)}),
                    B("BiasAddGrad", {Const<float>({2, 2, 2}, v)}, Str("data_format", "NCHW"))});
  ExpectValues<float>(out[0], {3}, {5, 7, 9});
  ExpectValues<float>(out[1], {2}, {0 + 1 + 4 + 5, 2 + 3 + 6 + 7});
}

TEST_F(Reduce, ColumnReductionsSplitOverRowsMatchAReference) {
  // Few columns over many rows: the rows are split into slices with their
  // own partials (BiasAddGrad of a [N, H, W, C] activation with small C).
  // Integer-valued floats keep the sums exact whatever the order; Max takes
  // a unique maximum per column placed in different slices.
  const int64_t rows = 18000, ch = 24;
  std::vector<float> g(static_cast<size_t>(rows * ch));
  std::vector<float> sum(ch, 0.0f), mx(ch);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < ch; ++c) {
      const float v = static_cast<float>((r * 7 + c * 13) % 11) - 5.0f;
      g[r * ch + c] = v;
      sum[c] += v;
    }
  for (int64_t c = 0; c < ch; ++c) {
    g[((c * 997) % rows) * ch + c] = 100.0f + static_cast<float>(c);
    mx[c] = 100.0f + static_cast<float>(c);
  }
  for (int64_t c = 0; c < ch; ++c) {  // recompute the sums with the maxima in place
    double s = 0;
    for (int64_t r = 0; r < rows; ++r) s += g[r * ch + c];
    sum[c] = static_cast<float>(s);
  }
  std::vector<int32_t> gi(g.begin(), g.end());
  std::vector<int32_t> sumi(sum.begin(), sum.end());
  loom_output x = Const<float>({rows / 30, 5, 6, ch}, g);
  auto out = RunOk({B("BiasAddGrad", {x}), R("Max", x, {0, 1, 2}),
                    R("Sum", Const<int32_t>({rows, ch}, gi), {0})});
  ExpectValues<float>(out[0], {ch}, sum);
  ExpectValues<float>(out[1], {ch}, mx);
  ExpectValues<int32_t>(out[2], {ch}, sumi);
}

TEST_F(Reduce, CumsumExclusiveAndReverse) {
  loom_output x = Const<int32_t>({4}, {1, 2, 3, 4});
  loom_output ax = Scalar<int32_t>(0);
  auto out = RunOk({B("Cumsum", {x, ax}), B("Cumsum", {x, ax}, Bool("exclusive", true)),
                    B("Cumsum", {x, ax}, Bool("reverse", true)),
                    B("Cumsum", {x, ax}, Attrs({Bool("exclusive", true), Bool("reverse", true)})),
                    B("Cumsum", {Const<float>({2, 2}, {1, 2, 3, 4}), Scalar<int32_t>(0)})});
  ExpectValues<int32_t>(out[0], {4}, {1, 3, 6, 10});
  ExpectValues<int32_t>(out[1], {4}, {0, 1, 3, 6});
  ExpectValues<int32_t>(out[2], {4}, {10, 9, 7, 4});
  ExpectValues<int32_t>(out[3], {4}, {9, 7, 4, 0});
  ExpectValues<float>(out[4], {2, 2}, {1, 2, 4, 6});
}

TEST_F(Reduce, UnsortedSegmentSumDropsNegativeIds) {
  loom_output y = B("UnsortedSegmentSum", {Const<float>({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
                                           Const<int32_t>({4}, {0, 2, 0, -1}),
                                           Scalar<int32_t>(3)});
  ExpectValues<float>(RunOk({y})[0], {3, 2}, {6, 8, 0, 0, 3, 4});
}

TEST_F(Reduce, UnsortedSegmentSumRejectsAnIdPastNumSegments) {
  loom_output y = B("UnsortedSegmentSum", {Const<float>({2}, {1, 2}),
                                           Const<int64_t>({2}, {0, 3}), Scalar<int32_t>(3)},
                    {}, "seg");
  ExpectError(RunErr({y}), "INVALID_ARGUMENT", {"segment_ids[1] = 3", "[0, 3)", "seg"});
}

}  // namespace
}  // namespace loomtest
