// Gradients of the shape-changing, slicing and data-movement ops (TensorFlow's
// array_grad.py, over GradBuilder), and the not-differentiable declarations of
// the ops that produce shapes, indices, constants or state updates.
#include "runtime/autodiff/grad_builder.h"

namespace loom {
namespace {

using B = GradBuilder;

Status PassThroughGrad(LOOM_GRAD_ARGS) {
  (*dx)[0] = dy[0];
  return Status::OK();
}
REGISTER_GRADIENT("Identity", PassThroughGrad);
REGISTER_GRADIENT("Snapshot", PassThroughGrad);
REGISTER_GRADIENT("PlaceholderWithDefault", PassThroughGrad);

Status PreventGradientGrad(LOOM_GRAD_ARGS) {
  std::string why;
  if (!op->attrs().GetString("message", &why).ok() || why.empty()) why = "(no reason given)";
  return InvalidArgument("Gradient explicitly disabled by ", op->DebugString(), ". Reason: ", why);
}
REGISTER_GRADIENT("PreventGradient", PreventGradientGrad);

// Reshape, ExpandDims, Squeeze: the gradient is dy in x's shape.
Status ReshapeGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = b.ReshapeLike(dy[0], op->input(0));
  return b.status();
}
REGISTER_GRADIENT("Reshape", ReshapeGrad);
REGISTER_GRADIENT("ExpandDims", ReshapeGrad);
REGISTER_GRADIENT("Squeeze", ReshapeGrad);

Status TransposeGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  std::vector<int64_t> perm;
  Output inverse;
  if (ConstInts(op->input(1), &perm)) {
    std::vector<int64_t> inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(perm.size()))
        return InvalidArgument(op->DebugString(), ": perm value ", perm[i], " out of range");
      inv[perm[i]] = static_cast<int64_t>(i);
    }
    inverse = b.Int32s(inv);
  } else {
    inverse = b.Op("InvertPermutation", {op->input(1)});
  }
  (*dx)[0] = b.Op("Transpose", {dy[0], inverse});
  return b.status();
}
REGISTER_GRADIENT("Transpose", TransposeGrad);

// ConcatV2 / Concat: split dy back into the inputs' sizes along the axis.
Status ConcatGradImpl(LOOM_GRAD_ARGS, int axis_input, int first, int n) {
  if (n == 1) {
    (*dx)[first] = dy[0];
    return Status::OK();
  }
  B b(g, op);
  const PartialShape& s0 = StaticShape(op->input(first));
  std::vector<int64_t> axis_value;
  Output axis;
  int64_t a = 0;
  bool static_axis = ConstInts(op->input(axis_input), &axis_value) && axis_value.size() == 1 &&
                     s0.rank_known();
  if (static_axis) {
    a = axis_value[0] < 0 ? axis_value[0] + s0.rank() : axis_value[0];
    if (a < 0 || a >= s0.rank())
      return InvalidArgument(op->DebugString(), ": axis ", axis_value[0], " out of range for rank ",
                             s0.rank());
    axis = b.Int32(a);
  } else {
    Output r = b.Rank(op->input(first));
    axis = b.Op("FloorMod", {b.Add(b.Cast(op->input(axis_input), LOOM_DTYPE_INT32), r), r});
  }
  std::vector<int64_t> sizes;
  std::vector<Output> size_outs;
  bool all_known = static_axis;
  for (int i = 0; i < n; ++i) {
    const PartialShape& s = StaticShape(op->input(first + i));
    int64_t d = static_axis && s.rank_known() && a < s.rank() ? s.dim(static_cast<int>(a)) : -1;
    if (d < 0) all_known = false;
    sizes.push_back(d);
  }
  Output split_sizes;
  if (all_known) {
    split_sizes = b.Int32s(sizes);
  } else {
    for (int i = 0; i < n; ++i) size_outs.push_back(b.Gather(b.Shape(op->input(first + i)), axis));
    split_sizes = b.Op("Pack", {GradInput(size_outs)});
  }
  std::vector<Output> parts =
      b.OpN("SplitV", {dy[0], split_sizes, axis}, {{"num_split", AttrValue::Int(n)}});
  for (int i = 0; i < n && i < static_cast<int>(parts.size()); ++i) (*dx)[first + i] = parts[i];
  return b.status();
}
Status ConcatV2Grad(LOOM_GRAD_ARGS) {
  int n = op->num_inputs() - 1;
  return ConcatGradImpl(g, op, dy, dx, n, 0, n);
}
Status ConcatGrad(LOOM_GRAD_ARGS) {
  int n = op->num_inputs() - 1;
  return ConcatGradImpl(g, op, dy, dx, 0, 1, n);
}
REGISTER_GRADIENT("ConcatV2", ConcatV2Grad);
REGISTER_GRADIENT("Concat", ConcatGrad);

// Gradients of every output of a multi-output op, zeros where none arrived.
std::vector<Output> AllOutputGrads(B& b, Node* op, const std::vector<Output>& dy) {
  std::vector<Output> all;
  for (int i = 0; i < op->num_outputs(); ++i)
    all.push_back(dy[i].valid() ? dy[i] : b.ZerosLike(Output{op, i}));
  return all;
}

Status SplitGrad(LOOM_GRAD_ARGS) {  // Split(split_dim, value)
  if (op->num_outputs() == 1) {
    (*dx)[1] = dy[0];
    return Status::OK();
  }
  B b(g, op);
  (*dx)[1] = b.Op("ConcatV2", {GradInput(AllOutputGrads(b, op, dy)), op->input(0)});
  return b.status();
}
REGISTER_GRADIENT("Split", SplitGrad);

Status SplitVGrad(LOOM_GRAD_ARGS) {  // SplitV(value, size_splits, split_dim)
  if (op->num_outputs() == 1) {
    (*dx)[0] = dy[0];
    return Status::OK();
  }
  B b(g, op);
  (*dx)[0] = b.Op("ConcatV2", {GradInput(AllOutputGrads(b, op, dy)), op->input(2)});
  return b.status();
}
REGISTER_GRADIENT("SplitV", SplitVGrad);

Status PackGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  int64_t axis = 0;
  RETURN_IF_ERROR(op->attrs().GetInt("axis", &axis));
  std::vector<Output> parts = b.OpN(
      "Unpack", {dy[0]}, {{"num", AttrValue::Int(op->num_inputs())}, {"axis", AttrValue::Int(axis)}});
  for (int i = 0; i < op->num_inputs() && i < static_cast<int>(parts.size()); ++i)
    (*dx)[i] = parts[i];
  return b.status();
}
REGISTER_GRADIENT("Pack", PackGrad);

Status UnpackGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  int64_t axis = 0;
  RETURN_IF_ERROR(op->attrs().GetInt("axis", &axis));
  (*dx)[0] = b.Op("Pack", {GradInput(AllOutputGrads(b, op, dy))}, {{"axis", AttrValue::Int(axis)}});
  return b.status();
}
REGISTER_GRADIENT("Unpack", UnpackGrad);

// Slice: dy padded with zeros back to x's shape (TensorFlow's form).
Status SliceGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output x = op->input(0);
  const PartialShape &xs = StaticShape(x), &ys = StaticShape(Output{op, 0});
  if (xs.fully_defined() && ys.fully_defined() && xs.dims() == ys.dims()) {
    (*dx)[0] = dy[0];  // the whole tensor
    return Status::OK();
  }
  Output begin = b.Cast(op->input(1), LOOM_DTYPE_INT32);
  Output after = b.Sub(b.Sub(b.ShapeOf(x), begin), b.ShapeOf(Output{op, 0}));
  Output paddings = b.Op("Pack", {GradInput(std::vector<Output>{begin, after})},
                         {{"axis", AttrValue::Int(1)}});
  (*dx)[0] = b.Op("Pad", {dy[0], paddings});
  return b.status();
}
REGISTER_GRADIENT("Slice", SliceGrad);

GradAttrs StridedSliceMasks(Node* op, Status* s) {
  GradAttrs attrs;
  for (const char* m :
       {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"}) {
    int64_t v = 0;
    Status st = op->attrs().GetInt(m, &v);
    if (!st.ok() && s->ok()) *s = st;
    attrs.emplace_back(m, AttrValue::Int(v));
  }
  return attrs;
}

// StridedSlice: StridedSliceGrad scatters dy into zeros of x's shape.
Status StridedSliceGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Status s;
  GradAttrs attrs = StridedSliceMasks(op, &s);
  RETURN_IF_ERROR(s);
  Output shape = b.Cast(b.ShapeOf(op->input(0)), B::DType(op->input(1)));
  (*dx)[0] = b.Op("StridedSliceGrad",
                  {shape, op->input(1), op->input(2), op->input(3), dy[0]}, attrs);
  return b.status();
}
REGISTER_GRADIENT("StridedSlice", StridedSliceGrad);

// StridedSliceGrad scatters dy into zeros: its gradient w.r.t. dy picks the
// same elements back out.
Status StridedSliceGradGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Status s;
  GradAttrs attrs = StridedSliceMasks(op, &s);
  RETURN_IF_ERROR(s);
  (*dx)[4] = b.Op("StridedSlice", {dy[0], op->input(1), op->input(2), op->input(3)}, attrs);
  return b.status();
}
REGISTER_GRADIENT("StridedSliceGrad", StridedSliceGradGrad);

// Pad(x, paddings): the gradient is the unpadded window of dy.
Status PadGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output x = op->input(0);
  Output before = b.Reshape(b.Op("Slice", {b.Cast(op->input(1), LOOM_DTYPE_INT32),
                                           b.Int32s({0, 0}), b.Int32s({-1, 1})}),
                            b.Int32s({-1}));
  (*dx)[0] = b.Op("Slice", {dy[0], before, b.ShapeOf(x)});
  return b.status();
}
REGISTER_GRADIENT("Pad", PadGrad);

// Tile: view dy as [m0, d0, m1, d1, ...] and sum over the m axes.
Status TileGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output x = op->input(0);
  Output multiples = b.Cast(op->input(1), LOOM_DTYPE_INT32);
  Output pairs = b.Op("Pack", {GradInput(std::vector<Output>{multiples, b.ShapeOf(x)})});
  Output split_shape = b.Reshape(b.Op("Transpose", {pairs, b.Int32s({1, 0})}), b.Int32s({-1}));
  Output axes = b.Range(b.Int32(0), b.Size(split_shape), b.Int32(2));
  (*dx)[0] = b.ReshapeLike(b.Sum(b.Reshape(dy[0], split_shape), axes), x);
  return b.status();
}
REGISTER_GRADIENT("Tile", TileGrad);

// GatherV2: along axis 0 a segment sum of the rows; otherwise the general
// scatter of GradBuilder::ScatterGrad.
Status GatherV2Grad(LOOM_GRAD_ARGS) {
  B b(g, op);
  Output params = op->input(0), indices = op->input(1);
  int64_t batch_dims = 0;
  if (!op->attrs().GetInt("batch_dims", &batch_dims).ok()) batch_dims = 0;
  std::vector<int64_t> axis;
  if (batch_dims == 0 && ConstInts(op->input(2), &axis) && axis.size() == 1 && axis[0] == 0) {
    Output ps = b.ShapeOf(params);
    Output inner = b.Op("StridedSlice", {ps, b.Int32s({1}), b.Int32s({0}), b.Int32s({1})},
                        {{"end_mask", AttrValue::Int(1)}});
    Output rows = b.Op("StridedSlice", {ps, b.Int32s({0}), b.Int32s({1}), b.Int32s({1})},
                       {{"shrink_axis_mask", AttrValue::Int(1)}});
    Output values_shape =
        b.Op("ConcatV2", {GradInput(std::vector<Output>{b.Int32s({-1}), inner}), b.Int32(0)});
    Output values = b.Reshape(dy[0], values_shape);
    Output ids = b.Reshape(indices, b.Int32s({-1}));
    (*dx)[0] = b.ReshapeLike(b.Op("UnsortedSegmentSum", {values, ids, rows}), params);
    return b.status();
  }
  (*dx)[0] = b.ScatterGrad(dy[0], params, [&](Output idx) {
    return b.Op("GatherV2", {idx, indices, op->input(2)},
                {{"batch_dims", AttrValue::Int(batch_dims)}});
  });
  return b.status();
}
REGISTER_GRADIENT("GatherV2", GatherV2Grad);

Status UnsortedSegmentSumGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = b.Gather(dy[0], op->input(1));
  return b.status();
}
REGISTER_GRADIENT("UnsortedSegmentSum", UnsortedSegmentSumGrad);

// DynamicStitch(indices[N], data[N]): data[i] came out at rows indices[i].
// (Where indices repeat, TensorFlow keeps the last writer; this gives every
// writer the gradient, which matches when indices are distinct.)
Status DynamicStitchGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  int n = op->num_inputs() / 2;
  for (int i = 0; i < n; ++i) {
    if (!IsDifferentiableType(op->input_dtype(n + i))) continue;
    (*dx)[n + i] = b.Gather(dy[0], op->input(i));
  }
  return b.status();
}
REGISTER_GRADIENT("DynamicStitch", DynamicStitchGrad);

Status BroadcastToGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  (*dx)[0] = b.ReduceBroadcastGrad(dy[0], op->input(0), {Output{op, 0}});
  return b.status();
}
REGISTER_GRADIENT("BroadcastTo", BroadcastToGrad);

// Fill(dims, value): every element is `value`, so its gradient is the sum.
Status FillGrad(LOOM_GRAD_ARGS) {
  B b(g, op);
  const PartialShape& s = StaticShape(dy[0]);
  Output axes;
  if (s.rank_known()) {
    std::vector<int64_t> all(s.rank());
    for (int i = 0; i < s.rank(); ++i) all[i] = i;
    axes = b.Int32s(all);
  } else {
    axes = b.Range(b.Int32(0), b.Rank(dy[0]), b.Int32(1));
  }
  (*dx)[1] = b.Sum(dy[0], axes);
  return b.status();
}
REGISTER_GRADIENT("Fill", FillGrad);

REGISTER_NO_GRADIENT("Shape");
REGISTER_NO_GRADIENT("ShapeN");
REGISTER_NO_GRADIENT("Size");
REGISTER_NO_GRADIENT("Rank");
REGISTER_NO_GRADIENT("ZerosLike");
REGISTER_NO_GRADIENT("OnesLike");
REGISTER_NO_GRADIENT("BroadcastGradientArgs");
REGISTER_NO_GRADIENT("InvertPermutation");
REGISTER_NO_GRADIENT("ConcatOffset");
REGISTER_NO_GRADIENT("OneHot");
REGISTER_NO_GRADIENT("StopGradient");
REGISTER_NO_GRADIENT("Const");
REGISTER_NO_GRADIENT("Placeholder");
REGISTER_NO_GRADIENT("NoOp");
REGISTER_NO_GRADIENT("RandomUniform");
REGISTER_NO_GRADIENT("RandomUniformInt");
REGISTER_NO_GRADIENT("RandomStandardNormal");
REGISTER_NO_GRADIENT("TruncatedNormal");
REGISTER_NO_GRADIENT("VariableV2");
REGISTER_NO_GRADIENT("IsVariableInitialized");
REGISTER_NO_GRADIENT("Assign");
REGISTER_NO_GRADIENT("AssignAdd");
REGISTER_NO_GRADIENT("AssignSub");
REGISTER_NO_GRADIENT("ApplyGradientDescent");
REGISTER_NO_GRADIENT("ApplyMomentum");
REGISTER_NO_GRADIENT("ApplyAdam");
REGISTER_NO_GRADIENT("ApplyAdagrad");
REGISTER_NO_GRADIENT("ApplyRMSProp");

}  // namespace
}  // namespace loom
