// Element-wise ops: unary math, binary math with numpy broadcasting,
// comparisons and logic, activation gradients, Cast, BiasAdd, AddN.
//
// Tolerances. Add, Sub, Mul, Maximum, Minimum, Neg, Abs, Relu, Floor, Ceil,
// Round, Sign and the comparisons are exact: IEEE rounds one operation's
// exact result the same way on every device. Elsewhere OpenCL's accuracy
// table (OpenCL C 1.2, 7.4) bounds the device: x/y <= 2.5 ulp, sqrt <= 3,
// rsqrt <= 2, exp and log <= 3, log1p <= 2, tanh <= 5, sin/cos <= 4, pow
// <= 16; the CPU (Eigen) is within ~1-2 ulp of exact for each. Their
// difference is held to the sum, rounded up; results that can come near 0
// (log near 1, sin, tanh, differences) add an absolute term of the ulp of the
// operands, since an error of a few ulp of an input is what the bound allows.
#include <cmath>

#include "conformance.h"

namespace conformance {

namespace {

Case Unary(const char* op, const char* name, Input x, Tol tol = Exact()) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {std::move(x)};
  c.tol = tol;
  return c;
}

Case Binary(const char* op, const char* name, Input a, Input b, Tol tol = Exact()) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {std::move(a), std::move(b)};
  c.tol = tol;
  return c;
}

std::function<void(loom_op_builder*)> DstT(loom_dtype dt) {
  return [dt](loom_op_builder* b) { loom_op_builder_set_attr_type(b, "DstT", dt); };
}

}  // namespace

std::vector<Case> ElementwiseCases() {
  const Tol div = Rounded(3, "x/y: <= 2.5 ulp on OpenCL, 0.5 on the CPU");
  const Tol sqrt_tol = Rounded(4, "sqrt <= 3 ulp on OpenCL, 0.5 on the CPU");
  const Tol rsqrt = Rounded(4, "rsqrt <= 2 ulp on OpenCL; 1/sqrt(x) <= 1.5 ulp on the CPU");
  const Tol exp_tol = Rounded(6, "exp <= 3 ulp on OpenCL, ~2 on the CPU");
  const Tol log_tol = Summed(1.2e-7, 6 * 0x1p-24,
                             "log <= 3 ulp on OpenCL, ~2 on the CPU; near x=1 the result is ~0 "
                             "and an ulp of x (1.2e-7) is the absolute error allowed");
  const Tol tanh_tol = Summed(1.2e-7, 8 * 0x1p-24,
                              "tanh <= 5 ulp on OpenCL, ~2 on the CPU; ulp of x near 0");
  // The CPU's sigmoid is Eigen's logistic(), a fast approximation accurate to
  // ~1e-7 absolute, not in ulps: at x = -8.1187 it gives 2.97785e-4 where the
  // exact value is 2.97835e-4 (OpenCL: 2.978349e-4). So the bound is absolute.
  const Tol sigmoid = Summed(1e-7, 10 * 0x1p-24,
                             "OpenCL: exp (3 ulp) and a division (2.5); the CPU's Eigen "
                             "logistic() is a fast approximation good to ~1e-7 absolute");
  const Tol softplus = Summed(1e-9, 8 * 0x1p-24, "log1p (2 ulp) of exp (3 ulp), and the CPU's ~2");
  const Tol trig = Summed(4.8e-7, 6 * 0x1p-24,
                          "sin/cos <= 4 ulp on OpenCL, ~2 on the CPU; near a zero the result "
                          "is as exact as the argument (|x| <= 4: ulp 4.8e-7)");
  const Tol pow_tol = Rounded(20, "pow <= 16 ulp on OpenCL, ~2 on the CPU");

  std::vector<Case> v = {
      // ---- unary
      Unary("Neg", "values", Uniform({3, 5}, -4, 4)),
      Unary("Abs", "values", Given({6}, {-2, -0.5, 0, 0.5, 2, -1e30})),
      Unary("Square", "values", Uniform({17}, -3, 3)),
      Unary("Sign", "values", Given({5}, {-3, -0.25, 0, 0.25, 7})),
      Unary("Relu", "values", Uniform({4, 33}, -2, 2)),
      Unary("Relu", "empty", Given({0, 3}, {})),
      Unary("Round", "halves_to_even", Given({8}, {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.2, -3.7})),
      Unary("Floor", "values", Uniform({21}, -5, 5)),
      Unary("Ceil", "values", Uniform({21}, -5, 5)),
      Unary("Exp", "values", Uniform({1000}, -10, 10), exp_tol),
      Unary("Exp", "overflow_and_underflow", Given({4}, {-200, 200, 88, -87}), exp_tol),
      Unary("Log", "values", Uniform({1000}, 0.01, 100), log_tol),
      Unary("Log", "zero_and_negative", Given({3}, {0, -1, 1}), log_tol),
      Unary("Log1p", "values", Uniform({300}, -0.9, 10), log_tol),
      Unary("Sqrt", "values", Uniform({1000}, 0, 100), sqrt_tol),
      Unary("Rsqrt", "values", Uniform({1000}, 0.01, 100), rsqrt),
      Unary("Reciprocal", "values", Uniform({1000}, 0.1, 10), div),
      Unary("Tanh", "values", Uniform({1000}, -6, 6), tanh_tol),
      Unary("Sigmoid", "values", Uniform({1000}, -20, 20), sigmoid),
      Unary("Sigmoid", "saturated", Given({4}, {-100, 100, -1e4, 1e4}), sigmoid),
      Unary("Softplus", "values", Uniform({500}, -20, 20), softplus),
      Unary("Sin", "values", Uniform({500}, -4, 4), trig),
      Unary("Cos", "values", Uniform({500}, -4, 4), trig),
      // More of TensorFlow's unary math (the CPU only so far): Eigen's or
      // libm's within ~2-4 ulp of exact; near a zero of the result an ulp of
      // the argument is allowed as an absolute error.
      Unary("Erf", "values", Uniform({500}, -4, 4), trig),
      Unary("Expm1", "values", Uniform({500}, -10, 10), trig),
      Unary("Tan", "values", Uniform({500}, -1.4, 1.4), Rounded(8, "sin/cos, ~4 ulp each")),
      Unary("Asin", "values", Uniform({500}, -1, 1), trig),
      Unary("Acos", "values", Uniform({500}, -1, 1), trig),
      Unary("Atan", "values", Uniform({500}, -20, 20), trig),
      Unary("Sinh", "values", Uniform({500}, -10, 10), trig),
      Unary("Cosh", "values", Uniform({500}, -10, 10), trig),
      Binary("Atan2", "broadcast", Uniform({8, 5}, -3, 3), Uniform({5}, -3, 3), trig),
      Unary("IsNan", "specials", Given({5}, {0, NAN, INFINITY, -INFINITY, -2})),
      Unary("IsInf", "specials", Given({5}, {0, NAN, INFINITY, -INFINITY, -2})),
      Unary("IsFinite", "specials", Given({5}, {0, NAN, INFINITY, -INFINITY, -2})),
      // TensorFlow's other activations. Relu6 and LeakyRelu are exact (a
      // comparison, and one multiply by alpha). Elu/Selu take exp(x) - 1,
      // which cancels near 0, so exp's error (3 ulp OpenCL, ~2 CPU) of a
      // value near 1 becomes an absolute error of that many ulps of 1; Selu
      // scales it by 1.76 and adds a rounding. Softsign: an add and a division.
      Unary("Relu6", "values", Uniform({4, 33}, -3, 9)),
      Unary("Relu6", "edges", Given({6}, {-0.0, 0, 6, 6.0000005, 5.9999995, 1e30})),
      Unary("Elu", "values", Uniform({500}, -10, 5),
            Summed(6 * 0x1p-24, 6 * 0x1p-24, "exp(x) - 1: exp's 3 ulp near 1 on OpenCL, "
                                              "~2 on the CPU, as an absolute error")),
      Unary("Selu", "values", Uniform({500}, -10, 5),
            Summed(12 * 0x1p-24, 8 * 0x1p-24, "1.76 * (exp(x) - 1): Elu's bound, scaled, "
                                               "plus the product's rounding")),
      Unary("Softsign", "values", Uniform({500}, -50, 50),
            Rounded(4, "x / (|x| + 1): an add (0.5 ulp) and a division (2.5 OpenCL, 0.5 CPU)")),
      [&] { Case c = Unary("LeakyRelu", "alpha_0.1", Uniform({100}, -5, 5));
            c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_float(b, "alpha", 0.1f); };
            return c; }(),
      Unary("LeakyRelu", "default_alpha", Given({4}, {-2, -0.5, 0, 3})),
      Unary("Neg", "int32", Ints({7}, -100, 100)),
      Unary("LogicalNot", "bools", Given({4}, {0, 1, 1, 0}, LOOM_DTYPE_BOOL)),

      // ---- binary: equal shapes, scalars, rows, columns, both sides, empties
      Binary("Add", "same_shape", Uniform({5, 7}), Uniform({5, 7})),
      Binary("AddV2", "same_shape", Uniform({1000}), Uniform({1000})),
      Binary("AddV2", "scalar_right", Uniform({4, 9}), Scalar(0.25)),
      Binary("AddV2", "scalar_left", Scalar(-3), Uniform({4, 9})),
      Binary("AddV2", "row_vector", Uniform({6, 10}), Uniform({10})),
      Binary("AddV2", "column", Uniform({6, 10}), Uniform({6, 1})),
      Binary("AddV2", "outer", Uniform({6, 1}), Uniform({1, 10})),
      Binary("AddV2", "rank3_middle", Uniform({3, 4, 5}), Uniform({4, 1})),
      Binary("AddV2", "rank5_mixed", Uniform({2, 1, 3, 1, 4}), Uniform({1, 5, 1, 2, 4})),
      Binary("AddV2", "empty", Uniform({0, 4}), Uniform({4})),
      Binary("AddV2", "incompatible", Uniform({2, 3}), Uniform({4})),
      Binary("Sub", "row_vector", Uniform({8, 3}), Uniform({3})),
      Binary("Mul", "column", Uniform({8, 3}), Uniform({8, 1})),
      Binary("Mul", "scalars", Scalar(3), Scalar(-2.5)),
      Binary("Div", "values", Uniform({50}), Uniform({50}, 0.5, 2), div),
      Binary("RealDiv", "broadcast", Uniform({6, 5}), Uniform({5}, 0.5, 2), div),
      Binary("RealDiv", "by_zero", Given({3}, {1, -1, 0}), Given({3}, {0, 0, 0}), div),
      Binary("Maximum", "broadcast", Uniform({7, 4}), Uniform({4})),
      Binary("Minimum", "broadcast", Uniform({7, 4}), Uniform({7, 1})),
      Binary("SquaredDifference", "broadcast", Uniform({9, 6}), Uniform({6})),
      Binary("Pow", "values", Uniform({200}, 0.1, 4), Uniform({200}, -3, 3), pow_tol),
      Binary("FloorDiv", "float", Uniform({40}, -10, 10), Given({40}, std::vector<double>(40, 3))),
      Binary("FloorMod", "float", Uniform({40}, -10, 10), Given({40}, std::vector<double>(40, -3))),
      // Integer division: a zero divisor is an error, but only where the
      // result has elements (TensorFlow's Sum gradient of a scalar computes
      // (axes + 0) % 0 over zero axes).
      Binary("FloorMod", "int32_by_zero", Ints({3}, -5, 5), Given({3}, {2, 0, -3}, LOOM_DTYPE_INT32)),
      Binary("FloorMod", "int32_empty_by_zero", Given({0}, {}, LOOM_DTYPE_INT32),
             Scalar(0, LOOM_DTYPE_INT32)),
      Binary("FloorDiv", "int64_empty_by_zero", Given({0, 2}, {}, LOOM_DTYPE_INT64),
             Given({2}, {0, 0}, LOOM_DTYPE_INT64)),
      Binary("Div", "int32_empty_by_zero", Scalar(0, LOOM_DTYPE_INT32), Given({0}, {}, LOOM_DTYPE_INT32)),
      Binary("AddV2", "int32", Ints({12}, -50, 50), Ints({12}, -50, 50)),
      Binary("Mul", "int64_broadcast", Ints({3, 4}, -9, 9, LOOM_DTYPE_INT64),
             Ints({4}, -9, 9, LOOM_DTYPE_INT64)),

      // ---- comparisons and logic
      Binary("Equal", "float", Given({5}, {1, 2, 3, 4, 5}), Given({5}, {1, 0, 3, 0, 5})),
      Binary("Equal", "int32_broadcast", Ints({4, 6}, 0, 3), Ints({6}, 0, 3)),
      Binary("NotEqual", "int64", Ints({10}, 0, 2, LOOM_DTYPE_INT64), Ints({10}, 0, 2, LOOM_DTYPE_INT64)),
      Binary("Less", "broadcast", Uniform({5, 4}), Uniform({4})),
      Binary("LessEqual", "ties", Given({4}, {1, 2, 3, 4}), Given({4}, {1, 1, 4, 4})),
      Binary("Greater", "int32", Ints({20}, -3, 3), Ints({20}, -3, 3)),
      Binary("GreaterEqual", "scalar", Uniform({16}), Scalar(0)),
      Binary("LogicalAnd", "bools", Given({4}, {0, 0, 1, 1}, LOOM_DTYPE_BOOL),
             Given({4}, {0, 1, 0, 1}, LOOM_DTYPE_BOOL)),
      Binary("LogicalOr", "broadcast", Given({2, 2}, {0, 0, 1, 1}, LOOM_DTYPE_BOOL),
             Given({2}, {0, 1}, LOOM_DTYPE_BOOL)),

      // ---- activation gradients
      Binary("ReluGrad", "values", Uniform({64}), Given({64}, [] {
               std::vector<double> f;
               for (int i = 0; i < 64; ++i) f.push_back(i % 3 == 0 ? 0.0 : (i % 2 ? 1.0 : -1.0));
               return f;
             }())),
      Binary("SigmoidGrad", "values", Uniform({100}, 0, 1), Uniform({100}),
             Rounded(4, "y*(1-y)*dy: three roundings, in either order")),
      Binary("TanhGrad", "values", Uniform({100}), Uniform({100}),
             Summed(1.2e-7, 4 * 0x1p-24,
                    "dy*(1-y*y): OpenCL may fuse 1-y*y into an FMA; near |y|=1 the "
                    "cancellation leaves the ulp of y*y as an absolute difference")),
      Binary("SqrtGrad", "values", Uniform({100}, 0.1, 2), Uniform({100}), div),
      Binary("RsqrtGrad", "values", Uniform({100}, 0.1, 2), Uniform({100}),
             Rounded(6, "-dy/2*y^3: four roundings in either order")),
      Binary("ReciprocalGrad", "values", Uniform({100}, 0.1, 2), Uniform({100}),
             Rounded(4, "-dy*y*y: two roundings in either order")),
      Binary("SoftplusGrad", "values", Uniform({100}), Uniform({100}, -10, 10), sigmoid),
      Binary("ReluGrad", "shape_mismatch", Uniform({4}), Uniform({5})),
      Binary("Relu6Grad", "values", Uniform({100}), Uniform({100}, -3, 9)),
      Binary("EluGrad", "values", Uniform({100}), Uniform({100}, -1, 3),
             Rounded(3, "g * (y + 1): two roundings")),
      Binary("SeluGrad", "values", Uniform({100}), Uniform({100}, -1.75, 3),
             Summed(2 * 0x1p-24, 3 * 0x1p-24, "g * (y + 1.758): two roundings; y + 1.758 "
                                               "cancels near y = -1.758, by an ulp of 1.758")),
      Binary("SoftsignGrad", "values", Uniform({100}), Uniform({100}, -20, 20),
             Rounded(6, "g / (|f| + 1)^2: an add, a square, a division (2.5 ulp OpenCL)")),
      [&] { Case c = Binary("LeakyReluGrad", "alpha_0.3", Uniform({100}), Uniform({100}));
            c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_float(b, "alpha", 0.3f); };
            return c; }(),
      Binary("EluGrad", "shape_mismatch", Uniform({4}), Uniform({5})),

      // ---- Cast
      [&] { Case c = Unary("Cast", "float_to_int32_truncates", Given({6}, {-2.7, -0.5, 0, 0.5, 2.7, 1e6}));
            c.attrs = DstT(LOOM_DTYPE_INT32); return c; }(),
      [&] { Case c = Unary("Cast", "int32_to_float", Ints({10}, -1000, 1000));
            c.attrs = DstT(LOOM_DTYPE_FLOAT); return c; }(),
      [&] { Case c = Unary("Cast", "float_to_bool", Given({4}, {0, 1, -0.5, 0}));
            c.attrs = DstT(LOOM_DTYPE_BOOL); return c; }(),
      [&] { Case c = Unary("Cast", "bool_to_float", Given({3}, {1, 0, 1}, LOOM_DTYPE_BOOL));
            c.attrs = DstT(LOOM_DTYPE_FLOAT); return c; }(),
      [&] { Case c = Unary("Cast", "int64_to_int32", Ints({5}, -5, 5, LOOM_DTYPE_INT64));
            c.attrs = DstT(LOOM_DTYPE_INT32); return c; }(),
      [&] { Case c = Unary("Cast", "float_to_float", Uniform({5}));
            c.attrs = DstT(LOOM_DTYPE_FLOAT); return c; }(),

      // ---- BiasAdd, AddN
      Binary("BiasAdd", "nhwc", Uniform({4, 3, 5}), Uniform({5})),
      [&] { Case c = Binary("BiasAdd", "nchw", Uniform({2, 3, 4, 2}), Uniform({3}));
            c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_string(b, "data_format", "NCHW", 4); };
            return c; }(),
      Binary("BiasAdd", "wrong_bias_size", Uniform({4, 5}), Uniform({4})),
  };
  {
    Case c;
    c.op = "AddN";
    c.inputs_as_list = true;
    c.name = "three";
    c.inputs = {Uniform({6, 7}), Uniform({6, 7}), Uniform({6, 7})};
    c.tol = Summed(1e-6, 0, "two roundings of sums of |x| <= 3, in any order: 2 ulp(3) < 1e-6");
    v.push_back(c);
    c.name = "one";
    c.inputs = {Uniform({5})};
    c.tol = Exact();
    v.push_back(c);
  }
  // Error cases: both devices fail with the same code.
  for (Case& c : v) {
    if (c.name == "incompatible" || c.name == "shape_mismatch" || c.name == "wrong_bias_size" ||
        c.name == "int32_by_zero") {
      c.error = "INVALID_ARGUMENT";
    }
  }
  return v;
}

}  // namespace conformance
