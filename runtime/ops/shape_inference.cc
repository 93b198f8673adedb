// InferenceContext and the shape helpers shared by the standard ops.
#include "runtime/ops/shape_inference.h"

#include <algorithm>

#include "loom/plugin/axis.hpp"
#include "loom/plugin/broadcast.hpp"

namespace loom {

namespace {

// Reads an int32/int64 scalar or vector held in host memory.
bool TensorToInts(const Tensor& t, std::vector<int64_t>* out) {
  if (!t.valid() || t.data() == nullptr || t.rank() > 1) return false;
  const int64_t n = t.num_elements();
  out->clear();
  out->reserve(static_cast<size_t>(n));
  if (t.dtype() == LOOM_DTYPE_INT32) {
    const int32_t* p = t.data_as<int32_t>();
    for (int64_t k = 0; k < n; ++k) out->push_back(p[k]);
  } else if (t.dtype() == LOOM_DTYPE_INT64) {
    const int64_t* p = t.data_as<int64_t>();
    for (int64_t k = 0; k < n; ++k) out->push_back(p[k]);
  } else {
    return false;
  }
  return true;
}

// A 1-element int constant produced by `o`'s node; false otherwise.
bool ConstScalarOf(const Output& o, int64_t* out) {
  const Node* q = o.node;
  if (q == nullptr || q->type() != "Const") return false;
  const Tensor* t = nullptr;
  std::vector<int64_t> vals;
  if (!q->attrs().GetTensor("value", &t).ok() || t == nullptr || !TensorToInts(*t, &vals) ||
      vals.size() != 1) {
    return false;
  }
  *out = vals[0];
  return true;
}

// The value of a scalar that is a constant, or one dimension read from a
// Shape op (`tf.shape(x)[k]`: StridedSlice(Shape(x), [k], [k+1], [1]) with
// shrink_axis_mask 1). -1 when unknown.
int64_t ScalarValueOf(const Output& o) {
  int64_t v;
  if (ConstScalarOf(o, &v)) return v >= -1 ? v : -1;
  const Node* q = o.node;
  if (q == nullptr || q->type() != "StridedSlice" || q->num_inputs() != 4) return -1;
  const AttrMap& a = q->attrs();
  int64_t shrink = 0, ellipsis = 0, new_axis = 0;
  if (!a.GetInt("shrink_axis_mask", &shrink).ok() || !a.GetInt("ellipsis_mask", &ellipsis).ok() ||
      !a.GetInt("new_axis_mask", &new_axis).ok() || (shrink & 1) == 0 || (ellipsis & 1) != 0 ||
      (new_axis & 1) != 0) {
    return -1;
  }
  const Node* shape = q->input(0).node;
  int64_t begin, stride;
  if (shape == nullptr || shape->type() != "Shape" || shape->num_inputs() != 1 ||
      shape->input(0).node == nullptr || !ConstScalarOf(q->input(1), &begin) ||
      !ConstScalarOf(q->input(3), &stride) || stride == 0) {
    return -1;
  }
  const PartialShape& s = shape->input(0).node->output_shape(shape->input(0).index);
  if (!s.rank_known()) return -1;
  const int64_t k = begin < 0 ? begin + s.rank() : begin;
  return k >= 0 && k < s.rank() ? s.dim(static_cast<int>(k)) : -1;
}

// The value of a node's output as a partial shape, seen through the producer:
// Const (the value), Shape (the producer's input shape), Pack of scalars (one
// entry per scalar, see ScalarValueOf). False if none applies.
bool PartialValueOf(const Output& o, std::vector<int64_t>* out) {
  const Node* p = o.node;
  if (p == nullptr) return false;
  if (p->type() == "Const") {
    const Tensor* t = nullptr;
    if (!p->attrs().GetTensor("value", &t).ok() || t == nullptr) return false;
    if (t->rank() != 1) return false;
    return TensorToInts(*t, out);
  }
  if (p->type() == "Shape" && p->num_inputs() >= 1 && p->input(0).node != nullptr) {
    const PartialShape& s = p->input(0).node->output_shape(p->input(0).index);
    if (!s.rank_known()) return false;
    *out = s.dims();
    return true;
  }
  if (p->type() == "Pack" && p->num_inputs() >= 1 &&
      p->attrs().Find("axis") != nullptr && p->attrs().Find("axis")->i() == 0) {
    out->clear();
    for (const Output& in : p->inputs()) out->push_back(ScalarValueOf(in));
    return true;
  }
  return false;
}

}  // namespace

InferenceContext::InferenceContext(const Node* node_being_built, const AttrMap* attrs,
                                   std::vector<PartialShape> input_shapes,
                                   std::vector<const Tensor*> input_values,
                                   std::vector<DataType> input_types, int num_outputs)
    : node_(node_being_built),
      attrs_(attrs),
      inputs_(std::move(input_shapes)),
      input_values_(std::move(input_values)),
      input_types_(std::move(input_types)),
      outputs_(static_cast<size_t>(num_outputs)) {
  input_values_.resize(inputs_.size(), nullptr);
  input_types_.resize(inputs_.size(), LOOM_DTYPE_INVALID);
}

bool InferenceContext::InputAsInts(int i, std::vector<int64_t>* out) const {
  if (i < 0 || i >= num_inputs() || input_values_[i] == nullptr) return false;
  return TensorToInts(*input_values_[i], out);
}

Status InferenceContext::MakeShapeFromInput(int i, PartialShape* out) const {
  std::vector<int64_t> vals;
  if (InputAsInts(i, &vals)) {
    if (input_values_[i]->rank() == 0) {
      // TensorFlow's convention: a scalar -1 stands for "unknown rank".
      if (vals[0] == -1) {
        *out = PartialShape::Unknown();
        return Status::OK();
      }
      return InvalidArgument("Expected a 1-D shape tensor for input ", i,
                             " but got the scalar ", vals[0]);
    }
    if (vals.size() > static_cast<size_t>(shape_fns::kMaxRank)) {
      return InvalidArgument("The shape given by input ", i, " has ", vals.size(),
                             " dimensions; at most ", shape_fns::kMaxRank, " are supported");
    }
    for (int64_t v : vals) {
      if (v < -1) {
        return InvalidArgument("Dimension ", v, " in the shape given by input ", i,
                               " must be >= 0 (or -1 for unknown)");
      }
    }
    *out = PartialShape(vals);
    return Status::OK();
  }
  const PartialShape& s = input(i);
  if (s.rank_known() && s.rank() > 1) {
    return InvalidArgument("Expected a 1-D shape tensor for input ", i, " but its shape is ",
                           s.ToString());
  }
  if (node_ != nullptr && i < node_->num_inputs() && PartialValueOf(node_->input(i), &vals) &&
      vals.size() <= static_cast<size_t>(shape_fns::kMaxRank)) {
    if (!s.rank_known() || s.rank() == 0 || s.dim(0) < 0 ||
        s.dim(0) == static_cast<int64_t>(vals.size())) {
      for (int64_t& v : vals) v = v < 0 ? -1 : v;
      *out = PartialShape(vals);
      return Status::OK();
    }
  }
  *out = s.rank_known() && s.rank() == 1 ? shape_fns::UnknownOfRankOrUnknown(s.dim(0))
                                         : PartialShape::Unknown();
  return Status::OK();
}

Status InferenceContext::WithRank(int i, int r) const {
  const PartialShape& s = input(i);
  if (s.rank_known() && s.rank() != r) {
    return InvalidArgument("Shape must be rank ", r, " but is rank ", s.rank(), " for input ", i,
                           " with shape ", s.ToString());
  }
  return Status::OK();
}

Status InferenceContext::WithRankAtLeast(int i, int r) const {
  const PartialShape& s = input(i);
  if (s.rank_known() && s.rank() < r) {
    return InvalidArgument("Shape must be at least rank ", r, " but is rank ", s.rank(),
                           " for input ", i, " with shape ", s.ToString());
  }
  return Status::OK();
}

Status InferenceContext::WithRankAtMost(int i, int r) const {
  const PartialShape& s = input(i);
  if (s.rank_known() && s.rank() > r) {
    return InvalidArgument("Shape must be at most rank ", r, " but is rank ", s.rank(),
                           " for input ", i, " with shape ", s.ToString());
  }
  return Status::OK();
}

int64_t InferenceContext::GetIntAttr(const std::string& name, int64_t default_value) const {
  const AttrValue* v = attrs_ ? attrs_->Find(name) : nullptr;
  return v && v->kind() == AttrValue::kInt ? v->i() : default_value;
}

bool InferenceContext::GetBoolAttr(const std::string& name, bool default_value) const {
  const AttrValue* v = attrs_ ? attrs_->Find(name) : nullptr;
  return v && v->kind() == AttrValue::kBool ? v->b() : default_value;
}

std::string InferenceContext::GetStringAttr(const std::string& name,
                                            const std::string& default_value) const {
  const AttrValue* v = attrs_ ? attrs_->Find(name) : nullptr;
  return v && v->kind() == AttrValue::kString ? v->s() : default_value;
}

std::vector<int64_t> InferenceContext::GetIntListAttr(const std::string& name) const {
  const AttrValue* v = attrs_ ? attrs_->Find(name) : nullptr;
  return v && v->kind() == AttrValue::kIntList ? v->ilist() : std::vector<int64_t>{};
}

namespace shape_fns {

PartialShape UnknownOfRankOrUnknown(int64_t rank) {
  return rank >= 0 && rank <= kMaxRank ? PartialShape::UnknownOfRank(static_cast<int>(rank))
                                       : PartialShape::Unknown();
}

Status Unknown(InferenceContext& c) {
  for (int i = 0; i < c.num_outputs(); ++i) c.set_output(i, PartialShape::Unknown());
  return Status::OK();
}

Status UnchangedShape(InferenceContext& c) {
  c.set_output(0, c.input(0));
  return Status::OK();
}

Status ScalarShape(InferenceContext& c) {
  c.set_output(0, PartialShape(std::vector<int64_t>{}));
  return Status::OK();
}

Status BroadcastShapes(const PartialShape& a, const PartialShape& b, PartialShape* out) {
  if (!a.rank_known() || !b.rank_known()) {
    *out = PartialShape::Unknown();
    return Status::OK();
  }
  const int rank = std::max(a.rank(), b.rank());
  std::vector<int64_t> dims(static_cast<size_t>(rank));
  for (int k = 0; k < rank; ++k) {
    // Align from the right; a missing leading dim acts as 1.
    const int ia = a.rank() - rank + k, ib = b.rank() - rank + k;
    const int64_t da = ia >= 0 ? a.dim(ia) : 1;
    const int64_t db = ib >= 0 ? b.dim(ib) : 1;
    int64_t d;
    if (!kit::BroadcastDim(da, db, &d)) {
      return InvalidArgument(
          kit::IncompatibleShapes(a.ToString() + " vs. " + b.ToString(), da, db));
    }
    dims[static_cast<size_t>(k)] = d;
  }
  *out = PartialShape(std::move(dims));
  return Status::OK();
}

Status BroadcastBinaryOp(InferenceContext& c) {
  PartialShape out;
  RETURN_IF_ERROR(BroadcastShapes(c.input(0), c.input(1), &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

Status CanonicalAxis(int64_t axis, int rank, const char* what, int64_t* out) {
  const std::string error = kit::CanonicalAxis(axis, rank, what, out);
  if (!error.empty()) return InvalidArgument(error);
  return Status::OK();
}

Status MergeNamed(const PartialShape& a, const char* a_name, const PartialShape& b,
                  const char* b_name, PartialShape* out) {
  Status s = a.Merge(b, out);
  if (!s.ok()) {
    return InvalidArgument("Shapes must be equal, but ", a_name, " has shape ", a.ToString(),
                           " and ", b_name, " has shape ", b.ToString());
  }
  return Status::OK();
}

Status Reduction(InferenceContext& c) {
  const PartialShape& in = c.input(0);
  const bool keep_dims = c.GetBoolAttr("keep_dims", false);
  RETURN_IF_ERROR(c.WithRankAtMost(1, 1));
  std::vector<int64_t> axes;
  if (!c.InputAsInts(1, &axes)) {
    const PartialShape& idx = c.input(1);
    if (in.rank_known() && keep_dims) {
      c.set_output(0, PartialShape::UnknownOfRank(in.rank()));
    } else if (idx.rank_known() && idx.rank() == 1 && idx.dim(0) == 0) {
      c.set_output(0, in);  // an empty list of axes reduces nothing
    } else {
      c.set_output(0, PartialShape::Unknown());
    }
    return Status::OK();
  }
  if (!in.rank_known()) {
    c.set_output(0, PartialShape::Unknown());
    return Status::OK();
  }
  const int rank = in.rank();
  std::vector<bool> reduce(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank) {
      return InvalidArgument("Invalid reduction dimension ", a, " for input with ", rank,
                             " dimensions (shape ", in.ToString(), ")");
    }
    reduce[static_cast<size_t>(a < 0 ? a + rank : a)] = true;
  }
  std::vector<int64_t> dims;
  for (int k = 0; k < rank; ++k) {
    if (!reduce[static_cast<size_t>(k)]) {
      dims.push_back(in.dim(k));
    } else if (keep_dims) {
      dims.push_back(1);
    }
  }
  c.set_output(0, PartialShape(std::move(dims)));
  return Status::OK();
}

Status MergeBothInputs(InferenceContext& c) {
  PartialShape out;
  RETURN_IF_ERROR(MergeNamed(c.input(0), "input 0", c.input(1), "input 1", &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

Status MergeAllInputs(InferenceContext& c) {
  PartialShape cur;  // unknown
  for (int i = 0; i < c.num_inputs(); ++i) {
    PartialShape next;
    if (!cur.Merge(c.input(i), &next).ok()) {
      return InvalidArgument("All inputs must have the same shape, but input ", i, " has shape ",
                             c.input(i).ToString(), " and the inputs before it have shape ",
                             cur.ToString());
    }
    cur = std::move(next);
  }
  c.set_output(0, std::move(cur));
  return Status::OK();
}

ShapeFn UnchangedShapeWithRankAtLeast(int rank) {
  return [rank](InferenceContext& c) -> Status {
    RETURN_IF_ERROR(c.WithRankAtLeast(0, rank));
    c.set_output(0, c.input(0));
    return Status::OK();
  };
}

}  // namespace shape_fns
}  // namespace loom
