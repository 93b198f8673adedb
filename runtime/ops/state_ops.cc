// Schemas and shape functions of the ops with side effects that the runtime
// executes itself (variables, NoOp, _Send/_Recv) and of the in-place variable
// updates (AssignAdd/Sub and the optimizers' Apply* ops, TensorFlow's
// state_ops.cc and training_ops.cc).
//
// Every op here that writes a Ref input is marked stateful, so no graph pass
// folds, deduplicates or prunes it as if it were a pure function.
#include <initializer_list>

#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

Status VariableShape(InferenceContext& c) {
  const AttrValue* v = c.attrs().Find("shape");
  c.set_output(0, v && v->kind() == AttrValue::kShape ? v->shape() : PartialShape::Unknown());
  return Status::OK();
}

Status AssignShape(InferenceContext& c) {
  if (!c.GetBoolAttr("validate_shape", true)) {
    c.set_output(0, c.input(1));  // the variable takes the value's shape
    return Status::OK();
  }
  PartialShape out;
  RETURN_IF_ERROR(shape_fns::MergeNamed(c.input(0), "ref", c.input(1), "value", &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

// One argument of an update op: must match var's shape, or be a scalar.
struct UpdateArg {
  int index;
  const char* name;
  bool scalar;
};

// Output 0 = var (input 0); every other argument must match it or be a scalar.
Status ApplyShape(InferenceContext& c, std::initializer_list<UpdateArg> args) {
  PartialShape var = c.input(0);
  for (const UpdateArg& a : args) {
    const PartialShape& s = c.input(a.index);
    if (a.scalar) {
      if (s.rank_known() && s.rank() != 0) {
        return InvalidArgument(a.name, " must be a scalar, but has shape ", s.ToString());
      }
      continue;
    }
    PartialShape merged;
    if (!var.Merge(s, &merged).ok()) {
      return InvalidArgument(a.name, " must have the shape of var ", var.ToString(),
                             ", but has shape ", s.ToString());
    }
    var = std::move(merged);
  }
  c.set_output(0, std::move(var));
  return Status::OK();
}

Status AssignUpdateShape(InferenceContext& c) { return ApplyShape(c, {{1, "value", false}}); }

Status ApplyGradientDescentShape(InferenceContext& c) {
  return ApplyShape(c, {{1, "alpha", true}, {2, "delta", false}});
}

Status ApplyMomentumShape(InferenceContext& c) {
  return ApplyShape(c, {{1, "accum", false}, {2, "lr", true}, {3, "grad", false},
                        {4, "momentum", true}});
}

Status ApplyAdamShape(InferenceContext& c) {
  return ApplyShape(c, {{1, "m", false},
                        {2, "v", false},
                        {3, "beta1_power", true},
                        {4, "beta2_power", true},
                        {5, "lr", true},
                        {6, "beta1", true},
                        {7, "beta2", true},
                        {8, "epsilon", true},
                        {9, "grad", false}});
}

Status ApplyAdagradShape(InferenceContext& c) {
  return ApplyShape(c, {{1, "accum", false}, {2, "lr", true}, {3, "grad", false}});
}

Status ApplyRMSPropShape(InferenceContext& c) {
  return ApplyShape(c, {{1, "ms", false},
                        {2, "mom", false},
                        {3, "lr", true},
                        {4, "rho", true},
                        {5, "momentum", true},
                        {6, "epsilon", true},
                        {7, "grad", false}});
}

}  // namespace

// ---------------------------------------------------------------- intrinsics

REGISTER_OP("NoOp").SetShapeFn(shape_fns::Unknown);

REGISTER_OP("VariableV2")
    .Output("ref: Ref(dtype)")
    .Attr("shape: shape")
    .Attr("dtype: type")
    .Attr("container: string = ''")
    .Attr("shared_name: string = ''")
    .SetIsStateful()
    .SetShapeFn(VariableShape);

REGISTER_OP("Assign")
    .Input("ref: Ref(T)")
    .Input("value: T")
    .Output("output_ref: Ref(T)")
    .Attr("T: type")
    .Attr("validate_shape: bool = true")
    .Attr("use_locking: bool = true")
    .SetIsStateful()
    .SetShapeFn(AssignShape);

REGISTER_OP("IsVariableInitialized")
    .Input("ref: Ref(dtype)")
    .Output("is_initialized: bool")
    .Attr("dtype: type")
    .SetIsStateful()
    .SetShapeFn(shape_fns::ScalarShape);

REGISTER_OP("CountUpTo")
    .Input("ref: Ref(T)")
    .Output("output: T")
    .Attr("limit: int")
    .Attr("T: {int32, int64}")
    .SetIsStateful()
    .SetShapeFn(shape_fns::ScalarShape);

REGISTER_OP("_Send")
    .Input("tensor: T")
    .Attr("T: type")
    .Attr("tensor_name: string")
    .Attr("send_device: string")
    .Attr("send_device_incarnation: int")
    .Attr("recv_device: string")
    .Attr("client_terminated: bool = false")
    .SetIsStateful()
    .SetShapeFn(shape_fns::Unknown);

REGISTER_OP("_Recv")
    .Output("tensor: tensor_type")
    .Attr("tensor_type: type")
    .Attr("tensor_name: string")
    .Attr("send_device: string")
    .Attr("send_device_incarnation: int")
    .Attr("recv_device: string")
    .Attr("client_terminated: bool = false")
    .SetIsStateful()
    .SetShapeFn(shape_fns::Unknown);

// ---------------------------------------------------------------- in-place updates

REGISTER_OP("AssignAdd")
    .Input("ref: Ref(T)")
    .Input("value: T")
    .Output("output_ref: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .SetIsStateful()
    .SetShapeFn(AssignUpdateShape);

REGISTER_OP("AssignSub")
    .Input("ref: Ref(T)")
    .Input("value: T")
    .Output("output_ref: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .SetIsStateful()
    .SetShapeFn(AssignUpdateShape);

REGISTER_OP("ApplyGradientDescent")
    .Input("var: Ref(T)")
    .Input("alpha: T")
    .Input("delta: T")
    .Output("out: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .SetIsStateful()
    .SetShapeFn(ApplyGradientDescentShape);

REGISTER_OP("ApplyMomentum")
    .Input("var: Ref(T)")
    .Input("accum: Ref(T)")
    .Input("lr: T")
    .Input("grad: T")
    .Input("momentum: T")
    .Output("out: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .Attr("use_nesterov: bool = false")
    .SetIsStateful()
    .SetShapeFn(ApplyMomentumShape);

REGISTER_OP("ApplyAdam")
    .Input("var: Ref(T)")
    .Input("m: Ref(T)")
    .Input("v: Ref(T)")
    .Input("beta1_power: T")
    .Input("beta2_power: T")
    .Input("lr: T")
    .Input("beta1: T")
    .Input("beta2: T")
    .Input("epsilon: T")
    .Input("grad: T")
    .Output("out: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .Attr("use_nesterov: bool = false")
    .SetIsStateful()
    .SetShapeFn(ApplyAdamShape);

REGISTER_OP("ApplyAdagrad")
    .Input("var: Ref(T)")
    .Input("accum: Ref(T)")
    .Input("lr: T")
    .Input("grad: T")
    .Output("out: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .Attr("update_slots: bool = true")
    .SetIsStateful()
    .SetShapeFn(ApplyAdagradShape);

REGISTER_OP("ApplyRMSProp")
    .Input("var: Ref(T)")
    .Input("ms: Ref(T)")
    .Input("mom: Ref(T)")
    .Input("lr: T")
    .Input("rho: T")
    .Input("momentum: T")
    .Input("epsilon: T")
    .Input("grad: T")
    .Output("out: Ref(T)")
    .Attr("T: numbertype")
    .Attr("use_locking: bool = false")
    .SetIsStateful()
    .SetShapeFn(ApplyRMSPropShape);

}  // namespace loom
