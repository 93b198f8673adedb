/* An op library: ScaledSoftplus(x) = alpha * log(1 + exp(x)), with its shape
 * function, a CPU kernel and its gradient, all registered from one shared
 * library through loom_plugin.h. Load it with loom_load_op_library(path) (C)
 * or loom.load_op_library(path) (Python); see train_scaled_softplus.py. */
#include <math.h>
#include <string.h>

#include "loom/loom_plugin.h"

static const loom_host_api* H;

static loom_status* create(void* user, loom_kernel_construction* c, void** out) {
  (void)user;
  float alpha = 1.0f;
  loom_status* s = H->attr_float(H->construction_attrs(c), "alpha", &alpha);
  if (s) return s;
  /* Store alpha in the pointer itself: no allocation, nothing to free. */
  union {
    float f;
    uint32_t u;
  } bits;
  bits.f = alpha;
  *out = (void*)(uintptr_t)bits.u;
  return NULL;
}

static float alpha_of(void* state) {
  union {
    float f;
    uint32_t u;
  } bits;
  bits.u = (uint32_t)(uintptr_t)state;
  return bits.f;
}

/* Numerically stable softplus: log1p(exp(-|x|)) + max(x, 0). */
static float softplus(float x) { return log1pf(expf(-fabsf(x))) + (x > 0 ? x : 0); }

static loom_status* compute(void* state, loom_kernel_context* ctx) {
  const float alpha = alpha_of(state);
  const loom_tensor* x = H->kernel_input(ctx, 0);
  loom_tensor* y = NULL;
  int cand = 0;
  loom_status* s = H->kernel_forward_input_or_allocate_output(ctx, &cand, 1, 0, H->tensor_dims(x),
                                                              H->tensor_num_dims(x), &y);
  if (s) return s;
  const float* in = (const float*)H->tensor_data(x);
  float* out = (float*)H->tensor_data(y);
  for (int64_t i = 0; i < H->tensor_num_elements(x); ++i) out[i] = alpha * softplus(in[i]);
  return NULL;
}

static loom_status* same_shape(void* user, loom_shape_context* c) {
  (void)user;
  int r = H->shape_input_rank(c, 0);
  int64_t dims[32];
  if (r > 32) r = -1;
  for (int i = 0; i < r; ++i) dims[i] = H->shape_input_dim(c, 0, i);
  return H->shape_set_output(c, 0, dims, r);
}

static loom_op* build(loom_graph* g, const char* type, loom_output a, loom_output b, loom_status** st) {
  const loom_graph_api* G = H->graph;
  loom_op_builder* bld = G->op_builder_new(g, type, NULL);
  G->op_builder_add_input(bld, a);
  if (b.op) G->op_builder_add_input(bld, b);
  loom_op* op = NULL;
  *st = G->op_builder_finish(bld, &op);
  return op;
}

/* d/dx alpha*softplus(x) = alpha * sigmoid(x): dx = dy * sigmoid(x) * alpha. */
static loom_status* gradient(void* user, loom_graph* g, loom_op* op, const loom_output* dy, int nout,
                             loom_output* dx, int nin) {
  (void)user; (void)nout; (void)nin;
  const loom_graph_api* G = H->graph;
  if (!dy[0].op) return NULL;
  float alpha = 1.0f;
  loom_status* st = G->op_attr_float(op, "alpha", &alpha);
  if (st) return st;
  loom_output x = G->op_input(op, 0);
  loom_op* sig = build(g, "Sigmoid", x, (loom_output){NULL, 0}, &st);
  if (st) return st;
  loom_op* prod = build(g, "Mul", dy[0], (loom_output){sig, 0}, &st);
  if (st) return st;
  loom_tensor* a = NULL;
  if ((st = G->tensor_new(LOOM_DTYPE_FLOAT, NULL, 0, &a))) return st;
  *(float*)H->tensor_data(a) = alpha;
  loom_op_builder* b = G->op_builder_new(g, "Const", NULL);
  G->op_builder_set_attr_tensor(b, "value", a);
  G->op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
  loom_op* c = NULL;
  st = G->op_builder_finish(b, &c);
  G->tensor_free(a);  /* the builder copied it */
  if (st) return st;
  loom_op* scaled = build(g, "Mul", (loom_output){prod, 0}, (loom_output){c, 0}, &st);
  if (st) return st;
  dx[0] = (loom_output){scaled, 0};
  return NULL;
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  H = host;
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "scaled_softplus";
  info->version = "1.0.0";
  if (host->abi_major != LOOM_PLUGIN_ABI_MAJOR)
    return host->status_new(LOOM_CODE_FAILED_PRECONDITION, "scaled_softplus: needs plugin ABI 1.x");
  static const char* inputs[] = {"features: float"};
  static const char* outputs[] = {"activations: float"};
  static const char* attrs[] = {"alpha: float = 1.0"};
  loom_op_def op;
  memset(&op, 0, sizeof(op));
  op.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  op.name = "ScaledSoftplus";
  op.inputs = inputs;
  op.num_inputs = 1;
  op.outputs = outputs;
  op.num_outputs = 1;
  op.attrs = attrs;
  op.num_attrs = 1;
  op.shape_fn = same_shape;
  loom_status* s = host->register_op(&op);
  if (s) return s;
  loom_kernel_def k;
  memset(&k, 0, sizeof(k));
  k.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
  k.op_type = "ScaledSoftplus";
  k.device_type = "CPU";
  k.create = create;
  k.compute = compute;
  if ((s = host->register_kernel(&k))) return s;
  return host->register_gradient("ScaledSoftplus", gradient, NULL);
}
