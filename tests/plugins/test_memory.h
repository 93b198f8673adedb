/* Device memory for the test plugins: plain malloc. The host dereferences it
 * only where the device declares memory_is_host. */
#ifndef LOOM_TESTS_PLUGINS_TEST_MEMORY_H_
#define LOOM_TESTS_PLUGINS_TEST_MEMORY_H_

#include <stdlib.h>

#include "loom/loom_plugin.h"

static loom_status* test_alloc(void* state, int ordinal, size_t n, size_t align, void** out) {
  (void)state; (void)ordinal; (void)align;
  *out = malloc(n ? n : 1);
  return NULL;
}

static void test_dealloc(void* state, int ordinal, void* p) {
  (void)state; (void)ordinal;
  free(p);
}

#endif  /* LOOM_TESTS_PLUGINS_TEST_MEMORY_H_ */
