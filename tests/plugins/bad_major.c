/* A plugin built for a future ABI major: must be refused with both versions. */
#include "loom/loom_plugin.h"

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  (void)host;
  info->abi_major = 99;
  info->abi_minor = 3;
  info->name = "bad_major";
  info->version = "0.0.1";
  return NULL;
}
