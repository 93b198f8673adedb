/* Registers a device with a malformed type name and no deallocate: refused. */
#include "test_plugin.h"

static loom_status* alloc(void* s, int o, size_t n, size_t a, void** out) {
  (void)s; (void)o; (void)n; (void)a; *out = NULL;
  return NULL;
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  test_describe(info, "bad_registration", "0.0.1");
  loom_device_interface d;
  test_host_device(&d, "BROKEN");
  d.allocate = alloc;
  d.deallocate = NULL;
  loom_status* s = host->register_device(&d);
  if (s) host->status_free(s);
  return NULL;
}
