// The C handles the plugin ABI hands to kernels, defined over executor state.
#ifndef LOOM_RUNTIME_EXEC_KERNEL_CONTEXT_H_
#define LOOM_RUNTIME_EXEC_KERNEL_CONTEXT_H_

#include <memory>
#include <vector>

#include "runtime/plugin/registry.h"

namespace loom {
class ThreadPool;
class InferenceContext;
}  // namespace loom

struct loom_kernel_construction {
  const loom::Node* node;
  const loom::Device* device;
};

struct loom_kernel_context {
  const loom::Node* node = nullptr;
  loom::Device* device = nullptr;
  loom::ThreadPool* pool = nullptr;
  int num_threads = 1;
  uint64_t step_id = 0;
  loom_tensor* inputs = nullptr;   // num_inputs entries (executor slots)
  int num_inputs = 0;
  loom_tensor* outputs = nullptr;  // num_outputs entries, filled by the kernel
  int num_outputs = 0;
  const uint8_t* output_on_host = nullptr;  // per output: 1 = kept in host memory
  std::vector<std::unique_ptr<loom_tensor>> temps;
};

struct loom_shape_context {
  loom::InferenceContext* ctx;
  const loom::Node* node;
};

#endif  // LOOM_RUNTIME_EXEC_KERNEL_CONTEXT_H_
