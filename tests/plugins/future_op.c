/* A plugin built for a newer runtime: besides a working kernel it registers
 * one for an op this runtime does not know. The host answers NOT_FOUND for
 * that kernel only; the plugin ignores it (as a plugin with optional kernels
 * would) and loads. Init fails if the host answered anything else. */
#include "test_plugin.h"

/* Neg for float on FUTUREDEV. */
static float negate(float v) { return -v; }
static loom_status* neg(void* state, loom_kernel_context* ctx) {
  (void)state;
  return test_map_float(ctx, negate);
}

static loom_status* kernel(const char* op) {
  static const loom_type_constraint floats[] = {{"T", LOOM_DTYPE_BIT(LOOM_DTYPE_FLOAT)}};
  loom_kernel_def k;
  memset(&k, 0, sizeof(k));
  k.struct_size = sizeof(k);
  k.op_type = op;
  k.device_type = "FUTUREDEV";
  k.constraints = floats;
  k.num_constraints = 1;
  k.compute = neg;
  return g_host->register_kernel(&k);
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  g_host = host;
  test_describe(info, "future_op", "2.0");
  static loom_device_interface d;
  test_host_device(&d, "FUTUREDEV");
  loom_status* s = host->register_device(&d);
  if (s) return s;
  s = kernel("OpFromTheFuture");
  if (!s) return host->status_new(LOOM_CODE_INTERNAL, "future_op: the host accepted a kernel for an unknown op");
  if (host->status_code(s) != LOOM_CODE_NOT_FOUND) return s;
  host->status_free(s);
  return kernel("Neg");
}
