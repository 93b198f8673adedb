// Elementwise ops on the CPU device: unary math against <cmath>, binary ops
// with numpy broadcasting, integer division semantics, comparisons, logic,
// Select/SelectV2, Cast, AddN, BiasAdd, the activation gradients, and the
// errors of bad inputs.
//
// Tolerances: float unary math is checked to 4 ulp-ish relative error (4e-6;
// Eigen's vectorised exp/log/tanh/sin are accurate to ~2 ulp); arithmetic
// that is exact in float (+, -, *, small integers) is compared exactly.
#include <cmath>
#include <limits>

#include "op_test_util.h"

namespace loomtest {
namespace {

class Elementwise : public OpTest {
 protected:
  // Applies a float unary op to xs and checks it against f within rtol.
  void CheckUnary(const char* op, const std::vector<float>& xs, float (*f)(float),
                  double rtol = 4e-6, double atol = 1e-7) {
    loom_output y = B(op, {Const<float>({static_cast<int64_t>(xs.size())}, xs)});
    std::vector<float> want;
    for (float x : xs) want.push_back(f(x));
    auto out = RunOk({y});
    SCOPED_TRACE(op);
    ExpectNear<float>(out[0], {static_cast<int64_t>(xs.size())}, want, rtol, atol);
  }
};

const std::vector<float> kPositive = {0.001f, 0.5f, 1.0f, 2.5f, 10.0f, 88.0f};
const std::vector<float> kAny = {-20.0f, -3.5f, -1.0f, -0.25f, 0.0f, 0.3f, 1.0f, 4.0f, 20.0f};

TEST_F(Elementwise, FloatUnaryMathMatchesCmath) {
  CheckUnary("Exp", {-80.f, -3.5f, -1.f, 0.f, 0.3f, 1.f, 4.f, 20.f, 80.f},
             [](float x) { return std::exp(x); });
  CheckUnary("Log", kPositive, [](float x) { return std::log(x); });
  CheckUnary("Log1p", {-0.5f, -1e-5f, 0.f, 1e-5f, 0.3f, 1.f, 100.f},
             [](float x) { return std::log1p(x); });
  CheckUnary("Sqrt", kPositive, [](float x) { return std::sqrt(x); });
  CheckUnary("Rsqrt", kPositive, [](float x) { return 1.0f / std::sqrt(x); });
  CheckUnary("Square", kAny, [](float x) { return x * x; });
  CheckUnary("Neg", kAny, [](float x) { return -x; });
  CheckUnary("Abs", kAny, [](float x) { return std::fabs(x); });
  CheckUnary("Relu", kAny, [](float x) { return x > 0 ? x : 0.0f; });
  CheckUnary("Sigmoid", kAny, [](float x) { return 1.0f / (1.0f + std::exp(-x)); });
  CheckUnary("Tanh", kAny, [](float x) { return std::tanh(x); });
  CheckUnary("Reciprocal", kPositive, [](float x) { return 1.0f / x; });
  CheckUnary("Sign", kAny, [](float x) { return x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f); });
  CheckUnary("Floor", kAny, [](float x) { return std::floor(x); });
  CheckUnary("Ceil", kAny, [](float x) { return std::ceil(x); });
  CheckUnary("Sin", kAny, [](float x) { return std::sin(x); });
  CheckUnary("Cos", kAny, [](float x) { return std::cos(x); });
  const std::vector<float> kUnit = {-1.f, -0.75f, -0.1f, 0.f, 0.3f, 0.9f, 1.f};
  CheckUnary("Erf", kAny, [](float x) { return std::erf(x); });
  CheckUnary("Expm1", {-20.f, -1.f, -1e-5f, 0.f, 1e-5f, 0.3f, 4.f, 20.f},
             [](float x) { return std::expm1(x); });
  CheckUnary("Tan", {-1.5f, -0.7f, 0.f, 0.2f, 1.f, 1.5f}, [](float x) { return std::tan(x); });
  CheckUnary("Asin", kUnit, [](float x) { return std::asin(x); });
  CheckUnary("Acos", kUnit, [](float x) { return std::acos(x); });
  CheckUnary("Atan", kAny, [](float x) { return std::atan(x); });
  CheckUnary("Sinh", {-10.f, -1.f, -0.25f, 0.f, 0.5f, 3.f, 10.f}, [](float x) { return std::sinh(x); });
  CheckUnary("Cosh", {-10.f, -1.f, -0.25f, 0.f, 0.5f, 3.f, 10.f}, [](float x) { return std::cosh(x); });
}

TEST_F(Elementwise, IsNanIsInfIsFiniteClassifyEveryKindOfFloat) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  loom_output x = Const<float>({6}, {0.f, -1.5f, inf, -inf, nan, 3e38f});
  auto out = RunOk({B("IsNan", {x}), B("IsInf", {x}), B("IsFinite", {x})});
  ExpectValues<bool>(out[0], {6}, {false, false, false, false, true, false});
  ExpectValues<bool>(out[1], {6}, {false, false, true, true, false, false});
  ExpectValues<bool>(out[2], {6}, {true, true, false, false, false, true});
}

TEST_F(Elementwise, Atan2TakesYThenXInEveryQuadrant) {
  loom_output y = Const<float>({5}, {1.f, 1.f, -1.f, -1.f, 0.f});
  loom_output x = Const<float>({5}, {1.f, -1.f, -1.f, 1.f, -2.f});
  const float pi = 3.14159265358979f;
  ExpectNear<float>(RunOk({B("Atan2", {y, x})})[0], {5},
                    {pi / 4, 3 * pi / 4, -3 * pi / 4, -pi / 4, pi}, 1e-6);
}

// TensorFlow's activations, against their definitions in nn_ops.cc there.
TEST_F(Elementwise, ActivationsMatchTheirDefinitions) {
  static constexpr double kScale = 1.0507009873554804934193349852946;
  static constexpr double kAlpha = 1.6732632423543772848170429916717;
  const std::vector<float> kAround6 = {-3.f, -0.f, 0.5f, 5.99f, 6.f, 6.01f, 100.f};
  CheckUnary("Relu6", kAround6, [](float x) { return std::min(std::max(x, 0.0f), 6.0f); });
  CheckUnary("Elu", kAny, [](float x) { return x < 0 ? std::expm1(x) : x; });
  CheckUnary("Selu", kAny, [](float x) {
    return static_cast<float>(x < 0 ? kScale * kAlpha * std::expm1(double{x}) : kScale * x);
  });
  CheckUnary("Softsign", kAny, [](float x) { return x / (std::fabs(x) + 1); });
  // LeakyRelu: alpha from the attr, 0.2 by default as in TensorFlow.
  loom_output x = Const<float>({4}, {-2.f, -0.5f, 0.f, 3.f});
  auto out = RunOk({B("LeakyRelu", {x}, Float("alpha", 0.1f)), B("LeakyRelu", {x})});
  ExpectNear<float>(out[0], {4}, {-0.2f, -0.05f, 0.f, 3.f}, 1e-7);
  ExpectNear<float>(out[1], {4}, {-0.4f, -0.1f, 0.f, 3.f}, 1e-7);
}

TEST_F(Elementwise, ActivationGradientsMatchTheirDefinitions) {
  const float kScale = 1.0507009873554804934193349852946f;
  const float kScaleAlpha = 1.7580993408473768599402175208123f;
  loom_output g = Const<float>({4}, {1.f, 2.f, -1.f, 0.5f});
  loom_output f = Const<float>({4}, {-1.f, 0.5f, 6.f, 3.f});      // features
  loom_output y = Const<float>({4}, {-0.5f, 0.f, 2.f, -0.25f});   // Elu/Selu outputs
  auto out = RunOk({B("Relu6Grad", {g, f}), B("EluGrad", {g, y}), B("SeluGrad", {g, y}),
                    B("SoftsignGrad", {g, f}), B("LeakyReluGrad", {g, f}, Float("alpha", 0.3f))});
  ExpectValues<float>(out[0], {4}, {0.f, 2.f, 0.f, 0.5f});  // passes where 0 < f < 6
  ExpectNear<float>(out[1], {4}, {0.5f, 2.f, -1.f, 0.375f}, 1e-7);  // y < 0: g * (y + 1)
  ExpectNear<float>(out[2], {4},
                    {1.f * (-0.5f + kScaleAlpha), 2.f * kScale, -kScale,
                     0.5f * (-0.25f + kScaleAlpha)}, 1e-6);
  ExpectNear<float>(out[3], {4}, {0.25f, 2.f / 2.25f, -1.f / 49.f, 0.5f / 16.f}, 1e-6);
  ExpectNear<float>(out[4], {4}, {0.3f, 2.f, -1.f, 0.5f}, 1e-7);
}

TEST_F(Elementwise, RoundIsHalfToEven) {
  loom_output y = B("Round", {Const<float>({7}, {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 2.6f})});
  ExpectValues<float>(RunOk({y})[0], {7}, {-2.f, -2.f, -0.f, 0.f, 2.f, 2.f, 3.f});
}

TEST_F(Elementwise, SoftplusIsStableForLargeInputs) {
  // log(1 + e^x): ~x for large x, ~e^x for very negative x, log 2 at 0. The
  // absolute tolerance admits exp() flushing results below FLT_MIN (1.2e-38),
  // as Eigen's (and so TensorFlow's) vectorised exp does.
  loom_output y = B("Softplus", {Const<float>({5}, {-100.f, -10.f, 0.f, 10.f, 100.f})});
  ExpectNear<float>(RunOk({y})[0], {5},
                    {3.720076e-44f, 4.5398899e-05f, 0.6931472f, 10.0000454f, 100.f}, 1e-5,
                    2e-38);
}

TEST_F(Elementwise, DoubleUnaryMathIsFullPrecision) {
  loom_output y = B("Exp", {Const<double>({3}, {-1.0, 0.5, 3.0})});
  ExpectNear<double>(RunOk({y})[0], {3}, {std::exp(-1.0), std::exp(0.5), std::exp(3.0)}, 1e-14);
}

TEST_F(Elementwise, IntegerUnaryOps) {
  loom_output x = Const<int32_t>({4}, {-3, 0, 2, -7});
  auto out = RunOk({B("Neg", {x}), B("Abs", {x}), B("Square", {x}), B("Sign", {x})});
  ExpectValues<int32_t>(out[0], {4}, {3, 0, -2, 7});
  ExpectValues<int32_t>(out[1], {4}, {3, 0, 2, 7});
  ExpectValues<int32_t>(out[2], {4}, {9, 0, 4, 49});
  ExpectValues<int32_t>(out[3], {4}, {-1, 0, 1, -1});
}

TEST_F(Elementwise, AddSameShape) {
  loom_output y = B("Add", {Const<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                            Const<float>({2, 3}, {10, 20, 30, 40, 50, 60})});
  ExpectValues<float>(RunOk({y})[0], {2, 3}, {11, 22, 33, 44, 55, 66});
}

TEST_F(Elementwise, AddV2BroadcastsARowVectorOverRows) {
  loom_output y = B("AddV2", {Const<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                              Const<float>({3}, {10, 20, 30})});
  ExpectValues<float>(RunOk({y})[0], {2, 3}, {11, 22, 33, 14, 25, 36});
}

TEST_F(Elementwise, SubBroadcastsAColumnAgainstARow) {
  loom_output y = B("Sub", {Const<float>({2, 1}, {10, 20}), Const<float>({1, 3}, {1, 2, 3})});
  ExpectValues<float>(RunOk({y})[0], {2, 3}, {9, 8, 7, 19, 18, 17});
}

TEST_F(Elementwise, ScalarMinusTensorInt32) {
  loom_output y = B("Sub", {Scalar<int32_t>(10), Const<int32_t>({3}, {1, 2, 3})});
  ExpectValues<int32_t>(RunOk({y})[0], {3}, {9, 8, 7});
}

TEST_F(Elementwise, MulBroadcastsInThreeDimensions) {
  // [2,1,3] * [1,2,1] -> [2,2,3]: out[i,j,k] = a[i,0,k] * b[0,j,0].
  loom_output y = B("Mul", {Const<int64_t>({2, 1, 3}, {1, 2, 3, 4, 5, 6}),
                            Const<int64_t>({1, 2, 1}, {10, 100})});
  ExpectValues<int64_t>(RunOk({y})[0], {2, 2, 3},
                        {10, 20, 30, 100, 200, 300, 40, 50, 60, 400, 500, 600});
}

TEST_F(Elementwise, BroadcastingMiddleAxisOfRank4) {
  // a [2,3,1,2] + b [3,4,1]: out [2,3,4,2], out[i,j,k,l] = a[i,j,0,l] + b[j,k,0].
  std::vector<float> a(12), b(12);
  for (int i = 0; i < 12; ++i) a[i] = static_cast<float>(i);
  for (int i = 0; i < 12; ++i) b[i] = static_cast<float>(100 * i);
  loom_output y = B("Add", {Const<float>({2, 3, 1, 2}, a), Const<float>({3, 4, 1}, b)});
  std::vector<float> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k)
        for (int l = 0; l < 2; ++l) want.push_back(a[i * 6 + j * 2 + l] + b[j * 4 + k]);
  ExpectValues<float>(RunOk({y})[0], {2, 3, 4, 2}, want);
}

TEST_F(Elementwise, LargeBroadcastUsesThePoolAndStaysCorrect) {
  // 512 x 1000 + 1000 (row bias) and 512 x 1000 * 512 x 1 (column scale).
  const int r = 512, c = 1000;
  std::vector<float> a(r * c), bias(c), col(r);
  for (int i = 0; i < r * c; ++i) a[i] = static_cast<float>(i % 97);
  for (int j = 0; j < c; ++j) bias[j] = static_cast<float>(j);
  for (int i = 0; i < r; ++i) col[i] = static_cast<float>(i % 5);
  loom_output x = Const<float>({r, c}, a);
  auto out = RunOk({B("Add", {x, Const<float>({c}, bias)}), B("Mul", {x, Const<float>({r, 1}, col)})});
  std::vector<float> add(r * c), mul(r * c);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < c; ++j) {
      add[i * c + j] = a[i * c + j] + bias[j];
      mul[i * c + j] = a[i * c + j] * col[i];
    }
  ExpectValues<float>(out[0], {r, c}, add);
  ExpectValues<float>(out[1], {r, c}, mul);
}

TEST_F(Elementwise, EmptyTensorsBroadcastToEmptyResults) {
  auto out = RunOk({B("Add", {Const<float>({0, 3}, {}), Const<float>({3}, {1, 2, 3})}),
                    B("Exp", {Const<float>({0}, {})}),
                    B("Less", {Const<int32_t>({2, 0}, {}), Scalar<int32_t>(1)})});
  ExpectValues<float>(out[0], {0, 3}, {});
  ExpectValues<float>(out[1], {0}, {});
  ExpectValues<bool>(out[2], {2, 0}, {});
}

TEST_F(Elementwise, IntegerDivTruncatesFloorDivAndFloorModFloor) {
  loom_output a = Const<int32_t>({4}, {-7, 7, -7, 7});
  loom_output b = Const<int32_t>({4}, {2, 2, -2, -2});
  auto out = RunOk({B("Div", {a, b}), B("FloorDiv", {a, b}), B("FloorMod", {a, b})});
  ExpectValues<int32_t>(out[0], {4}, {-3, 3, 3, -3});
  ExpectValues<int32_t>(out[1], {4}, {-4, 3, 3, -4});
  ExpectValues<int32_t>(out[2], {4}, {1, 1, -1, -1});
}

TEST_F(Elementwise, FloatFloorDivAndFloorModFollowPython) {
  loom_output a = Const<float>({4}, {-7.5f, 7.5f, -7.5f, 7.5f});
  loom_output b = Const<float>({4}, {2, 2, -2, -2});
  auto out = RunOk({B("FloorDiv", {a, b}), B("FloorMod", {a, b}), B("RealDiv", {a, b})});
  ExpectValues<float>(out[0], {4}, {-4, 3, 3, -4});
  ExpectValues<float>(out[1], {4}, {0.5f, 1.5f, -1.5f, -0.5f});
  ExpectValues<float>(out[2], {4}, {-3.75f, 3.75f, 3.75f, -3.75f});
}

TEST_F(Elementwise, IntegerDivisionByZeroIsInvalidArgument) {
  loom_output y = B("FloorDiv", {Const<int32_t>({2}, {1, 2}), Const<int32_t>({2}, {1, 0})},
                    {}, "quotient");
  ExpectError(RunErr({y}), "INVALID_ARGUMENT", {"Integer division by zero", "quotient"});
}

// TensorFlow never reads a divisor for an empty result: the gradient of a
// scalar's Sum computes (axes + rank) % rank with rank 0 and no axes.
TEST_F(Elementwise, IntegerDivisionWithAnEmptyResultChecksNoDivisor) {
  loom_output empty32 = Const<int32_t>({0}, {});
  loom_output zero32 = Const<int32_t>({}, {0});
  loom_output empty64 = Const<int64_t>({0, 2}, {});
  loom_output zeros64 = Const<int64_t>({2}, {0, 0});
  auto out = RunOk({B("FloorMod", {empty32, zero32}), B("FloorDiv", {zero32, empty32}),
                    B("Div", {empty64, zeros64}), B("FloorMod", {empty64, zeros64}),
                    B("Pow", {empty32, Const<int32_t>({}, {-1})})});
  ExpectValues<int32_t>(out[0], {0}, {});
  ExpectValues<int32_t>(out[1], {0}, {});
  ExpectValues<int64_t>(out[2], {0, 2}, {});
  ExpectValues<int64_t>(out[3], {0, 2}, {});
  ExpectValues<int32_t>(out[4], {0}, {});
  // A non-empty result still refuses the zero it would divide by.
  ExpectError(RunErr({B("FloorMod", {Const<int32_t>({1}, {3}), zero32}, {}, "mod")}),
              "INVALID_ARGUMENT", {"Integer division by zero", "mod"});
}

TEST_F(Elementwise, MaximumMinimumPowSquaredDifference) {
  loom_output a = Const<float>({4}, {1, -2, 3, 0.5f});
  loom_output b = Const<float>({4}, {2, -3, 3, 2});
  auto out = RunOk({B("Maximum", {a, b}), B("Minimum", {a, b}), B("Pow", {a, b}),
                    B("SquaredDifference", {a, b})});
  ExpectValues<float>(out[0], {4}, {2, -2, 3, 2});
  ExpectValues<float>(out[1], {4}, {1, -3, 3, 0.5f});
  ExpectNear<float>(out[2], {4}, {1, -0.125f, 27, 0.25f}, 1e-6);
  ExpectValues<float>(out[3], {4}, {1, 1, 0, 2.25f});
}

TEST_F(Elementwise, IntegerPowAndItsNegativeExponentError) {
  auto out = RunOk({B("Pow", {Const<int64_t>({3}, {2, -3, 5}), Const<int64_t>({3}, {10, 3, 0})})});
  ExpectValues<int64_t>(out[0], {3}, {1024, -27, 1});
  loom_output bad = B("Pow", {Const<int32_t>({1}, {2}), Const<int32_t>({1}, {-1})});
  ExpectError(RunErr({bad}), "INVALID_ARGUMENT", {"negative integer powers"});
}

TEST_F(Elementwise, IncompatibleShapesNameBothShapesAndTheOp) {
  loom_output a = Unknown(LOOM_DTYPE_FLOAT, "a");
  loom_output b = Unknown(LOOM_DTYPE_FLOAT, "b");
  loom_output y = B("Add", {a, b}, {}, "my_add");
  TensorPtr va = MakeTensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  TensorPtr vb = MakeTensor<float>({4}, {1, 2, 3, 4});
  ExpectError(RunErr({y}, {a, b}, {va.get(), vb.get()}), "INVALID_ARGUMENT",
              {"Incompatible shapes: [2,3] vs. [4]", "my_add"});
}

TEST_F(Elementwise, ComparisonsProduceBoolWithBroadcasting) {
  loom_output a = Const<float>({4}, {1, 2, 3, 4});
  loom_output t = Scalar<float>(2.5f);
  auto out = RunOk({B("Less", {a, t}), B("LessEqual", {a, Scalar<float>(2)}),
                    B("Greater", {a, t}), B("GreaterEqual", {a, Scalar<float>(3)}),
                    B("Equal", {a, Scalar<float>(4)}), B("NotEqual", {a, Scalar<float>(4)})});
  ExpectValues<bool>(out[0], {4}, {true, true, false, false});
  ExpectValues<bool>(out[1], {4}, {true, true, false, false});
  ExpectValues<bool>(out[2], {4}, {false, false, true, true});
  ExpectValues<bool>(out[3], {4}, {false, false, true, true});
  ExpectValues<bool>(out[4], {4}, {false, false, false, true});
  ExpectValues<bool>(out[5], {4}, {true, true, true, false});
}

TEST_F(Elementwise, EqualOnBoolsAndIntegerComparisons) {
  auto out = RunOk({B("Equal", {Const<bool>({3}, {true, false, true}), Scalar<bool>(true)}),
                    B("Greater", {Const<int64_t>({2}, {5, -5}), Const<int64_t>({2}, {-5, 5})})});
  ExpectValues<bool>(out[0], {3}, {true, false, true});
  ExpectValues<bool>(out[1], {2}, {true, false});
}

TEST_F(Elementwise, LogicalOps) {
  loom_output a = Const<bool>({4}, {true, true, false, false});
  loom_output b = Const<bool>({4}, {true, false, true, false});
  auto out = RunOk({B("LogicalAnd", {a, b}), B("LogicalOr", {a, b}), B("LogicalNot", {a}),
                    B("LogicalAnd", {a, Scalar<bool>(true)})});
  ExpectValues<bool>(out[0], {4}, {true, false, false, false});
  ExpectValues<bool>(out[1], {4}, {true, true, true, false});
  ExpectValues<bool>(out[2], {4}, {false, false, true, true});
  ExpectValues<bool>(out[3], {4}, {true, true, false, false});
}

TEST_F(Elementwise, SelectElementwiseByRowAndByScalar) {
  loom_output t = Const<float>({2, 2}, {1, 2, 3, 4});
  loom_output e = Const<float>({2, 2}, {-1, -2, -3, -4});
  auto out = RunOk({B("Select", {Const<bool>({2, 2}, {true, false, false, true}), t, e}),
                    B("Select", {Const<bool>({2}, {false, true}), t, e}),
                    B("Select", {Scalar<bool>(false), t, e})});
  ExpectValues<float>(out[0], {2, 2}, {1, -2, -3, 4});
  ExpectValues<float>(out[1], {2, 2}, {-1, -2, 3, 4});
  ExpectValues<float>(out[2], {2, 2}, {-1, -2, -3, -4});
}

TEST_F(Elementwise, SelectRejectsAConditionOfAnotherShape) {
  loom_output c = Unknown(LOOM_DTYPE_BOOL, "c");
  loom_output y = B("Select", {c, Const<float>({2, 2}, {1, 2, 3, 4}),
                               Const<float>({2, 2}, {5, 6, 7, 8})}, {}, "sel");
  TensorPtr cv = MakeTensor<bool>({3}, {true, false, true});
  ExpectError(RunErr({y}, {c}, {cv.get()}), "INVALID_ARGUMENT", {"[3]", "[2,2]", "sel"});
}

TEST_F(Elementwise, SelectV2BroadcastsAllThreeInputs) {
  // cond [2,1], then [1,3], else scalar -> [2,3].
  loom_output y = B("SelectV2", {Const<bool>({2, 1}, {true, false}),
                                 Const<int32_t>({1, 3}, {1, 2, 3}), Scalar<int32_t>(0)});
  ExpectValues<int32_t>(RunOk({y})[0], {2, 3}, {1, 2, 3, 0, 0, 0});
}

TEST_F(Elementwise, CastBetweenDtypes) {
  auto f2i = B("Cast", {Const<float>({4}, {-1.7f, -0.5f, 0.9f, 2.5f})},
               Attrs({Type("SrcT", LOOM_DTYPE_FLOAT), Type("DstT", LOOM_DTYPE_INT32)}));
  auto i2b = B("Cast", {Const<int32_t>({3}, {0, 5, -1})},
               Attrs({Type("SrcT", LOOM_DTYPE_INT32), Type("DstT", LOOM_DTYPE_BOOL)}));
  auto b2f = B("Cast", {Const<bool>({2}, {true, false})},
               Attrs({Type("SrcT", LOOM_DTYPE_BOOL), Type("DstT", LOOM_DTYPE_FLOAT)}));
  auto d2f = B("Cast", {Const<double>({2}, {0.1, 1e300})},
               Attrs({Type("SrcT", LOOM_DTYPE_DOUBLE), Type("DstT", LOOM_DTYPE_FLOAT)}));
  auto i2u8 = B("Cast", {Const<int32_t>({3}, {1, 255, 300})},
                Attrs({Type("SrcT", LOOM_DTYPE_INT32), Type("DstT", LOOM_DTYPE_UINT8)}));
  auto i64i8 = B("Cast", {Const<int64_t>({2}, {-1, 130})},
                 Attrs({Type("SrcT", LOOM_DTYPE_INT64), Type("DstT", LOOM_DTYPE_INT8)}));
  auto same = B("Cast", {Const<float>({1}, {3.5f})},
                Attrs({Type("SrcT", LOOM_DTYPE_FLOAT), Type("DstT", LOOM_DTYPE_FLOAT)}));
  auto out = RunOk({f2i, i2b, b2f, d2f, i2u8, i64i8, same});
  ExpectValues<int32_t>(out[0], {4}, {-1, 0, 0, 2});
  ExpectValues<bool>(out[1], {3}, {false, true, true});
  ExpectValues<float>(out[2], {2}, {1, 0});
  ExpectValues<float>(out[3], {2}, {0.1f, std::numeric_limits<float>::infinity()});
  ExpectValues<uint8_t>(out[4], {3}, {1, 255, 44});
  ExpectValues<int8_t>(out[5], {2}, {-1, -126});
  ExpectValues<float>(out[6], {1}, {3.5f});
}

TEST_F(Elementwise, AddNSumsEveryInput) {
  loom_output y = B("AddN", {In::List({Const<float>({2}, {1, 2}), Const<float>({2}, {10, 20}),
                                       Const<float>({2}, {100, 200})})});
  ExpectValues<float>(RunOk({y})[0], {2}, {111, 222});
}

TEST_F(Elementwise, AddNOfFedTensorsCanReuseABuffer) {
  // Placeholders fed with tensors the session does not own: the result must
  // still be right whichever buffer the runtime lets the kernel reuse.
  loom_output a = Placeholder(LOOM_DTYPE_INT32, {3}, "a");
  loom_output b = Placeholder(LOOM_DTYPE_INT32, {3}, "b");
  loom_output s = B("AddN", {In::List({B("Neg", {a}), b, B("Square", {b})})});
  TensorPtr va = MakeTensor<int32_t>({3}, {1, 2, 3}), vb = MakeTensor<int32_t>({3}, {4, 5, 6});
  auto out = RunOk({s}, {a, b}, {va.get(), vb.get()});
  ExpectValues<int32_t>(out[0], {3}, {19, 28, 39});
  EXPECT_EQ(va.values<int32_t>(), (std::vector<int32_t>{1, 2, 3}));  // feeds untouched
  EXPECT_EQ(vb.values<int32_t>(), (std::vector<int32_t>{4, 5, 6}));
}

TEST_F(Elementwise, BiasAddOnTheChannelDimension) {
  loom_output v = Const<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto nhwc = B("BiasAdd", {v, Const<float>({3}, {10, 20, 30})});
  // NCHW on [1,2,2,2]: channel is dim 1.
  auto nchw = B("BiasAdd", {Const<float>({1, 2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
                            Const<float>({2}, {100, 200})},
                Str("data_format", "NCHW"));
  auto out = RunOk({nhwc, nchw});
  ExpectValues<float>(out[0], {2, 3}, {11, 22, 33, 14, 25, 36});
  ExpectValues<float>(out[1], {1, 2, 2, 2}, {101, 102, 103, 104, 205, 206, 207, 208});
}

TEST_F(Elementwise, BiasAddRejectsABiasOfTheWrongSize) {
  loom_output bias = Unknown(LOOM_DTYPE_FLOAT, "bias");
  loom_output y = B("BiasAdd", {Const<float>({2, 3}, {1, 2, 3, 4, 5, 6}), bias}, {}, "ba");
  TensorPtr bv = MakeTensor<float>({2}, {1, 2});
  ExpectError(RunErr({y}, {bias}, {bv.get()}), "INVALID_ARGUMENT", {"[2]", "[2,3]", "ba"});
}

TEST_F(Elementwise, ActivationGradients) {
  loom_output y = Const<float>({3}, {0.25f, 0.5f, 0.8f});
  loom_output dy = Const<float>({3}, {1.0f, 2.0f, -1.0f});
  auto out = RunOk({B("ReluGrad", {dy, Const<float>({3}, {-1, 0, 2})}),
                    B("SigmoidGrad", {y, dy}), B("TanhGrad", {y, dy}), B("SqrtGrad", {y, dy}),
                    B("RsqrtGrad", {y, dy}), B("ReciprocalGrad", {y, dy}),
                    B("SoftplusGrad", {dy, Const<float>({3}, {0, 1, -2})})});
  ExpectValues<float>(out[0], {3}, {0, 0, -1});  // passes only where features > 0
  ExpectNear<float>(out[1], {3}, {0.1875f, 0.5f, -0.16f}, 1e-6);     // dy*y*(1-y)
  ExpectNear<float>(out[2], {3}, {0.9375f, 1.5f, -0.36f}, 1e-6);     // dy*(1-y^2)
  ExpectNear<float>(out[3], {3}, {2.0f, 2.0f, -0.625f}, 1e-6);       // dy*0.5/y
  ExpectNear<float>(out[4], {3}, {-0.0078125f, -0.125f, 0.256f}, 1e-6);  // -0.5*dy*y^3
  ExpectNear<float>(out[5], {3}, {-0.0625f, -0.5f, 0.64f}, 1e-6);    // -dy*y^2
  ExpectNear<float>(out[6], {3},                                      // dy*sigmoid(x)
                    {0.5f, 2.0f / (1.0f + std::exp(-1.0f)), -1.0f / (1.0f + std::exp(2.0f))},
                    1e-6);
}

TEST_F(Elementwise, ZerosLikeAndOnesLike) {
  loom_output x = Const<int64_t>({2, 2}, {5, 6, 7, 8});
  auto out = RunOk({B("ZerosLike", {x}), B("OnesLike", {x}),
                    B("OnesLike", {Const<bool>({2}, {false, false})})});
  ExpectValues<int64_t>(out[0], {2, 2}, {0, 0, 0, 0});
  ExpectValues<int64_t>(out[1], {2, 2}, {1, 1, 1, 1});
  ExpectValues<bool>(out[2], {2}, {true, true});
}

TEST_F(Elementwise, LargeUnaryOpsSplitAcrossThreadsMatchScalarCode) {
  const int n = 300000;
  std::vector<float> x(n);
  for (int i = 0; i < n; ++i) x[i] = -6.0f + 12.0f * static_cast<float>(i) / n;
  auto out = RunOk({B("Tanh", {Const<float>({n}, x)})});
  std::vector<float> want(n);
  for (int i = 0; i < n; ++i) want[i] = std::tanh(x[i]);
  ExpectNear<float>(out[0], {n}, want, 4e-6, 1e-7);
}

}  // namespace
}  // namespace loomtest
