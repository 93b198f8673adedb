/* Registers a device with a malformed type name and no deallocate: refused. */
#include <string.h>

#include "loom/loom_plugin.h"

static loom_status* alloc(void* s, int o, size_t n, size_t a, void** out) {
  (void)s; (void)o; (void)n; (void)a; *out = NULL;
  return NULL;
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "bad_registration";
  info->version = "0.0.1";
  loom_device_interface d;
  memset(&d, 0, sizeof(d));
  d.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  d.type = "BROKEN";
  d.count = 1;
  d.memory_is_host = 1;
  d.allocate = alloc;
  d.deallocate = NULL;
  loom_status* s = host->register_device(&d);
  if (s) host->status_free(s);
  return NULL;
}
