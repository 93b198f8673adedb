// Reductions: Sum, Mean, Max, Min, Prod over axes (keep_dims, negative and
// repeated-role axes, empty inputs), ArgMax/ArgMin, L2Loss, BiasAddGrad.
//
// Tolerance of sums. Max, Min and ArgMax pick an element: exact. A sum of n
// terms is within n*u*sum|x| of exact in any order (Higham 4.2), a bound
// that is loose by ~sqrt(n) for the order-independent rounding errors of
// random data; both devices use blocked orders (the CPU 8-16 lanes, OpenCL
// chunks), whose errors behave like a random walk of ~sqrt(n) roundings of
// partial sums <= sum|x|. With values in [-1, 1], sum|x| <= n, so we allow
//   atol = 4 * sqrt(n) * u * n,
// e.g. 3.8e-3 for n = 10^4 against values of ~50 (1e-4 relative), while a
// dropped or repeated term changes the result by ~0.5.
#include <cmath>
#include <string>

#include "conformance.h"

namespace conformance {

namespace {

Tol SumTol(double n) {
  static std::string why =
      "4*sqrt(n)*u*n: rounding of n-term sums of |x| <= 1 in two blocked orders";
  return Summed(4.0 * std::sqrt(n) * n * 0x1p-24, 4 * 0x1p-24, why.c_str());
}

Case Reduce(const char* op, const char* name, Input x, std::vector<double> axes, bool keep,
            Tol tol) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {std::move(x), Vector(std::move(axes))};
  c.attrs = [keep](loom_op_builder* b) { loom_op_builder_set_attr_bool(b, "keep_dims", keep); };
  c.tol = tol;
  return c;
}

Case Arg(const char* op, const char* name, Input x, double axis, loom_dtype out) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = {std::move(x), Scalar(axis, LOOM_DTYPE_INT32)};
  c.attrs = [out](loom_op_builder* b) { loom_op_builder_set_attr_type(b, "output_type", out); };
  return c;
}

}  // namespace

std::vector<Case> ReduceCases() {
  std::vector<Case> v = {
      Reduce("Sum", "all", Uniform({7, 9}), {0, 1}, false, SumTol(63)),
      Reduce("Sum", "rows", Uniform({30, 40}), {1}, false, SumTol(40)),
      Reduce("Sum", "columns_keep_dims", Uniform({30, 40}), {0}, true, SumTol(30)),
      Reduce("Sum", "negative_axis", Uniform({4, 5, 6}), {-1}, false, SumTol(6)),
      Reduce("Sum", "outer_axes", Uniform({4, 5, 6}), {0, 2}, false, SumTol(24)),
      Reduce("Sum", "middle_axis", Uniform({4, 5, 6}), {1}, true, SumTol(5)),
      Reduce("Sum", "no_axes", Uniform({3, 4}), {}, false, Exact()),
      Reduce("Sum", "size1_axis", Uniform({3, 1, 4}), {1}, false, Exact()),
      Reduce("Sum", "long_vector", Uniform({100000}), {0}, false, SumTol(1e5)),
      Reduce("Sum", "long_rows", Uniform({3, 20000}), {1}, false, SumTol(2e4)),
      Reduce("Sum", "empty", Uniform({0, 4}), {0}, false, Exact()),
      Reduce("Mean", "batch", Uniform({100, 10}), {0}, false, SumTol(100)),
      Reduce("Mean", "all_keep_dims", Uniform({8, 6, 5}), {0, 1, 2}, true, SumTol(240)),
      Reduce("Max", "rows", Uniform({12, 31}), {1}, false, Exact()),
      Reduce("Max", "axes_0_2", Uniform({3, 4, 5}), {0, 2}, true, Exact()),
      Reduce("Max", "long", Uniform({50000}), {0}, false, Exact()),
      Reduce("Min", "columns", Uniform({12, 31}), {0}, false, Exact()),
      Reduce("Max", "empty_is_minus_inf", Uniform({0, 3}), {0}, false, Exact()),
      Reduce("Prod", "rows", Uniform({6, 8}, 0.5, 1.5), {1}, false,
             Rounded(16, "8 products, each rounded once, in any order: <= 8 ulp each way")),
      Reduce("Sum", "axis_out_of_range", Uniform({3, 4}), {2}, false, Exact()),
      Arg("ArgMax", "rows", Uniform({10, 17}), 1, LOOM_DTYPE_INT64),
      Arg("ArgMax", "columns_int32", Uniform({10, 17}), 0, LOOM_DTYPE_INT32),
      Arg("ArgMax", "ties_take_first", Given({2, 4}, {1, 3, 3, 0, 5, 5, 5, 5}), 1, LOOM_DTYPE_INT64),
      Arg("ArgMin", "middle", Uniform({3, 5, 4}), 1, LOOM_DTYPE_INT64),
      Arg("ArgMax", "int32_values", Ints({6, 7}, -20, 20), -1, LOOM_DTYPE_INT32),
      Arg("ArgMax", "empty_axis", Uniform({3, 0}), 1, LOOM_DTYPE_INT64),
  };
  for (Case& c : v) {
    if (c.name == "axis_out_of_range" || c.name == "empty_axis") c.error = "INVALID_ARGUMENT";
  }
  {
    Case c;
    c.op = "L2Loss";
    c.name = "matrix";
    c.inputs = {Uniform({50, 40})};
    c.tol = SumTol(2000);
    v.push_back(c);
    c.name = "empty";
    c.inputs = {Uniform({0})};
    c.tol = Exact();
    v.push_back(c);
  }
  {
    Case c;
    c.op = "BiasAddGrad";
    c.name = "nhwc";
    c.inputs = {Uniform({16, 4, 10})};
    c.tol = SumTol(64);
    v.push_back(c);
    c.name = "nchw";
    c.inputs = {Uniform({5, 3, 4, 4})};
    c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_string(b, "data_format", "NCHW", 4); };
    c.tol = SumTol(80);
    v.push_back(c);
    c.name = "one_channel";
    c.inputs = {Uniform({7, 1})};
    c.attrs = nullptr;
    c.tol = SumTol(7);
    v.push_back(c);
  }
  return v;
}

}  // namespace conformance
