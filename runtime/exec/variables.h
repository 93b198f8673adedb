// Variables: device-owned resources that keep a tensor across steps. A
// session owns its variables (TensorFlow 1.x DirectSession semantics).
#ifndef LOOM_RUNTIME_EXEC_VARIABLES_H_
#define LOOM_RUNTIME_EXEC_VARIABLES_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/core/tensor.h"

namespace loom {

struct Variable {
  std::string name;
  DataType dtype = LOOM_DTYPE_INVALID;
  PartialShape shape;
  std::mutex mu;       // guards value replacement (not in-place element updates)
  Tensor value;        // invalid until initialized
  bool initialized() {
    std::lock_guard<std::mutex> l(mu);
    return value.valid();
  }
};

// A resource other than a variable (queues, accumulators: runtime/exec/queue.h),
// shared by name like variables.
class ResourceBase {
 public:
  virtual ~ResourceBase() = default;
  // "FIFOQueue", "ConditionalAccumulator": checked when an op finds a
  // resource of its name made by a different kind of op.
  virtual const char* kind() const = 0;
};

class ResourceMgr {
 public:
  // The resource called `name`; made by create() on first use. An existing
  // resource is returned as it is (the caller checks it matches its attrs).
  Status LookupOrCreate(const std::string& name, const std::function<Status(std::shared_ptr<ResourceBase>*)>& create,
                        std::shared_ptr<ResourceBase>* out) {
    std::lock_guard<std::mutex> l(mu_);
    auto& r = resources_[name];
    if (!r) {
      Status s = create(&r);
      if (!s.ok()) {
        resources_.erase(name);
        return s;
      }
    }
    *out = r;
    return Status::OK();
  }
  std::shared_ptr<ResourceBase> Lookup(const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = resources_.find(name);
    return it == resources_.end() ? nullptr : it->second;
  }

  // The variable called `name`, created on first use.
  Variable* LookupOrCreate(const std::string& name, DataType dtype, const PartialShape& shape) {
    std::lock_guard<std::mutex> l(mu_);
    auto& v = vars_[name];
    if (!v) {
      v = std::make_unique<Variable>();
      v->name = name;
      v->dtype = dtype;
      v->shape = shape;
    }
    return v.get();
  }
  void Clear() {
    std::lock_guard<std::mutex> l(mu_);
    vars_.clear();
    resources_.clear();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Variable>> vars_;
  std::map<std::string, std::shared_ptr<ResourceBase>> resources_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_VARIABLES_H_
