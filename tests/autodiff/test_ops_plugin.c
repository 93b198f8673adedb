/* A tiny op library for the autodiff tests, built with loom_add_plugin like
 * any out-of-tree op: it registers two ops with CPU kernels and NO gradient,
 * so the tests can register one from application code (loom_register_gradient)
 * and check the error for an op that has none.
 *
 *   TestSquarePlusOne(x: T) -> y: T   y = x * x + 1     T in {float, double}
 *   TestIdentityNoGrad(x: T) -> y: T  y = x             (never differentiable)
 *   TestIdentityBadGrad(x: T) -> y: T y = x             (tests give it broken gradients)
 */
#include "../plugins/test_plugin.h"

/* user_data: 1 for square-plus-one, 0 for identity. */
static loom_status* compute(void* state, loom_kernel_context* ctx) {
  const int square = state != NULL;
  const loom_tensor* x = g_host->kernel_input(ctx, 0);
  loom_tensor* y = NULL;
  loom_status* s = g_host->kernel_allocate_output(ctx, 0, g_host->tensor_dims(x),
                                                  g_host->tensor_num_dims(x), &y);
  if (s) return s;
  const int64_t n = g_host->tensor_num_elements(x);
  if (g_host->tensor_dtype(x) == LOOM_DTYPE_FLOAT) {
    const float* in = (const float*)g_host->tensor_data(x);
    float* out = (float*)g_host->tensor_data(y);
    for (int64_t i = 0; i < n; ++i) out[i] = square ? in[i] * in[i] + 1.0f : in[i];
  } else {
    const double* in = (const double*)g_host->tensor_data(x);
    double* out = (double*)g_host->tensor_data(y);
    for (int64_t i = 0; i < n; ++i) out[i] = square ? in[i] * in[i] + 1.0 : in[i];
  }
  return NULL;
}

static loom_status* register_op(const char* name, int square) {
  static const char* inputs[] = {"x: T"};
  static const char* outputs[] = {"y: T"};
  static const char* attrs[] = {"T: {float, double}"};
  loom_op_def def;
  memset(&def, 0, sizeof def);
  def.struct_size = LOOM_OP_DEF_STRUCT_SIZE;
  def.name = name;
  def.inputs = inputs;
  def.num_inputs = 1;
  def.outputs = outputs;
  def.num_outputs = 1;
  def.attrs = attrs;
  def.num_attrs = 1;
  def.shape_fn = test_same_shape;
  loom_status* s = g_host->register_op(&def);
  if (s) return s;

  static const loom_type_constraint constraint = {
      "T", LOOM_DTYPE_BIT(LOOM_DTYPE_FLOAT) | LOOM_DTYPE_BIT(LOOM_DTYPE_DOUBLE)};
  loom_kernel_def k;
  memset(&k, 0, sizeof k);
  k.struct_size = LOOM_KERNEL_DEF_STRUCT_SIZE;
  k.op_type = name;
  k.device_type = "CPU";
  k.constraints = &constraint;
  k.num_constraints = 1;
  k.user_data = square ? (void*)&g_host : NULL;
  k.compute = compute;
  return g_host->register_kernel(&k);
}

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host,
                                                 loom_plugin_info* out_info) {
  g_host = host;
  test_describe(out_info, "autodiff_test_ops", "1.0");
  loom_status* s = register_op("TestSquarePlusOne", 1);
  if (s) return s;
  s = register_op("TestIdentityNoGrad", 0);
  if (s) return s;
  return register_op("TestIdentityBadGrad", 0);
}
