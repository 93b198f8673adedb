// Variables: device-owned resources that keep a tensor across steps. A
// session owns its variables (TensorFlow 1.x DirectSession semantics).
#ifndef LOOM_RUNTIME_EXEC_VARIABLES_H_
#define LOOM_RUNTIME_EXEC_VARIABLES_H_

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

class ResourceMgr {
 public:
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
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Variable>> vars_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_VARIABLES_H_
