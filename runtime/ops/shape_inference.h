// InferenceContext: what a shape function sees of one node being added, and
// common shape functions. Errors from a shape function are prefixed by the
// caller with the op's type and name, so functions need only say what is wrong
// ("Dimensions must be equal, but are 3 and 4 for inputs of shapes [2,3] and [4,5]").
#ifndef LOOM_RUNTIME_OPS_SHAPE_INFERENCE_H_
#define LOOM_RUNTIME_OPS_SHAPE_INFERENCE_H_

#include <string>
#include <vector>

#include "runtime/ops/op_registry.h"

namespace loom {

class InferenceContext {
 public:
  InferenceContext(const Node* node_being_built, const AttrMap* attrs,
                   std::vector<PartialShape> input_shapes,
                   std::vector<const Tensor*> input_values, std::vector<DataType> input_types,
                   int num_outputs);

  const AttrMap& attrs() const { return *attrs_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const PartialShape& input(int i) const { return inputs_[i]; }
  DataType input_dtype(int i) const { return input_types_[i]; }
  // The value of input i when it is a constant (a Const op); nullptr otherwise.
  const Tensor* input_tensor(int i) const { return input_values_[i]; }
  void set_output(int i, PartialShape s) { outputs_[i] = std::move(s); }
  const PartialShape& output(int i) const { return outputs_[i]; }
  const std::vector<PartialShape>& outputs() const { return outputs_; }

  // Reads a 1-D int32/int64 constant input as a partial shape: known entries
  // where the value is known (-1 entries stay unknown). If input i is not a
  // constant, the result has rank = its length when that is known, else unknown.
  Status MakeShapeFromInput(int i, PartialShape* out) const;
  // Reads a constant int32/int64 scalar or vector input; false if not constant.
  bool InputAsInts(int i, std::vector<int64_t>* out) const;

  // Fails unless input i has rank r (unknown rank passes).
  Status WithRank(int i, int r) const;
  Status WithRankAtLeast(int i, int r) const;
  Status WithRankAtMost(int i, int r) const;

  // Attribute getters for shape functions. NodeBuilder has already checked
  // attr kinds and filled defaults; these return `default_value` when the attr
  // is absent (a context built by hand in a test) or of another kind.
  int64_t GetIntAttr(const std::string& name, int64_t default_value) const;
  bool GetBoolAttr(const std::string& name, bool default_value) const;
  std::string GetStringAttr(const std::string& name, const std::string& default_value) const;
  std::vector<int64_t> GetIntListAttr(const std::string& name) const;  // absent: empty

 private:
  const Node* node_;  // may be nullptr; its inputs (when set) let MakeShapeFromInput
                      // see through Shape and Pack producers
  const AttrMap* attrs_;
  std::vector<PartialShape> inputs_;
  std::vector<const Tensor*> input_values_;
  std::vector<DataType> input_types_;
  std::vector<PartialShape> outputs_;
};

// Shape helpers shared by many ops.
namespace shape_fns {
// The largest rank a shape function produces (TensorFlow's limit). A length
// or value read from the graph that implies a larger rank is an error (when
// constant) or gives an unknown shape, never a giant allocation.
constexpr int kMaxRank = 254;
// UnknownOfRank(rank) for 0 <= rank <= kMaxRank; unknown rank otherwise.
PartialShape UnknownOfRankOrUnknown(int64_t rank);
Status Unknown(InferenceContext& c);            // every output unknown
Status UnchangedShape(InferenceContext& c);     // output 0 = input 0
Status ScalarShape(InferenceContext& c);        // output 0 = []
// numpy broadcasting of input 0 and 1 into output 0.
Status BroadcastBinaryOp(InferenceContext& c);
Status BroadcastShapes(const PartialShape& a, const PartialShape& b, PartialShape* out);
// Reductions with inputs (input, reduction_indices) and attr keep_dims.
Status Reduction(InferenceContext& c);
// Output 0 = the merge of inputs 0 and 1 (ReluGrad, SigmoidGrad, ...).
Status MergeBothInputs(InferenceContext& c);
// Output 0 = the merge of every input (AddN).
Status MergeAllInputs(InferenceContext& c);
// Output 0 = input 0, which must have rank >= `rank` (Softmax: 1).
ShapeFn UnchangedShapeWithRankAtLeast(int rank);
// Maps `axis` in [-rank, rank) to [0, rank); INVALID_ARGUMENT naming `what` otherwise.
Status CanonicalAxis(int64_t axis, int rank, const char* what, int64_t* out);
// Merges a and b with a message naming both shapes and the inputs they came from.
Status MergeNamed(const PartialShape& a, const char* a_name, const PartialShape& b,
                  const char* b_name, PartialShape* out);
}  // namespace shape_fns

}  // namespace loom

#endif  // LOOM_RUNTIME_OPS_SHAPE_INFERENCE_H_
