#include "runtime/exec/intrinsic.h"

#include "runtime/exec/resource_op.h"

namespace loom {

Intrinsic IntrinsicOf(const std::string& type) {
  static const struct { const char* op; Intrinsic kind; } kIntrinsics[] = {
      {"Const", kConst},
      {"Placeholder", kPlaceholder},
      {"PlaceholderWithDefault", kPlaceholderWithDefault},
      {"Identity", kIdentity},
      {"StopGradient", kIdentity},
      {"PreventGradient", kIdentity},
      {"NoOp", kNoOp},
      {"VariableV2", kVariable},
      {"Assign", kAssign},
      {"IsVariableInitialized", kIsVariableInitialized},
      {"CountUpTo", kCountUpTo},
      {"_Send", kSend},
      {"_Recv", kRecv},
  };
  for (const auto& e : kIntrinsics)
    if (type == e.op) return e.kind;
  // Queues and accumulators: resources shared by name, woken by a step's abort
  // (runtime/exec/resource_op.h says why they are not plugin kernels).
  if (IsResourceOp(type)) return kResourceOp;
  return kNotIntrinsic;
}

}  // namespace loom
