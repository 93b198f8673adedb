// Neural-network ops on the CPU device: Softmax, LogSoftmax, the two
// cross-entropy losses, and the variable updates (AssignAdd/AssignSub and the
// optimizers), which must change the variable in place so the next run sees it.
// References are the ops' defining formulas evaluated in double; float results
// are compared to 1e-6 relative (a few ulp of the float computation).
#include <cmath>

#include "op_test_util.h"

namespace loomtest {
namespace {

class NN : public OpTest {
 protected:
  // A float variable initialised to `init`; returns the variable's output.
  loom_output Var(const char* name, const std::vector<int64_t>& shape, const std::vector<float>& init) {
    loom_output v = B("VariableV2", {}, Attrs({Type("dtype", LOOM_DTYPE_FLOAT), [shape](loom_op_builder* b) {
                        loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
                      }}), name);
    inits_.push_back(Build("Assign", {v, Const<float>(shape, init)}));
    return v;
  }
  void InitVars() {
    std::vector<TensorPtr> out;
    ASSERT_EQ(Take(loom_session_run(Session(), nullptr, nullptr, 0, nullptr, 0, inits_.data(),
                                    static_cast<int>(inits_.size()), nullptr)),
              "");
  }
  std::vector<loom_op*> inits_;
};

std::vector<double> SoftmaxRef(const std::vector<double>& x) {
  double m = x[0];
  for (double v : x) m = std::max(m, v);
  double s = 0;
  for (double v : x) s += std::exp(v - m);
  std::vector<double> out;
  for (double v : x) out.push_back(std::exp(v - m) / s);
  return out;
}

std::vector<float> ToFloat(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

TEST_F(NN, SoftmaxAndLogSoftmaxAreStableForLargeLogits) {
  loom_output x = Const<float>({2, 3}, {1, 2, 3, 1000, 1001, 1002});
  auto out = RunOk({B("Softmax", {x}), B("LogSoftmax", {x}), B("Softmax", {Const<float>({0, 3}, {})})});
  std::vector<double> s = SoftmaxRef({1, 2, 3});
  std::vector<double> want = s, logwant;
  want.insert(want.end(), s.begin(), s.end());
  for (double v : want) logwant.push_back(std::log(v));
  ExpectNear<float>(out[0], {2, 3}, ToFloat(want), 1e-6);
  ExpectNear<float>(out[1], {2, 3}, ToFloat(logwant), 1e-6);
  ExpectValues<float>(out[2], {0, 3}, {});
}

TEST_F(NN, SoftmaxCrossEntropyWithLogitsLossAndBackprop) {
  loom_op* op = Build("SoftmaxCrossEntropyWithLogits",
                      {Const<float>({2, 3}, {1, 2, 3, 1, 1, 1}), Const<float>({2, 3}, {0, 0, 1, 0.5f, 0.5f, 0})});
  // Broadcast labels [1,3] against logits [2,3].
  loom_op* bc = Build("SoftmaxCrossEntropyWithLogits",
                      {Const<float>({2, 3}, {1, 2, 3, 1, 1, 1}), Const<float>({1, 3}, {0, 0, 1})});
  auto out = RunOk({{op, 0}, {op, 1}, {bc, 0}});
  std::vector<double> s0 = SoftmaxRef({1, 2, 3});
  ExpectNear<float>(out[0], {2}, {static_cast<float>(-std::log(s0[2])), static_cast<float>(std::log(3.0))}, 1e-6);
  ExpectNear<float>(out[1], {2, 3},
                    ToFloat({s0[0], s0[1], s0[2] - 1, 1.0 / 3 - 0.5, 1.0 / 3 - 0.5, 1.0 / 3}), 1e-6, 1e-7);
  ExpectNear<float>(out[2], {2}, {static_cast<float>(-std::log(s0[2])), static_cast<float>(std::log(3.0))}, 1e-6);
}

TEST_F(NN, SparseSoftmaxCrossEntropyWithLogits) {
  loom_op* op = Build("SparseSoftmaxCrossEntropyWithLogits",
                      {Const<float>({2, 3}, {1, 2, 3, 1, 1, 1}), Const<int64_t>({2}, {2, 0})});
  auto out = RunOk({{op, 0}, {op, 1}});
  std::vector<double> s0 = SoftmaxRef({1, 2, 3});
  ExpectNear<float>(out[0], {2}, {static_cast<float>(-std::log(s0[2])), static_cast<float>(std::log(3.0))}, 1e-6);
  ExpectNear<float>(out[1], {2, 3},
                    ToFloat({s0[0], s0[1], s0[2] - 1, 1.0 / 3 - 1, 1.0 / 3, 1.0 / 3}), 1e-6, 1e-7);
}

TEST_F(NN, SparseLabelOutOfRangeNamesTheLabelAndClassCount) {
  loom_op* op = Build("SparseSoftmaxCrossEntropyWithLogits",
                      {Const<float>({2, 3}, {1, 2, 3, 1, 1, 1}), Const<int32_t>({2}, {0, 3})}, {}, "xent");
  ExpectError(RunErr({{op, 0}}), "INVALID_ARGUMENT", {"label value of 3", "[0, 3)", "xent"});
}

TEST_F(NN, AssignAddAndAssignSubUpdateInPlace) {
  loom_output v = Var("v", {2}, {1, 2});
  InitVars();
  loom_output add = B("AssignAdd", {v, Const<float>({2}, {10, 20})});
  loom_output sub = B("AssignSub", {v, Const<float>({2}, {1, 1})});
  ExpectValues<float>(RunOk({add})[0], {2}, {11, 22});
  ExpectValues<float>(RunOk({add})[0], {2}, {21, 42});
  ExpectValues<float>(RunOk({sub})[0], {2}, {20, 41});
  ExpectValues<float>(RunOk({v})[0], {2}, {20, 41});
}

TEST_F(NN, ApplyGradientDescentPersistsAcrossRuns) {
  loom_output v = Var("v", {2}, {1, 2});
  InitVars();
  loom_output step = B("ApplyGradientDescent", {v, Scalar<float>(0.5f), Const<float>({2}, {1, 1})});
  ExpectValues<float>(RunOk({step})[0], {2}, {0.5f, 1.5f});
  ExpectValues<float>(RunOk({step})[0], {2}, {0.0f, 1.0f});
  ExpectValues<float>(RunOk({v})[0], {2}, {0.0f, 1.0f});
}

TEST_F(NN, ApplyMomentumPlainAndNesterov) {
  loom_output v1 = Var("v1", {2}, {1, 2}), a1 = Var("a1", {2}, {0.5f, 0.5f});
  loom_output v2 = Var("v2", {2}, {1, 2}), a2 = Var("a2", {2}, {0.5f, 0.5f});
  InitVars();
  loom_output g = Const<float>({2}, {1, -1}), lr = Scalar<float>(0.1f), m = Scalar<float>(0.9f);
  loom_output plain = B("ApplyMomentum", {v1, a1, lr, g, m});
  loom_output nest = B("ApplyMomentum", {v2, a2, lr, g, m}, Bool("use_nesterov", true));
  auto out = RunOk({plain, nest});
  // accum = 0.5 * 0.9 + g = [1.45, -0.55]
  ExpectNear<float>(out[0], {2}, {1 - 0.1f * 1.45f, 2 + 0.1f * 0.55f}, 1e-6);
  ExpectNear<float>(out[1], {2}, {1 - (0.1f + 1.45f * 0.09f), 2 - (-0.1f - 0.55f * 0.09f)}, 1e-6);
  ExpectNear<float>(RunOk({a1})[0], {2}, {1.45f, -0.55f}, 1e-6);
}

TEST_F(NN, ApplyAdamFollowsTheAdamUpdate) {
  loom_output v = Var("v", {2}, {1, 2}), m = Var("m", {2}, {0.1f, 0}), s = Var("s", {2}, {0.01f, 0});
  InitVars();
  // The hyperparameters as the op sees them (float), evaluated in double.
  const double b1p = 0.9f, b2p = 0.999f, lr = 0.1f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  const double g[2] = {0.5, -1}, v0[2] = {1, 2}, m0[2] = {0.1, 0}, s0[2] = {0.01, 0};
  loom_output step = B("ApplyAdam", {v, m, s, Scalar<float>(b1p), Scalar<float>(b2p), Scalar<float>(lr),
                                     Scalar<float>(b1), Scalar<float>(b2), Scalar<float>(eps),
                                     Const<float>({2}, {0.5f, -1})});
  std::vector<double> want_v, want_m, want_s;
  const double lr_t = lr * std::sqrt(1 - b2p) / (1 - b1p);
  for (int i = 0; i < 2; ++i) {
    const double mi = m0[i] + (g[i] - m0[i]) * (1 - b1);
    const double si = s0[i] + (g[i] * g[i] - s0[i]) * (1 - b2);
    want_m.push_back(mi);
    want_s.push_back(si);
    want_v.push_back(v0[i] - mi * lr_t / (std::sqrt(si) + eps));
  }
  auto out = RunOk({step});
  ExpectNear<float>(out[0], {2}, ToFloat(want_v), 1e-6);
  auto slots = RunOk({m, s});
  ExpectNear<float>(slots[0], {2}, ToFloat(want_m), 1e-6);
  ExpectNear<float>(slots[1], {2}, ToFloat(want_s), 1e-6);
}

TEST_F(NN, ApplyAdagradAndRMSProp) {
  loom_output v = Var("v", {2}, {1, 2}), acc = Var("acc", {2}, {0.1f, 0.1f});
  loom_output w = Var("w", {2}, {1, 2}), ms = Var("ms", {2}, {1, 1}), mom = Var("mom", {2}, {0, 0});
  InitVars();
  loom_output ada = B("ApplyAdagrad", {v, acc, Scalar<float>(0.5f), Const<float>({2}, {1, 2})});
  loom_output rms = B("ApplyRMSProp", {w, ms, mom, Scalar<float>(0.01f), Scalar<float>(0.9f), Scalar<float>(0.5f),
                                       Scalar<float>(1e-10f), Const<float>({2}, {2, -1})});
  auto out = RunOk({ada, rms});
  // Adagrad: accum += g^2; var -= lr * g / sqrt(accum).
  ExpectNear<float>(out[0], {2}, ToFloat({1 - 0.5 / std::sqrt(1.1), 2 - 1.0 / std::sqrt(4.1)}), 1e-6);
  // RMSProp: ms += (g^2 - ms)(1 - rho); mom = mom*momentum + lr*g/sqrt(ms+eps); var -= mom.
  const double ms0 = 1 + (4 - 1) * 0.1, ms1 = 1.0;
  ExpectNear<float>(out[1], {2}, ToFloat({1 - 0.01 * 2 / std::sqrt(ms0), 2 + 0.01 / std::sqrt(ms1)}), 1e-6);
}

TEST_F(NN, OptimizerWithAMismatchedGradientNamesTheShapes) {
  loom_output v = Var("v", {2}, {1, 2});
  InitVars();
  loom_output g = Unknown(LOOM_DTYPE_FLOAT, "g");
  loom_output step = B("ApplyGradientDescent", {v, Scalar<float>(0.5f), g}, {}, "sgd");
  TensorPtr gv = MakeTensor<float>({3}, {1, 1, 1});
  ExpectError(RunErr({step}, {g}, {gv.get()}), "INVALID_ARGUMENT", {"[2]", "[3]", "sgd"});
}

}  // namespace
}  // namespace loomtest
