/* A transport plugin built against the frozen transport ABI v1.0 headers
 * (transport_v1_0/): a scheme "frozen10" whose endpoints echo every call at
 * once, in the caller's thread. The current host must load it and drive it. */
#include <stdlib.h>
#include <string.h>

#include "loom/loom_transport.h"

static const loom_transport_host_api* g_host;

struct loom_transport {
  int calls;
};

static loom_status* Create(void* state, const loom_transport_option* options, int n,
                           loom_transport_request_fn handler, void* handler_arg,
                           loom_transport** out) {
  (void)state; (void)handler; (void)handler_arg;
  for (int i = 0; i < n; ++i) {
    if (strcmp(options[i].key, "identity") != 0) {
      return g_host->status_new(LOOM_CODE_INVALID_ARGUMENT, options[i].key);
    }
  }
  *out = (loom_transport*)calloc(1, sizeof(loom_transport));
  return NULL;
}
static void Destroy(loom_transport* t) { free(t); }
static loom_status* Listen(loom_transport* t, const char* address, char* out, size_t size) {
  (void)t; (void)address; (void)out; (void)size;
  return g_host->status_new(LOOM_CODE_UNIMPLEMENTED, "frozen10 does not listen");
}
static loom_status* Connect(loom_transport* t, const char* address, loom_transport_peer** out) {
  (void)address;
  *out = (loom_transport_peer*)t;
  return NULL;
}
/* Echoes the request: its buffers are handed back as the response's. */
static loom_status* Call(loom_transport* t, loom_transport_peer* peer,
                         const loom_transport_message* request, int64_t deadline_ms,
                         loom_transport_call_done_fn done, void* done_arg,
                         loom_transport_call** out_call) {
  (void)peer; (void)deadline_ms;
  loom_transport_message response = *request;
  response.method = 0;
  t->calls++;
  if (out_call) *out_call = NULL;
  done(done_arg, NULL, &response);
  return NULL;
}
static void Cancel(loom_transport* t, loom_transport_call* call) { (void)t; (void)call; }
static loom_status* Respond(loom_transport* t, loom_transport_request* r, loom_code code,
                            const char* message, const loom_transport_message* response) {
  (void)t; (void)r; (void)code; (void)message; (void)response;
  return g_host->status_new(LOOM_CODE_UNIMPLEMENTED, "frozen10 serves nothing");
}
static void Stats(loom_transport* t, int64_t* rejected, int64_t* sent, int64_t* received) {
  if (rejected) *rejected = t->calls;
  if (sent) *sent = 0;
  if (received) *received = 0;
}
static loom_status* Keygen(void* state, char* pub, size_t pub_size, char* sec, size_t sec_size) {
  (void)state;
  if (pub_size < 7 || sec_size < 7) return g_host->status_new(LOOM_CODE_INVALID_ARGUMENT, "small");
  memcpy(pub, "public", 7);
  memcpy(sec, "secret", 7);
  return NULL;
}

LOOM_PLUGIN_EXPORT loom_status* loom_transport_init(const loom_transport_host_api* host,
                                                    loom_transport_info* info) {
  static const loom_transport_interface iface = {
      /* .struct_size = */ LOOM_TRANSPORT_INTERFACE_STRUCT_SIZE,
      /* .scheme      = */ "frozen10",
      /* .state       = */ NULL,
      /* .create      = */ Create,
      /* .destroy     = */ Destroy,
      /* .listen      = */ Listen,
      /* .connect     = */ Connect,
      /* .call        = */ Call,
      /* .cancel      = */ Cancel,
      /* .respond     = */ Respond,
      /* .stats       = */ Stats,
      /* .keygen      = */ Keygen,
      /* .ext         = */ NULL,
  };
  g_host = host;
  info->struct_size = LOOM_TRANSPORT_INFO_STRUCT_SIZE;
  info->abi_major = LOOM_TRANSPORT_ABI_MAJOR;
  info->abi_minor = LOOM_TRANSPORT_ABI_MINOR;
  info->name = "frozen10";
  info->version = "1.0.0";
  info->ext = NULL;
  return host->register_transport(&iface);
}
