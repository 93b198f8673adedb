// The queue and accumulator ops (runtime/ops/data_flow_ops.cc) as the
// executor runs them. They are core intrinsics rather than plugin kernels
// because they are *resources* shared by name like variables (the core owns
// the ResourceMgr), and because a waiting dequeue must be woken by its step's
// abort (a failure elsewhere, a cancellation, the operation timeout) through
// the step's Rendezvous, which the plugin ABI does not expose. Waiting holds
// no thread: the op completes through a callback, as a _Recv does.
#ifndef LOOM_RUNTIME_EXEC_RESOURCE_OP_H_
#define LOOM_RUNTIME_EXEC_RESOURCE_OP_H_

#include <functional>
#include <memory>
#include <string>

#include "runtime/core/tensor.h"
#include "runtime/exec/rendezvous.h"
#include "runtime/exec/variables.h"
#include "runtime/graph/graph.h"

namespace loom {

// Whether the core executes op type `t` as a queue or accumulator op.
bool IsResourceOp(const std::string& t);

struct ResourceOpContext {
  loom_tensor* inputs = nullptr;     // the node's input slots (input 0 of a consumer: the handle, no value)
  loom_tensor* outputs = nullptr;    // filled by the op
  Rendezvous* rendezvous = nullptr;  // the step's: its abort wakes a waiting op
};

class ResourceOp {
 public:
  virtual ~ResourceOp() = default;
  // For node n (IsResourceOp), resolving its resource's name now; the
  // resource itself is made or found when a step runs.
  static Status Create(const Node* n, ResourceMgr* resources, std::unique_ptr<ResourceOp>* out);
  // Runs the op; done is called exactly once, maybe before Compute returns.
  // ctx stays valid until done is called.
  virtual void Compute(ResourceOpContext* ctx, std::function<void(const Status&)> done) = 0;
  // Whether input i is the handle (it carries no value).
  virtual bool IsHandleInput(int i) const { return i == 0; }
};

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_RESOURCE_OP_H_
