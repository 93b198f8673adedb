// Random ops on the CPU device. Promises under test: the same (seed, seed2)
// gives the same numbers in every fresh session; successive runs of one node
// continue its stream (differ from each other, and repeat in the same order
// in a fresh session); the distributions have the right support and moments.
//
// Moment tolerances are ~6 standard errors for n = 200000 samples, so a
// correct generator fails them with probability < 1e-8:
//   uniform mean: sd 0.2887/sqrt(n) = 6.5e-4 -> 4e-3
//   normal mean:  sd 1/sqrt(n) = 2.2e-3     -> 0.014; variance: sd sqrt(2/n) = 3.2e-3 -> 0.02
//   truncated normal (|x| < 2) variance 0.7737 -> 0.02
#include <cmath>

#include "op_test_util.h"

namespace loomtest {
namespace {

class Random : public OpTest {
 protected:
  loom_output Rand(const char* op, int64_t n, int64_t seed, int64_t seed2,
                   loom_dtype dt = LOOM_DTYPE_FLOAT) {
    return B(op, {Const<int64_t>({1}, {n})},
             Attrs({Type("dtype", dt), Int("seed", seed), Int("seed2", seed2)}));
  }
  // Runs `o` in a new session over the same graph (fresh kernel state).
  std::vector<float> RunFresh(loom_output o, int times = 1) {
    loom_session* s = nullptr;
    EXPECT_EQ(Take(loom_session_new(g_, nullptr, &s)), "");
    std::vector<float> all;
    for (int i = 0; i < times; ++i) {
      loom_tensor* t = nullptr;
      EXPECT_EQ(Take(loom_session_run(s, nullptr, nullptr, 0, &o, 1, nullptr, 0, &t)), "");
      TensorPtr p(t);
      std::vector<float> v = p.values<float>();
      all.insert(all.end(), v.begin(), v.end());
    }
    loom_session_free(s);
    return all;
  }
};

void Moments(const std::vector<float>& v, double* mean, double* var) {
  double s = 0, s2 = 0;
  for (float x : v) {
    s += x;
    s2 += static_cast<double>(x) * x;
  }
  *mean = s / v.size();
  *var = s2 / v.size() - *mean * *mean;
}

TEST_F(Random, SameSeedsGiveTheSameNumbersInFreshSessions) {
  loom_output u = Rand("RandomUniform", 1000, 42, 7);
  std::vector<float> a = RunFresh(u), b = RunFresh(u);
  EXPECT_EQ(a, b);
  // Another node with the same seeds gives the same numbers too (no hidden
  // per-process counter); a different seed2 gives others.
  EXPECT_EQ(RunFresh(Rand("RandomUniform", 1000, 42, 7)), a);
  EXPECT_NE(RunFresh(Rand("RandomUniform", 1000, 42, 8)), a);
}

TEST_F(Random, SuccessiveRunsAdvanceTheStreamReproducibly) {
  loom_output n = Rand("RandomStandardNormal", 64, 1, 2);
  std::vector<float> three = RunFresh(n, 3);
  ASSERT_EQ(three.size(), 192u);
  EXPECT_NE(std::vector<float>(three.begin(), three.begin() + 64),
            std::vector<float>(three.begin() + 64, three.begin() + 128));
  EXPECT_EQ(RunFresh(n, 3), three);
}

TEST_F(Random, ZeroSeedsAreNondeterministic) {
  loom_output u = Rand("RandomUniform", 100, 0, 0);
  EXPECT_NE(RunFresh(u), RunFresh(u));
}

TEST_F(Random, UniformIsInTheUnitIntervalWithMeanOneHalf) {
  auto v = RunFresh(Rand("RandomUniform", 200000, 3, 4));
  for (float x : v) ASSERT_TRUE(x >= 0.0f && x < 1.0f) << x;
  double mean, var;
  Moments(v, &mean, &var);
  EXPECT_NEAR(mean, 0.5, 4e-3);
  EXPECT_NEAR(var, 1.0 / 12, 4e-3);
}

TEST_F(Random, StandardNormalHasMeanZeroAndUnitVariance) {
  double mean, var;
  Moments(RunFresh(Rand("RandomStandardNormal", 200000, 5, 6)), &mean, &var);
  EXPECT_NEAR(mean, 0.0, 0.014);
  EXPECT_NEAR(var, 1.0, 0.02);
}

TEST_F(Random, TruncatedNormalStaysWithinTwoStandardDeviations) {
  auto v = RunFresh(Rand("TruncatedNormal", 200000, 8, 9));
  for (float x : v) ASSERT_LT(std::fabs(x), 2.0f);
  double mean, var;
  Moments(v, &mean, &var);
  EXPECT_NEAR(mean, 0.0, 0.014);
  EXPECT_NEAR(var, 0.7737, 0.02);
}

TEST_F(Random, DoubleSamplesAndEmptyShapes) {
  loom_output d = Rand("RandomUniform", 1000, 1, 1, LOOM_DTYPE_DOUBLE);
  loom_output e = Rand("TruncatedNormal", 0, 1, 1);
  auto out = RunOk({d, e});
  ASSERT_EQ(loom_tensor_dtype(out[0].get()), LOOM_DTYPE_DOUBLE);
  for (double x : out[0].values<double>()) ASSERT_TRUE(x >= 0.0 && x < 1.0);
  ExpectValues<float>(out[1], {0}, {});
}

TEST_F(Random, NegativeShapeIsInvalidArgument) {
  loom_output s = Unknown(LOOM_DTYPE_INT32, "s");
  loom_output u = B("RandomUniform", {s}, Type("dtype", LOOM_DTYPE_FLOAT), "rnd");
  TensorPtr sv = MakeTensor<int32_t>({2}, {2, -1});
  ExpectError(RunErr({u}, {s}, {sv.get()}), "INVALID_ARGUMENT", {"-1", "rnd"});
}

}  // namespace
}  // namespace loomtest
