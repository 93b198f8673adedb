/* Claims device type CPU, which the CPU plugin already provides: refused. */
#include "test_plugin.h"

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  test_describe(info, "dup_cpu_device", "0.0.1");
  static loom_device_interface d;
  test_host_device(&d, "CPU");
  return host->register_device(&d);
}
