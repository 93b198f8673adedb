// The process-wide registries that plugins fill: devices and kernels. Ops and
// gradients live in runtime/ops/op_registry.h. Plugins are loaded once and
// never unloaded, so pointers into these registries stay valid.
#ifndef LOOM_RUNTIME_PLUGIN_REGISTRY_H_
#define LOOM_RUNTIME_PLUGIN_REGISTRY_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "loom/loom_plugin.h"
#include "loom/loom_transport.h"
#include "runtime/graph/graph.h"

namespace loom {

struct PluginRecord;

// One device instance: (type, ordinal) of a plugin's device interface.
struct Device {
  std::string name;  // "/device:CPU:0"
  std::string type;  // "CPU"
  int ordinal = 0;
  int priority = 0;
  bool memory_is_host = false;
  const loom_device_interface* iface = nullptr;  // full-size copy, optional slots stubbed
  const PluginRecord* plugin = nullptr;
  std::atomic<int64_t> bytes_in_use{0};

  // Allocates `bytes` of this device's memory as a Buffer freed by the device.
  Status Allocate(size_t bytes, std::shared_ptr<Buffer>* out);
  // Copies between buffers of this device, or host<->device (synchronous).
  Status CopyHostToDevice(void* dst, const void* src, size_t bytes);
  Status CopyDeviceToHost(void* dst, const void* src, size_t bytes);
  Status CopyDeviceToDevice(void* dst, const void* src, size_t bytes);
};

// Copies `src` (host memory, or any device's memory) into fresh memory of
// `dst` (nullptr: host memory). Used where an edge crosses device memories.
Status CopyTensor(const Tensor& src, Device* dst, Tensor* out);

struct KernelDef {
  std::string op_type, device_type;
  std::vector<std::pair<std::string, uint64_t>> constraints;
  std::vector<std::string> host_memory_args;
  int priority = 0;
  void* user_data = nullptr;
  loom_status* (*create)(void*, loom_kernel_construction*, void**) = nullptr;
  loom_status* (*compute)(void*, loom_kernel_context*) = nullptr;
  void (*compute_async)(void*, loom_kernel_context*, loom_kernel_done_fn, void*) = nullptr;
  void (*destroy)(void*) = nullptr;
  const PluginRecord* plugin = nullptr;
  // True if the node's type attrs satisfy every constraint.
  bool Matches(const AttrMap& attrs) const;
};

struct PluginRecord {
  std::string path, name, version, error;
  int abi_major = 0, abi_minor = 0;
  bool loaded = false;
  // The table handed to the plugin: it may keep it for the life of the
  // process, even when refused (its library is never unloaded).
  std::shared_ptr<const loom_host_api> host;
  std::shared_ptr<const loom_transport_host_api> transport_host;  // transport plugins
};

// A transport plugin's interface (runtime/dist uses it by scheme).
struct TransportDef {
  loom_transport_interface iface;  // full-size copy; optional slots NULL
  const PluginRecord* plugin = nullptr;
};

class Registry {
 public:
  // The registry, with plugins from <libdir>/loom/plugins and $LOOM_PLUGIN_PATH
  // loaded on first call.
  static Registry* Get();

  // Devices in priority order (highest first); stable pointers.
  std::vector<Device*> devices() const;
  Device* FindDevice(const std::string& type, int ordinal) const;
  // Best kernel for a node on a device type; nullptr if none matches.
  const KernelDef* FindKernel(const std::string& op_type, const std::string& device_type,
                              const AttrMap& attrs) const;
  // Device types with any kernel for op_type.
  std::vector<std::string> KernelDeviceTypes(const std::string& op_type) const;
  // Every kernel registered for op_type (for error messages).
  std::vector<const KernelDef*> KernelsFor(const std::string& op_type) const;
  // Every kernel, in registration order (stable pointers).
  std::vector<const KernelDef*> AllKernels() const;

  // Loads one plugin (see loom_plugin_load). A second load of a path is a no-op.
  Status LoadPlugin(const std::string& path);
  std::vector<PluginRecord> plugins() const;

  // The transport for a scheme ("zmq"); nullptr if no loaded plugin serves it.
  const TransportDef* FindTransport(const std::string& scheme) const;
  std::vector<std::string> TransportSchemes() const;

 private:
  friend struct PluginLoadScope;
  Registry() = default;
  void DiscoverPlugins();
  // The rest of LoadPlugin for a library exporting loom_transport_init
  // (runtime/plugin/transport_host.cc).
  Status LoadTransportPlugin(loom_transport_init_fn init, PluginRecord* rec);
  mutable std::recursive_mutex mu_;
  bool discovering_ = false;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<std::unique_ptr<loom_device_interface>> device_ifaces_;
  std::vector<std::unique_ptr<KernelDef>> kernels_;
  std::vector<std::unique_ptr<PluginRecord>> plugins_;
  std::vector<std::unique_ptr<TransportDef>> transports_;
};

// FAILED_PRECONDITION for a plugin of another ABI major, naming both
// versions, the library and the header to rebuild against.
Status AbiMismatch(const char* kind, const char* abi, const PluginRecord& rec, int host_major, int host_minor,
                   const char* header);

}  // namespace loom

#endif  // LOOM_RUNTIME_PLUGIN_REGISTRY_H_
