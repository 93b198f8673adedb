/* Its init reports an error (e.g. no hardware): reported, others still load. */
#include "test_plugin.h"

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  test_describe(info, "init_fails", "0.0.1");
  return host->status_new(LOOM_CODE_UNAVAILABLE, "no accelerator found on this machine");
}
