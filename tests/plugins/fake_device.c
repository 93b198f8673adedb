/* FAKEDEV: a device whose memory is "not host memory" (it is malloc'd, but the
 * runtime may only reach it through the copy functions, which count bytes), with
 * float kernels for AddV2 and Mul, and a host-memory-argument kernel for Reshape.
 * Used to test placement, soft placement and cross-device copies without a GPU.
 * Config: LOOM_PLUGIN_CONFIG_FAKEDEV_PRIORITY sets its priority (default 0). */
#include "test_plugin.h"

/* Bytes copied in each direction, exported for tests through a kernel-free op:
 * tests read them with FakeDevCopyStats. */
static int64_t g_h2d, g_d2h;

static loom_status* h2d(void* s, int o, loom_stream* st, void* dst, const void* src, size_t n) {
  (void)s; (void)o; (void)st;
  memcpy(dst, src, n);
  __atomic_add_fetch(&g_h2d, (int64_t)n, __ATOMIC_RELAXED);
  return NULL;
}
static loom_status* d2h(void* s, int o, loom_stream* st, void* dst, const void* src, size_t n) {
  (void)s; (void)o; (void)st;
  memcpy(dst, src, n);
  __atomic_add_fetch(&g_d2h, (int64_t)n, __ATOMIC_RELAXED);
  return NULL;
}
static loom_status* d2d(void* s, int o, loom_stream* st, void* dst, const void* src, size_t n) {
  (void)s; (void)o; (void)st;
  memmove(dst, src, n);
  return NULL;
}

/* Same-shape binary float ops (no broadcasting: enough for the tests). */
static loom_status* binary(loom_kernel_context* ctx, int mul) {
  const loom_tensor* a = g_host->kernel_input(ctx, 0);
  const loom_tensor* b = g_host->kernel_input(ctx, 1);
  int64_t n = g_host->tensor_num_elements(a);
  if (n != g_host->tensor_num_elements(b))
    return g_host->status_new(LOOM_CODE_INVALID_ARGUMENT, "fakedev: shapes must match");
  loom_tensor* y = NULL;
  loom_status* s = g_host->kernel_allocate_output(ctx, 0, g_host->tensor_dims(a), g_host->tensor_num_dims(a), &y);
  if (s) return s;
  const float* pa = (const float*)g_host->tensor_data(a);
  const float* pb = (const float*)g_host->tensor_data(b);
  float* py = (float*)g_host->tensor_data(y);
  for (int64_t i = 0; i < n; ++i) py[i] = mul ? pa[i] * pb[i] : pa[i] + pb[i];
  return NULL;
}
static loom_status* add(void* st, loom_kernel_context* ctx) { (void)st; return binary(ctx, 0); }
static loom_status* mul(void* st, loom_kernel_context* ctx) { (void)st; return binary(ctx, 1); }

/* Reshape with the shape argument in host memory. */
static loom_status* reshape(void* st, loom_kernel_context* ctx) {
  (void)st;
  const loom_tensor* shape = g_host->kernel_input(ctx, 1);
  int64_t dims[8];
  int n = (int)g_host->tensor_num_elements(shape);
  if (n > 8) return g_host->status_new(LOOM_CODE_INVALID_ARGUMENT, "fakedev: rank > 8");
  const int32_t* p = (const int32_t*)g_host->tensor_data(shape); /* host memory: readable */
  for (int i = 0; i < n; ++i) dims[i] = p[i];
  return g_host->kernel_forward_input(ctx, 0, 0, dims, n);
}

/* FakeDevCopyStats() -> (h2d: int64, d2h: int64), run on the host. */
static loom_status* stats(void* st, loom_kernel_context* ctx) {
  (void)st;
  loom_tensor* t = NULL;
  loom_status* s = g_host->kernel_allocate_output(ctx, 0, NULL, 0, &t);
  if (s) return s;
  *(int64_t*)g_host->tensor_data(t) = __atomic_load_n(&g_h2d, __ATOMIC_RELAXED);
  s = g_host->kernel_allocate_output(ctx, 1, NULL, 0, &t);
  if (s) return s;
  *(int64_t*)g_host->tensor_data(t) = __atomic_load_n(&g_d2h, __ATOMIC_RELAXED);
  return NULL;
}

static loom_status* scalar_outputs(void* user, loom_shape_context* c) {
  (void)user;
  loom_status* s = g_host->shape_set_output(c, 0, NULL, 0);
  return s ? s : g_host->shape_set_output(c, 1, NULL, 0);
}

static loom_status* reg_kernel(const char* op, const char* dev, loom_status* (*fn)(void*, loom_kernel_context*),
                               const char* host_arg, int with_t) {
  static const loom_type_constraint floats[] = {{"T", LOOM_DTYPE_BIT(LOOM_DTYPE_FLOAT)}};
  loom_kernel_def k;
  memset(&k, 0, sizeof(k));
  k.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
  k.op_type = op;
  k.device_type = dev;
  if (with_t) {
    k.constraints = floats;
    k.num_constraints = 1;
  }
  const char* args[1] = {host_arg};
  if (host_arg) {
    k.host_memory_args = args;
    k.num_host_memory_args = 1;
  }
  k.compute = fn;
  return g_host->register_kernel(&k);
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  g_host = host;
  test_describe(info, "fakedev", "0.0.1");
  if (host->abi_major != LOOM_PLUGIN_ABI_MAJOR)
    return host->status_new(LOOM_CODE_FAILED_PRECONDITION, "fakedev: host ABI major differs");
  static loom_device_interface d;
  memset(&d, 0, sizeof(d));
  d.struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  d.type = "FAKEDEV";
  d.count = 2;
  const char* prio = host->config_get("FAKEDEV", "PRIORITY");
  d.priority = prio ? atoi(prio) : 0;
  d.memory_is_host = 0;
  d.allocate = test_alloc;
  d.deallocate = test_dealloc;
  d.memcpy_host_to_device = h2d;
  d.memcpy_device_to_host = d2h;
  d.memcpy_device_to_device = d2d;
  loom_status* s = host->register_device(&d);
  if (s) return s;

  static const char* outputs[] = {"h2d: int64", "d2h: int64"};
  loom_op_def op;
  memset(&op, 0, sizeof(op));
  op.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  op.name = "FakeDevCopyStats";
  op.outputs = outputs;
  op.num_outputs = 2;
  op.is_stateful = 1;
  op.shape_fn = scalar_outputs;
  if ((s = host->register_op(&op))) return s;
  if ((s = reg_kernel("AddV2", "FAKEDEV", add, NULL, 1))) return s;
  if ((s = reg_kernel("Mul", "FAKEDEV", mul, NULL, 1))) return s;
  if ((s = reg_kernel("Reshape", "FAKEDEV", reshape, "shape", 1))) return s;
  if ((s = reg_kernel("FakeDevCopyStats", "CPU", stats, NULL, 0))) return s;
  return NULL;
}
