// Gradients of the neural-network ops: activations, softmax, bias, losses
// (TensorFlow's nn_grad.py, over GradBuilder), including the second-order
// gradients of the fused gradient ops they produce.
#include "runtime/autodiff/grad_builder.h"

namespace loom {
namespace {

using B = GradBuilder;

// The last axis of x as a constant (-1 when the rank is unknown).
Output LastAxis(B& b, Output x) {
  const PartialShape& s = StaticShape(x);
  return b.Int32s({s.rank_known() && s.rank() > 0 ? s.rank() - 1 : -1});
}

// The Jacobian-vector product of softmax: (v - sum(v * sm, -1)) * sm.
Output SoftmaxJvp(B& b, Output v, Output sm) {
  return b.Mul(b.Sub(v, b.Sum(b.Mul(v, sm), LastAxis(b, sm), true)), sm);
}

REGISTER_GRADIENT("Softmax", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return SoftmaxJvp(b, g, y);
                  }));
REGISTER_GRADIENT("LogSoftmax", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Sub(g, b.Mul(b.Sum(g, LastAxis(b, y), true), b.Exp(y)));
                  }));
REGISTER_GRADIENT("Relu", UnaryGrad([](B& b, Output, Output y, Output g) {
                    return b.Op("ReluGrad", {g, y});
                  }));
REGISTER_GRADIENT("Softplus", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Op("SoftplusGrad", {g, x});
                  }));
REGISTER_GRADIENT("L2Loss", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(x, g);
                  }));

// ReluGrad(g, f) = g * (f > 0): linear in g; zero derivative in f (a.e.).
Status ReluGradGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = b.Op("ReluGrad", {dy[0], op->input(1)});
  return b.status();
}
REGISTER_GRADIENT("ReluGrad", ReluGradGrad);

// SoftplusGrad(g, x) = g * sigmoid(x).
Status SoftplusGradGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output gr = op->input(0), x = op->input(1);
  (*dx)[0] = b.Op("SoftplusGrad", {dy[0], x});
  (*dx)[1] = b.Op("SigmoidGrad", {b.Op("Sigmoid", {x}), b.Mul(dy[0], gr)});
  return b.status();
}
REGISTER_GRADIENT("SoftplusGrad", SoftplusGradGrad);

std::string DataFormat(Node* op) {
  std::string f;
  if (!op->attrs().GetString("data_format", &f).ok() || f.empty()) f = "NHWC";
  return f;
}

Status BiasAddGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = dy[0];
  (*dx)[1] = b.Op("BiasAddGrad", {dy[0]}, {{"data_format", AttrValue::String(DataFormat(op))}});
  return b.status();
}
REGISTER_GRADIENT("BiasAdd", BiasAddGrad);
REGISTER_GRADIENT("BiasAddV1", BiasAddGrad);

// BiasAddGrad sums over every dim but the channel one; its gradient
// broadcasts dz back along them, which BiasAdd onto zeros does.
Status BiasAddGradGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = b.Op("BiasAdd", {b.ZerosLike(op->input(0)), dy[0]},
                  {{"data_format", AttrValue::String(DataFormat(op))}});
  return b.status();
}
REGISTER_GRADIENT("BiasAddGrad", BiasAddGradGrad);

// Shared by both softmax cross-entropy ops (outputs: loss [batch], backprop =
// softmax - labels). Returns the gradient of the logits at the broadcast shape.
Output CrossEntropyLogitsGrad(B& b, Node* op, const std::vector<Output>& dy) {
  Output backprop{op, 1}, grad;
  if (dy[0].valid()) grad = b.Mul(b.ExpandDims(dy[0], -1), backprop);
  if (dy.size() > 1 && dy[1].valid()) {  // second order: through backprop's softmax
    Output jvp = SoftmaxJvp(b, dy[1], b.Op("Softmax", {op->input(0)}));
    grad = grad.valid() ? b.Add(grad, jvp) : jvp;
  }
  return grad;
}

Status SoftmaxCrossEntropyWithLogitsGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output features = op->input(0), labels = op->input(1);
  Output gf = CrossEntropyLogitsGrad(b, op, dy);
  if (gf.valid()) (*dx)[0] = b.ReduceBroadcastGrad(gf, features, {labels});
  // d loss / d labels = -log_softmax(features); d backprop / d labels = -I.
  Output gl;
  if (dy[0].valid())
    gl = b.Mul(b.ExpandDims(dy[0], -1), b.Neg(b.Op("LogSoftmax", {features})));
  if (dy[1].valid()) gl = gl.valid() ? b.Sub(gl, dy[1]) : b.Neg(dy[1]);
  if (gl.valid()) (*dx)[1] = b.ReduceBroadcastGrad(gl, labels, {features});
  return b.status();
}
REGISTER_GRADIENT("SoftmaxCrossEntropyWithLogits", SoftmaxCrossEntropyWithLogitsGrad);

Status SparseSoftmaxCrossEntropyWithLogitsGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = CrossEntropyLogitsGrad(b, op, dy);
  return b.status();
}
REGISTER_GRADIENT("SparseSoftmaxCrossEntropyWithLogits", SparseSoftmaxCrossEntropyWithLogitsGrad);

}  // namespace
}  // namespace loom
