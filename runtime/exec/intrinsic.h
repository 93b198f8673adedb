// Core intrinsics: ops the runtime executes itself on any device instead of
// through a plugin kernel, and how the executor runs each. One table
// (intrinsic.cc) answers the placer, the partitioner and the executor, so
// they cannot disagree about which ops need no kernel.
#ifndef LOOM_RUNTIME_EXEC_INTRINSIC_H_
#define LOOM_RUNTIME_EXEC_INTRINSIC_H_

#include <string>

namespace loom {

enum Intrinsic {
  kNotIntrinsic, kConst, kPlaceholder, kPlaceholderWithDefault, kIdentity, kNoOp, kVariable,
  kAssign, kIsVariableInitialized, kSend, kRecv, kCountUpTo,
  kResourceOp  // queues and accumulators (runtime/exec/resource_op.h)
};

// The intrinsic kind of op type `type`; kNotIntrinsic for ops run by kernels.
Intrinsic IntrinsicOf(const std::string& type);

// Whether the core executes op type `type` itself (IntrinsicOf is not kNotIntrinsic).
inline bool IsIntrinsicOp(const std::string& type) { return IntrinsicOf(type) != kNotIntrinsic; }

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_INTRINSIC_H_
