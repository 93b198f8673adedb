/* Its init reports an error (e.g. no hardware): reported, others still load. */
#include "loom/loom_plugin.h"

LOOM_PLUGIN_EXPORT loom_status* loom_plugin_init(const loom_host_api* host, loom_plugin_info* info) {
  info->abi_major = LOOM_PLUGIN_ABI_MAJOR;
  info->abi_minor = LOOM_PLUGIN_ABI_MINOR;
  info->name = "init_fails";
  info->version = "0.0.1";
  return host->status_new(LOOM_CODE_UNAVAILABLE, "no accelerator found on this machine");
}
