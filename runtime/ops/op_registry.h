// The op registry: schemas (OpDef), shape functions and gradient functions,
// process-wide. Standard ops register at static-initialisation time with
// REGISTER_OP; plugins register through the host table (same spec syntax).
#ifndef LOOM_RUNTIME_OPS_OP_REGISTRY_H_
#define LOOM_RUNTIME_OPS_OP_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/graph/graph.h"

namespace loom {

class InferenceContext;
using ShapeFn = std::function<Status(InferenceContext& c)>;

// A gradient function: given the forward node and the gradients of its outputs
// (dy[i].node == nullptr: none reaches output i), writes the gradient of each
// input to (*dx)[j] (left invalid: no gradient). dx arrives sized num_inputs.
using GradFn = std::function<Status(Graph* g, Node* op, const std::vector<Output>& dy,
                                    std::vector<Output>* dx)>;

struct ArgDef {
  std::string name;
  DataType type = LOOM_DTYPE_INVALID;  // fixed dtype, or
  std::string type_attr;               // "T": dtype from this attr
  std::string number_attr;             // "N": a list of N tensors of one dtype
  std::string type_list_attr;          // "Tlist": a list of tensors of these dtypes
  bool is_ref = false;                 // Ref(T): mutable input / aliasing output
};

struct AttrDef {
  std::string name;
  std::string type;          // "int", "float", "bool", "type", "shape", "string",
                             // "tensor", "list(int)", "list(type)", ...
  bool has_default = false;
  AttrValue default_value;
  bool has_allowed = false;  // for "type"/"list(type)": {float, double}
  std::vector<DataType> allowed;
  bool has_minimum = false;  // for "int": ">= 1"; for lists: minimum length
  int64_t minimum = 0;
  // For "string" attrs declared as {'NHWC', 'NCHW'}: the allowed values (empty: any).
  std::vector<std::string> allowed_strings;
};

struct OpDef {
  std::string name;
  std::vector<ArgDef> inputs, outputs;
  std::vector<AttrDef> attrs;
  bool is_stateful = false;
  ShapeFn shape_fn;  // empty: outputs of unknown shape
  const AttrDef* FindAttr(const std::string& name) const;
};

// Fluent builder over TensorFlow's op-definition syntax.
//   REGISTER_OP("MatMul")
//       .Input("a: T").Input("b: T").Output("product: T")
//       .Attr("transpose_a: bool = false").Attr("transpose_b: bool = false")
//       .Attr("T: {float, double, int32, int64}")
//       .SetShapeFn(shape_fns::MatMul);
class OpDefBuilder {
 public:
  explicit OpDefBuilder(std::string name);
  OpDefBuilder& Input(std::string spec);
  OpDefBuilder& Output(std::string spec);
  OpDefBuilder& Attr(std::string spec);
  OpDefBuilder& SetIsStateful();
  OpDefBuilder& SetShapeFn(ShapeFn fn);
  // Parses the specs; INVALID_ARGUMENT naming the op and spec on a syntax error.
  Status Build(OpDef* out) const;

 private:
  std::string name_;
  std::vector<std::string> inputs_, outputs_, attrs_;
  bool stateful_ = false;
  ShapeFn shape_fn_;
};

class OpRegistry {
 public:
  static OpRegistry* Global();
  // ALREADY_EXISTS if an op of that name is registered.
  Status Register(const OpDefBuilder& b);
  Status Register(OpDef def);
  const OpDef* Find(const std::string& name) const;  // nullptr if absent
  std::vector<std::string> ListNames() const;

  // Gradients. A registration with an empty fn marks the op not differentiable.
  void RegisterGradient(const std::string& op, GradFn fn);
  // FOUND: *fn set (maybe empty = not differentiable). NOT_FOUND if none registered.
  Status FindGradient(const std::string& op, GradFn* fn) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<OpDef>> ops_;
  std::map<std::string, GradFn> grads_;
};

struct OpRegistration {
  OpRegistration(const OpDefBuilder& b);  // aborts the process on a bad spec (a bug)
};
struct GradRegistration {
  GradRegistration(const char* op, GradFn fn);
};

}  // namespace loom

#define REGISTER_OP(name) \
  static ::loom::OpRegistration LOOM_CONCAT(loom_op_reg_, __COUNTER__) = ::loom::OpDefBuilder(name)
#define REGISTER_GRADIENT(name, fn) \
  static ::loom::GradRegistration LOOM_CONCAT(loom_grad_reg_, __COUNTER__)(name, fn)
#define REGISTER_NO_GRADIENT(name) \
  static ::loom::GradRegistration LOOM_CONCAT(loom_grad_reg_, __COUNTER__)(name, nullptr)

#endif  // LOOM_RUNTIME_OPS_OP_REGISTRY_H_
