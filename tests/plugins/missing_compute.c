/* Registers a kernel with neither compute nor compute_async: refused by name. */
#include "test_plugin.h"

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  test_describe(info, "missing_compute", "0.0.1");
  loom_kernel_def k;
  memset(&k, 0, sizeof(k));
  k.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
  k.op_type = "NoOp";
  k.device_type = "CPU";
  loom_status* s = host->register_kernel(&k);
  /* A careless plugin ignores the error; the host refuses it anyway. */
  if (s) host->status_free(s);
  return NULL;
}
