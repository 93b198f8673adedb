// Definitions shared by the C API's translation units: the session handle,
// the in-flight counter that loom_session_free waits on, and Guard, which
// turns an escaping C++ exception into a status at the boundary.
#ifndef LOOM_CAPI_SRC_C_API_INTERNAL_H_
#define LOOM_CAPI_SRC_C_API_INTERNAL_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <new>

#include "loom/loom.h"
#include "runtime/core/c_status.h"
#include "runtime/session/session.h"

struct loom_session_options {
  loom::SessionOptions o;
};

struct loom_session {
  std::unique_ptr<loom::Session> s;
  // Runs in flight; loom_session_free waits for them.
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
};

namespace loom {

// Counts a run (or save/restore) in flight for the lifetime of the object.
class InFlight {
 public:
  explicit InFlight(loom_session* s) : s_(s) {
    std::lock_guard<std::mutex> l(s_->mu);
    s_->in_flight++;
  }
  ~InFlight() {
    std::lock_guard<std::mutex> l(s_->mu);
    if (--s_->in_flight == 0) s_->cv.notify_all();
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  loom_session* s_;
};

// Runs f, converting std::bad_alloc and other exceptions into a status.
template <typename F>
loom_status* Guard(F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return ToCStatus(ResourceExhausted("out of memory"));
  } catch (const std::exception& e) {
    return ToCStatus(Internal("unexpected exception: ", e.what()));
  }
}

}  // namespace loom

#endif  // LOOM_CAPI_SRC_C_API_INTERNAL_H_
