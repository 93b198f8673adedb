// MatMul, BatchMatMul and BatchMatMulV2 on the CPU device: hand-computed small
// products for every transpose combination, large products against a double
// reference (tolerance: k * eps_float * sum|a||b|, the standard bound for a
// float dot product of length k), integer products, empty shapes, errors.
#include <cmath>

#include "op_test_util.h"

namespace loomtest {
namespace {

class MatMul : public OpTest {
 protected:
  void CheckLarge(int m, int k, int n, bool ta, bool tb);
};

// a = [[1,2,3],[4,5,6]] (2x3), b = [[7,8],[9,10],[11,12]] (3x2): a*b = [[58,64],[139,154]].
const std::vector<float> kA = {1, 2, 3, 4, 5, 6};
const std::vector<float> kB = {7, 8, 9, 10, 11, 12};
// Transposed storage of the same matrices.
const std::vector<float> kAt = {1, 4, 2, 5, 3, 6};
const std::vector<float> kBt = {7, 9, 11, 8, 10, 12};

TEST_F(MatMul, TransposedInputsMatchReference) {
  auto mm = [&](const std::vector<float>& a, std::vector<int64_t> as, const std::vector<float>& b,
                std::vector<int64_t> bs, bool ta, bool tb) {
    return B("MatMul", {Const<float>(as, a), Const<float>(bs, b)},
             Attrs({Bool("transpose_a", ta), Bool("transpose_b", tb)}));
  };
  auto out = RunOk({mm(kA, {2, 3}, kB, {3, 2}, false, false), mm(kAt, {3, 2}, kB, {3, 2}, true, false),
                    mm(kA, {2, 3}, kBt, {2, 3}, false, true), mm(kAt, {3, 2}, kBt, {2, 3}, true, true)});
  for (int i = 0; i < 4; ++i) ExpectValues<float>(out[i], {2, 2}, {58, 64, 139, 154});
}

TEST_F(MatMul, IntegerAndDoubleProducts) {
  auto out = RunOk({B("MatMul", {Const<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6}),
                                 Const<int32_t>({3, 2}, {7, 8, 9, 10, 11, 12})}),
                    B("MatMul", {Const<double>({1, 2}, {0.5, 0.25}), Const<double>({2, 1}, {2, 4})})});
  ExpectValues<int32_t>(out[0], {2, 2}, {58, 64, 139, 154});
  ExpectValues<double>(out[1], {1, 1}, {2});
}

void MatMul::CheckLarge(int m, int k, int n, bool ta, bool tb) {
  std::vector<float> a(static_cast<size_t>(m) * k), b(static_cast<size_t>(k) * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.37f * static_cast<float>(i));
  for (size_t i = 0; i < b.size(); ++i) b[i] = std::cos(0.11f * static_cast<float>(i));
  auto A = [&](int i, int p) { return ta ? a[static_cast<size_t>(p) * m + i] : a[static_cast<size_t>(i) * k + p]; };
  auto Bv = [&](int p, int j) { return tb ? b[static_cast<size_t>(j) * k + p] : b[static_cast<size_t>(p) * n + j]; };
  std::vector<int64_t> as = ta ? std::vector<int64_t>{k, m} : std::vector<int64_t>{m, k};
  std::vector<int64_t> bs = tb ? std::vector<int64_t>{n, k} : std::vector<int64_t>{k, n};
  loom_output y = B("MatMul", {Const<float>(as, a), Const<float>(bs, b)},
                       Attrs({Bool("transpose_a", ta), Bool("transpose_b", tb)}));
  auto out = RunOk({y});
  ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{m, n}));
  std::vector<float> got = out[0].values<float>();
  const double eps = 1.2e-7;
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int p = 0; p < k; ++p) {
        ref += static_cast<double>(A(i, p)) * Bv(p, j);
        mag += std::fabs(static_cast<double>(A(i, p)) * Bv(p, j));
      }
      ASSERT_LE(std::fabs(got[static_cast<size_t>(i) * n + j] - ref), k * eps * mag + 1e-30)
          << "at (" << i << "," << j << ")";
    }
  }
}

TEST_F(MatMul, LargeProductsSplitByRowsMatchDoubleReference) { CheckLarge(300, 257, 130, false, false); }
TEST_F(MatMul, LargeProductsSplitByColumnsMatchDoubleReference) { CheckLarge(7, 300, 700, false, false); }
TEST_F(MatMul, LargeTransposedProductsMatchDoubleReference) { CheckLarge(200, 150, 180, true, true); }

TEST_F(MatMul, EmptyInnerDimensionGivesZeros) {
  auto out = RunOk({B("MatMul", {Const<float>({2, 0}, {}), Const<float>({0, 3}, {})}),
                    B("MatMul", {Const<float>({0, 4}, {}), Const<float>({4, 3}, std::vector<float>(12, 1))})});
  ExpectValues<float>(out[0], {2, 3}, {0, 0, 0, 0, 0, 0});
  ExpectValues<float>(out[1], {0, 3}, {});
}

TEST_F(MatMul, MismatchedInnerDimensionsNameBothShapes) {
  loom_output a = Unknown(LOOM_DTYPE_FLOAT, "a");
  loom_output y = B("MatMul", {a, Const<float>({3, 2}, kB)}, {}, "product");
  TensorPtr av = MakeTensor<float>({2, 2}, {1, 2, 3, 4});
  ExpectError(RunErr({y}, {a}, {av.get()}), "INVALID_ARGUMENT",
              {"Matrix size-incompatible", "[2,2]", "[3,2]", "product"});
}

TEST_F(MatMul, NonMatrixInputIsInvalidArgument) {
  loom_output a = Unknown(LOOM_DTYPE_FLOAT, "a");
  loom_output y = B("MatMul", {a, Const<float>({3, 2}, kB)}, {}, "mm");
  TensorPtr av = MakeTensor<float>({3}, {1, 2, 3});
  ExpectError(RunErr({y}, {a}, {av.get()}), "INVALID_ARGUMENT", {"not a matrix", "[3]", "mm"});
}

TEST_F(MatMul, BatchMatMulMultipliesEachPairAndHonoursAdjoints) {
  // Batch 0: kA * kB; batch 1: identity-ish products.
  std::vector<float> x = kA, y = kB;
  x.insert(x.end(), {1, 0, 0, 0, 1, 0});     // [[1,0,0],[0,1,0]]
  y.insert(y.end(), {1, 2, 3, 4, 5, 6});     // [[1,2],[3,4],[5,6]]
  std::vector<float> xt = kAt, yt = kBt;
  xt.insert(xt.end(), {1, 0, 0, 1, 0, 0});
  yt.insert(yt.end(), {1, 3, 5, 2, 4, 6});
  auto out = RunOk({B("BatchMatMul", {Const<float>({2, 2, 3}, x), Const<float>({2, 3, 2}, y)}),
                    B("BatchMatMulV2", {Const<float>({2, 3, 2}, xt), Const<float>({2, 2, 3}, yt)},
                      Attrs({Bool("adj_x", true), Bool("adj_y", true)}))});
  ExpectValues<float>(out[0], {2, 2, 2}, {58, 64, 139, 154, 1, 2, 3, 4});
  ExpectValues<float>(out[1], {2, 2, 2}, {58, 64, 139, 154, 1, 2, 3, 4});
}

TEST_F(MatMul, BatchMatMulV2BroadcastsBatchDimensions) {
  // x [2,1,2,3] (two batches), y [3,3,2] (three batches) -> [2,3,2,2].
  std::vector<float> x = kA;
  x.insert(x.end(), {1, 0, 0, 0, 1, 0});
  std::vector<float> y;
  for (int b = 0; b < 3; ++b)
    for (int i = 0; i < 6; ++i) y.push_back(static_cast<float>(b + 1) * kB[i]);
  auto out = RunOk({B("BatchMatMulV2", {Const<float>({2, 1, 2, 3}, x), Const<float>({3, 3, 2}, y)})});
  std::vector<float> want;
  for (int xb = 0; xb < 2; ++xb)
    for (int yb = 0; yb < 3; ++yb) {
      const float s = static_cast<float>(yb + 1);
      if (xb == 0) want.insert(want.end(), {58 * s, 64 * s, 139 * s, 154 * s});
      else want.insert(want.end(), {7 * s, 8 * s, 9 * s, 10 * s});
    }
  ExpectValues<float>(out[0], {2, 3, 2, 2}, want);
}

TEST_F(MatMul, BatchMatMulRejectsDifferentBatchDimensions) {
  loom_output x = Unknown(LOOM_DTYPE_FLOAT, "x");
  loom_output y = B("BatchMatMul", {x, Const<float>({3, 3, 2}, std::vector<float>(18, 1))}, {}, "bmm");
  TensorPtr xv = MakeTensor<float>({2, 2, 3}, std::vector<float>(12, 1));
  ExpectError(RunErr({y}, {x}, {xv.get()}), "INVALID_ARGUMENT", {"[2,2,3]", "[3,3,2]", "bmm"});
}

}  // namespace
}  // namespace loomtest
