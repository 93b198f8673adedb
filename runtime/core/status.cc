#include "runtime/core/status.h"

namespace loom {

const char* CodeName(loom_code code) {
  switch (code) {
    case LOOM_CODE_OK: return "OK";
    case LOOM_CODE_CANCELLED: return "CANCELLED";
    case LOOM_CODE_UNKNOWN: return "UNKNOWN";
    case LOOM_CODE_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case LOOM_CODE_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case LOOM_CODE_NOT_FOUND: return "NOT_FOUND";
    case LOOM_CODE_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case LOOM_CODE_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case LOOM_CODE_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case LOOM_CODE_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case LOOM_CODE_ABORTED: return "ABORTED";
    case LOOM_CODE_OUT_OF_RANGE: return "OUT_OF_RANGE";
    case LOOM_CODE_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case LOOM_CODE_INTERNAL: return "INTERNAL";
    case LOOM_CODE_UNAVAILABLE: return "UNAVAILABLE";
    case LOOM_CODE_DATA_LOSS: return "DATA_LOSS";
    case LOOM_CODE_UNAUTHENTICATED: return "UNAUTHENTICATED";
  }
  return "UNKNOWN_CODE";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + msg_;
}

}  // namespace loom
