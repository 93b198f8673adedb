// Gradients of the convolution, pooling and batch-norm ops against central
// differences, and a small CNN that must learn Fashion-MNIST.
//
// Conv and pooling cases run in float64 (their kernels take double): with
// h = 1e-6 the difference quotient is good to ~1e-9, so atol = rtol = 1e-5
// flags any wrong formula (the argument of gradient_checker.h, whose checker
// both files use). The
// batch-norm ops are float32-only (TensorFlow's signature), so their cases
// use h = 1e-2 (float rounding of L ~ 1e-6 divided by 2h, plus the O(h^2)
// truncation of a smooth function) and a 5e-3 tolerance. Each case also runs
// with every dimension unknown at graph-build time (the run-time shape path).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "fmnist.h"
#include "nn.h"
#include "gradient_checker.h"

namespace loom_test {
namespace {

using Input = GradInput;  // {shape, lo = -1, hi = 1, check = true}
using Build = GradBuildFn;

struct Case {
  std::string label;
  std::vector<Input> inputs;
  Build build;
  loom_dtype dtype = LOOM_DTYPE_DOUBLE;
  double h = 1e-6, tol = 1e-5;  // atol = rtol = tol
};

// Returns "" or the worst mismatch. unknown_dims: placeholders of shape [-1,...].
std::string Check(const Case& c, bool unknown_dims, uint64_t seed) {
  GradProblem p;
  p.inputs = c.inputs;
  p.build = c.build;
  p.dtype = c.dtype;
  p.h = c.h;
  p.atol = p.rtol = c.tol;
  return CheckGradients(p, unknown_dims ? GradShapes::kUnknownDims : GradShapes::kStatic, seed);
}

void RunCases(const std::vector<Case>& cs) {
  for (size_t i = 0; i < cs.size(); ++i) {
    for (bool unknown : {false, true}) {
      EXPECT_EQ(Check(cs[i], unknown, 101 + i), "")
          << cs[i].label << (unknown ? " (unknown dims)" : " (static shapes)");
    }
  }
}

AttrSetter ConvAttrs(std::vector<int64_t> strides, const char* padding,
                     std::vector<int64_t> dilations = {1, 1, 1, 1},
                     std::vector<int64_t> explicit_pads = {}) {
  return [=](loom_op_builder* b) {
    loom_op_builder_set_attr_int_list(b, "strides", strides.data(), 4);
    loom_op_builder_set_attr_string(b, "padding", padding, std::strlen(padding));
    loom_op_builder_set_attr_int_list(b, "dilations", dilations.data(), 4);
    if (!explicit_pads.empty())
      loom_op_builder_set_attr_int_list(b, "explicit_paddings", explicit_pads.data(), 8);
  };
}

AttrSetter PoolAttrs(int64_t k, int64_t s, const char* padding) {
  return [=](loom_op_builder* b) {
    const int64_t ks[4] = {1, k, k, 1}, st[4] = {1, s, s, 1};
    loom_op_builder_set_attr_int_list(b, "ksize", ks, 4);
    loom_op_builder_set_attr_int_list(b, "strides", st, 4);
    loom_op_builder_set_attr_string(b, "padding", padding, std::strlen(padding));
  };
}

Case Conv2D(const std::string& label, std::vector<int64_t> x, std::vector<int64_t> w,
            AttrSetter a) {
  return Case{label, {{x}, {w}}, [a](Graph& g, const std::vector<loom_output>& in) {
                return std::vector<loom_output>{g.Op("Conv2D", {in[0], in[1]}, a)};
              }};
}

TEST(ConvGradients, Conv2DMatchesCentralDifferences) {
  RunCases({
      Conv2D("SAME 3x3", {2, 5, 5, 2}, {3, 3, 2, 3}, ConvAttrs({1, 1, 1, 1}, "SAME")),
      Conv2D("VALID stride 2", {1, 7, 6, 2}, {3, 2, 2, 2}, ConvAttrs({1, 2, 2, 1}, "VALID")),
      Conv2D("SAME dilation 2", {1, 6, 6, 1}, {3, 3, 1, 2}, ConvAttrs({1, 1, 1, 1}, "SAME", {1, 2, 2, 1})),
      Conv2D("EXPLICIT", {1, 4, 5, 2}, {2, 3, 2, 2},
             ConvAttrs({1, 1, 2, 1}, "EXPLICIT", {1, 1, 1, 1}, {0, 0, 1, 0, 2, 1, 0, 0})),
      Conv2D("1x1", {2, 3, 3, 3}, {1, 1, 3, 2}, ConvAttrs({1, 1, 1, 1}, "VALID")),
  });
}

TEST(ConvGradients, Float32Conv2DMatchesCentralDifferences) {
  // The float kernels have their own GEMM paths (panel kernel: 16-column
  // panels of the filter, 16-channel patch panels, 6-row strips). Conv2D is
  // linear in each input, so the difference quotient has no truncation
  // error: with h = 1e-2 its error is the float rounding of L (~1e-5 for
  // these sizes) over 2h, ~1e-3 at most; tolerance 5e-3 as for batch norm.
  auto f32 = [](Case c) {
    c.dtype = LOOM_DTYPE_FLOAT;
    c.h = 1e-2;
    c.tol = 5e-3;
    return c;
  };
  RunCases({
      f32(Conv2D("16 -> 16 channels SAME (panels in every pass)", {1, 3, 4, 16}, {2, 2, 16, 16},
                 ConvAttrs({1, 1, 1, 1}, "SAME"))),
      f32(Conv2D("1 -> 16 channels 3x3 (first-layer paths)", {2, 5, 4, 1}, {3, 3, 1, 16},
                 ConvAttrs({1, 1, 1, 1}, "SAME"))),
  });
}

TEST(ConvGradients, BackpropOpsMatchCentralDifferences) {
  // Second order: the gradients of Conv2DBackpropInput (w.r.t. filter and
  // out_backprop) and of Conv2DBackpropFilter (w.r.t. input and out_backprop).
  AttrSetter a = ConvAttrs({1, 2, 1, 1}, "SAME");
  RunCases({
      Case{"Conv2DBackpropInput", {{{3, 3, 2, 3}}, {{1, 3, 5, 3}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{
                 g.Op("Conv2DBackpropInput", {g.Ints({1, 5, 5, 2}), in[0], in[1]}, a)};
           }},
      Case{"Conv2DBackpropFilter", {{{1, 5, 5, 2}}, {{1, 3, 5, 3}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{
                 g.Op("Conv2DBackpropFilter", {in[0], g.Ints({3, 3, 2, 3}), in[1]}, a)};
           }},
  });
}

TEST(ConvGradients, DepthwiseMatchesCentralDifferences) {
  AttrSetter a = ConvAttrs({1, 2, 1, 1}, "SAME");
  RunCases({
      Case{"DepthwiseConv2dNative multiplier 2", {{{2, 5, 4, 3}}, {{3, 2, 3, 2}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{g.Op("DepthwiseConv2dNative", {in[0], in[1]}, a)};
           }},
      Case{"DepthwiseConv2dNative VALID dilation 2", {{{1, 6, 6, 2}}, {{2, 2, 2, 1}}},
           [](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{g.Op("DepthwiseConv2dNative", {in[0], in[1]},
                                                  ConvAttrs({1, 1, 1, 1}, "VALID", {1, 2, 2, 1}))};
           }},
      Case{"DepthwiseConv2dNativeBackpropInput", {{{3, 3, 2, 2}}, {{1, 3, 5, 4}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{g.Op("DepthwiseConv2dNativeBackpropInput",
                                                  {g.Ints({1, 5, 5, 2}), in[0], in[1]}, a)};
           }},
      Case{"DepthwiseConv2dNativeBackpropFilter", {{{1, 5, 5, 2}}, {{1, 3, 5, 4}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{g.Op("DepthwiseConv2dNativeBackpropFilter",
                                                  {in[0], g.Ints({3, 3, 2, 2}), in[1]}, a)};
           }},
  });
}

TEST(ConvGradients, PoolingMatchesCentralDifferences) {
  auto pool = [](const char* op, std::vector<int64_t> x, int64_t k, int64_t s, const char* p) {
    AttrSetter a = PoolAttrs(k, s, p);
    std::string o = op;
    return Case{o + " " + p, {{x}}, [o, a](Graph& g, const std::vector<loom_output>& in) {
                  return std::vector<loom_output>{g.Op(o, {in[0]}, a)};
                }};
  };
  AttrSetter a = PoolAttrs(2, 2, "SAME");
  RunCases({
      pool("MaxPool", {2, 4, 4, 2}, 2, 2, "VALID"),
      pool("MaxPool", {1, 5, 5, 2}, 3, 2, "SAME"),
      pool("AvgPool", {2, 4, 4, 2}, 2, 2, "VALID"),
      pool("AvgPool", {1, 5, 5, 2}, 3, 2, "SAME"),
      // The gradient ops: linear in grad, constant in the original tensors.
      Case{"MaxPoolGrad", {{{1, 5, 5, 2}, -1, 1, false}, {{1, 3, 3, 2}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             loom_output y = g.Op("MaxPool", {in[0]}, a);
             return std::vector<loom_output>{g.Op("MaxPoolGrad", {in[0], y, in[1]}, a)};
           }},
      Case{"MaxPoolGradGrad", {{{1, 5, 5, 2}, -1, 1, false}, {{1, 5, 5, 2}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             loom_output y = g.Op("MaxPool", {in[0]}, a);
             return std::vector<loom_output>{g.Op("MaxPoolGradGrad", {in[0], y, in[1]}, a)};
           }},
      Case{"AvgPoolGrad", {{{1, 3, 3, 2}}},
           [a](Graph& g, const std::vector<loom_output>& in) {
             return std::vector<loom_output>{g.Op("AvgPoolGrad", {g.Ints({1, 5, 5, 2}), in[0]}, a)};
           }},
  });
}

TEST(ConvGradients, FusedBatchNormMatchesCentralDifferences) {
  std::vector<Case> cs;
  for (const char* op : {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
    for (bool training : {true, false}) {
      std::string o = op;
      Case c{o + (training ? " training" : " inference"),
             {{{2, 3, 2, 3}, -2, 2}, {{3}, 0.5, 1.5}, {{3}}, {{3}, -0.5, 0.5, false}, {{3}, 0.5, 1.5, false}},
             [o, training](Graph& g, const std::vector<loom_output>& in) {
               std::vector<loom_output> r =
                   g.OpN(o, {in[0], in[1], in[2], in[3], in[4]}, [training](loom_op_builder* b) {
                     loom_op_builder_set_attr_float(b, "epsilon", 0.01f);
                     loom_op_builder_set_attr_bool(b, "is_training", training);
                   });
               return std::vector<loom_output>{r[0]};
             },
             LOOM_DTYPE_FLOAT, 1e-2, 5e-3};
      cs.push_back(c);
    }
  }
  RunCases(cs);
}

TEST(ConvGradients, FusedBatchNormSecondOrderMatchesCentralDifferences) {
  // d/d(x, scale) of the first-order gradients (taken with a fixed non-uniform
  // weight c, since sum(y) has zero gradient in training), so the gradient of
  // FusedBatchNormGrad w.r.t. y_backprop, x and scale is exercised.
  std::vector<Case> cs;
  for (const char* op : {"FusedBatchNorm", "FusedBatchNormV3"}) {
    for (bool training : {true, false}) {
      std::string o = op;
      cs.push_back(Case{
          o + " second order" + (training ? " training" : " inference"),
          {{{2, 2, 2, 3}, -2, 2}, {{3}, 0.5, 1.5}, {{3}}, {{3}, -0.5, 0.5, false}, {{3}, 0.5, 1.5, false}},
          [o, training](Graph& g, const std::vector<loom_output>& in) {
            std::vector<loom_output> r =
                g.OpN(o, {in[0], in[1], in[2], in[3], in[4]}, [training](loom_op_builder* b) {
                  loom_op_builder_set_attr_float(b, "epsilon", 0.01f);
                  loom_op_builder_set_attr_bool(b, "is_training", training);
                });
            Value c{{2, 2, 2, 3}, {}, LOOM_DTYPE_FLOAT};
            for (int i = 0; i < 24; ++i) c.data.push_back(std::sin(0.7 * i));
            loom_output y = g.Op("Mul", {r[0], g.Const(c)});
            std::vector<loom_output> d;
            EXPECT_EQ(g.Gradients({y}, {in[0], in[1]}, &d), "");
            return d;
          },
          LOOM_DTYPE_FLOAT, 1e-2, 5e-3});
    }
  }
  RunCases(cs);
}

// ---------------------------------------------------------------- training

loom_output Weights(nn_ctx* c, const char* name, std::vector<int64_t> dims, float stddev) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "TruncatedNormal", nullptr);
  loom_op_builder_add_input(b, nn_ints(c, dims.data(), static_cast<int>(dims.size())));
  loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
  loom_op_builder_set_attr_int(b, "seed", c->seed);
  loom_op_builder_set_attr_int(b, "seed2", c->next_seed2++);
  loom_op* op = nullptr;
  nn_check(loom_op_builder_finish(b, &op), "TruncatedNormal");
  loom_output init = nn_op2(c, "Mul", loom_output{op, 0}, nn_scalar(c, stddev));
  return nn_variable(c, name, dims.data(), static_cast<int>(dims.size()), init, 1);
}

loom_output Bias(nn_ctx* c, const char* name, int64_t n) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "Fill", nullptr);
  loom_op_builder_add_input(b, nn_ints(c, &n, 1));
  loom_op_builder_add_input(b, nn_scalar(c, 0.0f));
  loom_op* op = nullptr;
  nn_check(loom_op_builder_finish(b, &op), "Fill");
  return nn_variable(c, name, &n, 1, loom_output{op, 0}, 1);
}

loom_output Op(nn_ctx* c, const char* type, std::vector<loom_output> in, AttrSetter a) {
  loom_op_builder* b = loom_op_builder_new(c->graph, type, nullptr);
  for (const loom_output& o : in) loom_op_builder_add_input(b, o);
  if (a) a(b);
  loom_op* op = nullptr;
  nn_check(loom_op_builder_finish(b, &op), type);
  return loom_output{op, 0};
}

// The CNN, narrowed (8 and 16 filters, dense 64) so it trains in
// seconds: conv 5x5 SAME + ReLU, max-pool 2x2, conv 5x5 SAME + ReLU,
// max-pool 2x2, dense + ReLU, dense 10; Adam 1e-3 on the first 2,000
// training images for 2 epochs (40 steps of 100), fixed seeds. Chance level
// is ln 10 = 2.30; this network's second-epoch mean loss is ~0.9, so < 1.3
// fails only when learning is broken.
TEST(ConvTraining, SmallCnnOnFashionMnistLearns) {
  fmnist_set train;
  char err[1024];
  if (fmnist_load(nullptr, "train", 2000, &train, err, sizeof err)) {
    GTEST_SKIP() << "Fashion-MNIST is not available, skipping: " << err;
  }
  loom_graph* g = loom_graph_new();
  nn_ctx c;
  nn_init(&c, g, 42);
  const int64_t x_dims[2] = {-1, 784}, y_dims[1] = {-1}, img[4] = {-1, 28, 28, 1};
  loom_output x = nn_placeholder(&c, LOOM_DTYPE_FLOAT, x_dims, 2, "images");
  loom_output y = nn_placeholder(&c, LOOM_DTYPE_INT32, y_dims, 1, "labels");
  AttrSetter same = ConvAttrs({1, 1, 1, 1}, "SAME"), pool = PoolAttrs(2, 2, "SAME");
  loom_output h = nn_op2(&c, "Reshape", x, nn_ints(&c, img, 4));
  h = Op(&c, "Conv2D", {h, Weights(&c, "conv1/kernel", {5, 5, 1, 8}, 0.2f)}, same);
  h = nn_op1(&c, "Relu", nn_op2(&c, "BiasAdd", h, Bias(&c, "conv1/bias", 8)));
  h = Op(&c, "MaxPool", {h}, pool);
  h = Op(&c, "Conv2D", {h, Weights(&c, "conv2/kernel", {5, 5, 8, 16}, 0.07f)}, same);
  h = nn_op1(&c, "Relu", nn_op2(&c, "BiasAdd", h, Bias(&c, "conv2/bias", 16)));
  h = Op(&c, "MaxPool", {h}, pool);
  const int64_t flat[2] = {-1, 7 * 7 * 16};
  h = nn_op2(&c, "Reshape", h, nn_ints(&c, flat, 2));
  h = nn_dense(&c, "dense", h, 7 * 7 * 16, 64, 1, 0);
  loom_output logits = nn_dense(&c, "logits", h, 64, 10, 0, 0);
  loom_output xent = nn_op2(&c, "SparseSoftmaxCrossEntropyWithLogits", logits, y);
  const int64_t axis0[1] = {0};
  loom_output loss = nn_op2(&c, "Mean", xent, nn_ints(&c, axis0, 1));
  loom_op* train_op = nn_adam(&c, loss, 1e-3f);
  loom_op* init = nn_init_op(&c);

  loom_session_options* opts = loom_session_options_new();
  loom_session_options_set_intra_op_threads(opts, 2);
  loom_session* sess = nullptr;
  LOOM_ASSERT_OK(loom_session_new(g, opts, &sess));
  loom_session_options_free(opts);
  LOOM_ASSERT_OK(loom_session_run(sess, nullptr, nullptr, 0, nullptr, 0, &init, 1, nullptr));
  loom_output feeds[2] = {x, y};
  loom_callable* step = nullptr;
  LOOM_ASSERT_OK(loom_session_make_callable(sess, feeds, 2, &loss, 1, &train_op, 1, &step));
  uint64_t shuffle = 7;
  double first = 0, last = 0;
  for (int e = 1; e <= 2; ++e) {
    last = nn_train_epoch(step, train.images, train.labels, train.count, 784, 100, &shuffle, 0, e);
    if (e == 1) first = last;
    std::printf("epoch %d: mean loss %.4f\n", e, last);
  }
  EXPECT_LT(last, 1.3);
  EXPECT_LT(last, first);
  loom_callable_free(step);
  loom_session_free(sess);
  loom_graph_free(g);
  fmnist_free(&train);
}

}  // namespace
}  // namespace loom_test
