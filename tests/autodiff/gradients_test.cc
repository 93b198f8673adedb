// The semantics of loom_graph_add_gradients (TensorFlow's tf.gradients):
// summed contributions, unconnected inputs, seeds, name prefixes, errors,
// reference inputs, unknown batch dims, and gradients registered from
// application code for an op of a plugin.
#include <cmath>
#include <cstring>

#include "test_graph.h"

namespace loom_test {
namespace {

constexpr loom_dtype kF64 = LOOM_DTYPE_DOUBLE;
constexpr loom_dtype kF32 = LOOM_DTYPE_FLOAT;

void LoadTestOps() {
  static bool loaded = false;
  if (loaded) return;
  LOOM_ASSERT_OK(loom_load_op_library(LOOM_TEST_OPS_PLUGIN));
  loaded = true;
}

// Names of the ops of g created after `first`.
std::vector<std::string> OpNamesFrom(const Graph& g, int first) {
  std::vector<std::string> names;
  for (int i = first; i < loom_graph_num_ops(g.get()); ++i)
    names.push_back(loom_op_name(loom_graph_op_at(g.get(), i)));
  return names;
}
int CountOpsOfType(const Graph& g, int first, const std::string& type) {
  int n = 0;
  for (int i = first; i < loom_graph_num_ops(g.get()); ++i)
    n += type == loom_op_type(loom_graph_op_at(g.get(), i));
  return n;
}

Value Vec(std::vector<double> v, loom_dtype dt = kF64) {
  return Value{{static_cast<int64_t>(v.size())}, std::move(v), dt};
}

void ExpectNear(const Value& got, const std::vector<double>& want, double tol = 1e-12) {
  ASSERT_EQ(got.data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data[i], want[i], tol) << "element " << i;
}

TEST(Gradients, ContributionsFromSeveralPathsAreSummedWithAddN) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {3});
  loom_output y = g.Op("AddV2", {g.Op("Mul", {x, x}), x});  // y = x^2 + x
  int before = loom_graph_num_ops(g.get());
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  ASSERT_NE(dx[0].op, nullptr);
  EXPECT_STREQ(loom_op_type(dx[0].op), "AddN");  // x*x gives two, +x one
  EXPECT_EQ(loom_op_num_inputs(dx[0].op), 3);
  EXPECT_GE(CountOpsOfType(g, before, "AddN"), 1);
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({1, -2, 0.5})}}, {dx[0]}, &out), "");
  ExpectNear(out[0], {3, -3, 2});  // 2x + 1
}

TEST(Gradients, ASingleContributionPassesThroughWithoutAddN) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output y = g.Op("Neg", {x});
  int before = loom_graph_num_ops(g.get());
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  EXPECT_STREQ(loom_op_type(dx[0].op), "Neg");
  EXPECT_EQ(CountOpsOfType(g, before, "AddN"), 0);
}

TEST(Gradients, SeveralYsAreSummed) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output y1 = g.Op("Mul", {x, g.Scalar(kF64, 3)});
  loom_output y2 = g.Op("Square", {x});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y1, y2}, {x}, &dx), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({1, 2})}}, {dx[0]}, &out), "");
  ExpectNear(out[0], {5, 7});  // 3 + 2x
}

TEST(Gradients, UnconnectedInputsGetNull) {
  Graph g;
  loom_output x1 = g.Placeholder(kF64, {2});
  loom_output x2 = g.Placeholder(kF64, {2});
  loom_output y = g.Op("Exp", {x1});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x1, x2}, &dx), "");
  EXPECT_NE(dx[0].op, nullptr);
  EXPECT_EQ(dx[1].op, nullptr);
}

TEST(Gradients, OpsOutsideThePathAreNotVisited) {
  LoadTestOps();
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output c = g.Placeholder(kF64, {2});
  // c feeds y through an op without a gradient, but c is not an x: never visited.
  loom_output blocked = g.Op("TestIdentityNoGrad", {c});
  loom_output y = g.Op("Mul", {x, blocked});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({1, 2})}, {c, Vec({4, 5})}}, {dx[0]}, &out), "");
  ExpectNear(out[0], {4, 5});
}

TEST(Gradients, IntegerTensorsAndNotDifferentiableOpsCarryNoGradient) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2, 3});
  loom_output am = g.Op("ArgMax", {x, g.Int(1)});
  loom_output y = g.Op("Cast", {am}, [](loom_op_builder* b) {
    loom_op_builder_set_attr_type(b, "DstT", kF64);
  });
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  EXPECT_EQ(dx[0].op, nullptr);

  loom_output i = g.Placeholder(LOOM_DTYPE_INT32, {2});
  loom_output yi = g.Op("Cast", {g.Op("Mul", {i, i})}, [](loom_op_builder* b) {
    loom_op_builder_set_attr_type(b, "DstT", kF64);
  });
  ASSERT_EQ(g.Gradients({yi}, {i}, &dx), "");
  EXPECT_EQ(dx[0].op, nullptr);
}

TEST(Gradients, StopGradientBlocksOnePath) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output y = g.Op("Mul", {x, g.Op("StopGradient", {x})});  // d/dx = stop(x) = x
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({3, -1})}}, {dx[0]}, &out), "");
  ExpectNear(out[0], {3, -1});
}

TEST(Gradients, GivenDysSeedTheYsAndNullEntriesMeanOnes) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output y1 = g.Op("Mul", {x, g.Scalar(kF64, 2)});
  loom_output y2 = g.Op("Mul", {x, g.Scalar(kF64, 10)});
  loom_output seed = g.Const(Vec({0.5, 3}));
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y1, y2}, {x}, &dx, {seed, loom_output{nullptr, 0}}), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({1, 1})}}, {dx[0]}, &out), "");
  ExpectNear(out[0], {2 * 0.5 + 10, 2 * 3 + 10});
}

TEST(Gradients, AnXThatIsAYGetsItsSeed) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({x}, {x}, &dx), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({7, 8})}}, {dx[0]}, &out), "");
  ExpectNear(out[0], {1, 1});
}

TEST(Gradients, GradientOpsGetAUniquePrefix) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2}, "x");
  loom_output y = g.Op("Square", {x}, nullptr, "y");
  std::vector<loom_output> dx;
  int first = loom_graph_num_ops(g.get());
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  int second = loom_graph_num_ops(g.get());
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  int third = loom_graph_num_ops(g.get());
  ASSERT_EQ(g.Gradients({y}, {x}, &dx, {}, "train"), "");
  ASSERT_GT(second, first);
  std::vector<std::string> a = OpNamesFrom(g, first);
  for (int i = 0; i < second - first; ++i)
    EXPECT_EQ(a[i].rfind("gradients/", 0), 0u) << a[i];
  for (int i = second - first; i < third - first; ++i)
    EXPECT_EQ(a[i].rfind("gradients_1/", 0), 0u) << a[i];
  for (size_t i = third - first; i < a.size(); ++i) EXPECT_EQ(a[i].rfind("train/", 0), 0u) << a[i];
  // The gradient of op 'y' is grouped under its name.
  bool grouped = false;
  for (int i = 0; i < second - first; ++i) grouped |= a[i].rfind("gradients/y_grad/", 0) == 0;
  EXPECT_TRUE(grouped);
}

TEST(Gradients, MissingGradientNamesTheOpItsTypeAndThePath) {
  LoadTestOps();
  Graph g;
  loom_output x = g.Placeholder(kF64, {2}, "x");
  loom_output a = g.Op("Exp", {x}, nullptr, "a");
  loom_output n = g.Op("TestIdentityNoGrad", {a}, nullptr, "nograd");
  loom_output loss = g.Op("Sum", {n, g.Ints({0})}, nullptr, "loss");
  std::vector<loom_output> dx(1, loom_output{nullptr, 0});
  loom_status* s = loom_graph_add_gradients(g.get(), nullptr, &loss, 1, &x, 1, nullptr, dx.data());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(loom_status_code(s), LOOM_CODE_NOT_FOUND);
  std::string m = loom_status_message(s);
  loom_status_free(s);
  EXPECT_NE(m.find("No gradient defined for op 'nograd' of type 'TestIdentityNoGrad'"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("'x' -> 'a' -> 'nograd' -> 'loss'"), std::string::npos) << m;
  EXPECT_EQ(dx[0].op, nullptr);  // out_dxs untouched on failure
}

TEST(Gradients, PreventGradientIsAnErrorWithItsMessage) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output p = g.Op("PreventGradient", {x}, [](loom_op_builder* b) {
    loom_op_builder_set_attr_string(b, "message", "no second derivative here", 25);
  });
  std::vector<loom_output> dx;
  std::string m = g.Gradients({g.Op("Square", {p})}, {x}, &dx);
  EXPECT_NE(m.find("no second derivative here"), std::string::npos) << m;
}

TEST(Gradients, BadArgumentsAreInvalidArgument) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output y = g.Op("Square", {x});
  loom_output bad = g.Const(Vec({1, 1}, kF32));
  std::vector<loom_output> dx;
  std::string m = g.Gradients({y}, {x}, &dx, {bad});
  EXPECT_NE(m.find("INVALID_ARGUMENT"), std::string::npos) << m;
  EXPECT_NE(m.find("dtype"), std::string::npos) << m;
  m = g.Gradients({y}, {loom_output{nullptr, 0}}, &dx);
  EXPECT_NE(m.find("INVALID_ARGUMENT"), std::string::npos) << m;
}

TEST(Gradients, VariablesReferenceOutputsFlowLikeValues) {
  Graph g;
  loom_output v = g.Op("VariableV2", {}, [](loom_op_builder* b) {
    int64_t d[] = {2};
    loom_op_builder_set_attr_shape(b, "shape", d, 1);
    loom_op_builder_set_attr_type(b, "dtype", kF64);
  });
  loom_output init = g.Op("Assign", {v, g.Const(Vec({1.5, -2}))});
  loom_output y = g.Op("Sum", {g.Op("Square", {v}), g.Ints({0})});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {v}, &dx), "");
  ASSERT_NE(dx[0].op, nullptr);
  ASSERT_EQ(g.Run({}, {}, nullptr, {init.op}), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({}, {dx[0]}, &out), "");
  ExpectNear(out[0], {3, -4});
}

TEST(Gradients, UnknownBatchDimensionWorksForEveryBatchSize) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {-1, 3});
  loom_output w = g.Const(Value{{3, 2}, {1, 2, 3, 4, 5, 6}, kF64});
  loom_output b = g.Placeholder(kF64, {2});
  loom_output h = g.Op("AddV2", {g.Op("MatMul", {x, w}), b});
  loom_output loss = g.Op("Mean", {g.Op("Square", {h}), g.Ints({0, 1})});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({loss}, {x, b}, &dx), "");
  for (int batch : {1, 4}) {
    Value xv{{batch, 3}, std::vector<double>(batch * 3, 1.0), kF64};
    std::vector<Value> out;
    ASSERT_EQ(g.Run({{x, xv}, {b, Vec({0, 0})}}, {dx[0], dx[1]}, &out), "");
    // h = [1+3+5, 2+4+6] = [9, 12] per row; dloss/dh = 2h / (2 batch); db
    // sums over the rows.
    ASSERT_EQ(out[1].shape, std::vector<int64_t>({2}));
    ExpectNear(out[1], {9.0, 12.0}, 1e-9);
    ASSERT_EQ(out[0].shape, std::vector<int64_t>({batch, 3}));
    // dx = dh W^T = (9/b, 12/b) . rows of W
    for (int r = 0; r < batch; ++r) {
      EXPECT_NEAR(out[0].data[r * 3 + 0], (9.0 * 1 + 12.0 * 2) / batch, 1e-9);
      EXPECT_NEAR(out[0].data[r * 3 + 2], (9.0 * 5 + 12.0 * 6) / batch, 1e-9);
    }
  }
}

TEST(Gradients, FullyStaticShapesNeedNoRunTimeShapeOps) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {4, 3});
  loom_output b = g.Placeholder(kF64, {3});
  loom_output y = g.Op("Mul", {g.Op("AddV2", {x, b}), b});
  int before = loom_graph_num_ops(g.get());
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x, b}, &dx), "");
  EXPECT_EQ(CountOpsOfType(g, before, "Shape"), 0);
  EXPECT_EQ(CountOpsOfType(g, before, "BroadcastGradientArgs"), 0);

  Graph d;  // the same with an unknown batch: b's gradient is still static
  loom_output xd = d.Placeholder(kF64, {-1, 3});
  loom_output bd = d.Placeholder(kF64, {3});
  loom_output yd = d.Op("AddV2", {xd, bd});
  before = loom_graph_num_ops(d.get());
  ASSERT_EQ(d.Gradients({yd}, {xd, bd}, &dx), "");
  EXPECT_EQ(CountOpsOfType(d, before, "BroadcastGradientArgs"), 0);
}

// Dropout is ordinary ops (a seeded RandomUniform mask, not differentiable);
// its gradient must scale by the same mask the forward pass drew in that run.
TEST(Gradients, DropoutGradientUsesTheForwardMask) {
  Graph g;
  const int n = 1000;
  loom_output x = g.Placeholder(kF64, {n});
  loom_output u = g.Op("RandomUniform", {g.Ints({n})}, [](loom_op_builder* b) {
    loom_op_builder_set_attr_type(b, "dtype", kF64);
    loom_op_builder_set_attr_int(b, "seed", 1);
    loom_op_builder_set_attr_int(b, "seed2", 2);
  });
  loom_output mask = g.Op("Cast", {g.Op("GreaterEqual", {u, g.Scalar(kF64, 0.25)})},
                          [](loom_op_builder* b) { loom_op_builder_set_attr_type(b, "DstT", kF64); });
  loom_output y = g.Op("RealDiv", {g.Op("Mul", {x, mask}), g.Scalar(kF64, 0.75)});
  std::vector<loom_output> dx;
  ASSERT_EQ(g.Gradients({y}, {x}, &dx), "");
  Value xv{{n}, std::vector<double>(n, 3.0), kF64};
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, xv}}, {y, dx[0]}, &out), "");
  int dropped = 0;
  for (int i = 0; i < n; ++i) {
    EXPECT_NEAR(out[1].data[i], out[0].data[i] / 3.0, 1e-12) << "element " << i;
    EXPECT_TRUE(out[1].data[i] == 0.0 || std::fabs(out[1].data[i] - 1 / 0.75) < 1e-12);
    dropped += out[1].data[i] == 0.0;
  }
  EXPECT_GT(dropped, 180);  // ~250 expected of 1000 at rate 0.25
  EXPECT_LT(dropped, 320);
}

TEST(Gradients, SecondOrderOfSquareIsTwo) {
  Graph g;
  loom_output x = g.Placeholder(kF64, {3});
  loom_output y = g.Op("Mul", {g.Op("Square", {x}), x});  // x^3
  std::vector<loom_output> d1, d2;
  ASSERT_EQ(g.Gradients({y}, {x}, &d1), "");
  ASSERT_EQ(g.Gradients({d1[0]}, {x}, &d2), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, Vec({1, 2, -1})}}, {d1[0], d2[0]}, &out), "");
  ExpectNear(out[0], {3, 12, 3});   // 3x^2
  ExpectNear(out[1], {6, 12, -6});  // 6x
}

// ---------------------------------------------------------------- gradients from C

struct CallbackData {
  int calls = 0;
};

// d/dx (x^2 + 1) = 2 x dy, built through the public graph-building API.
loom_status* SquarePlusOneGrad(void* user_data, loom_graph* graph, loom_op* op,
                               const loom_output* grad_outputs, int num_outputs,
                               loom_output* out_grad_inputs, int num_inputs) {
  static_cast<CallbackData*>(user_data)->calls++;
  if (num_outputs != 1 || num_inputs != 1)
    return loom_status_new(LOOM_CODE_INTERNAL, "unexpected arity");
  loom_output x = loom_op_input(op, 0);
  loom_dtype dt = loom_op_output_dtype(op, 0);
  loom_tensor* two = nullptr;
  loom_status* s = loom_tensor_new(dt, nullptr, 0, &two);
  if (s) return s;
  if (dt == LOOM_DTYPE_FLOAT) {
    *static_cast<float*>(loom_tensor_data(two)) = 2.0f;
  } else {
    *static_cast<double*>(loom_tensor_data(two)) = 2.0;
  }
  loom_op_builder* b = loom_op_builder_new(graph, "Const", nullptr);
  loom_op_builder_set_attr_tensor(b, "value", two);
  loom_op_builder_set_attr_type(b, "dtype", dt);
  loom_tensor_free(two);
  loom_op* c = nullptr;
  if ((s = loom_op_builder_finish(b, &c))) return s;
  loom_op* twice_x = nullptr;
  b = loom_op_builder_new(graph, "Mul", nullptr);
  loom_op_builder_add_input(b, loom_output{c, 0});
  loom_op_builder_add_input(b, x);
  if ((s = loom_op_builder_finish(b, &twice_x))) return s;
  loom_op* dx = nullptr;
  b = loom_op_builder_new(graph, "Mul", nullptr);
  loom_op_builder_add_input(b, loom_output{twice_x, 0});
  loom_op_builder_add_input(b, grad_outputs[0]);
  if ((s = loom_op_builder_finish(b, &dx))) return s;
  out_grad_inputs[0] = loom_output{dx, 0};
  return nullptr;
}

TEST(CustomGradient, ACallbackRegisteredFromCTrainsAPluginOp) {
  LoadTestOps();
  static CallbackData data;
  LOOM_ASSERT_OK(loom_register_gradient("TestSquarePlusOne", SquarePlusOneGrad, &data));

  // Fit w so that TestSquarePlusOne(w) = target: w -> sqrt(target - 1).
  Graph g;
  loom_output w = g.Op("VariableV2", {}, [](loom_op_builder* b) {
    int64_t d[] = {3};
    loom_op_builder_set_attr_shape(b, "shape", d, 1);
    loom_op_builder_set_attr_type(b, "dtype", kF32);
  });
  loom_output init = g.Op("Assign", {w, g.Const(Vec({1, 1, 1}, kF32))});
  loom_output target = g.Const(Vec({2, 5, 10}, kF32));  // w* = 1, 2, 3
  loom_output y = g.Op("TestSquarePlusOne", {w}, nullptr, "custom");
  loom_output loss = g.Op("Mean", {g.Op("SquaredDifference", {y, target}), g.Ints({0})});
  std::vector<loom_output> dw;
  ASSERT_EQ(g.Gradients({loss}, {w}, &dw), "");
  ASSERT_NE(dw[0].op, nullptr);
  EXPECT_EQ(data.calls, 1);
  // The callback's ops were named under the gradient prefix.
  bool prefixed = false;
  for (int i = 0; i < loom_graph_num_ops(g.get()); ++i)
    prefixed |= std::string(loom_op_name(loom_graph_op_at(g.get(), i))).rfind(
                    "gradients/custom_grad/", 0) == 0;
  EXPECT_TRUE(prefixed);

  loom_output step = g.Op("ApplyGradientDescent", {w, g.Scalar(kF32, 0.01), dw[0]});
  ASSERT_EQ(g.Run({}, {}, nullptr, {init.op}), "");
  std::vector<Value> out;
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(g.Run({}, {}, nullptr, {step.op}), "");
  ASSERT_EQ(g.Run({}, {w, loss}, &out), "");
  ExpectNear(out[0], {1, 2, 3}, 1e-3);
  EXPECT_LT(out[1].data[0], 1e-6);
}

// A gradient function that fails, or returns a tensor of the wrong dtype.
struct BadGradMode {
  bool fail = false;
};
loom_status* BadGrad(void* user_data, loom_graph* graph, loom_op* op, const loom_output*, int,
                     loom_output* out_grad_inputs, int) {
  if (static_cast<BadGradMode*>(user_data)->fail)
    return loom_status_new(LOOM_CODE_UNIMPLEMENTED, "this gradient is not written yet");
  loom_op_builder* b = loom_op_builder_new(graph, "Cast", nullptr);
  loom_op_builder_add_input(b, loom_op_input(op, 0));
  loom_op_builder_set_attr_type(b, "DstT", LOOM_DTYPE_FLOAT);
  loom_op* cast = nullptr;
  if (loom_status* s = loom_op_builder_finish(b, &cast)) return s;
  out_grad_inputs[0] = loom_output{cast, 0};
  return nullptr;
}

TEST(CustomGradient, ErrorsAndWrongDtypesFromCallbacksNameTheOp) {
  LoadTestOps();
  static BadGradMode mode;
  LOOM_ASSERT_OK(loom_register_gradient("TestIdentityBadGrad", BadGrad, &mode));
  Graph g;
  loom_output x = g.Placeholder(kF64, {2});
  loom_output y = g.Op("Square", {g.Op("TestIdentityBadGrad", {x}, nullptr, "bad")});
  std::vector<loom_output> dx;
  std::string m = g.Gradients({y}, {x}, &dx);
  EXPECT_NE(m.find("INVALID_ARGUMENT"), std::string::npos) << m;
  EXPECT_NE(m.find("'bad'"), std::string::npos) << m;
  EXPECT_NE(m.find("dtype float, expected double"), std::string::npos) << m;
  mode.fail = true;
  m = g.Gradients({y}, {x}, &dx);
  EXPECT_NE(m.find("UNIMPLEMENTED"), std::string::npos) << m;
  EXPECT_NE(m.find("'bad'"), std::string::npos) << m;
  EXPECT_NE(m.find("this gradient is not written yet"), std::string::npos) << m;
}

}  // namespace
}  // namespace loom_test
