// Schemas of the queue and conditional-accumulator ops (TensorFlow's
// data_flow_ops.cc: same names, attrs and defaults). The core executes them
// (runtime/exec/resource_op.cc): they are resources shared by name, and a
// waiting dequeue must be woken by its step's abort.
//
// Handles. TensorFlow's V1 ops pass a Ref(string) handle and the V2 ops a
// `resource`. Loom has neither string tensors nor a resource dtype, so both
// spellings take `handle: Ref(string)`: a ref edge, which the placer keeps on
// the queue's device (as it keeps an Assign with its variable), so a handle
// never crosses a partition. The handle carries no value; a consumer finds
// its queue through the op that produced the handle (its shared_name, else
// its name), as variables are found. GraphDefs do not record argument types,
// so TensorFlow's graphs with these ops import unchanged and ours export to it.
#include "runtime/ops/shape_inference.h"

namespace loom {
namespace {

Status HandleShape(InferenceContext& c) {
  c.set_output(0, PartialShape{2});  // TensorFlow's Ref(string) handle is a 2-vector
  return Status::OK();
}

}  // namespace

#define LOOM_QUEUE_OPS(suffix)                                                        \
  REGISTER_OP("FIFOQueue" suffix)                                                    \
      .Output("handle: Ref(string)")                                                 \
      .Attr("component_types: list(type) >= 1")                                      \
      .Attr("shapes: list(shape) >= 0 = []")                                         \
      .Attr("capacity: int = -1")                                                    \
      .Attr("container: string = ''")                                                \
      .Attr("shared_name: string = ''")                                              \
      .SetIsStateful()                                                               \
      .SetShapeFn(HandleShape);                                                      \
  REGISTER_OP("PaddingFIFOQueue" suffix)                                             \
      .Output("handle: Ref(string)")                                                 \
      .Attr("component_types: list(type) >= 1")                                      \
      .Attr("shapes: list(shape) >= 0 = []")                                         \
      .Attr("capacity: int = -1")                                                    \
      .Attr("container: string = ''")                                                \
      .Attr("shared_name: string = ''")                                              \
      .SetIsStateful()                                                               \
      .SetShapeFn(HandleShape);                                                      \
  REGISTER_OP("RandomShuffleQueue" suffix)                                           \
      .Output("handle: Ref(string)")                                                 \
      .Attr("component_types: list(type) >= 1")                                      \
      .Attr("shapes: list(shape) >= 0 = []")                                         \
      .Attr("capacity: int = -1")                                                    \
      .Attr("min_after_dequeue: int = 0")                                            \
      .Attr("seed: int = 0")                                                         \
      .Attr("seed2: int = 0")                                                        \
      .Attr("container: string = ''")                                                \
      .Attr("shared_name: string = ''")                                              \
      .SetIsStateful()                                                               \
      .SetShapeFn(HandleShape);                                                      \
  REGISTER_OP("QueueEnqueue" suffix)                                                 \
      .Input("handle: Ref(string)")                                                  \
      .Input("components: Tcomponents")                                              \
      .Attr("Tcomponents: list(type) >= 1")                                          \
      .Attr("timeout_ms: int = -1")                                                  \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::Unknown);                                               \
  REGISTER_OP("QueueEnqueueMany" suffix)                                             \
      .Input("handle: Ref(string)")                                                  \
      .Input("components: Tcomponents")                                              \
      .Attr("Tcomponents: list(type) >= 1")                                          \
      .Attr("timeout_ms: int = -1")                                                  \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::Unknown);                                               \
  REGISTER_OP("QueueDequeue" suffix)                                                 \
      .Input("handle: Ref(string)")                                                  \
      .Output("components: component_types")                                         \
      .Attr("component_types: list(type) >= 1")                                      \
      .Attr("timeout_ms: int = -1")                                                  \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::Unknown);                                               \
  REGISTER_OP("QueueDequeueMany" suffix)                                             \
      .Input("handle: Ref(string)")                                                  \
      .Input("n: int32")                                                             \
      .Output("components: component_types")                                         \
      .Attr("component_types: list(type) >= 1")                                      \
      .Attr("timeout_ms: int = -1")                                                  \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::Unknown);                                               \
  REGISTER_OP("QueueDequeueUpTo" suffix)                                             \
      .Input("handle: Ref(string)")                                                  \
      .Input("n: int32")                                                             \
      .Output("components: component_types")                                         \
      .Attr("component_types: list(type) >= 1")                                      \
      .Attr("timeout_ms: int = -1")                                                  \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::Unknown);                                               \
  REGISTER_OP("QueueClose" suffix)                                                   \
      .Input("handle: Ref(string)")                                                  \
      .Attr("cancel_pending_enqueues: bool = false")                                 \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::Unknown);                                               \
  REGISTER_OP("QueueIsClosed" suffix)                                                \
      .Input("handle: Ref(string)")                                                  \
      .Output("is_closed: bool")                                                     \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::ScalarShape);                                           \
  REGISTER_OP("QueueSize" suffix)                                                    \
      .Input("handle: Ref(string)")                                                  \
      .Output("size: int32")                                                         \
      .SetIsStateful()                                                               \
      .SetShapeFn(shape_fns::ScalarShape)

LOOM_QUEUE_OPS("");
LOOM_QUEUE_OPS("V2");

#undef LOOM_QUEUE_OPS

REGISTER_OP("ConditionalAccumulator")
    .Output("handle: Ref(string)")
    .Attr("dtype: {float, double}")
    .Attr("shape: shape")
    .Attr("container: string = ''")
    .Attr("shared_name: string = ''")
    .Attr("reduction_type: {'MEAN', 'SUM'} = 'MEAN'")
    .SetIsStateful()
    .SetShapeFn(HandleShape);

REGISTER_OP("AccumulatorApplyGradient")
    .Input("handle: Ref(string)")
    .Input("local_step: int64")
    .Input("gradient: dtype")
    .Attr("dtype: {float, double}")
    .SetIsStateful()
    .SetShapeFn(shape_fns::Unknown);

REGISTER_OP("AccumulatorTakeGradient")
    .Input("handle: Ref(string)")
    .Input("num_required: int32")
    .Output("average: dtype")
    .Attr("dtype: {float, double}")
    .SetIsStateful()
    .SetShapeFn(shape_fns::Unknown);

REGISTER_OP("AccumulatorNumAccumulated")
    .Input("handle: Ref(string)")
    .Output("num_accumulated: int32")
    .SetIsStateful()
    .SetShapeFn(shape_fns::ScalarShape);

REGISTER_OP("AccumulatorSetGlobalStep")
    .Input("handle: Ref(string)")
    .Input("new_global_step: int64")
    .SetIsStateful()
    .SetShapeFn(shape_fns::Unknown);

}  // namespace loom
