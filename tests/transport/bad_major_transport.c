/* A transport plugin built for transport ABI 2: the host must refuse it with
 * a message naming both versions and this library's path. It registers
 * nothing (a host that checks out_info first never gets that far). */
#include "loom/loom_transport.h"

LOOM_PLUGIN_EXPORT loom_status* loom_transport_init(const loom_transport_host_api* host,
                                                    loom_transport_info* out_info) {
  (void)host;
  out_info->struct_size = LOOM_TRANSPORT_INFO_STRUCT_SIZE;
  out_info->abi_major = 2;
  out_info->abi_minor = 0;
  out_info->name = "bad_major_transport";
  out_info->version = "0.0.1";
  out_info->ext = NULL;
  return NULL;
}
