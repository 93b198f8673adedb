// Numerical gradient checks: every registered gradient function against
// central differences in float64 (the checker, and the argument for its
// h = 1e-6 and 1e-5 tolerances: gradient_checker.h). Each case runs three
// times: with static shapes, with every dimension unknown at graph-build time,
// and with unknown ranks (the run-time shape paths).
#include <cmath>
#include <set>
#include <sstream>

#include "gradient_checker.h"

namespace loom_test {
namespace {

using InputSpec = GradInput;
using BuildFn = GradBuildFn;

// A gradient function under test: the op, what is special about the case,
// and the problem handed to the checker (gradient_checker.h).
struct GradCase : GradProblem {
  std::string op;     // the op whose gradient function is under test
  std::string label;  // what is special about this case
  int max_mode = 2;   // also run with unknown dims (1) and unknown rank (2)
};

std::string ShapeStr(const std::vector<int64_t>& s) { return GradShapeStr(s); }

// mode 0: static shapes; 1: every dim unknown; 2: unknown rank.
std::string CheckCase(const GradCase& c, int mode, uint64_t seed) {
  return CheckGradients(c, static_cast<GradShapes>(mode), seed);
}

// ---------------------------------------------------------------- case builders

InputSpec In_(std::vector<int64_t> shape, double lo = -2, double hi = 2, double min_abs = 0) {
  InputSpec s;
  s.shape = std::move(shape);
  s.lo = lo;
  s.hi = hi;
  s.min_abs = min_abs;
  return s;
}

AttrSetter BoolAttr(const char* a, bool v, const char* b2 = nullptr, bool v2 = false) {
  return [=](loom_op_builder* b) {
    loom_op_builder_set_attr_bool(b, a, v);
    if (b2) loom_op_builder_set_attr_bool(b, b2, v2);
  };
}
AttrSetter IntAttr(const char* a, int64_t v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_int(b, a, v); };
}

AttrSetter FloatAttr(const char* a, float v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_float(b, a, v); };
}

GradCase Unary(const std::string& op, double lo = -2, double hi = 2, double min_abs = 0,
               std::vector<int64_t> shape = {2, 3}, AttrSetter attrs = nullptr) {
  GradCase c;
  c.op = op;
  c.label = ShapeStr(shape);
  c.inputs = {In_(shape, lo, hi, min_abs)};
  c.build = [op, attrs](Graph& g, const std::vector<loom_output>& x) {
    return std::vector<loom_output>{g.Op(op, {x[0]}, attrs)};
  };
  return c;
}

GradCase Binary(const std::string& op, std::vector<int64_t> sx, std::vector<int64_t> sy,
                double lo = -2, double hi = 2, double min_abs = 0) {
  GradCase c;
  c.op = op;
  c.label = ShapeStr(sx) + " " + ShapeStr(sy);
  c.inputs = {In_(sx, lo, hi, min_abs), In_(sy, lo, hi, min_abs)};
  c.build = [op](Graph& g, const std::vector<loom_output>& x) {
    return std::vector<loom_output>{g.Op(op, {x[0], x[1]})};
  };
  return c;
}

GradCase Reduce(const std::string& op, std::vector<int64_t> shape, std::vector<int64_t> axes,
                bool keep, double lo = -2, double hi = 2) {
  GradCase c;
  c.op = op;
  c.label = ShapeStr(shape) + " axes " + ShapeStr(axes) + (keep ? " keep_dims" : "");
  c.inputs = {In_(shape, lo, hi)};
  c.build = [op, axes, keep](Graph& g, const std::vector<loom_output>& x) {
    return std::vector<loom_output>{
        g.Op(op, {x[0], g.Ints(axes)}, BoolAttr("keep_dims", keep))};
  };
  return c;
}

GradCase Custom(const std::string& op, const std::string& label, std::vector<InputSpec> inputs,
                BuildFn build) {
  GradCase c;
  c.op = op;
  c.label = label;
  c.inputs = std::move(inputs);
  c.build = std::move(build);
  return c;
}

// Second order: y = f(x) * x2 differentiated once symbolically inside the
// graph; the checker then differentiates that gradient numerically, so both
// inputs of the fused gradient op (and its own gradient) are exercised.
GradCase SecondOrder(const std::string& grad_op, const std::string& op, double lo = -2,
                     double hi = 2, double min_abs = 0, AttrSetter attrs = nullptr) {
  return Custom(grad_op, "second order of " + op,
                {In_({2, 3}, lo, hi, min_abs), In_({2, 3}, -2, 2)},
                [op, attrs](Graph& g, const std::vector<loom_output>& x) {
                  loom_output y = g.Op("Mul", {g.Op(op, {x[0]}, attrs), x[1]});
                  std::vector<loom_output> d;
                  std::string e = g.Gradients({y}, {x[0]}, &d);
                  EXPECT_EQ(e, "");
                  return d;
                });
}

std::vector<GradCase> AllCases() {
  std::vector<GradCase> cs;
  // Unary elementwise.
  cs.push_back(Unary("Neg"));
  cs.push_back(Unary("Abs", -2, 2, 0.1));
  cs.push_back(Unary("Exp"));
  cs.push_back(Unary("Log", 0.5, 3));
  cs.push_back(Unary("Log1p", -0.5, 3));
  cs.push_back(Unary("Square"));
  cs.push_back(Unary("Sqrt", 0.5, 3));
  cs.push_back(Unary("Rsqrt", 0.5, 3));
  cs.push_back(Unary("Reciprocal", -2, 2, 0.5));
  cs.push_back(Unary("Sigmoid"));
  cs.push_back(Unary("Tanh"));
  cs.push_back(Unary("Sin"));
  cs.push_back(Unary("Cos"));
  cs.push_back(Unary("Relu", -2, 2, 0.1));
  cs.push_back(Unary("Softplus"));
  // Away from the kinks (0 and 6 for Relu6; 0 for Selu, whose slope jumps
  // from scale * alpha to scale, and LeakyRelu), where central differences
  // straddle two slopes. Elu's slope is continuous (1 on both sides).
  cs.push_back(Unary("Erf"));
  cs.push_back(Unary("Expm1"));
  cs.push_back(Unary("Tan", -1.2, 1.2));  // away from the poles at +-pi/2
  cs.push_back(Unary("Asin", -0.9, 0.9));  // inside the domain, away from its edges
  cs.push_back(Unary("Acos", -0.9, 0.9));
  cs.push_back(Unary("Atan"));
  cs.push_back(Unary("Sinh"));
  cs.push_back(Unary("Cosh"));
  cs.push_back(Binary("Atan2", {2, 3}, {3}, -2, 2, 0.3));  // away from the origin
  cs.push_back(Unary("Relu6", -2, 8, 0.1));
  cs.push_back(Unary("Elu"));
  cs.push_back(Unary("Selu", -2, 2, 0.1));
  cs.push_back(Unary("Softsign"));
  cs.push_back(Unary("LeakyRelu", -2, 2, 0.1, {2, 3}, FloatAttr("alpha", 0.3f)));
  cs.push_back(Unary("Softmax"));
  cs.push_back(Unary("Softmax", -2, 2, 0, {2, 3, 4}));
  cs.push_back(Unary("LogSoftmax"));
  cs.push_back(Unary("LogSoftmax", -2, 2, 0, {3, 2, 2}));
  cs.push_back(Unary("L2Loss"));
  cs.push_back(Unary("Identity"));
  cs.push_back(Unary("Square", -2, 2, 0, {}));  // a scalar

  // Binary with broadcasting.
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> shapes = {
      {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{2, 1}, {1, 3}}, {{}, {2, 3}}, {{4, 1, 3}, {2, 1}}};
  for (const char* op : {"Add", "AddV2", "Sub", "Mul", "SquaredDifference", "Maximum", "Minimum"})
    for (const auto& s : shapes) cs.push_back(Binary(op, s.first, s.second));
  for (const char* op : {"Div", "RealDiv"})
    for (const auto& s : shapes) cs.push_back(Binary(op, s.first, s.second, -2, 2, 0.5));
  cs.push_back(Binary("Pow", {2, 3}, {2, 3}, 0.5, 2));
  cs.push_back(Binary("Pow", {2, 3}, {3}, 0.5, 2));
  {
    GradCase c = Binary("FloorMod", {2, 3}, {3});
    c.inputs[0] = In_({2, 3}, 0.2, 0.8);  // away from the jumps of floor(x/y)
    c.inputs[1] = In_({3}, 1.0, 1.5);
    cs.push_back(c);
    GradCase d = Binary("FloorMod", {2, 3}, {2, 3});
    d.inputs[0] = In_({2, 3}, 1.6, 1.9);  // floor(x/y) = 1
    d.inputs[1] = In_({2, 3}, 1.0, 1.5);
    cs.push_back(d);
  }

  // Reductions.
  for (const char* op : {"Sum", "Mean", "Max", "Min", "Prod"}) {
    double lo = std::string(op) == "Prod" ? 0.5 : -2, hi = std::string(op) == "Prod" ? 1.5 : 2;
    cs.push_back(Reduce(op, {2, 3, 4}, {1}, false, lo, hi));
    cs.push_back(Reduce(op, {2, 3, 4}, {0, 2}, true, lo, hi));
    cs.push_back(Reduce(op, {2, 3, 4}, {-1}, false, lo, hi));
    cs.push_back(Reduce(op, {2, 3}, {0, 1}, false, lo, hi));
    cs.push_back(Reduce(op, {3, 4}, {}, false, lo, hi));
    cs.push_back(Reduce(op, {4}, {0}, true, lo, hi));
  }

  // Matrix products.
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      std::vector<int64_t> sa = ta ? std::vector<int64_t>{3, 2} : std::vector<int64_t>{2, 3};
      std::vector<int64_t> sb = tb ? std::vector<int64_t>{4, 3} : std::vector<int64_t>{3, 4};
      cs.push_back(Custom("MatMul", "transpose_a=" + std::to_string(ta) + " transpose_b=" +
                                        std::to_string(tb),
                          {In_(sa), In_(sb)}, [ta, tb](Graph& g, const std::vector<loom_output>& x) {
                            return std::vector<loom_output>{g.Op(
                                "MatMul", {x[0], x[1]},
                                BoolAttr("transpose_a", ta, "transpose_b", tb))};
                          }));
      std::vector<int64_t> bx = ta ? std::vector<int64_t>{2, 3, 2} : std::vector<int64_t>{2, 2, 3};
      std::vector<int64_t> by = tb ? std::vector<int64_t>{2, 4, 3} : std::vector<int64_t>{2, 3, 4};
      for (const char* op : {"BatchMatMul", "BatchMatMulV2"})
        cs.push_back(Custom(op, "adj_x=" + std::to_string(ta) + " adj_y=" + std::to_string(tb),
                            {In_(bx), In_(by)},
                            [op, ta, tb](Graph& g, const std::vector<loom_output>& x) {
                              return std::vector<loom_output>{
                                  g.Op(op, {x[0], x[1]}, BoolAttr("adj_x", ta, "adj_y", tb))};
                            }));
    }
  cs.push_back(Custom("BatchMatMulV2", "broadcast batch [2,1,2,3] x [3,3,2]",
                      {In_({2, 1, 2, 3}), In_({3, 3, 2})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("BatchMatMulV2", {x[0], x[1]})};
                      }));
  cs.push_back(Custom("BatchMatMulV2", "broadcast [2,3] x [2,3,4]", {In_({2, 3}), In_({2, 3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("BatchMatMulV2", {x[0], x[1]})};
                      }));

  // Shapes and data movement.
  cs.push_back(Custom("Reshape", "[2,3] -> [3,2]", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("Reshape", {x[0], g.Ints({3, -1})})};
                      }));
  cs.push_back(Custom("ExpandDims", "axis 1", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("ExpandDims", {x[0], g.Int(1)})};
                      }));
  cs.push_back(Custom("Squeeze", "[2,1,3] dims [1]", {In_({2, 1, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("Squeeze", {x[0]}, [](loom_op_builder* b) {
                          int64_t d[] = {1};
                          loom_op_builder_set_attr_int_list(b, "squeeze_dims", d, 1);
                        })};
                      }));
  cs.back().max_mode = 0;  // squeezing an unknown dim is an error by design
  cs.push_back(Custom("Transpose", "perm [1,2,0]", {In_({2, 3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.Op("Transpose", {x[0], g.Ints({1, 2, 0})})};
                      }));
  cs.push_back(Custom("Transpose", "perm fed at run time", {In_({2, 3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output perm = g.Op("Identity", {g.Ints({2, 0, 1})});
                        return std::vector<loom_output>{g.Op("Transpose", {x[0], perm})};
                      }));
  for (int64_t axis : {1, -1, 0})
    cs.push_back(Custom("ConcatV2", "axis " + std::to_string(axis),
                        {In_({2, 3}), In_({2, 1}), In_({2, 2})},
                        [axis](Graph& g, const std::vector<loom_output>& x) {
                          std::vector<loom_output> v = x;
                          if (axis == 0) {  // concat along rows: transpose the inputs
                            for (auto& t : v) t = g.Op("Transpose", {t, g.Ints({1, 0})});
                          }
                          return std::vector<loom_output>{
                              g.Op("ConcatV2", {In(v), g.Int(axis)})};
                        }));
  cs.push_back(Custom("Concat", "concat_dim 1", {In_({2, 3}), In_({2, 2})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("Concat", {g.Int(1), In(x)})};
                      }));
  cs.push_back(Custom("Split", "3 ways on axis 1", {In_({2, 6})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return g.OpN("Split", {g.Int(1), x[0]}, IntAttr("num_split", 3));
                      }));
  cs.push_back(Custom("Split", "only one output used", {In_({4, 2})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.OpN("Split", {g.Int(0), x[0]}, IntAttr("num_split", 2))[1]};
                      }));
  cs.push_back(Custom("SplitV", "sizes [1,2,3]", {In_({2, 6})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return g.OpN("SplitV", {x[0], g.Ints({1, 2, 3}), g.Int(1)},
                                     IntAttr("num_split", 3));
                      }));
  cs.push_back(Custom("Slice", "begin [0,1] size [2,2]", {In_({3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.Op("Slice", {x[0], g.Ints({0, 1}), g.Ints({2, 2})})};
                      }));
  cs.push_back(Custom("Slice", "size -1", {In_({3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.Op("Slice", {x[0], g.Ints({1, 0}), g.Ints({-1, 3})})};
                      }));
  cs.push_back(Custom("StridedSlice", "[1:3, ::2]", {In_({4, 5})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "StridedSlice", {x[0], g.Ints({1, 0}), g.Ints({3, 0}), g.Ints({1, 2})},
                            IntAttr("end_mask", 2))};
                      }));
  cs.push_back(Custom("StridedSlice", "[:, 2] (shrink)", {In_({3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "StridedSlice", {x[0], g.Ints({0, 2}), g.Ints({0, 3}), g.Ints({1, 1})},
                            [](loom_op_builder* b) {
                              loom_op_builder_set_attr_int(b, "begin_mask", 1);
                              loom_op_builder_set_attr_int(b, "end_mask", 1);
                              loom_op_builder_set_attr_int(b, "shrink_axis_mask", 2);
                            })};
                      }));
  cs.push_back(Custom("StridedSlice", "[::-1] reversed", {In_({5})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "StridedSlice", {x[0], g.Ints({0}), g.Ints({0}), g.Ints({-1})},
                            [](loom_op_builder* b) {
                              loom_op_builder_set_attr_int(b, "begin_mask", 1);
                              loom_op_builder_set_attr_int(b, "end_mask", 1);
                            })};
                      }));
  cs.push_back(Custom("Pad", "[[1,0],[2,1]]", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "Pad", {x[0], g.Const(Value{{2, 2}, {1, 0, 2, 1}, LOOM_DTYPE_INT32})})};
                      }));
  cs.push_back(Custom("StridedSliceGrad", "dy of [1:3, ::2] into [4,5]", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "StridedSliceGrad",
                            {g.Ints({4, 5}), g.Ints({1, 0}), g.Ints({3, 0}), g.Ints({1, 2}), x[0]},
                            IntAttr("end_mask", 2))};
                      }));
  cs.push_back(Custom("Tile", "multiples [2,3]", {In_({2, 2})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("Tile", {x[0], g.Ints({2, 3})})};
                      }));
  for (int64_t axis : {0, 1})
    cs.push_back(Custom("Pack", "axis " + std::to_string(axis), {In_({2, 3}), In_({2, 3})},
                        [axis](Graph& g, const std::vector<loom_output>& x) {
                          return std::vector<loom_output>{
                              g.Op("Pack", {In(x)}, IntAttr("axis", axis))};
                        }));
  cs.push_back(Custom("Unpack", "axis 1", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return g.OpN("Unpack", {x[0]}, [](loom_op_builder* b) {
                          loom_op_builder_set_attr_int(b, "num", 3);
                          loom_op_builder_set_attr_int(b, "axis", 1);
                        });
                      }));
  cs.back().max_mode = 0;  // num must match a known dim
  cs.push_back(Custom("GatherV2", "axis 0, repeated indices", {In_({4, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.Op("GatherV2", {x[0], g.Ints({2, 0, 2, 3}), g.Int(0)})};
                      }));
  cs.push_back(Custom("GatherV2", "axis 1, 2-D indices", {In_({2, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "GatherV2",
                            {x[0], g.Const(Value{{2, 2}, {3, 1, 1, 0}, LOOM_DTYPE_INT32}), g.Int(1)})};
                      }));
  cs.push_back(Custom("BroadcastTo", "[3] -> [2,3]", {In_({3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("BroadcastTo", {x[0], g.Ints({2, 3})})};
                      }));
  cs.push_back(Custom("BroadcastTo", "[2,1] -> [2,2,3]", {In_({2, 1})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.Op("BroadcastTo", {x[0], g.Ints({2, 2, 3})})};
                      }));
  cs.push_back(Custom("Fill", "value", {In_({})}, [](Graph& g, const std::vector<loom_output>& x) {
    return std::vector<loom_output>{g.Op("Fill", {g.Ints({2, 3}), x[0]})};
  }));
  cs.push_back(Custom("UnsortedSegmentSum", "ids [0,2,0,1]", {In_({4, 2})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "UnsortedSegmentSum", {x[0], g.Ints({0, 2, 0, 1}), g.Int(3)})};
                      }));
  cs.push_back(Custom("DynamicStitch", "two parts", {In_({2, 2}), In_({1, 2})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "DynamicStitch",
                            {In(std::vector<loom_output>{g.Ints({0, 2}), g.Ints({1})}), In(x)})};
                      }));
  cs.push_back(Custom("Cast", "double -> float -> double", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        auto to = [](loom_dtype t) {
                          return [t](loom_op_builder* b) {
                            loom_op_builder_set_attr_type(b, "DstT", t);
                          };
                        };
                        loom_output f = g.Op("Cast", {x[0]}, to(LOOM_DTYPE_FLOAT));
                        return std::vector<loom_output>{g.Op("Cast", {f}, to(LOOM_DTYPE_DOUBLE))};
                      }));
  cs.back().h = 1e-3;  // float32 resolution
  cs.back().atol = cs.back().rtol = 1e-3;
  {
    Value cond{{2, 3}, {1, 0, 0, 1, 1, 0}, LOOM_DTYPE_BOOL};
    cs.push_back(Custom("Select", "same-shape cond", {In_({2, 3}), In_({2, 3})},
                        [cond](Graph& g, const std::vector<loom_output>& x) {
                          return std::vector<loom_output>{g.Op("Select", {g.Const(cond), x[0], x[1]})};
                        }));
    Value row{{2}, {0, 1}, LOOM_DTYPE_BOOL};
    cs.push_back(Custom("Select", "vector cond over dim 0", {In_({2, 3}), In_({2, 3})},
                        [row](Graph& g, const std::vector<loom_output>& x) {
                          return std::vector<loom_output>{g.Op("Select", {g.Const(row), x[0], x[1]})};
                        }));
    Value bc{{3}, {1, 0, 1}, LOOM_DTYPE_BOOL};
    cs.push_back(Custom("SelectV2", "broadcast [3] cond, [2,3] t, [] e",
                        {In_({2, 3}), In_({})},
                        [bc](Graph& g, const std::vector<loom_output>& x) {
                          return std::vector<loom_output>{g.Op("SelectV2", {g.Const(bc), x[0], x[1]})};
                        }));
  }
  cs.push_back(Custom("AddN", "three inputs, one repeated", {In_({2, 3}), In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{
                            g.Op("AddN", {In(std::vector<loom_output>{x[0], x[1], x[0]})})};
                      }));
  cs.push_back(Custom("BiasAdd", "[2,3] + [3]", {In_({2, 3}), In_({3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("BiasAdd", {x[0], x[1]})};
                      }));
  cs.push_back(Custom("BiasAdd", "[2,2,2,3] + [3]", {In_({2, 2, 2, 3}), In_({3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("BiasAdd", {x[0], x[1]})};
                      }));
  {
    // Labels are probability rows (the op's contract): softmax of an input.
    cs.push_back(Custom("SoftmaxCrossEntropyWithLogits", "loss w.r.t. logits and labels",
                        {In_({3, 4}), In_({3, 4})}, [](Graph& g, const std::vector<loom_output>& x) {
                          loom_output labels = g.Op("Softmax", {x[1]});
                          return std::vector<loom_output>{
                              g.OpN("SoftmaxCrossEntropyWithLogits", {x[0], labels})[0]};
                        }));
    cs.push_back(Custom("SoftmaxCrossEntropyWithLogits", "loss and backprop",
                        {In_({3, 4}), In_({3, 4})}, [](Graph& g, const std::vector<loom_output>& x) {
                          loom_output labels = g.Op("Softmax", {x[1]});
                          return g.OpN("SoftmaxCrossEntropyWithLogits", {x[0], labels});
                        }));
    cs.push_back(Custom("SparseSoftmaxCrossEntropyWithLogits", "int32 labels", {In_({3, 4})},
                        [](Graph& g, const std::vector<loom_output>& x) {
                          return g.OpN("SparseSoftmaxCrossEntropyWithLogits",
                                       {x[0], g.Ints({3, 0, 2})});
                        }));
    cs.push_back(Custom("SparseSoftmaxCrossEntropyWithLogits", "int64 labels", {In_({2, 5})},
                        [](Graph& g, const std::vector<loom_output>& x) {
                          return std::vector<loom_output>{g.OpN(
                              "SparseSoftmaxCrossEntropyWithLogits",
                              {x[0], g.Ints({4, 1}, LOOM_DTYPE_INT64)})[0]};
                        }));
  }
  cs.push_back(Custom("Cumsum", "axis 1", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("Cumsum", {x[0], g.Int(1)})};
                      }));
  cs.push_back(Custom("Cumsum", "exclusive reverse", {In_({4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op(
                            "Cumsum", {x[0], g.Int(0)}, BoolAttr("exclusive", true, "reverse", true))};
                      }));

  // Second order: the gradients of the fused gradient ops.
  cs.push_back(SecondOrder("SigmoidGrad", "Sigmoid"));
  cs.push_back(SecondOrder("TanhGrad", "Tanh"));
  cs.push_back(SecondOrder("SqrtGrad", "Sqrt", 0.5, 3));
  cs.push_back(SecondOrder("RsqrtGrad", "Rsqrt", 0.5, 3));
  cs.push_back(SecondOrder("ReciprocalGrad", "Reciprocal", -2, 2, 0.5));
  cs.push_back(SecondOrder("SoftplusGrad", "Softplus"));
  cs.push_back(SecondOrder("ReluGrad", "Relu", -2, 2, 0.1));
  cs.push_back(SecondOrder("Relu6Grad", "Relu6", -2, 8, 0.1));
  cs.push_back(SecondOrder("EluGrad", "Elu", -2, 2, 0.1));
  cs.push_back(SecondOrder("SeluGrad", "Selu", -2, 2, 0.1));
  cs.push_back(SecondOrder("SoftsignGrad", "Softsign", -2, 2, 0.1));
  cs.push_back(SecondOrder("LeakyReluGrad", "LeakyRelu", -2, 2, 0.1, FloatAttr("alpha", 0.3f)));
  cs.push_back(Custom("BiasAddGrad", "second order of BiasAdd", {In_({2, 3}), In_({3}), In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output y = g.Op("Mul", {g.Op("BiasAdd", {x[0], x[1]}), x[2]});
                        std::vector<loom_output> d;
                        EXPECT_EQ(g.Gradients({y}, {x[1]}, &d), "");
                        return d;
                      }));
  cs.push_back(Custom("BiasAddGrad", "BiasAddGrad alone", {In_({3, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        return std::vector<loom_output>{g.Op("BiasAddGrad", {x[0]})};
                      }));
  return cs;
}

const char* const kModeNames[] = {" (static shapes)", " (unknown dims)", " (unknown rank)"};

class GradientCheck : public ::testing::TestWithParam<int> {};

TEST_P(GradientCheck, SymbolicMatchesCentralDifferences) {
  static const std::vector<GradCase> cases = AllCases();
  const GradCase& c = cases[GetParam()];
  for (int mode = 0; mode <= c.max_mode; ++mode) {
    SCOPED_TRACE(c.op + " " + c.label + kModeNames[mode]);
    std::string err = CheckCase(c, mode, 1000 + GetParam());
    EXPECT_EQ(err, "") << "gradient of " << c.op << " (" << c.label << ")" << kModeNames[mode]
                       << ": " << err;
  }
}

INSTANTIATE_TEST_SUITE_P(AllGradients, GradientCheck,
                         ::testing::Range(0, static_cast<int>(AllCases().size())),
                         [](const ::testing::TestParamInfo<int>& info) {
                           static const std::vector<GradCase> cases = AllCases();
                           std::string n = cases[info.param].op + "_" + std::to_string(info.param);
                           return n;
                         });

// Second-order checks of ops whose gradients are built from ordinary ops
// (Mul, Square, MatMul): d/dx of the symbolic first derivative.
TEST(SecondOrder, MulSquareMatMulMatchCentralDifferences) {
  std::vector<GradCase> cs;
  cs.push_back(SecondOrder("Mul", "Square"));
  cs.push_back(Custom("Mul", "d/dx (x*y*x)", {In_({2, 3}), In_({3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output y = g.Op("Mul", {g.Op("Mul", {x[0], x[1]}), x[0]});
                        std::vector<loom_output> d;
                        EXPECT_EQ(g.Gradients({y}, {x[0], x[1]}, &d), "");
                        return d;
                      }));
  cs.push_back(Custom("MatMul", "second order", {In_({2, 3}), In_({3, 4}), In_({2, 4})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output y = g.Op("Mul", {g.Op("MatMul", {x[0], x[1]}), x[2]});
                        y = g.Op("Mul", {y, y});
                        std::vector<loom_output> d;
                        EXPECT_EQ(g.Gradients({y}, {x[0], x[1]}, &d), "");
                        return d;
                      }));
  cs.push_back(Custom("Softmax", "second order", {In_({2, 3}), In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output y = g.Op("Mul", {g.Op("Softmax", {x[0]}), x[1]});
                        std::vector<loom_output> d;
                        EXPECT_EQ(g.Gradients({y}, {x[0]}, &d), "");
                        return d;
                      }));
  cs.push_back(Custom("SoftmaxCrossEntropyWithLogits", "second order through backprop",
                      {In_({2, 3}), In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output labels = g.Op("Softmax", {x[1]});
                        loom_output loss =
                            g.OpN("SoftmaxCrossEntropyWithLogits", {x[0], labels})[0];
                        std::vector<loom_output> d;
                        EXPECT_EQ(g.Gradients({loss}, {x[0]}, &d), "");
                        return d;
                      }));
  cs.push_back(Custom("Sum", "second order of a reduction", {In_({2, 3})},
                      [](Graph& g, const std::vector<loom_output>& x) {
                        loom_output s = g.Op("Sum", {g.Op("Square", {x[0]}), g.Ints({1})});
                        loom_output y = g.Op("Mul", {s, s});
                        std::vector<loom_output> d;
                        EXPECT_EQ(g.Gradients({y}, {x[0]}, &d), "");
                        return d;
                      }));
  for (size_t i = 0; i < cs.size(); ++i) {
    for (int mode = 0; mode <= cs[i].max_mode; ++mode) {
      std::string err = CheckCase(cs[i], mode, 77 + i);
      EXPECT_EQ(err, "") << cs[i].op << " (" << cs[i].label << ")" << kModeNames[mode] << ": "
                         << err;
    }
  }
}

// Every registered op with a kernel either has a gradient case above or is
// declared not differentiable / stateful / internal. A new op without either
// fails here. (Ops no device has a kernel for cannot be checked numerically.)
TEST(GradientCheck, EveryRegisteredOpIsCovered) {
  std::set<std::string> covered;
  for (const GradCase& c : AllCases()) covered.insert(c.op);
  for (const char* op : {"Mul", "MatMul", "Softmax", "Sum"}) covered.insert(op);
  // Checked in conv_grad_test.cc.
  for (const char* op : {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput", "DepthwiseConv2dNativeBackpropFilter", "MaxPool", "MaxPoolGrad", "MaxPoolGradGrad", "AvgPool", "AvgPoolGrad", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "FusedBatchNormGrad", "FusedBatchNormGradV2", "FusedBatchNormGradV3"}) covered.insert(op);
  // Ops with no gradient by design (TensorFlow's NotDifferentiable set), sources,
  // state updates and internal helper ops.
  const std::set<std::string> exempt = {
      "Shape", "ShapeN", "Size", "Rank", "ArgMax", "ArgMin", "Equal", "NotEqual", "Less",
      "LessEqual", "Greater", "GreaterEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "OneHot",
      "RandomUniform", "RandomUniformInt", "RandomStandardNormal", "TruncatedNormal", "Floor",
      "Ceil", "Round", "Sign", "ZerosLike", "OnesLike", "BroadcastGradientArgs", "Range",
      "StopGradient", "PreventGradient", "Const", "Placeholder", "PlaceholderWithDefault", "NoOp",
      "VariableV2", "IsVariableInitialized", "Assign", "AssignAdd", "AssignSub",
      "ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyAdagrad", "ApplyRMSProp",
      "InvertPermutation", "FloorDiv", "ConcatOffset", "IsNan", "IsInf", "IsFinite", "_Send", "_Recv", "_Arg", "_Retval"};
  std::vector<std::string> missing;
  for (int i = 0; i < loom_op_type_count(); ++i) {
    std::string op = loom_op_type_at(i);
    if (op.rfind("Test", 0) == 0) continue;  // ops of test plugins
    char* devices = loom_op_type_kernel_devices(op.c_str());
    bool has_kernel = devices && devices[0];
    loom_string_free(devices);
    if (!has_kernel) continue;
    if (!covered.count(op) && !exempt.count(op)) missing.push_back(op);
  }
  std::string list;
  for (const std::string& m : missing) list += " " + m;
  EXPECT_TRUE(missing.empty()) << "ops with neither a gradient check nor an exemption:" << list;
}

}  // namespace
}  // namespace loom_test
