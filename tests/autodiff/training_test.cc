// Training end to end through symbolic gradients and the optimizer kernels:
// a linear regression must reach the least-squares optimum computed here
// independently, and the C example's MLP must learn Fashion-MNIST.
#include <cmath>

#include "fmnist.h"
#include "nn.h"
#include "test_graph.h"

namespace loom_test {
namespace {

// Solves the n x n system A z = r in place (Gaussian elimination, partial pivoting).
std::vector<double> Solve(std::vector<std::vector<double>> a, std::vector<double> r) {
  const size_t n = r.size();
  for (size_t c = 0; c < n; ++c) {
    size_t p = c;
    for (size_t i = c + 1; i < n; ++i)
      if (std::fabs(a[i][c]) > std::fabs(a[p][c])) p = i;
    std::swap(a[c], a[p]);
    std::swap(r[c], r[p]);
    for (size_t i = c + 1; i < n; ++i) {
      double f = a[i][c] / a[c][c];
      for (size_t k = c; k < n; ++k) a[i][k] -= f * a[c][k];
      r[i] -= f * r[c];
    }
  }
  std::vector<double> z(n);
  for (size_t i = n; i-- > 0;) {
    double s = r[i];
    for (size_t k = i + 1; k < n; ++k) s -= a[i][k] * z[k];
    z[i] = s / a[i][i];
  }
  return z;
}

TEST(Training, LinearRegressionReachesTheLeastSquaresOptimum) {
  const int n = 200, d = 3;
  const double w_true[d] = {1.5, -2.0, 0.5}, b_true = 0.3;
  Rng rng(5);
  Value xv{{n, d}, {}, LOOM_DTYPE_FLOAT}, yv{{n, 1}, {}, LOOM_DTYPE_FLOAT};
  for (int i = 0; i < n; ++i) {
    double y = b_true + rng.Uniform(-0.1, 0.1);
    for (int j = 0; j < d; ++j) {
      // Round through float so the reference sees exactly what the graph sees.
      double x = static_cast<float>(rng.Uniform(-1, 1));
      xv.data.push_back(x);
      y += w_true[j] * x;
    }
    yv.data.push_back(static_cast<float>(y));
  }
  // Reference: normal equations over [x, 1].
  std::vector<std::vector<double>> ata(d + 1, std::vector<double>(d + 1, 0));
  std::vector<double> aty(d + 1, 0);
  for (int i = 0; i < n; ++i) {
    double row[d + 1];
    for (int j = 0; j < d; ++j) row[j] = xv.data[i * d + j];
    row[d] = 1;
    for (int j = 0; j <= d; ++j) {
      aty[j] += row[j] * yv.data[i];
      for (int k = 0; k <= d; ++k) ata[j][k] += row[j] * row[k];
    }
  }
  std::vector<double> z = Solve(ata, aty);
  double best = 0;
  for (int i = 0; i < n; ++i) {
    double p = z[d];
    for (int j = 0; j < d; ++j) p += z[j] * xv.data[i * d + j];
    best += (p - yv.data[i]) * (p - yv.data[i]) / n;
  }

  Graph g;
  loom_output x = g.Placeholder(LOOM_DTYPE_FLOAT, {-1, d});
  loom_output y = g.Placeholder(LOOM_DTYPE_FLOAT, {-1, 1});
  auto var = [&](std::vector<int64_t> shape) {
    return g.Op("VariableV2", {}, [shape](loom_op_builder* b) {
      loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
      loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
    });
  };
  loom_output w = var({d, 1}), b = var({1});
  loom_output init_w = g.Op("Assign", {w, g.Const(Value{{d, 1}, {0, 0, 0}, LOOM_DTYPE_FLOAT})});
  loom_output init_b = g.Op("Assign", {b, g.Const(Value{{1}, {0}, LOOM_DTYPE_FLOAT})});
  loom_output pred = g.Op("AddV2", {g.Op("MatMul", {x, w}), b});
  loom_output loss = g.Op("Mean", {g.Op("Square", {g.Op("Sub", {pred, y})}), g.Ints({0, 1})});
  std::vector<loom_output> grads;
  ASSERT_EQ(g.Gradients({loss}, {w, b}, &grads), "");
  loom_output lr = g.Scalar(LOOM_DTYPE_FLOAT, 0.5);
  loom_output step_w = g.Op("ApplyGradientDescent", {w, lr, grads[0]});
  loom_output step_b = g.Op("ApplyGradientDescent", {b, lr, grads[1]});

  ASSERT_EQ(g.Run({}, {}, nullptr, {init_w.op, init_b.op}), "");
  std::vector<Value> out;
  ASSERT_EQ(g.Run({{x, xv}, {y, yv}}, {loss}, &out), "");
  const double initial = out[0].data[0];
  for (int i = 0; i < 300; ++i)
    ASSERT_EQ(g.Run({{x, xv}, {y, yv}}, {}, nullptr, {step_w.op, step_b.op}), "");
  ASSERT_EQ(g.Run({{x, xv}, {y, yv}}, {loss, w, b}, &out), "");
  // float32 arithmetic over 200 rows: the loss is good to ~1e-6 of its size.
  EXPECT_NEAR(out[0].data[0], best, 1e-5) << "initial loss " << initial;
  for (int j = 0; j < d; ++j) EXPECT_NEAR(out[1].data[j], z[j], 1e-3) << "w[" << j << "]";
  EXPECT_NEAR(out[2].data[0], z[d], 1e-3);
  EXPECT_GT(initial, 100 * best);
}

// The MLP of examples/c/mlp.c on the first 5,000 training images: after three
// epochs (150 Adam steps) the mean training loss of the last epoch is below
// 0.60. (Chance level is ln 10 = 2.30; this network gets to ~0.47.)
TEST(Training, MlpOnFashionMnistLearns) {
  fmnist_set train;
  char err[1024];
  if (fmnist_load(nullptr, "train", 5000, &train, err, sizeof err)) {
    GTEST_SKIP() << "Fashion-MNIST is not available, skipping: " << err;
  }
  loom_graph* g = loom_graph_new();
  nn_ctx c;
  nn_init(&c, g, 42);
  const int64_t x_dims[2] = {-1, 784}, y_dims[1] = {-1};
  loom_output x = nn_placeholder(&c, LOOM_DTYPE_FLOAT, x_dims, 2, "images");
  loom_output y = nn_placeholder(&c, LOOM_DTYPE_INT32, y_dims, 1, "labels");
  loom_output h1 = nn_dense(&c, "hidden1", x, 784, 256, 1, 0);
  loom_output h2 = nn_dense(&c, "hidden2", h1, 256, 128, 1, 0);
  loom_output logits = nn_dense(&c, "logits", h2, 128, 10, 0, 0);
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
  for (int e = 1; e <= 3; ++e) {
    last = nn_train_epoch(step, train.images, train.labels, train.count, 784, 100, &shuffle, 0, e);
    if (e == 1) first = last;
    std::printf("epoch %d: mean loss %.4f\n", e, last);
  }
  EXPECT_LT(last, 0.60);
  EXPECT_LT(last, first);

  loom_callable_free(step);
  loom_session_free(sess);
  loom_graph_free(g);
  fmnist_free(&train);
}

}  // namespace
}  // namespace loom_test
