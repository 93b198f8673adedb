// Schemas and shape functions of the neural-network ops (TensorFlow's
// nn_ops.cc): activations, softmax, bias addition and losses.
#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

const char* const kFloating = "T: {half, bfloat16, float, double}";

// The channel dimension of a BiasAdd input: last for NHWC, 1 for NCHW.
Status BiasChannelDim(InferenceContext& c, const PartialShape& value, int* out) {
  const std::string fmt = c.GetStringAttr("data_format", "NHWC");
  if (fmt != "NHWC" && fmt != "NCHW") {
    return InvalidArgument("data_format must be 'NHWC' or 'NCHW', but is '", fmt, "'");
  }
  const int min_rank = fmt == "NCHW" ? 3 : 2;
  if (value.rank_known() && value.rank() < min_rank) {
    return InvalidArgument("The input must have rank >= ", min_rank, " for data_format ", fmt,
                           ", but has shape ", value.ToString());
  }
  *out = !value.rank_known() ? -1 : (fmt == "NCHW" ? 1 : value.rank() - 1);
  return Status::OK();
}

Status BiasAddShape(InferenceContext& c) {
  const PartialShape& value = c.input(0);
  const PartialShape& bias = c.input(1);
  int channel;
  RETURN_IF_ERROR(BiasChannelDim(c, value, &channel));
  if (bias.rank_known() && bias.rank() != 1) {
    return InvalidArgument("bias must be 1-D, but has shape ", bias.ToString());
  }
  if (channel < 0) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  std::vector<int64_t> dims = value.dims();
  const int64_t b = bias.rank_known() ? bias.dim(0) : -1;
  int64_t& d = dims[static_cast<size_t>(channel)];
  if (b >= 0 && d >= 0 && b != d) {
    return InvalidArgument("Dimensions must be equal, but are ", d, " and ", b,
                           ": bias of shape ", bias.ToString(),
                           " must match the channel dimension ", channel,
                           " of the value of shape ", value.ToString());
  }
  if (d < 0) d = b;
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status BiasAddGradShape(InferenceContext& c) {
  const PartialShape& g = c.input(0);
  int channel;
  RETURN_IF_ERROR(BiasChannelDim(c, g, &channel));
  c.set_output(0, PartialShape({channel < 0 ? -1 : g.dim(channel)}));
  return Status::OK();
}

Status SoftmaxCrossEntropyShape(InferenceContext& c) {
  const PartialShape& features = c.input(0);
  const PartialShape& labels = c.input(1);
  PartialShape both;
  // The usual case: both [batch, classes].
  if ((!features.rank_known() || features.rank() == 2) && features.Merge(labels, &both).ok() &&
      (!both.rank_known() || both.rank() == 2)) {
    if (!both.rank_known()) both = PartialShape::UnknownOfRank(2);
    c.set_output(0, PartialShape({both.dim(0)}));
    c.set_output(1, both);
    return Status::OK();
  }
  // Otherwise the two must broadcast to [batch, classes].
  Status s = shape_fns::BroadcastShapes(features, labels, &both);
  if (!s.ok()) {
    return InvalidArgument("logits and labels must be broadcastable: logits shape ",
                           features.ToString(), ", labels shape ", labels.ToString());
  }
  if (!both.rank_known() || both.rank() != 2) {
    return InvalidArgument("logits and labels must be 2-D ([batch, classes]) or broadcast to "
                           "2-D, but have shapes ",
                           features.ToString(), " and ", labels.ToString());
  }
  c.set_output(0, PartialShape({both.dim(0)}));
  c.set_output(1, both);
  return Status::OK();
}

Status SparseSoftmaxCrossEntropyShape(InferenceContext& c) {
  const PartialShape& features = c.input(0);
  const PartialShape& labels = c.input(1);
  if (features.rank_known() && features.rank() != 2) {
    return InvalidArgument("logits must be 2-D ([batch, classes]), but have shape ",
                           features.ToString());
  }
  if (labels.rank_known() && labels.rank() != 1) {
    return InvalidArgument("labels must be 1-D ([batch]), but have shape ", labels.ToString());
  }
  int64_t batch = features.rank_known() ? features.dim(0) : -1;
  const int64_t lb = labels.rank_known() ? labels.dim(0) : -1;
  if (batch >= 0 && lb >= 0 && batch != lb) {
    return InvalidArgument("logits and labels must have the same first dimension, got logits "
                           "shape ",
                           features.ToString(), " and labels shape ", labels.ToString());
  }
  if (batch < 0) batch = lb;
  const int64_t classes = features.rank_known() ? features.dim(1) : -1;
  c.set_output(0, PartialShape({batch}));
  c.set_output(1, PartialShape({batch, classes}));
  return Status::OK();
}

}  // namespace

REGISTER_OP("Relu")
    .Input("features: T")
    .Output("activations: T")
    .Attr("T: realnumbertype")
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("ReluGrad")
    .Input("gradients: T")
    .Input("features: T")
    .Output("backprops: T")
    .Attr("T: realnumbertype")
    .SetShapeFn(shape_fns::MergeBothInputs);

REGISTER_OP("Softplus")
    .Input("features: T")
    .Output("activations: T")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("SoftplusGrad")
    .Input("gradients: T")
    .Input("features: T")
    .Output("backprops: T")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::MergeBothInputs);

// TensorFlow's other activations and their gradient ops: (gradients, x) ->
// backprops, where x is the activation's input ("features") or its output
// ("outputs"), as TensorFlow names it for each.
#define LOOM_ACTIVATION_OPS(name, grad_x)              \
  REGISTER_OP(name)                                    \
      .Input("features: T")                            \
      .Output("activations: T")                        \
      .Attr(kFloating)                                 \
      .SetShapeFn(shape_fns::UnchangedShape);          \
  REGISTER_OP(name "Grad")                             \
      .Input("gradients: T")                           \
      .Input(grad_x ": T")                             \
      .Output("backprops: T")                          \
      .Attr(kFloating)                                 \
      .SetShapeFn(shape_fns::MergeBothInputs)

LOOM_ACTIVATION_OPS("Relu6", "features");
LOOM_ACTIVATION_OPS("Elu", "outputs");
LOOM_ACTIVATION_OPS("Selu", "outputs");
LOOM_ACTIVATION_OPS("Softsign", "features");
#undef LOOM_ACTIVATION_OPS

REGISTER_OP("LeakyRelu")
    .Input("features: T")
    .Output("activations: T")
    .Attr("alpha: float = 0.2")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::UnchangedShape);

REGISTER_OP("LeakyReluGrad")
    .Input("gradients: T")
    .Input("features: T")
    .Output("backprops: T")
    .Attr("alpha: float = 0.2")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::MergeBothInputs);

REGISTER_OP("Softmax")
    .Input("logits: T")
    .Output("softmax: T")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::UnchangedShapeWithRankAtLeast(1));

REGISTER_OP("LogSoftmax")
    .Input("logits: T")
    .Output("logsoftmax: T")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::UnchangedShapeWithRankAtLeast(1));

REGISTER_OP("BiasAdd")
    .Input("value: T")
    .Input("bias: T")
    .Output("output: T")
    .Attr("T: numbertype")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .SetShapeFn(BiasAddShape);

REGISTER_OP("BiasAddGrad")
    .Input("out_backprop: T")
    .Output("output: T")
    .Attr("T: numbertype")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .SetShapeFn(BiasAddGradShape);

REGISTER_OP("L2Loss")
    .Input("t: T")
    .Output("output: T")
    .Attr(kFloating)
    .SetShapeFn(shape_fns::ScalarShape);

REGISTER_OP("SoftmaxCrossEntropyWithLogits")
    .Input("features: T")
    .Input("labels: T")
    .Output("loss: T")
    .Output("backprop: T")
    .Attr(kFloating)
    .SetShapeFn(SoftmaxCrossEntropyShape);

REGISTER_OP("SparseSoftmaxCrossEntropyWithLogits")
    .Input("features: T")
    .Input("labels: Tlabels")
    .Output("loss: T")
    .Output("backprop: T")
    .Attr(kFloating)
    .Attr("Tlabels: {int32, int64} = DT_INT64")
    .SetShapeFn(SparseSoftmaxCrossEntropyShape);

}  // namespace loom
