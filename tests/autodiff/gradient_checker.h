// The numerical gradient checker: a symbolic gradient from
// loom_graph_add_gradients against central differences. Used by
// gradient_check_test.cc (every registered gradient function) and
// conv_grad_test.cc (convolution, pooling, batch norm).
//
// The graph y = f(x1..xn) is built with placeholders; a fixed random weight w
// per output element (in [0.5, 1.5)) defines L = sum(w * y), and the symbolic
// dL/dxi (the ws fed as dys) is compared with (L(x+h) - L(x-h)) / 2h for every
// element of every checked input:
//   |symbolic - numerical| <= atol + rtol * |numerical|.
// The caller argues h and the tolerances for its dtype: in float64, h = 1e-6
// gives a quotient good to ~1e-9 (truncation O(h^2 f''') plus rounding
// O(eps/h)), so 1e-5 + 1e-5 relative flags any wrong formula and never trips
// on rounding.
#ifndef LOOM_TESTS_AUTODIFF_GRADIENT_CHECKER_H_
#define LOOM_TESTS_AUTODIFF_GRADIENT_CHECKER_H_

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "test_graph.h"

namespace loom_test {

// One input of f: its shape and how its values are drawn.
struct GradInput {
  std::vector<int64_t> shape;
  double lo = -1, hi = 1;          // uniform in [lo, hi)
  bool check = true;               // compare the gradient of this input
  double min_abs = 0;              // resample values closer to 0 than this
  std::vector<double> fixed = {};  // exact values instead of random ones (cycled)
};

// Builds f's outputs from the inputs' placeholders.
using GradBuildFn = std::function<std::vector<loom_output>(Graph&, const std::vector<loom_output>&)>;

struct GradProblem {
  std::vector<GradInput> inputs;
  GradBuildFn build;
  loom_dtype dtype = LOOM_DTYPE_DOUBLE;  // of the inputs; outputs of other dtypes carry no gradient
  double h = 1e-6, atol = 1e-5, rtol = 1e-5;
};

// How much the graph knows of the inputs' shapes when it is built: the
// run-time shape paths of shape functions and gradient functions differ.
enum class GradShapes { kStatic = 0, kUnknownDims = 1, kUnknownRank = 2 };

inline std::string GradShapeStr(const std::vector<int64_t>& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  os << "]";
  return os.str();
}

// Returns "" or a description of the worst mismatch (or of what failed).
inline std::string CheckGradients(const GradProblem& p, GradShapes shapes, uint64_t seed) {
  Graph g;
  Rng rng(seed);
  std::vector<loom_output> xs;
  std::vector<Value> values;
  for (const GradInput& in : p.inputs) {
    std::vector<int64_t> ph_shape = in.shape;
    if (shapes == GradShapes::kUnknownDims)
      for (int64_t& d : ph_shape) d = -1;
    if (shapes == GradShapes::kUnknownRank) ph_shape = {-2};
    xs.push_back(g.Placeholder(p.dtype, ph_shape));
    Value v{in.shape, {}, p.dtype};
    for (int64_t i = 0; i < v.size(); ++i) {
      double x;
      if (!in.fixed.empty()) {
        x = in.fixed[i % in.fixed.size()];
      } else {
        do x = rng.Uniform(in.lo, in.hi);
        while (std::fabs(x) < in.min_abs);
      }
      if (p.dtype == LOOM_DTYPE_FLOAT) x = static_cast<float>(x);
      v.data.push_back(x);
    }
    values.push_back(v);
  }
  std::vector<loom_output> ys = p.build(g, xs);
  for (const loom_output& y : ys)
    if (!y.op) return "building the graph failed";
  std::vector<loom_output> fys;  // only outputs of the inputs' dtype carry gradients
  for (const loom_output& y : ys)
    if (loom_op_output_dtype(y.op, y.index) == p.dtype) fys.push_back(y);
  if (fys.empty()) return std::string("the case has no ") + loom_dtype_name(p.dtype) + " output";

  auto feeds = [&](const std::vector<Value>& vals) {
    std::vector<std::pair<loom_output, Value>> f;
    for (size_t i = 0; i < xs.size(); ++i) f.emplace_back(xs[i], vals[i]);
    return f;
  };
  std::vector<Value> y0;
  std::string err = g.Run(feeds(values), fys, &y0);
  if (!err.empty()) return "forward run: " + err;

  std::vector<loom_output> dys;  // the weights w, as the dys
  std::vector<Value> weights;
  for (const Value& y : y0) {
    Value w{y.shape, {}, p.dtype};
    for (int64_t i = 0; i < w.size(); ++i) w.data.push_back(rng.Uniform(0.5, 1.5));
    weights.push_back(w);
    dys.push_back(g.Const(w));
  }
  std::vector<loom_output> dxs;
  err = g.Gradients(fys, xs, &dxs, dys);
  if (!err.empty()) return "add_gradients: " + err;

  std::vector<loom_output> fetch;
  for (const loom_output& d : dxs)
    if (d.op) fetch.push_back(d);
  std::vector<Value> sym;
  err = g.Run(feeds(values), fetch, &sym);
  if (!err.empty()) return "gradient run: " + err;

  auto loss = [&](const std::vector<Value>& vals, double* out) -> std::string {
    std::vector<Value> ys_now;
    std::string e = g.Run(feeds(vals), fys, &ys_now);
    if (!e.empty()) return e;
    double l = 0;
    for (size_t k = 0; k < ys_now.size(); ++k)
      for (size_t j = 0; j < ys_now[k].data.size(); ++j) l += weights[k].data[j] * ys_now[k].data[j];
    *out = l;
    return "";
  };

  std::string worst;
  double worst_excess = 0;
  size_t fetched = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Value* s = dxs[i].op ? &sym[fetched++] : nullptr;
    if (!p.inputs[i].check) continue;
    if (s && s->shape != values[i].shape)
      return "gradient of input " + std::to_string(i) + " has shape " + GradShapeStr(s->shape) +
             ", expected " + GradShapeStr(values[i].shape);
    for (int64_t k = 0; k < values[i].size(); ++k) {
      std::vector<Value> plus = values, minus = values;
      plus[i].data[k] += p.h;
      minus[i].data[k] -= p.h;
      double lp = 0, lm = 0;
      std::string e = loss(plus, &lp);
      if (e.empty()) e = loss(minus, &lm);
      if (!e.empty()) return "perturbed run: " + e;
      const double num = (lp - lm) / (2 * p.h);
      const double got = s ? s->data[k] : 0.0;
      const double excess = std::fabs(got - num) - (p.atol + p.rtol * std::fabs(num));
      if (excess > worst_excess) {
        worst_excess = excess;
        std::ostringstream os;
        os.precision(10);
        os << "input " << i << " (shape " << GradShapeStr(values[i].shape) << "), element " << k
           << " (x=" << values[i].data[k] << "): symbolic " << got << (s ? "" : " (no gradient returned)")
           << ", numerical " << num;
        worst = os.str();
      }
    }
  }
  return worst;
}

}  // namespace loom_test

#endif  // LOOM_TESTS_AUTODIFF_GRADIENT_CHECKER_H_
