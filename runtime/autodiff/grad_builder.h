// GradBuilder: a terse way for gradient functions to add nodes to a graph.
//
// Every method adds one node (or returns a constant) and remembers the first
// error; once an error happened, later calls add nothing and return an invalid
// Output, so a gradient function can chain calls freely and return status() at
// the end. Nodes get automatic names (the graph's name prefix applies).
//
// Shapes: helpers such as ShapeOf and ReduceBroadcastGrad use the statically
// inferred shapes when they are known enough and fall back to run-time shape
// ops (Shape, BroadcastGradientArgs, ...) otherwise, so gradients of graphs with
// an unknown batch dimension work, and fully-known shapes cost no extra ops.
#ifndef LOOM_RUNTIME_AUTODIFF_GRAD_BUILDER_H_
#define LOOM_RUNTIME_AUTODIFF_GRAD_BUILDER_H_

#include <string>
#include <utility>
#include <vector>

#include "runtime/graph/graph.h"
#include "runtime/ops/op_registry.h"

namespace loom {

// One input slot of a node: a single tensor or a list (AddN, ConcatV2, Pack).
struct GradInput {
  GradInput(Output o) : outs{o} {}  // NOLINT: implicit on purpose
  GradInput(std::vector<Output> l) : outs(std::move(l)), is_list(true) {}  // NOLINT
  std::vector<Output> outs;
  bool is_list = false;
};

using GradAttrs = std::vector<std::pair<std::string, AttrValue>>;

// True for the dtypes that carry gradients (float, double, half, bfloat16).
bool IsDifferentiableType(DataType dt);

// Reads a Const node's int32/int64 value (scalar or vector); false otherwise.
bool ConstInts(Output o, std::vector<int64_t>* out);

// The static shape of o (unknown rank if o is invalid).
const PartialShape& StaticShape(Output o);

// The axes of a broadcast result over which input x was broadcast, decided
// from static shapes alone (`others`: the other inputs, or the result's shape).
// *drops_inner_axis: some reduced axis is not a leading one (a size-1 dim of x),
// so a Sum without keep_dims needs a Reshape back to x's shape. False when the
// static shapes do not settle it.
bool StaticBroadcastAxes(const PartialShape& x, const std::vector<PartialShape>& others,
                         std::vector<int64_t>* axes, bool* drops_inner_axis);

class GradBuilder {
 public:
  // `op` is the forward node (used to name errors); may be nullptr.
  GradBuilder(Graph* g, const Node* op = nullptr) : g_(g), op_(op) {}

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  Graph* graph() const { return g_; }

  // Adds a node and returns all its outputs (empty after an error).
  std::vector<Output> OpN(const std::string& type, const std::vector<GradInput>& inputs,
                          const GradAttrs& attrs = {});
  // Adds a node and returns output 0.
  Output Op(const std::string& type, const std::vector<GradInput>& inputs,
            const GradAttrs& attrs = {});

  // ---- constants
  Output Const(const Tensor& t);
  Output Scalar(DataType dt, double v);          // a scalar of dtype dt
  Output ScalarLike(Output x, double v) { return Scalar(DType(x), v); }
  Output Int32s(const std::vector<int64_t>& v);  // 1-D int32
  Output Int32(int64_t v);                       // scalar int32

  // ---- elementwise (numpy broadcasting where the op has it)
  Output Add(Output a, Output b) { return Op("AddV2", {a, b}); }
  Output Sub(Output a, Output b) { return Op("Sub", {a, b}); }
  Output Mul(Output a, Output b) { return Op("Mul", {a, b}); }
  Output Div(Output a, Output b) { return Op("RealDiv", {a, b}); }
  Output Neg(Output a) { return Op("Neg", {a}); }
  Output Square(Output a) { return Op("Square", {a}); }
  Output Reciprocal(Output a) { return Op("Reciprocal", {a}); }
  Output Exp(Output a) { return Op("Exp", {a}); }
  Output Log(Output a) { return Op("Log", {a}); }
  Output Sign(Output a) { return Op("Sign", {a}); }
  Output ZerosLike(Output a) { return Op("ZerosLike", {a}); }
  Output OnesLike(Output a) { return Op("OnesLike", {a}); }
  Output Cast(Output a, DataType to);
  Output Select(Output c, Output t, Output e) { return Op("Select", {c, t, e}); }
  Output AddN(const std::vector<Output>& xs);  // one input passes through

  // ---- shapes
  Output Shape(Output x) { return Op("Shape", {x}); }
  Output Size(Output x) { return Op("Size", {x}); }
  Output Rank(Output x) { return Op("Rank", {x}); }
  // Const of x's shape when fully known, else a Shape op.
  Output ShapeOf(Output x);
  Output Reshape(Output x, Output shape) { return Op("Reshape", {x, shape}); }
  // Reshape(x, shape of `like`), skipped when the static shapes already agree.
  Output ReshapeLike(Output x, Output like);
  Output ExpandDims(Output x, int64_t axis) { return Op("ExpandDims", {x, Int32(axis)}); }
  Output Sum(Output x, Output axes, bool keep_dims = false);
  Output Sum(Output x, const std::vector<int64_t>& axes, bool keep_dims = false) {
    return Sum(x, Int32s(axes), keep_dims);
  }
  Output MatMul(Output a, Output b, bool ta = false, bool tb = false);
  Output Gather(Output params, Output indices, int64_t axis = 0);
  Output Range(Output start, Output limit, Output delta) {
    return Op("Range", {start, limit, delta});
  }

  // ---- gradient helpers
  // Sums the gradient g of a broadcasting op's output back to the shape of its
  // input x; `others` are the op's other broadcast inputs (used for static
  // analysis only). Static shapes decide the axes when they can; otherwise
  // BroadcastGradientArgs(Shape(x), Shape(g)) at run time.
  Output ReduceBroadcastGrad(Output g, Output x, const std::vector<Output>& others);
  // Shape of x with the reduction axes set to 1 (keep_dims shape); uses static
  // information when it can, else Shape/Range/DynamicStitch at run time.
  Output KeptShape(Output x, Output axes);
  // Broadcasts the gradient of a reduction (shape of the reduced output, with
  // or without kept dims) back to x's shape.
  Output BroadcastReductionGrad(Output dy, Output x, Output axes, bool keep_dims);
  // Scatter-adds g (shaped like f(index tensor of x)) into x's shape, where
  // `select` applies the forward indexing op (Slice, StridedSlice, Tile,
  // GatherV2, ...) to a tensor of x's element indices. This is the gradient of
  // any op that only selects or repeats elements of x.
  template <typename F>
  Output ScatterGrad(Output g, Output x, F select) {
    Output shape = ShapeOf(x);
    Output size = Size(x);
    Output idx = Reshape(Range(Int32(0), size, Int32(1)), shape);
    Output picked = select(idx);
    Output flat = Op("UnsortedSegmentSum",
                     {Reshape(g, Int32s({-1})), Reshape(picked, Int32s({-1})), size});
    return Reshape(flat, shape);
  }
  // The dtype of o (INVALID for an invalid output).
  static DataType DType(Output o);

  // Records an error (the first one wins).
  void Fail(Status s) {
    if (status_.ok()) status_ = std::move(s);
  }

 private:
  bool AnyInvalid(const std::vector<GradInput>& inputs);
  Graph* g_;
  const Node* op_;
  Status status_;
};

// ---- registration helpers for elementwise ops

// dx = f(b, x, y, dy) for an op y = op(x); skipped for non-float x.
using UnaryGradBody = Output (*)(GradBuilder& b, Output x, Output y, Output dy);
GradFn UnaryGrad(UnaryGradBody f);

// For z = op(x, y) with numpy broadcasting: f writes the gradients at the
// broadcast shape (an invalid one: none); they are summed back to x's and y's
// shapes. Skipped for non-float inputs.
using BinaryGradBody = void (*)(GradBuilder& b, Output x, Output y, Output z, Output dz,
                                Output* gx, Output* gy);
GradFn BinaryGrad(BinaryGradBody f);

// Shorthand for a gradient function's signature.
#define LOOM_GRAD_ARGS \
  ::loom::Graph *g, ::loom::Node *op, const std::vector<::loom::Output>&dy, \
      std::vector<::loom::Output>*dx

}  // namespace loom

#endif  // LOOM_RUNTIME_AUTODIFF_GRAD_BUILDER_H_
