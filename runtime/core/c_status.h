// The C status object and conversions between it and Status.
#ifndef LOOM_RUNTIME_CORE_C_STATUS_H_
#define LOOM_RUNTIME_CORE_C_STATUS_H_

#include <string>

#include "runtime/core/status.h"

struct loom_status {
  loom_code code;
  std::string message;
};

namespace loom {

// NULL for OK; else a new loom_status the caller owns.
inline loom_status* ToCStatus(const Status& s) {
  if (s.ok()) return nullptr;
  return new loom_status{s.code(), s.message()};
}
// Takes ownership of a status a plugin or callback returned.
inline Status TakeStatus(loom_status* s) {
  if (!s) return Status::OK();
  Status out(s->code == LOOM_CODE_OK ? LOOM_CODE_UNKNOWN : s->code, s->message);
  delete s;
  return out;
}

}  // namespace loom

#endif  // LOOM_RUNTIME_CORE_C_STATUS_H_
