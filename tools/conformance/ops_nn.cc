// Softmax, LogSoftmax, the fused cross-entropy losses, and the variable
// updates (on real variables living on the device under test).
//
// Tolerances (u = 2^-24). Softmax's exp(x-m)/s: the device's exp (<= 3 ulp)
// and division (<= 2.5) against the CPU's ~2 and 0.5, and s, a C-term sum,
// within C*u relative in any order: rtol (C + 14) u. LogSoftmax's
// x - m - log(s): log s moves by the relative error of s, (C + 3) u, plus
// the roundings of values up to ~20: atol (C + 8) u * 20. The losses add C
// such terms weighted by labels that sum to 1: the same atol. Optimizer
// updates: var - step, where the step has a few roundings (sqrt, divisions,
// maybe an FMA on one side): its error is ~10 u of the step, far below the
// ulp of var, so atol 2 ulp(1) = 2.4e-7 with values in [-1, 1].
#include <string>

#include "conformance.h"

namespace conformance {

namespace {

constexpr double kU = 0x1p-24;

Case Softmax(const char* op, const char* name, Input x, int64_t c) {
  Case k;
  k.op = op;
  k.name = name;
  k.inputs = {std::move(x)};
  if (std::string(op) == "Softmax") {
    k.tol = Summed(0, (c + 14) * kU, "softmax: (C + 14) u relative");
  } else {
    k.tol = Summed((c + 8) * kU * 20, 4 * kU, "log softmax: (C + 8) u of values up to ~20");
  }
  return k;
}

// Rows of probabilities (each sums to 1), deterministic.
Input Probabilities(int64_t rows, int64_t cols) {
  std::vector<double> v;
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0;
    std::vector<double> row;
    for (int64_t c = 0; c < cols; ++c) {
      row.push_back(static_cast<double>((r * 7 + c * 13) % 11 + 1));
      total += row.back();
    }
    for (double x : row) v.push_back(x / total);
  }
  return Given({rows, cols}, v);
}

Case Apply(const char* op, const char* name, std::vector<Input> in, Tol tol) {
  Case c;
  c.op = op;
  c.name = name;
  c.inputs = std::move(in);
  c.tol = tol;
  return c;
}

}  // namespace

std::vector<Case> NnCases() {
  const Tol update = Summed(2.4e-7, 4 * kU, "var - step: the step's ~10 u are below ulp(var)");
  std::vector<Case> v = {
      Softmax("Softmax", "mlp_logits", Uniform({100, 10}, -5, 5), 10),
      Softmax("Softmax", "wide", Uniform({4, 1000}, -5, 5), 1000),
      Softmax("Softmax", "large_logits_stable", Given({2, 3}, {1000, 1001, 1002, -1000, 0, 1000}), 3),
      Softmax("Softmax", "rank3", Uniform({2, 3, 7}, -3, 3), 7),
      Softmax("Softmax", "vector", Uniform({9}, -3, 3), 9),
      Softmax("LogSoftmax", "mlp_logits", Uniform({100, 10}, -5, 5), 10),
      Softmax("LogSoftmax", "large_logits_stable", Given({2, 3}, {1000, 1001, 1002, -1000, 0, 1000}), 3),
      Softmax("Softmax", "empty", Uniform({0, 4}), 4),
  };
  {
    Case c;
    c.op = "SoftmaxCrossEntropyWithLogits";
    c.name = "probabilities";
    c.inputs = {Uniform({32, 10}, -5, 5), Probabilities(32, 10)};
    c.num_outputs = 2;
    c.tol = Summed(18 * kU * 20, 16 * kU, "C-term sum of labels * (log s - z): (C + 8) u of ~20");
    v.push_back(c);
    c.name = "one_hot";
    std::vector<double> oh(16 * 5, 0);
    for (int r = 0; r < 16; ++r) oh[r * 5 + (r * 3) % 5] = 1;
    c.inputs = {Uniform({16, 5}, -5, 5), Given({16, 5}, oh)};
    v.push_back(c);
    c.name = "broadcast_labels_row";
    c.inputs = {Uniform({8, 6}, -5, 5), Probabilities(1, 6)};
    v.push_back(c);
    c.name = "mismatched";
    c.inputs = {Uniform({4, 6}), Probabilities(3, 6)};
    c.error = "INVALID_ARGUMENT";
    v.push_back(c);
  }
  {
    Case c;
    c.op = "SparseSoftmaxCrossEntropyWithLogits";
    c.name = "int32_labels";
    c.inputs = {Uniform({100, 10}, -5, 5), Ints({100}, 0, 9)};
    c.num_outputs = 2;
    c.tol = Summed(18 * kU * 20, 16 * kU, "log s - z_label: (C + 8) u of ~20");
    v.push_back(c);
    c.name = "int64_labels";
    c.inputs = {Uniform({33, 7}, -5, 5), Ints({33}, 0, 6, LOOM_DTYPE_INT64)};
    v.push_back(c);
    c.name = "label_out_of_range";
    c.inputs = {Uniform({4, 3}), Vector({0, 1, 3, 2})};
    c.error = "INVALID_ARGUMENT";
    v.push_back(c);
    c.name = "negative_label";
    c.inputs = {Uniform({2, 3}), Vector({-1, 1})};
    v.push_back(c);
  }
  // ---- variable updates: outputs compared are the op's output and every variable.
  v.push_back(Apply("AssignAdd", "values", {Ref(Uniform({4, 5})), Uniform({4, 5})}, Exact()));
  v.push_back(Apply("AssignSub", "values", {Ref(Uniform({13})), Uniform({13})}, Exact()));
  v.push_back(Apply("ApplyGradientDescent", "values",
                    {Ref(Uniform({30, 7})), Scalar(0.1), Uniform({30, 7})}, update));
  v.push_back(Apply("ApplyMomentum", "values",
                    {Ref(Uniform({50})), Ref(Uniform({50})), Scalar(0.05), Uniform({50}), Scalar(0.9)},
                    update));
  {
    Case c = Apply("ApplyMomentum", "nesterov",
                   {Ref(Uniform({50})), Ref(Uniform({50})), Scalar(0.05), Uniform({50}), Scalar(0.9)},
                   update);
    c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_bool(b, "use_nesterov", 1); };
    v.push_back(c);
  }
  auto adam_inputs = [] {
    return std::vector<Input>{Ref(Uniform({64, 3})), Ref(Uniform({64, 3}, -0.1, 0.1)),
                              Ref(Uniform({64, 3}, 0, 0.01)), Scalar(0.9 * 0.9), Scalar(0.999 * 0.999),
                              Scalar(1e-3), Scalar(0.9), Scalar(0.999), Scalar(1e-8),
                              Uniform({64, 3})};
  };
  v.push_back(Apply("ApplyAdam", "values", adam_inputs(), update));
  {
    Case c = Apply("ApplyAdam", "nesterov", adam_inputs(), update);
    c.attrs = [](loom_op_builder* b) { loom_op_builder_set_attr_bool(b, "use_nesterov", 1); };
    v.push_back(c);
  }
  v.push_back(Apply("ApplyAdagrad", "values",
                    {Ref(Uniform({40})), Ref(Uniform({40}, 0.1, 1)), Scalar(0.01), Uniform({40})},
                    update));
  v.push_back(Apply("ApplyRMSProp", "values",
                    {Ref(Uniform({40})), Ref(Uniform({40}, 0.1, 1)), Ref(Uniform({40}, -0.1, 0.1)),
                     Scalar(0.01), Scalar(0.9), Scalar(0.5), Scalar(1e-7), Uniform({40})},
                    update));
  {
    Case c = Apply("ApplyGradientDescent", "shape_mismatch",
                   {Ref(Uniform({3})), Scalar(0.1), Uniform({4})}, update);
    c.error = "INVALID_ARGUMENT";
    v.push_back(c);
  }
  return v;
}

}  // namespace conformance
