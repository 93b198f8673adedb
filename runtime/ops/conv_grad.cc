// Gradients of the convolution, pooling and batch-normalisation ops
// (TensorFlow's nn_grad.py over GradBuilder), including the gradients of the
// backprop ops themselves, so second derivatives through a CNN work.
#include "runtime/autodiff/grad_builder.h"
#include "runtime/autodiff/gradients.h"

namespace loom {
namespace {

using B = GradBuilder;

// Copies the named attrs that `op` has onto a gradient op.
GradAttrs CopyAttrs(const Node* op, std::initializer_list<const char*> names) {
  GradAttrs out;
  for (const char* n : names) {
    if (const AttrValue* v = op->attrs().Find(n)) out.emplace_back(n, *v);
  }
  return out;
}

// Everything a convolution and its two backprops share.
GradAttrs ConvAttrs(const Node* op) {
  return CopyAttrs(op, {"strides", "padding", "explicit_paddings", "data_format", "dilations",
                        "use_cudnn_on_gpu"});
}
GradAttrs PoolAttrs(const Node* op, bool explicit_paddings) {
  return explicit_paddings
             ? CopyAttrs(op, {"ksize", "strides", "padding", "explicit_paddings", "data_format"})
             : CopyAttrs(op, {"ksize", "strides", "padding", "data_format"});
}

// ---------------------------------------------------------------- convolution

// y = Conv2D(x, w): dx = Conv2DBackpropInput(shape(x), w, dy),
//                   dw = Conv2DBackpropFilter(x, shape(w), dy).
Status Conv2DGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  Output x = op->input(0), w = op->input(1);
  GradAttrs a = ConvAttrs(op);
  (*dx)[0] = b.Op("Conv2DBackpropInput", {b.ShapeOf(x), w, dy[0]}, a);
  (*dx)[1] = b.Op("Conv2DBackpropFilter", {x, b.ShapeOf(w), dy[0]}, a);
  return b.status();
}
REGISTER_GRADIENT("Conv2D", Conv2DGrad);

// z = Conv2DBackpropInput(sizes, w, g) is linear in w and in g.
Status Conv2DBackpropInputGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  Output w = op->input(1), gy = op->input(2);
  GradAttrs a = ConvAttrs(op);
  (*dx)[1] = b.Op("Conv2DBackpropFilter", {dy[0], b.ShapeOf(w), gy}, a);
  (*dx)[2] = b.Op("Conv2D", {dy[0], w}, a);
  return b.status();
}
REGISTER_GRADIENT("Conv2DBackpropInput", Conv2DBackpropInputGrad);

// z = Conv2DBackpropFilter(x, sizes, g) is linear in x and in g.
Status Conv2DBackpropFilterGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  Output x = op->input(0), gy = op->input(2);
  GradAttrs a = ConvAttrs(op);
  (*dx)[0] = b.Op("Conv2DBackpropInput", {b.ShapeOf(x), dy[0], gy}, a);
  (*dx)[2] = b.Op("Conv2D", {x, dy[0]}, a);
  return b.status();
}
REGISTER_GRADIENT("Conv2DBackpropFilter", Conv2DBackpropFilterGrad);

// DepthwiseConv2dNative and its backprops: the same three linear relations
// as Conv2D's, with the depthwise ops.
Status DepthwiseGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  Output x = op->input(0), w = op->input(1);
  GradAttrs a = ConvAttrs(op);
  (*dx)[0] = b.Op("DepthwiseConv2dNativeBackpropInput", {b.ShapeOf(x), w, dy[0]}, a);
  (*dx)[1] = b.Op("DepthwiseConv2dNativeBackpropFilter", {x, b.ShapeOf(w), dy[0]}, a);
  return b.status();
}
REGISTER_GRADIENT("DepthwiseConv2dNative", DepthwiseGrad);

Status DepthwiseBackpropInputGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  Output w = op->input(1), gy = op->input(2);
  GradAttrs a = ConvAttrs(op);
  (*dx)[1] = b.Op("DepthwiseConv2dNativeBackpropFilter", {dy[0], b.ShapeOf(w), gy}, a);
  (*dx)[2] = b.Op("DepthwiseConv2dNative", {dy[0], w}, a);
  return b.status();
}
REGISTER_GRADIENT("DepthwiseConv2dNativeBackpropInput", DepthwiseBackpropInputGrad);

Status DepthwiseBackpropFilterGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  Output x = op->input(0), gy = op->input(2);
  GradAttrs a = ConvAttrs(op);
  (*dx)[0] = b.Op("DepthwiseConv2dNativeBackpropInput", {b.ShapeOf(x), dy[0], gy}, a);
  (*dx)[2] = b.Op("DepthwiseConv2dNative", {x, dy[0]}, a);
  return b.status();
}
REGISTER_GRADIENT("DepthwiseConv2dNativeBackpropFilter", DepthwiseBackpropFilterGrad);

// ---------------------------------------------------------------- pooling

Status MaxPoolGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  (*dx)[0] = b.Op("MaxPoolGrad", {op->input(0), Output{op, 0}, dy[0]}, PoolAttrs(op, true));
  return b.status();
}
REGISTER_GRADIENT("MaxPool", MaxPoolGradFn);

// MaxPoolGrad routes grad to each window's argmax: linear in grad, and
// piecewise constant (zero derivative) in orig_input and orig_output.
Status MaxPoolGradGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  (*dx)[0] = b.ZerosLike(op->input(0));
  (*dx)[1] = b.ZerosLike(op->input(1));
  (*dx)[2] = b.Op("MaxPoolGradGrad", {op->input(0), op->input(1), dy[0]}, PoolAttrs(op, false));
  return b.status();
}
REGISTER_GRADIENT("MaxPoolGrad", MaxPoolGradGradFn);

// MaxPoolGradGrad picks grad at each window's argmax; its adjoint scatters.
Status MaxPoolGradGradGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  (*dx)[0] = b.ZerosLike(op->input(0));
  (*dx)[1] = b.ZerosLike(op->input(1));
  (*dx)[2] = b.Op("MaxPoolGrad", {op->input(0), op->input(1), dy[0]}, PoolAttrs(op, false));
  return b.status();
}
REGISTER_GRADIENT("MaxPoolGradGrad", MaxPoolGradGradGradFn);

Status AvgPoolGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  (*dx)[0] = b.Op("AvgPoolGrad", {b.ShapeOf(op->input(0)), dy[0]}, PoolAttrs(op, false));
  return b.status();
}
REGISTER_GRADIENT("AvgPool", AvgPoolGradFn);

// AvgPoolGrad is linear in grad; its adjoint is AvgPool itself.
Status AvgPoolGradGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  (*dx)[1] = b.Op("AvgPool", {dy[0]}, PoolAttrs(op, false));
  return b.status();
}
REGISTER_GRADIENT("AvgPoolGrad", AvgPoolGradGradFn);

// ---------------------------------------------------------------- batch norm

// FusedBatchNorm{,V2,V3}(x, scale, offset, mean, variance). Only y carries a
// gradient (TensorFlow ignores the gradients of the statistics outputs). In
// training the statistics are the batch's (reserve spaces 1 and 2); in
// inference the population statistics given as inputs 3 and 4.
Status FusedBatchNormGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  if (!dy[0].valid()) return Status::OK();
  bool training = true;
  if (!op->attrs().GetBool("is_training", &training).ok()) training = true;
  const std::string& type = op->type();
  const std::string grad_type = type == "FusedBatchNorm"     ? "FusedBatchNormGrad"
                                : type == "FusedBatchNormV2" ? "FusedBatchNormGradV2"
                                                             : "FusedBatchNormGradV3";
  Output mean = training ? Output{op, 3} : op->input(3);
  Output var = training ? Output{op, 4} : op->input(4);
  std::vector<GradInput> ins = {dy[0], op->input(0), op->input(1), mean, var};
  if (grad_type == "FusedBatchNormGradV3") ins.push_back(Output{op, 5});
  std::vector<Output> r =
      b.OpN(grad_type, ins, CopyAttrs(op, {"epsilon", "data_format", "is_training"}));
  if (!b.ok()) return b.status();
  (*dx)[0] = r[0];
  (*dx)[1] = r[1];
  (*dx)[2] = r[2];
  return b.status();
}
REGISTER_GRADIENT("FusedBatchNorm", FusedBatchNormGradFn);
REGISTER_GRADIENT("FusedBatchNormV2", FusedBatchNormGradFn);
REGISTER_GRADIENT("FusedBatchNormV3", FusedBatchNormGradFn);

// FusedBatchNormGrad{,V2,V3}(dy, x, scale, mean, variance): as TensorFlow's
// _FusedBatchNormGradGrad, rebuild the backprop from ordinary ops (in training
// the statistics recomputed from x, so their dependence on x is included) and
// differentiate that with the autodiff engine, seeded with the incoming
// gradients. NHWC: the statistics reduce over axes 0, 1, 2.
Status FusedBatchNormGradGradFn(LOOM_GRAD_ARGS) {
  B b(g, op);
  bool training = true;
  if (!op->attrs().GetBool("is_training", &training).ok()) training = true;
  float eps = 1e-4f;
  if (!op->attrs().GetFloat("epsilon", &eps).ok()) eps = 1e-4f;
  std::string fmt;
  if (op->attrs().GetString("data_format", &fmt).ok() && fmt != "NHWC") {
    return Unimplemented("the gradient of ", op->DebugString(), " supports NHWC only, not ",
                         fmt);
  }
  Output gy = op->input(0), x = op->input(1), scale = op->input(2);
  Output axes = b.Int32s({0, 1, 2});
  auto mean_keep = [&](Output v) {
    return b.Op("Mean", {v, axes}, {{"keep_dims", AttrValue::Bool(true)}});
  };
  Output mean = training ? mean_keep(x) : op->input(3);
  Output xc = b.Sub(x, mean);
  Output var = training ? mean_keep(b.Square(xc)) : op->input(4);
  Output inv = b.Op("Rsqrt", {b.Add(var, b.ScalarLike(x, eps))});
  Output gx;
  if (training) {
    Output t = b.Mul(b.Mul(xc, b.Square(inv)), mean_keep(b.Mul(gy, xc)));
    gx = b.Mul(b.Mul(scale, inv), b.Sub(b.Sub(gy, mean_keep(gy)), t));
  } else {
    gx = b.Mul(gy, b.Mul(scale, inv));
  }
  Output gscale = b.Sum(b.Mul(b.Mul(gy, xc), inv), axes);
  Output goffset = b.Sum(gy, axes);
  if (!b.ok()) return b.status();
  std::vector<Output> ys, seeds;
  const Output outs[3] = {gx, gscale, goffset};
  for (int i = 0; i < 3; ++i) {
    if (dy[i].valid()) {
      ys.push_back(outs[i]);
      seeds.push_back(dy[i]);
    }
  }
  if (ys.empty()) return Status::OK();
  std::vector<Output> grads;
  RETURN_IF_ERROR(AddGradients(g, "", ys, {gy, x, scale}, seeds, &grads));
  (*dx)[0] = grads[0];
  (*dx)[1] = grads[1];
  (*dx)[2] = grads[2];
  return Status::OK();
}
REGISTER_GRADIENT("FusedBatchNormGrad", FusedBatchNormGradGradFn);
REGISTER_GRADIENT("FusedBatchNormGradV2", FusedBatchNormGradGradFn);
REGISTER_GRADIENT("FusedBatchNormGradV3", FusedBatchNormGradGradFn);

}  // namespace
}  // namespace loom
