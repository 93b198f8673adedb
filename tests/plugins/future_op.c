/* A plugin built for a newer runtime: besides a working kernel it registers
 * one for an op this runtime does not know. The host answers NOT_FOUND for
 * that kernel only; the plugin ignores it (as a plugin with optional kernels
 * would) and loads. Init fails if the host answered anything else. */
#include <stdlib.h>
#include <string.h>

#include "loom/loom_plugin.h"
#include "test_memory.h"

static const loom_host_api* g_host;


/* Neg for float on FUTUREDEV. */
static loom_status* neg(void* state, loom_kernel_context* ctx) {
  (void)state;
  const loom_tensor* x = g_host->kernel_input(ctx, 0);
  loom_tensor* y = NULL;
  loom_status* s = g_host->kernel_allocate_output(ctx, 0, g_host->tensor_dims(x), g_host->tensor_num_dims(x), &y);
  if (s) return s;
  const float* in = (const float*)g_host->tensor_data(x);
  float* out = (float*)g_host->tensor_data(y);
  for (int64_t i = 0; i < g_host->tensor_num_elements(x); ++i) out[i] = -in[i];
  return NULL;
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
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "future_op";
  info->version = "2.0";
  static loom_device_interface d;
  memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  d.type = "FUTUREDEV";
  d.count = 1;
  d.memory_is_host = 1;
  d.allocate = test_alloc;
  d.deallocate = test_dealloc;
  loom_status* s = host->register_device(&d);
  if (s) return s;
  s = kernel("OpFromTheFuture");
  if (!s) return host->status_new(LOOM_CODE_INTERNAL, "future_op: the host accepted a kernel for an unknown op");
  if (host->status_code(s) != LOOM_CODE_NOT_FOUND) return s;
  host->status_free(s);
  return kernel("Neg");
}
