/* A vendor device "VENDORX" with one op, VendorNegate, built out of tree. */
#include <stdlib.h>
#include <string.h>

#include <loom/loom_plugin.h>

static const loom_host_api* H;

static loom_status* alloc(void* s, int o, size_t n, size_t a, void** out) {
  (void)s; (void)o; (void)a;
  *out = malloc(n ? n : 1);
  return NULL;
}
static void dealloc(void* s, int o, void* p) { (void)s; (void)o; free(p); }

static loom_status* negate(void* st, loom_kernel_context* ctx) {
  (void)st;
  const loom_tensor* x = H->kernel_input(ctx, 0);
  loom_tensor* y = NULL;
  loom_status* s = H->kernel_allocate_output(ctx, 0, H->tensor_dims(x), H->tensor_num_dims(x), &y);
  if (s) return s;
  const float* in = (const float*)H->tensor_data(x);
  float* out = (float*)H->tensor_data(y);
  for (int64_t i = 0; i < H->tensor_num_elements(x); ++i) out[i] = -in[i];
  return NULL;
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  H = host;
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "vendorx";
  info->version = "1.0";
  static loom_device_interface d;
  memset(&d, 0, sizeof(d));
  d.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  d.type = "VENDORX";
  d.count = 1;
  d.memory_is_host = 1;
  d.allocate = alloc;
  d.deallocate = dealloc;
  loom_status* s = host->register_device(&d);
  if (s) return s;
  static const char* in[] = {"x: float"};
  static const char* out[] = {"y: float"};
  loom_op_def op;
  memset(&op, 0, sizeof(op));
  op.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  op.name = "VendorNegate";
  op.inputs = in;
  op.num_inputs = 1;
  op.outputs = out;
  op.num_outputs = 1;
  if ((s = host->register_op(&op))) return s;
  loom_kernel_def k;
  memset(&k, 0, sizeof(k));
  k.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
  k.op_type = "VendorNegate";
  k.device_type = "VENDORX";
  k.compute = negate;
  return host->register_kernel(&k);
}
