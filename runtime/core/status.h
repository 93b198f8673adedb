// Status: the core's error value. Converted to loom_status only at the C edge.
#ifndef LOOM_RUNTIME_CORE_STATUS_H_
#define LOOM_RUNTIME_CORE_STATUS_H_

#include <sstream>
#include <string>
#include <utility>

#include "loom/loom_base.h"

namespace loom {

class Status {
 public:
  Status() = default;
  Status(loom_code code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  static Status OK() { return Status(); }

  bool ok() const { return code_ == LOOM_CODE_OK; }
  loom_code code() const { return code_; }
  const std::string& message() const { return msg_; }
  std::string ToString() const;

  // Returns a status with `prefix` prepended to the message (same code).
  Status WithPrefix(const std::string& prefix) const {
    return ok() ? *this : Status(code_, prefix + msg_);
  }

 private:
  loom_code code_ = LOOM_CODE_OK;
  std::string msg_;
};

// StrCat-like concatenation of anything streamable.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

template <typename... Args>
Status InvalidArgument(const Args&... a) { return Status(LOOM_CODE_INVALID_ARGUMENT, StrCat(a...)); }
template <typename... Args>
Status NotFound(const Args&... a) { return Status(LOOM_CODE_NOT_FOUND, StrCat(a...)); }
template <typename... Args>
Status AlreadyExists(const Args&... a) { return Status(LOOM_CODE_ALREADY_EXISTS, StrCat(a...)); }
template <typename... Args>
Status FailedPrecondition(const Args&... a) { return Status(LOOM_CODE_FAILED_PRECONDITION, StrCat(a...)); }
template <typename... Args>
Status Unimplemented(const Args&... a) { return Status(LOOM_CODE_UNIMPLEMENTED, StrCat(a...)); }
template <typename... Args>
Status Internal(const Args&... a) { return Status(LOOM_CODE_INTERNAL, StrCat(a...)); }
template <typename... Args>
Status OutOfRange(const Args&... a) { return Status(LOOM_CODE_OUT_OF_RANGE, StrCat(a...)); }
template <typename... Args>
Status ResourceExhausted(const Args&... a) { return Status(LOOM_CODE_RESOURCE_EXHAUSTED, StrCat(a...)); }
template <typename... Args>
Status Unavailable(const Args&... a) { return Status(LOOM_CODE_UNAVAILABLE, StrCat(a...)); }
template <typename... Args>
Status Cancelled(const Args&... a) { return Status(LOOM_CODE_CANCELLED, StrCat(a...)); }
template <typename... Args>
Status Aborted(const Args&... a) { return Status(LOOM_CODE_ABORTED, StrCat(a...)); }
template <typename... Args>
Status DataLoss(const Args&... a) { return Status(LOOM_CODE_DATA_LOSS, StrCat(a...)); }
template <typename... Args>
Status DeadlineExceeded(const Args&... a) { return Status(LOOM_CODE_DEADLINE_EXCEEDED, StrCat(a...)); }

const char* CodeName(loom_code code);

}  // namespace loom

#define LOOM_CONCAT_INNER(a, b) a##b
#define LOOM_CONCAT(a, b) LOOM_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` yields a non-OK Status.
#define RETURN_IF_ERROR(expr)                                          \
  do {                                                                 \
    ::loom::Status LOOM_CONCAT(_st_, __LINE__) = (expr);               \
    if (!LOOM_CONCAT(_st_, __LINE__).ok()) return LOOM_CONCAT(_st_, __LINE__); \
  } while (0)

#endif  // LOOM_RUNTIME_CORE_STATUS_H_
