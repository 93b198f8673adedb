// Schemas and shape functions of the random ops (TensorFlow's random_ops.cc).
// All are stateful: two nodes with equal inputs must not be merged, and a
// node's value must never be constant-folded. The same nonzero (seed, seed2)
// gives the same numbers in every fresh session; seed = seed2 = 0 means
// nondeterministic (the kernels' promise, recorded here with the schema).
#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

Status RandomShape(InferenceContext& c) {
  RETURN_IF_ERROR(c.WithRank(0, 1));
  std::vector<int64_t> dims;
  if (c.InputAsInts(0, &dims)) {
    for (int64_t d : dims) {
      if (d < 0) {
        return InvalidArgument("shape ", PartialShape(dims).ToString(),
                               " must be non-negative");
      }
    }
  }
  PartialShape out;
  RETURN_IF_ERROR(c.MakeShapeFromInput(0, &out));
  c.set_output(0, std::move(out));
  return Status::OK();
}

}  // namespace

#define LOOM_RANDOM_OP(name)                           \
  REGISTER_OP(name)                                    \
      .Input("shape: T")                               \
      .Output("output: dtype")                         \
      .Attr("seed: int = 0")                           \
      .Attr("seed2: int = 0")                          \
      .Attr("dtype: {half, bfloat16, float, double}")  \
      .Attr("T: {int32, int64}")                       \
      .SetIsStateful()                                 \
      .SetShapeFn(RandomShape)

LOOM_RANDOM_OP("RandomUniform");
LOOM_RANDOM_OP("RandomStandardNormal");
LOOM_RANDOM_OP("TruncatedNormal");

#undef LOOM_RANDOM_OP

}  // namespace loom
