#include "runtime/autodiff/grad_builder.h"

#include <algorithm>

namespace loom {

bool IsDifferentiableType(DataType dt) {
  return dt == LOOM_DTYPE_FLOAT || dt == LOOM_DTYPE_DOUBLE || dt == LOOM_DTYPE_HALF ||
         dt == LOOM_DTYPE_BFLOAT16;
}

bool ConstInts(Output o, std::vector<int64_t>* out) {
  if (!o.valid() || o.node->type() != "Const") return false;
  const Tensor* t = nullptr;
  if (!o.node->attrs().GetTensor("value", &t).ok() || t == nullptr || !t->valid()) return false;
  if (t->rank() > 1) return false;
  out->clear();
  const int64_t n = t->num_elements();
  if (t->dtype() == LOOM_DTYPE_INT32) {
    for (int64_t i = 0; i < n; ++i) out->push_back(t->data_as<int32_t>()[i]);
  } else if (t->dtype() == LOOM_DTYPE_INT64) {
    for (int64_t i = 0; i < n; ++i) out->push_back(t->data_as<int64_t>()[i]);
  } else {
    return false;
  }
  return true;
}

const PartialShape& StaticShape(Output o) {
  static const PartialShape* unknown = new PartialShape();
  if (!o.valid() || o.index >= o.node->num_outputs()) return *unknown;
  return o.node->output_shape(o.index);
}

DataType GradBuilder::DType(Output o) {
  if (!o.valid() || o.index >= o.node->num_outputs()) return LOOM_DTYPE_INVALID;
  return o.node->output_dtype(o.index);
}

bool GradBuilder::AnyInvalid(const std::vector<GradInput>& inputs) {
  for (const GradInput& in : inputs)
    for (const Output& o : in.outs)
      if (!o.valid()) return true;
  return false;
}

std::vector<Output> GradBuilder::OpN(const std::string& type,
                                     const std::vector<GradInput>& inputs,
                                     const GradAttrs& attrs) {
  if (!status_.ok()) return {};
  if (AnyInvalid(inputs)) {
    Fail(Internal("gradient of ", op_ ? op_->DebugString() : std::string("an op"),
                  ": an input of the ", type, " it builds is missing"));
    return {};
  }
  NodeBuilder b(g_, type);
  for (const GradInput& in : inputs) {
    if (in.is_list) {
      b.InputList(in.outs);
    } else {
      b.Input(in.outs[0]);
    }
  }
  for (const auto& a : attrs) b.Attr(a.first, a.second);
  Node* n = nullptr;
  Status s = b.Finish(&n);
  if (!s.ok()) {
    Fail(s.WithPrefix(op_ ? StrCat("while building the gradient of ", op_->DebugString(), ": ")
                          : std::string()));
    return {};
  }
  std::vector<Output> outs(n->num_outputs());
  for (int i = 0; i < n->num_outputs(); ++i) outs[i] = Output{n, i};
  return outs;
}

Output GradBuilder::Op(const std::string& type, const std::vector<GradInput>& inputs,
                       const GradAttrs& attrs) {
  std::vector<Output> outs = OpN(type, inputs, attrs);
  return outs.empty() ? Output() : outs[0];
}

Output GradBuilder::Const(const Tensor& t) {
  return Op("Const", {},
            {{"value", AttrValue::TensorValue(t)}, {"dtype", AttrValue::Type(t.dtype())}});
}

Output GradBuilder::Scalar(DataType dt, double v) {
  if (!status_.ok()) return Output();
  Tensor t;
  Status s = Tensor::Allocate(dt, TensorShape{}, &t);
  if (!s.ok()) {
    Fail(s);
    return Output();
  }
  switch (dt) {
    case LOOM_DTYPE_FLOAT: *t.data_as<float>() = static_cast<float>(v); break;
    case LOOM_DTYPE_DOUBLE: *t.data_as<double>() = v; break;
    case LOOM_DTYPE_INT32: *t.data_as<int32_t>() = static_cast<int32_t>(v); break;
    case LOOM_DTYPE_INT64: *t.data_as<int64_t>() = static_cast<int64_t>(v); break;
    default:
      Fail(Unimplemented("gradient of ", op_ ? op_->DebugString() : std::string("an op"),
                         ": constants of dtype ", DataTypeName(dt), " are not supported"));
      return Output();
  }
  return Const(t);
}

Output GradBuilder::Int32s(const std::vector<int64_t>& v) {
  if (!status_.ok()) return Output();
  Tensor t;
  Status s = Tensor::Allocate(LOOM_DTYPE_INT32, TensorShape{static_cast<int64_t>(v.size())}, &t);
  if (!s.ok()) {
    Fail(s);
    return Output();
  }
  for (size_t i = 0; i < v.size(); ++i) t.data_as<int32_t>()[i] = static_cast<int32_t>(v[i]);
  return Const(t);
}

Output GradBuilder::Int32(int64_t v) { return Scalar(LOOM_DTYPE_INT32, static_cast<double>(v)); }

Output GradBuilder::Cast(Output a, DataType to) {
  if (DType(a) == to) return a;
  return Op("Cast", {a}, {{"DstT", AttrValue::Type(to)}});
}

Output GradBuilder::AddN(const std::vector<Output>& xs) {
  if (xs.size() == 1) return xs[0];
  return Op("AddN", {GradInput(xs)});
}

Output GradBuilder::ShapeOf(Output x) {
  const PartialShape& s = StaticShape(x);
  if (s.fully_defined()) return Int32s(s.dims());
  return Shape(x);
}

Output GradBuilder::ReshapeLike(Output x, Output like) {
  const PartialShape& sx = StaticShape(x);
  const PartialShape& sl = StaticShape(like);
  if (sx.fully_defined() && sl.fully_defined() && sx.dims() == sl.dims()) return x;
  return Reshape(x, ShapeOf(like));
}

Output GradBuilder::Sum(Output x, Output axes, bool keep_dims) {
  return Op("Sum", {x, axes}, {{"keep_dims", AttrValue::Bool(keep_dims)}});
}

Output GradBuilder::MatMul(Output a, Output b, bool ta, bool tb) {
  return Op("MatMul", {a, b},
            {{"transpose_a", AttrValue::Bool(ta)}, {"transpose_b", AttrValue::Bool(tb)}});
}

Output GradBuilder::Gather(Output params, Output indices, int64_t axis) {
  return Op("GatherV2", {params, indices, Int32(axis)});
}

bool StaticBroadcastAxes(const PartialShape& x, const std::vector<PartialShape>& others,
                         std::vector<int64_t>* axes, bool* drops_inner_axis) {
  if (!x.rank_known()) return false;
  int out_rank = x.rank();
  for (const PartialShape& o : others) {
    if (!o.rank_known()) return false;
    out_rank = std::max(out_rank, o.rank());
  }
  axes->clear();
  *drops_inner_axis = false;
  for (int i = 0; i < out_rank; ++i) {
    const int xi = i - (out_rank - x.rank());
    if (xi < 0) {
      axes->push_back(i);
      continue;
    }
    const int64_t xd = x.dim(xi);
    if (xd != 1 && xd != -1) continue;  // a known size other than 1 is never broadcast
    // What do the other inputs say about this output axis?
    bool others_all_one = true;
    for (const PartialShape& o : others) {
      const int oi = i - (out_rank - o.rank());
      if (oi < 0) continue;
      const int64_t od = o.dim(oi);
      if (od != 1) others_all_one = false;  // known size > 1, 0, or unknown
    }
    if (xd == 1) {
      if (!others_all_one) {
        axes->push_back(i);
        *drops_inner_axis = true;
      }
    } else {  // xd unknown
      if (others_all_one) continue;  // output axis is x's own
      return false;  // x may be 1 (broadcast) or full size: decide at run time
    }
  }
  return true;
}

Output GradBuilder::ReduceBroadcastGrad(Output g, Output x, const std::vector<Output>& others) {
  if (!status_.ok()) return Output();
  std::vector<PartialShape> other_shapes;
  for (const Output& o : others) other_shapes.push_back(StaticShape(o));
  std::vector<int64_t> axes;
  bool drops_inner = false;
  if (StaticBroadcastAxes(StaticShape(x), other_shapes, &axes, &drops_inner)) {
    if (axes.empty()) return g;
    Output s = Sum(g, axes, false);
    return drops_inner ? Reshape(s, ShapeOf(x)) : s;
  }
  Output sx = ShapeOf(x);
  std::vector<Output> r = OpN("BroadcastGradientArgs", {sx, Shape(g)});
  if (r.empty()) return Output();
  return Reshape(Sum(g, r[0], false), sx);
}

Output GradBuilder::KeptShape(Output x, Output axes) {
  const PartialShape& xs = StaticShape(x);
  std::vector<int64_t> ax;
  if (xs.rank_known() && ConstInts(axes, &ax)) {
    std::vector<int64_t> dims = xs.dims();
    const int64_t r = xs.rank();
    bool ok = true;
    for (int64_t a : ax) {
      if (a < -r || a >= r) ok = false;
      if (ok) dims[a < 0 ? a + r : a] = 1;
    }
    if (ok && std::count(dims.begin(), dims.end(), -1) <= 1) return Int32s(dims);
  }
  // TensorFlow's reduced_shape, at run time.
  Output shape = Shape(x);
  Output rank = Size(shape);
  Output axes32 = Cast(axes, LOOM_DTYPE_INT32);
  Output pos = Op("FloorMod", {Add(axes32, rank), rank});
  Output ones = Op("Fill", {Shape(pos), Int32(1)});
  return Op("DynamicStitch",
            {GradInput(std::vector<Output>{Range(Int32(0), rank, Int32(1)), pos}),
             GradInput(std::vector<Output>{shape, ones})});
}

Output GradBuilder::BroadcastReductionGrad(Output dy, Output x, Output axes, bool keep_dims) {
  if (!status_.ok()) return Output();
  Output kept = dy;
  if (!keep_dims) kept = Reshape(dy, KeptShape(x, axes));
  const PartialShape& xs = StaticShape(x);
  const PartialShape& ks = StaticShape(kept);
  if (xs.fully_defined() && ks.fully_defined() && xs.dims() == ks.dims()) return kept;
  return Op("BroadcastTo", {kept, ShapeOf(x)});
}

GradFn UnaryGrad(UnaryGradBody f) {
  return [f](LOOM_GRAD_ARGS) -> Status {
    if (!IsDifferentiableType(op->input_dtype(0)) || !dy[0].valid()) return Status::OK();
    GradBuilder b(g, op);
    (*dx)[0] = f(b, op->input(0), Output{op, 0}, dy[0]);
    return b.status();
  };
}

GradFn BinaryGrad(BinaryGradBody f) {
  return [f](LOOM_GRAD_ARGS) -> Status {
    if (!IsDifferentiableType(op->input_dtype(0)) || !dy[0].valid()) return Status::OK();
    GradBuilder b(g, op);
    Output x = op->input(0), y = op->input(1), gx, gy;
    f(b, x, y, Output{op, 0}, dy[0], &gx, &gy);
    if (gx.valid()) (*dx)[0] = b.ReduceBroadcastGrad(gx, x, {y});
    if (gy.valid()) (*dx)[1] = b.ReduceBroadcastGrad(gy, y, {x});
    return b.status();
  };
}

}  // namespace loom
