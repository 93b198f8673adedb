/* Claims device type CPU, which the CPU plugin already provides: refused. */
#include <stdlib.h>
#include <string.h>

#include "loom/loom_plugin.h"
#include "test_memory.h"


LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "dup_cpu_device";
  info->version = "0.0.1";
  static loom_device_interface d;
  memset(&d, 0, sizeof(d));
  d.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  d.type = "CPU";
  d.count = 1;
  d.memory_is_host = 1;
  d.allocate = test_alloc;
  d.deallocate = test_dealloc;
  return host->register_device(&d);
}
