// The device half of conformance: a plugin's devices driven directly through
// their loom_device_interface — allocate, copies in every direction, many live
// buffers, memory statistics, streams and events when offered — with values
// checked byte for byte. No test framework and no libloom: a minimal host
// (this file's) loads the plugin, exactly as any host would, so what is
// checked is the plugin's side of the ABI. Used by tests/conformance's
// device_interface_test and by the installed `loom-conformance`.
#ifndef LOOM_TOOLS_CONFORMANCE_DEVICE_CHECKS_H_
#define LOOM_TOOLS_CONFORMANCE_DEVICE_CHECKS_H_

#include <string>
#include <vector>

#include "loom/loom_plugin.h"

namespace conformance {

struct PluginDevice {
  std::string plugin;           // the library's path
  loom_device_interface iface;  // as registered (a plugin's strings are static)
};

// dlopens the plugin at `path` and runs its init with the minimal host; the
// devices it registers are appended to *out. "" or why it could not be loaded
// (a plugin whose init fails contributes no devices).
std::string LoadPluginDevices(const std::string& path, std::vector<PluginDevice>* out);

// One check of one device (ordinal) of an interface: "" passes, a message
// starting with "SKIP: " is a skip (e.g. no streams), anything else a failure.
struct DeviceCheck {
  const char* name;
  std::string (*run)(const loom_device_interface& d, int ordinal);
};
const std::vector<DeviceCheck>& DeviceChecks();

}  // namespace conformance

#endif  // LOOM_TOOLS_CONFORMANCE_DEVICE_CHECKS_H_
