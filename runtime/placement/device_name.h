// Device names: "/job:J/replica:R/task:T/device:TYPE:N", any part optional
// ("/device:CPU:0", "CPU:0", "/cpu:0", "/job:ps/task:1", "/gpu:*").
#ifndef LOOM_RUNTIME_PLACEMENT_DEVICE_NAME_H_
#define LOOM_RUNTIME_PLACEMENT_DEVICE_NAME_H_

#include <string>

#include "runtime/core/status.h"

namespace loom {

struct DeviceName {
  bool has_job = false, has_replica = false, has_task = false, has_type = false, has_id = false;
  std::string job;
  int replica = 0, task = 0;
  std::string type;  // upper case: "CPU"
  int id = 0;
  std::string ToString() const;  // the canonical full or partial form
  // True if every part `this` specifies is equal in `o` (o may be more specific).
  bool Matches(const DeviceName& o) const;
};

// INVALID_ARGUMENT naming the string if it is malformed.
Status ParseDeviceName(const std::string& s, DeviceName* out);

}  // namespace loom

#endif  // LOOM_RUNTIME_PLACEMENT_DEVICE_NAME_H_
