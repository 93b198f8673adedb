// Schemas and shape functions of the convolution, pooling and batch
// normalisation ops (TensorFlow's nn_ops.cc): Conv2D and its two backprops,
// DepthwiseConv2dNative and its two backprops,
// MaxPool/AvgPool and their gradients, FusedBatchNorm (V1-V3) and their
// gradients. Signatures, attr names and defaults are TensorFlow's, so
// GraphDefs interoperate; the shape functions understand NHWC and NCHW (a
// device without NCHW kernels refuses it at run time, by name).
#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

// The spatial/channel dimension indices of a 4-D tensor in a data format.
struct Layout {
  int n = 0, h = 1, w = 2, c = 3;
};

Status GetLayout(const InferenceContext& c, Layout* out) {
  const std::string fmt = c.GetStringAttr("data_format", "NHWC");
  if (fmt == "NHWC") {
    *out = Layout{0, 1, 2, 3};
  } else if (fmt == "NCHW") {
    *out = Layout{0, 2, 3, 1};
  } else {
    return InvalidArgument("data_format must be 'NHWC' or 'NCHW', but is '", fmt, "'");
  }
  return Status::OK();
}

// A 4-element attr (strides, ksize, dilations) read in the data format.
Status Get4(const InferenceContext& c, const char* name, const Layout& l, int64_t def,
            int64_t* h, int64_t* w, int64_t* n_out = nullptr, int64_t* c_out = nullptr) {
  std::vector<int64_t> v = c.GetIntListAttr(name);
  if (v.empty()) v = {def, def, def, def};
  if (v.size() != 4) {
    return InvalidArgument(name, " must have 4 elements (one per dimension of the input), but "
                           "has ", v.size());
  }
  for (int64_t x : v) {
    if (x < 1) return InvalidArgument(name, " must be >= 1 in every dimension, but is ", x);
  }
  *h = v[l.h];
  *w = v[l.w];
  if (n_out) *n_out = v[l.n];
  if (c_out) *c_out = v[l.c];
  return Status::OK();
}

// TensorFlow's GetWindowedOutputSize: -1 when the input size is unknown.
// `pad_before/after` are used only for EXPLICIT padding.
Status WindowedOutputSize(int64_t in, int64_t k, int64_t dilation, int64_t stride,
                          const std::string& padding, int64_t pad_before, int64_t pad_after,
                          int64_t* out) {
  if (in < 0) {
    *out = -1;
    return Status::OK();
  }
  const int64_t eff = (k - 1) * dilation + 1;
  if (padding == "VALID") {
    *out = (in - eff + stride) / stride;
  } else if (padding == "SAME") {
    *out = (in + stride - 1) / stride;
  } else {  // EXPLICIT
    *out = (in + pad_before + pad_after - eff) / stride + 1;
  }
  if (*out < 0) {
    return InvalidArgument("Computed output size would be negative: ", *out,
                           " [input_size: ", in, ", effective_filter_size: ", eff,
                           ", stride: ", stride, "]");
  }
  return Status::OK();
}

// EXPLICIT paddings: 8 values, (before, after) per dimension; only the spatial
// ones may be non-zero. Others get zeros.
Status ExplicitPads(const InferenceContext& c, const std::string& padding, const Layout& l,
                    int64_t pads[4]) {
  pads[0] = pads[1] = pads[2] = pads[3] = 0;
  std::vector<int64_t> p = c.GetIntListAttr("explicit_paddings");
  if (padding != "EXPLICIT") {
    if (!p.empty()) {
      return InvalidArgument("explicit_paddings must be empty unless padding is EXPLICIT, but "
                             "has ", p.size(), " elements");
    }
    return Status::OK();
  }
  if (p.size() != 8) {
    return InvalidArgument("explicit_paddings must have 8 elements for padding EXPLICIT, but "
                           "has ", p.size());
  }
  for (int64_t x : p) {
    if (x < 0) return InvalidArgument("explicit_paddings must be non-negative, but has ", x);
  }
  if (p[2 * l.n] || p[2 * l.n + 1] || p[2 * l.c] || p[2 * l.c + 1]) {
    return InvalidArgument("explicit_paddings may pad only the spatial dimensions");
  }
  pads[0] = p[2 * l.h];
  pads[1] = p[2 * l.h + 1];
  pads[2] = p[2 * l.w];
  pads[3] = p[2 * l.w + 1];
  return Status::OK();
}

PartialShape Make4(const Layout& l, int64_t n, int64_t h, int64_t w, int64_t ch) {
  std::vector<int64_t> d(4);
  d[l.n] = n;
  d[l.h] = h;
  d[l.w] = w;
  d[l.c] = ch;
  return PartialShape(std::move(d));
}

int64_t DimOr(const PartialShape& s, int i) { return s.rank_known() ? s.dim(i) : -1; }

// Conv2D (output channels: filter dim 3) and DepthwiseConv2dNative (output
// channels: input channels * the multiplier, filter dim 3).
Status ConvShape(InferenceContext& c, bool depthwise) {
  Layout l;
  RETURN_IF_ERROR(GetLayout(c, &l));
  RETURN_IF_ERROR(c.WithRank(0, 4));
  RETURN_IF_ERROR(c.WithRank(1, 4));
  int64_t sh, sw, sn, sc, dh, dw, dn, dc;
  RETURN_IF_ERROR(Get4(c, "strides", l, 1, &sh, &sw, &sn, &sc));
  RETURN_IF_ERROR(Get4(c, "dilations", l, 1, &dh, &dw, &dn, &dc));
  if (sn != 1 || sc != 1) {
    return InvalidArgument("Current implementation does not yet support strides in the batch "
                           "and depth dimensions.");
  }
  if (dn != 1 || dc != 1) {
    return InvalidArgument("Current implementation does not yet support dilations in the "
                           "batch and depth dimensions.");
  }
  const std::string padding = c.GetStringAttr("padding", "VALID");
  int64_t pads[4];
  RETURN_IF_ERROR(ExplicitPads(c, padding, l, pads));
  const PartialShape& in = c.input(0);
  const PartialShape& f = c.input(1);  // [KH, KW, IC, OC] in every format
  const int64_t in_c = DimOr(in, l.c), f_ic = DimOr(f, 2);
  if (depthwise && in_c >= 0 && f_ic >= 0 && in_c != f_ic) {
    return InvalidArgument("input depth (", in_c, ") must equal the filter's input depth (",
                           f_ic, ") for input shape ", in.ToString(), " and filter shape ",
                           f.ToString());
  }
  if (in_c >= 0 && f_ic > 0 && in_c % f_ic != 0) {
    return InvalidArgument("Depth of input (", in_c, ") is not a multiple of input depth of "
                           "filter (", f_ic, ") for input shape ", in.ToString(),
                           " and filter shape ", f.ToString());
  }
  int64_t oh = -1, ow = -1;
  const int64_t kh = DimOr(f, 0), kw = DimOr(f, 1);
  if (kh >= 0) {
    RETURN_IF_ERROR(
        WindowedOutputSize(DimOr(in, l.h), kh, dh, sh, padding, pads[0], pads[1], &oh));
  }
  if (kw >= 0) {
    RETURN_IF_ERROR(
        WindowedOutputSize(DimOr(in, l.w), kw, dw, sw, padding, pads[2], pads[3], &ow));
  }
  int64_t out_c = DimOr(f, 3);
  if (depthwise) {
    const int64_t ch = in_c >= 0 ? in_c : f_ic;
    out_c = ch >= 0 && out_c >= 0 ? ch * out_c : -1;
  }
  c.set_output(0, Make4(l, DimOr(in, l.n), oh, ow, out_c));
  return Status::OK();
}
Status Conv2DShape(InferenceContext& c) { return ConvShape(c, false); }
Status DepthwiseShape(InferenceContext& c) { return ConvShape(c, true); }

// Output 0 is the 4-D shape held by the int32 input `i` (input_sizes / filter_sizes).
ShapeFn ShapeFromSizesInput(int i) {
  return [i](InferenceContext& c) -> Status {
    PartialShape s;
    RETURN_IF_ERROR(c.MakeShapeFromInput(i, &s));
    if (s.rank_known() && s.rank() != 4) {
      return InvalidArgument("input ", i, " must hold a 4-D shape, but holds ", s.ToString());
    }
    if (!s.rank_known()) s = PartialShape::UnknownOfRank(4);
    c.set_output(0, s);
    return Status::OK();
  };
}

Status PoolShape(InferenceContext& c) {
  Layout l;
  RETURN_IF_ERROR(GetLayout(c, &l));
  RETURN_IF_ERROR(c.WithRank(0, 4));
  int64_t kh, kw, kn, kc, sh, sw, sn, sc;
  RETURN_IF_ERROR(Get4(c, "ksize", l, 1, &kh, &kw, &kn, &kc));
  RETURN_IF_ERROR(Get4(c, "strides", l, 1, &sh, &sw, &sn, &sc));
  if (kn != 1 || sn != 1) {
    return InvalidArgument("Pooling is not yet supported on the batch dimension.");
  }
  if (kc != 1 || sc != 1) {
    return InvalidArgument("Pooling over the depth dimension (ksize or strides != 1 there) is "
                           "not supported");
  }
  const std::string padding = c.GetStringAttr("padding", "VALID");
  int64_t pads[4];
  RETURN_IF_ERROR(ExplicitPads(c, padding, l, pads));
  const PartialShape& in = c.input(0);
  int64_t oh, ow;
  RETURN_IF_ERROR(WindowedOutputSize(DimOr(in, l.h), kh, 1, sh, padding, pads[0], pads[1], &oh));
  RETURN_IF_ERROR(WindowedOutputSize(DimOr(in, l.w), kw, 1, sw, padding, pads[2], pads[3], &ow));
  c.set_output(0, Make4(l, DimOr(in, l.n), oh, ow, DimOr(in, l.c)));
  return Status::OK();
}

// MaxPoolGrad: the gradient has orig_input's shape (merged with grad's rank).
Status MaxPoolGradShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 4));
  RETURN_IF_ERROR(c.WithRank(1, 4));
  RETURN_IF_ERROR(c.WithRank(2, 4));
  PartialShape out;
  RETURN_IF_ERROR(shape_fns::MergeNamed(c.input(1), "orig_output", c.input(2), "grad", &out));
  c.set_output(0, c.input(0).rank_known() ? c.input(0) : PartialShape::UnknownOfRank(4));
  return Status::OK();
}

// MaxPoolGradGrad: the result has orig_output's shape.
Status MaxPoolGradGradShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 4));
  RETURN_IF_ERROR(c.WithRank(1, 4));
  RETURN_IF_ERROR(c.WithRank(2, 4));
  PartialShape in;
  RETURN_IF_ERROR(shape_fns::MergeNamed(c.input(0), "orig_input", c.input(2), "grad", &in));
  c.set_output(0, c.input(1).rank_known() ? c.input(1) : PartialShape::UnknownOfRank(4));
  return Status::OK();
}

// The channel count of a batch-norm input, checked against every [C] vector.
Status BatchNormChannels(InferenceContext& c, const Layout& l, int first_vec, int last_vec,
                         int64_t* channels) {
  const PartialShape& x = c.input(0);
  *channels = DimOr(x, l.c);
  for (int i = first_vec; i <= last_vec; ++i) {
    const PartialShape& v = c.input(i);
    if (v.rank_known() && v.rank() != 1) {
      return InvalidArgument("input ", i, " must be 1-D (one value per channel), but has shape ",
                             v.ToString());
    }
    const int64_t d = DimOr(v, 0);
    if (d >= 0 && *channels >= 0 && d != *channels) {
      return InvalidArgument("input ", i, " must have ", *channels, " elements (the channels "
                             "of x, shape ", x.ToString(), "), but has shape ", v.ToString());
    }
    if (*channels < 0) *channels = d;
  }
  return Status::OK();
}

Status FusedBatchNormShape(InferenceContext& c) {
  Layout l;
  RETURN_IF_ERROR(GetLayout(c, &l));
  RETURN_IF_ERROR(c.WithRank(0, 4));
  const bool training = c.GetBoolAttr("is_training", true);
  // In training with exponential_avg_factor == 1 the mean and variance inputs
  // are unused and may be empty; only scale and offset are checked then.
  float factor = 1.0f;
  if (!c.attrs().GetFloat("exponential_avg_factor", &factor).ok()) factor = 1.0f;
  const int last = training && factor == 1.0f ? 2 : 4;
  int64_t ch;
  RETURN_IF_ERROR(BatchNormChannels(c, l, 1, last, &ch));
  const PartialShape& x = c.input(0);
  c.set_output(0, x.rank_known() ? x : PartialShape::UnknownOfRank(4));
  for (int i = 1; i <= 4; ++i) c.set_output(i, PartialShape({ch}));
  if (c.num_outputs() > 5) c.set_output(5, PartialShape::Unknown());
  return Status::OK();
}

Status FusedBatchNormGradShape(InferenceContext& c) {
  Layout l;
  RETURN_IF_ERROR(GetLayout(c, &l));
  RETURN_IF_ERROR(c.WithRank(0, 4));
  RETURN_IF_ERROR(c.WithRank(1, 4));
  PartialShape x;
  RETURN_IF_ERROR(shape_fns::MergeNamed(c.input(0), "y_backprop", c.input(1), "x", &x));
  int64_t ch = DimOr(x, l.c);
  for (int i = 2; i <= 4; ++i) {
    const PartialShape& v = c.input(i);
    if (v.rank_known() && v.rank() != 1) {
      return InvalidArgument("input ", i, " must be 1-D (one value per channel), but has shape ",
                             v.ToString());
    }
    const int64_t d = DimOr(v, 0);
    if (d >= 0 && ch >= 0 && d != ch) {
      return InvalidArgument("input ", i, " must have ", ch, " elements (the channels of x), "
                             "but has shape ", v.ToString());
    }
    if (ch < 0) ch = d;
  }
  c.set_output(0, x.rank_known() ? x : PartialShape::UnknownOfRank(4));
  c.set_output(1, PartialShape({ch}));
  c.set_output(2, PartialShape({ch}));
  c.set_output(3, PartialShape({0}));
  c.set_output(4, PartialShape({0}));
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------- convolution

REGISTER_OP("Conv2D")
    .Input("input: T")
    .Input("filter: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double, int32}")
    .Attr("strides: list(int)")
    .Attr("use_cudnn_on_gpu: bool = true")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("dilations: list(int) = [1, 1, 1, 1]")
    .SetShapeFn(Conv2DShape);

REGISTER_OP("Conv2DBackpropInput")
    .Input("input_sizes: int32")
    .Input("filter: T")
    .Input("out_backprop: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double, int32}")
    .Attr("strides: list(int)")
    .Attr("use_cudnn_on_gpu: bool = true")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("dilations: list(int) = [1, 1, 1, 1]")
    .SetShapeFn(ShapeFromSizesInput(0));

REGISTER_OP("Conv2DBackpropFilter")
    .Input("input: T")
    .Input("filter_sizes: int32")
    .Input("out_backprop: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("strides: list(int)")
    .Attr("use_cudnn_on_gpu: bool = true")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("dilations: list(int) = [1, 1, 1, 1]")
    .SetShapeFn(ShapeFromSizesInput(1));

REGISTER_OP("DepthwiseConv2dNative")
    .Input("input: T")
    .Input("filter: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("strides: list(int)")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("dilations: list(int) = [1, 1, 1, 1]")
    .SetShapeFn(DepthwiseShape);

REGISTER_OP("DepthwiseConv2dNativeBackpropInput")
    .Input("input_sizes: int32")
    .Input("filter: T")
    .Input("out_backprop: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("strides: list(int)")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("dilations: list(int) = [1, 1, 1, 1]")
    .SetShapeFn(ShapeFromSizesInput(0));

REGISTER_OP("DepthwiseConv2dNativeBackpropFilter")
    .Input("input: T")
    .Input("filter_sizes: int32")
    .Input("out_backprop: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double}")
    .Attr("strides: list(int)")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("dilations: list(int) = [1, 1, 1, 1]")
    .SetShapeFn(ShapeFromSizesInput(1));

// ---------------------------------------------------------------- pooling

REGISTER_OP("MaxPool")
    .Input("input: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double, int32, int64, uint8, int16, int8, uint16, "
          "qint8} = DT_FLOAT")
    .Attr("ksize: list(int) >= 4")
    .Attr("strides: list(int) >= 4")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'")
    .SetShapeFn(PoolShape);

REGISTER_OP("MaxPoolGrad")
    .Input("orig_input: T")
    .Input("orig_output: T")
    .Input("grad: T")
    .Output("output: T")
    .Attr("ksize: list(int) >= 4")
    .Attr("strides: list(int) >= 4")
    .Attr("padding: {'SAME', 'VALID', 'EXPLICIT'}")
    .Attr("explicit_paddings: list(int) = []")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("T: realnumbertype = DT_FLOAT")
    .SetShapeFn(MaxPoolGradShape);

REGISTER_OP("MaxPoolGradGrad")
    .Input("orig_input: T")
    .Input("orig_output: T")
    .Input("grad: T")
    .Output("output: T")
    .Attr("ksize: list(int) >= 4")
    .Attr("strides: list(int) >= 4")
    .Attr("padding: {'SAME', 'VALID'}")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("T: realnumbertype")
    .SetShapeFn(MaxPoolGradGradShape);

REGISTER_OP("AvgPool")
    .Input("value: T")
    .Output("output: T")
    .Attr("ksize: list(int) >= 4")
    .Attr("strides: list(int) >= 4")
    .Attr("padding: {'SAME', 'VALID'}")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("T: {half, bfloat16, float, double}")
    .SetShapeFn(PoolShape);

REGISTER_OP("AvgPoolGrad")
    .Input("orig_input_shape: int32")
    .Input("grad: T")
    .Output("output: T")
    .Attr("ksize: list(int) >= 4")
    .Attr("strides: list(int) >= 4")
    .Attr("padding: {'SAME', 'VALID'}")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("T: {half, bfloat16, float, double}")
    .SetShapeFn(ShapeFromSizesInput(0));

// ---------------------------------------------------------------- batch normalisation

REGISTER_OP("FusedBatchNorm")
    .Input("x: T")
    .Input("scale: T")
    .Input("offset: T")
    .Input("mean: T")
    .Input("variance: T")
    .Output("y: T")
    .Output("batch_mean: T")
    .Output("batch_variance: T")
    .Output("reserve_space_1: T")
    .Output("reserve_space_2: T")
    .Attr("T: {float}")
    .Attr("epsilon: float = 0.0001")
    .Attr("exponential_avg_factor: float = 1.0")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("is_training: bool = true")
    .SetShapeFn(FusedBatchNormShape);

REGISTER_OP("FusedBatchNormV2")
    .Input("x: T")
    .Input("scale: U")
    .Input("offset: U")
    .Input("mean: U")
    .Input("variance: U")
    .Output("y: T")
    .Output("batch_mean: U")
    .Output("batch_variance: U")
    .Output("reserve_space_1: U")
    .Output("reserve_space_2: U")
    .Attr("T: {half, bfloat16, float}")
    .Attr("U: {float}")
    .Attr("epsilon: float = 0.0001")
    .Attr("exponential_avg_factor: float = 1.0")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("is_training: bool = true")
    .SetShapeFn(FusedBatchNormShape);

REGISTER_OP("FusedBatchNormV3")
    .Input("x: T")
    .Input("scale: U")
    .Input("offset: U")
    .Input("mean: U")
    .Input("variance: U")
    .Output("y: T")
    .Output("batch_mean: U")
    .Output("batch_variance: U")
    .Output("reserve_space_1: U")
    .Output("reserve_space_2: U")
    .Output("reserve_space_3: U")
    .Attr("T: {half, bfloat16, float}")
    .Attr("U: {bfloat16, float}")
    .Attr("epsilon: float = 0.0001")
    .Attr("exponential_avg_factor: float = 1.0")
    .Attr("data_format: {'NHWC', 'NCHW', 'NDHWC', 'NCDHW'} = 'NHWC'")
    .Attr("is_training: bool = true")
    .SetShapeFn(FusedBatchNormShape);

REGISTER_OP("FusedBatchNormGrad")
    .Input("y_backprop: T")
    .Input("x: T")
    .Input("scale: T")
    .Input("reserve_space_1: T")
    .Input("reserve_space_2: T")
    .Output("x_backprop: T")
    .Output("scale_backprop: T")
    .Output("offset_backprop: T")
    .Output("reserve_space_3: T")
    .Output("reserve_space_4: T")
    .Attr("T: {float}")
    .Attr("epsilon: float = 0.0001")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("is_training: bool = true")
    .SetShapeFn(FusedBatchNormGradShape);

REGISTER_OP("FusedBatchNormGradV2")
    .Input("y_backprop: T")
    .Input("x: T")
    .Input("scale: float")
    .Input("reserve_space_1: U")
    .Input("reserve_space_2: U")
    .Output("x_backprop: T")
    .Output("scale_backprop: U")
    .Output("offset_backprop: U")
    .Output("reserve_space_3: U")
    .Output("reserve_space_4: U")
    .Attr("T: {half, bfloat16, float}")
    .Attr("U: {float}")
    .Attr("epsilon: float = 0.0001")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .Attr("is_training: bool = true")
    .SetShapeFn(FusedBatchNormGradShape);

REGISTER_OP("FusedBatchNormGradV3")
    .Input("y_backprop: T")
    .Input("x: T")
    .Input("scale: float")
    .Input("reserve_space_1: U")
    .Input("reserve_space_2: U")
    .Input("reserve_space_3: U")
    .Output("x_backprop: T")
    .Output("scale_backprop: U")
    .Output("offset_backprop: U")
    .Output("reserve_space_4: U")
    .Output("reserve_space_5: U")
    .Attr("T: {half, bfloat16, float}")
    .Attr("U: {float}")
    .Attr("epsilon: float = 0.0001")
    .Attr("data_format: {'NHWC', 'NCHW', 'NDHWC', 'NCDHW'} = 'NHWC'")
    .Attr("is_training: bool = true")
    .SetShapeFn(FusedBatchNormGradShape);

}  // namespace loom
