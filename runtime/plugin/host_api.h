// The function table handed to plugins (loom_host_api).
#ifndef LOOM_RUNTIME_PLUGIN_HOST_API_H_
#define LOOM_RUNTIME_PLUGIN_HOST_API_H_

#include "runtime/ops/op_registry.h"
#include "runtime/plugin/registry.h"

namespace loom {

// Registrations made by a plugin during init are staged and committed only if
// init succeeds and every registration was valid: a broken plugin leaves no trace.
struct PendingPlugin {
  PluginRecord* record;
  std::vector<std::unique_ptr<loom_device_interface>> devices;
  std::vector<std::unique_ptr<KernelDef>> kernels;
  std::vector<OpDef> ops;
  std::vector<std::pair<std::string, GradFn>> grads;
  Status first_error;
};

// The plugin whose init is running on this thread (registrations go there).
PendingPlugin* CurrentPendingPlugin();
// A new host table for one plugin (its path filled in); the caller owns it
// and keeps it as long as the plugin may use it (the life of the process).
const loom_host_api* MakeHostApi(const PluginRecord* plugin);

}  // namespace loom

#endif  // LOOM_RUNTIME_PLUGIN_HOST_API_H_
