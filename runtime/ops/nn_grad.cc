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

// The fused gradient ops of the activations, by name (template arguments).
constexpr char kReluGrad[] = "ReluGrad";
constexpr char kRelu6Grad[] = "Relu6Grad";
constexpr char kEluGrad[] = "EluGrad";
constexpr char kSeluGrad[] = "SeluGrad";
constexpr char kSoftplusGrad[] = "SoftplusGrad";
constexpr char kSoftsignGrad[] = "SoftsignGrad";
constexpr char kLeakyReluGrad[] = "LeakyReluGrad";
constexpr bool kOfOutput = true, kOfInput = false;

// An activation's gradient is its fused op on (dy, x) or (dy, y), as
// TensorFlow's nn_grad.py passes it: Relu6, Elu and Selu take the output
// (0 < y < 6 iff 0 < x < 6; y < 0 iff x < 0).
template <const char* kGradOp, bool kOf>
Output ActivationGrad(B& b, Output x, Output y, Output g) {
  return b.Op(kGradOp, {g, kOf == kOfOutput ? y : x});
}

REGISTER_GRADIENT("Relu", UnaryGrad(ActivationGrad<kReluGrad, kOfOutput>));
REGISTER_GRADIENT("Relu6", UnaryGrad(ActivationGrad<kRelu6Grad, kOfOutput>));
REGISTER_GRADIENT("Elu", UnaryGrad(ActivationGrad<kEluGrad, kOfOutput>));
REGISTER_GRADIENT("Selu", UnaryGrad(ActivationGrad<kSeluGrad, kOfOutput>));
REGISTER_GRADIENT("Softplus", UnaryGrad(ActivationGrad<kSoftplusGrad, kOfInput>));
REGISTER_GRADIENT("Softsign", UnaryGrad(ActivationGrad<kSoftsignGrad, kOfInput>));
REGISTER_GRADIENT("L2Loss", UnaryGrad([](B& b, Output x, Output, Output g) {
                    return b.Mul(x, g);
                  }));

// The attrs a fused gradient op shares with its forward op (LeakyRelu's alpha).
GradAttrs SharedAttrs(const Node* op) {
  GradAttrs a;
  if (const AttrValue* v = op->attrs().Find("alpha")) a.emplace_back("alpha", *v);
  return a;
}

// dx[0] = kGradOp(dy, input kInput of op), dx[1] none. LeakyRelu: its
// gradient op on its features (input 0). ReluGrad(g, f) = g * (f > 0),
// Relu6Grad (0 < f < 6) and LeakyReluGrad (f > 0 ? 1 : alpha) are linear in
// g with a zero derivative in f (a.e.): the same op on their features (input 1).
template <const char* kGradOp, int kInput>
Status LinearGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = b.Op(kGradOp, {dy[0], op->input(kInput)}, SharedAttrs(op));
  return b.status();
}
REGISTER_GRADIENT("LeakyRelu", (LinearGrad<kLeakyReluGrad, 0>));
REGISTER_GRADIENT("ReluGrad", (LinearGrad<kReluGrad, 1>));
REGISTER_GRADIENT("Relu6Grad", (LinearGrad<kRelu6Grad, 1>));
REGISTER_GRADIENT("LeakyReluGrad", (LinearGrad<kLeakyReluGrad, 1>));

// EluGrad(g, y) = y < 0 ? g * (y + 1) : g, and SeluGrad(g, y) = y < 0 ?
// g * (y + scale * alpha) : g * scale: linear in g; d/dy is g where y < 0
// and 0 elsewhere (TensorFlow's _EluGradGrad / _SeluGradGrad).
template <const char* kOp>
Status ExpLinearGradGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output gr = op->input(0), y = op->input(1);
  (*dx)[0] = b.Op(kOp, {dy[0], y});
  (*dx)[1] = b.Select(b.Op("Less", {y, b.ScalarLike(y, 0)}), b.Mul(dy[0], gr), b.ZerosLike(y));
  return b.status();
}
REGISTER_GRADIENT("EluGrad", ExpLinearGradGrad<kEluGrad>);
REGISTER_GRADIENT("SeluGrad", ExpLinearGradGrad<kSeluGrad>);

// SoftsignGrad(g, f) = g / (1 + |f|)^2: linear in g; d/df multiplies it by
// -2 sign(f) / (1 + |f|). (TensorFlow has no second order here; Loom does.)
Status SoftsignGradGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output gr = op->input(0), f = op->input(1);
  (*dx)[0] = b.Op(kSoftsignGrad, {dy[0], f});
  Output slope = b.Div(b.Mul(b.ScalarLike(f, -2), b.Sign(f)),
                       b.Add(b.ScalarLike(f, 1), b.Op("Abs", {f})));
  (*dx)[1] = b.Mul(b.Mul(dy[0], b.Op(kSoftsignGrad, {gr, f})), slope);
  return b.status();
}
REGISTER_GRADIENT("SoftsignGrad", SoftsignGradGrad);

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
