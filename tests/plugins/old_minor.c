/* A plugin built against an older, smaller version of the structs: it fills
 * only the fields that version had (struct_size up to 'deallocate' for the
 * device, up to 'compute' for the kernel). The host must accept it, stub the
 * optional device functions, and never read past struct_size. */
#include "test_plugin.h"

/* OldTimesTwo(x: float) -> y: float, on device OLDDEV. */
static float twice(float v) { return 2.0f * v; }
static loom_status* times_two(void* state, loom_kernel_context* ctx) {
  (void)state;
  return test_map_float(ctx, twice);
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  g_host = host;
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = 0;
  info->name = "old_minor";
  info->version = "0.9";
  static loom_device_interface d;
  memset(&d, 0xAB, sizeof(d)); /* garbage past struct_size must be ignored */
  d.struct_size = LOOM_STRUCT_SIZE(loom_device_interface, deallocate);
  d.type = "OLDDEV";
  d.count = 1;
  d.priority = 0;
  d.memory_is_host = 1;
  d.state = NULL;
  d.allocate = test_alloc;
  d.deallocate = test_dealloc;
  loom_status* s = host->register_device(&d);
  if (s) return s;

  static const char* inputs[] = {"x: float"};
  static const char* outputs[] = {"y: float"};
  loom_op_def op;
  memset(&op, 0, sizeof(op));
  op.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  op.name = "OldTimesTwo";
  op.inputs = inputs;
  op.num_inputs = 1;
  op.outputs = outputs;
  op.num_outputs = 1;
  op.shape_fn = test_same_shape;
  s = host->register_op(&op);
  if (s) return s;

  loom_kernel_def k;
  memset(&k, 0xCD, sizeof(k));
  k.struct_size = LOOM_STRUCT_SIZE(loom_kernel_def, compute);
  k.op_type = "OldTimesTwo";
  k.device_type = "OLDDEV";
  k.constraints = NULL;
  k.num_constraints = 0;
  k.host_memory_args = NULL;
  k.num_host_memory_args = 0;
  k.priority = 0;
  k.user_data = NULL;
  k.create = NULL;
  k.compute = times_two;
  return host->register_kernel(&k);
}
