/* What the C fixture plugins share: device memory (plain malloc), the plugin
 * description, a host-memory device, an element-wise float kernel body and a
 * same-shape shape function.
 *
 * The fixtures stay in C on purpose: loom_plugin.h is a C ABI and these
 * plugins prove a plain C plugin loads (and is refused with the right words);
 * the C++ plugin kit (loom/plugin/kit.hpp) is a convenience over it, not a
 * requirement. Each fixture still writes by hand the one thing it tests. */
#ifndef LOOM_TESTS_PLUGINS_TEST_PLUGIN_H_
#define LOOM_TESTS_PLUGINS_TEST_PLUGIN_H_

#include <stdlib.h>
#include <string.h>

#include "loom/loom_plugin.h"

/* The host's table, set by the fixture's init (only those that call back). */
static const loom_host_api* g_host;

/* Device memory for the test plugins. The host dereferences it only where the
 * device declares memory_is_host. */
static inline loom_status* test_alloc(void* state, int ordinal, size_t n, size_t align, void** out) {
  (void)state; (void)ordinal; (void)align;
  *out = malloc(n ? n : 1);
  return NULL;
}

static inline void test_dealloc(void* state, int ordinal, void* p) {
  (void)state; (void)ordinal;
  free(p);
}

/* Describes a plugin built against the current header. */
static inline void test_describe(loom_plugin_info* info, const char* name, const char* version) {
  info->struct_size = LOOM_PLUGIN_INFO_STRUCT_SIZE;
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = name;
  info->version = version;
  info->ext = NULL;
}

/* One device of `type` whose memory is host memory (malloc). */
static inline void test_host_device(loom_device_interface* d, const char* type) {
  memset(d, 0, sizeof(*d));
  d->struct_size = LOOM_DEVICE_INTERFACE_STRUCT_SIZE;
  d->type = type;
  d->count = 1;
  d->memory_is_host = 1;
  d->allocate = test_alloc;
  d->deallocate = test_dealloc;
}

/* y = f(x) element-wise for a float x in host-readable memory. */
static inline loom_status* test_map_float(loom_kernel_context* ctx, float (*f)(float)) {
  const loom_tensor* x = g_host->kernel_input(ctx, 0);
  loom_tensor* y = NULL;
  loom_status* s = g_host->kernel_allocate_output(ctx, 0, g_host->tensor_dims(x),
                                                  g_host->tensor_num_dims(x), &y);
  if (s) return s;
  const float* in = (const float*)g_host->tensor_data(x);
  float* out = (float*)g_host->tensor_data(y);
  for (int64_t i = 0; i < g_host->tensor_num_elements(x); ++i) out[i] = f(in[i]);
  return NULL;
}

/* Shape function: output 0 has input 0's shape (unknown rank stays unknown). */
static inline loom_status* test_same_shape(void* user, loom_shape_context* c) {
  (void)user;
  int rank = g_host->shape_input_rank(c, 0);
  if (rank < 0) return g_host->shape_set_output(c, 0, NULL, -1);
  int64_t dims[16];
  if (rank > 16) return g_host->status_new(LOOM_CODE_INVALID_ARGUMENT, "rank above 16");
  for (int i = 0; i < rank; ++i) dims[i] = g_host->shape_input_dim(c, 0, i);
  return g_host->shape_set_output(c, 0, dims, rank);
}

#endif  /* LOOM_TESTS_PLUGINS_TEST_PLUGIN_H_ */
