/* Built against the FROZEN v1.0 headers in tests/abi/v1_0 (not capi/include):
 * a plugin as a vendor shipped it at ABI 1.0. Registers op AbiV10Scale
 * (y = x * factor) with a CPU kernel that reads its attr in create, plus a
 * gradient through the host graph API. */
#include <stdlib.h>
#include <string.h>

#include "loom/loom_plugin.h"

LOOM_STATIC_ASSERT(LOOM_PLUGIN_ABI_MAJOR == 1 && LOOM_PLUGIN_ABI_MINOR == 0, "frozen 1.0 header");

static const loom_host_api* g_host;

typedef struct {
  float factor;
} scale_state;

static loom_status* scale_create(void* user, loom_kernel_construction* c, void** out) {
  (void)user;
  scale_state* s = (scale_state*)malloc(sizeof(scale_state));
  if (!s) return g_host->status_new(LOOM_CODE_RESOURCE_EXHAUSTED, "abi_v1_0: out of memory");
  loom_status* st = g_host->attr_float(g_host->construction_attrs(c), "factor", &s->factor);
  if (st) {
    free(s);
    return st;
  }
  *out = s;
  return NULL;
}
static void scale_destroy(void* state) { free(state); }
static loom_status* scale_compute(void* state, loom_kernel_context* ctx) {
  const scale_state* s = (const scale_state*)state;
  const loom_tensor* x = g_host->kernel_input(ctx, 0);
  loom_tensor* y = NULL;
  loom_status* st = g_host->kernel_allocate_output(ctx, 0, g_host->tensor_dims(x), g_host->tensor_num_dims(x), &y);
  if (st) return st;
  const float* in = (const float*)g_host->tensor_data(x);
  float* out = (float*)g_host->tensor_data(y);
  for (int64_t i = 0; i < g_host->tensor_num_elements(x); ++i) out[i] = in[i] * s->factor;
  return NULL;
}
static loom_status* same_shape(void* user, loom_shape_context* c) {
  (void)user;
  int r = g_host->shape_input_rank(c, 0);
  int64_t dims[16];
  for (int i = 0; i < r && i < 16; ++i) dims[i] = g_host->shape_input_dim(c, 0, i);
  return g_host->shape_set_output(c, 0, dims, r);
}
/* d(x*f)/dx = f: the gradient is AbiV10Scale(dy, factor). */
static loom_status* scale_grad(void* user, loom_graph* g, loom_op* op, const loom_output* dy, int nout,
                               loom_output* dx, int nin) {
  (void)user; (void)nout; (void)nin;
  const loom_graph_api* G = g_host->graph;
  float f = 0;
  loom_status* st = G->op_attr_float(op, "factor", &f);
  if (st) return st;
  if (!dy[0].op) return NULL;
  loom_op_builder* b = G->op_builder_new(g, "AbiV10Scale", NULL);
  G->op_builder_add_input(b, dy[0]);
  G->op_builder_set_attr_float(b, "factor", f);
  loom_op* out = NULL;
  st = G->op_builder_finish(b, &out);
  if (st) return st;
  dx[0].op = out;
  dx[0].index = 0;
  return NULL;
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  g_host = host;
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "abi_v1_0";
  info->version = "1.0.0";
  if (host->abi_major != LOOM_PLUGIN_ABI_MAJOR)
    return host->status_new(LOOM_CODE_FAILED_PRECONDITION, "abi_v1_0: built for plugin ABI 1.x");
  static const char* inputs[] = {"x: float"};
  static const char* outputs[] = {"y: float"};
  static const char* attrs[] = {"factor: float = 2.0"};
  loom_op_def op;
  memset(&op, 0, sizeof(op));
  op.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  op.name = "AbiV10Scale";
  op.inputs = inputs;
  op.num_inputs = 1;
  op.outputs = outputs;
  op.num_outputs = 1;
  op.attrs = attrs;
  op.num_attrs = 1;
  op.shape_fn = same_shape;
  loom_status* st = host->register_op(&op);
  if (st) return st;
  loom_kernel_def k;
  memset(&k, 0, sizeof(k));
  k.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
  k.op_type = "AbiV10Scale";
  k.device_type = "CPU";
  k.create = scale_create;
  k.compute = scale_compute;
  k.destroy = scale_destroy;
  st = host->register_kernel(&k);
  if (st) return st;
  return host->register_gradient("AbiV10Scale", scale_grad, NULL);
}
