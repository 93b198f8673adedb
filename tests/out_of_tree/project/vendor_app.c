/* Loads the out-of-tree plugin and runs its op on its device; exit 0 iff the
 * values are right. Usage: vendor_app <plugin.so> */
#include <stdio.h>

#include <loom/loom.h>

#define CHECK(expr)                                                    \
  do {                                                                 \
    loom_status* s_ = (expr);                                          \
    if (s_) {                                                          \
      fprintf(stderr, "%s: %s\n", #expr, loom_status_message(s_));     \
      return 1;                                                        \
    }                                                                  \
  } while (0)

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  CHECK(loom_plugin_load(argv[1]));
  loom_graph* g = loom_graph_new();
  int64_t dims[] = {3};
  loom_tensor* v = NULL;
  CHECK(loom_tensor_new(LOOM_DTYPE_FLOAT, dims, 1, &v));
  float* p = (float*)loom_tensor_data(v);
  p[0] = 1; p[1] = -2; p[2] = 3;
  loom_op_builder* b = loom_op_builder_new(g, "Const", "c");
  loom_op_builder_set_attr_tensor(b, "value", v);
  loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
  loom_op* c = NULL;
  CHECK(loom_op_builder_finish(b, &c));
  b = loom_op_builder_new(g, "VendorNegate", "neg");
  loom_op_builder_add_input(b, (loom_output){c, 0});
  loom_op_builder_set_device(b, "/device:VENDORX:0");
  loom_op* n = NULL;
  CHECK(loom_op_builder_finish(b, &n));
  loom_session* s = NULL;
  CHECK(loom_session_new(g, NULL, &s));
  loom_output f = {n, 0};
  loom_tensor* out = NULL;
  CHECK(loom_session_run(s, NULL, NULL, 0, &f, 1, NULL, 0, &out));
  const float* r = (const float*)loom_tensor_data(out);
  int ok = r[0] == -1 && r[1] == 2 && r[2] == -3;
  printf("%g %g %g -> %s\n", r[0], r[1], r[2], ok ? "ok" : "WRONG");
  loom_tensor_free(out);
  loom_tensor_free(v);
  loom_session_free(s);
  loom_graph_free(g);
  return ok ? 0 : 1;
}
