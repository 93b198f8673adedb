/* loom_transport.h — the Loom transport plugin ABI (v1.0).
 *
 * A transport moves messages between Loom processes: the control RPCs of the
 * distributed runtime (RegisterGraph, RunGraph, ...) and the tensors that
 * cross tasks through Send/Recv. The runtime (the host) owns every protocol
 * decision; a transport only moves opaque messages to addresses, so a new
 * network (RDMA, shared memory, a vendor's fabric) is one small plugin.
 *
 * A transport plugin is a shared library exporting exactly one symbol:
 *
 *   loom_status* loom_transport_init(const loom_transport_host_api* host,
 *                                    loom_transport_info* out_info);
 *
 * init fills out_info (name, version, the ABI it was built for) and calls
 * host->register_transport once per scheme it serves ("zmq"). The plugin links
 * nothing of Loom's; `host` stays valid for the life of the process (plugins
 * are never unloaded). Transport plugins live next to device plugins
 * (<libdir>/loom/plugins, LOOM_PLUGIN_PATH); the loader tells them apart by
 * their entry symbol.
 *
 * Versioning, struct_size and "who fills what" follow loom_plugin.h: every
 * struct starts with `size_t struct_size` and ends with `void* ext`; fields
 * are only ever added before `ext`; LOOM_TRANSPORT_ABI_MAJOR changes only on a
 * break and a plugin of another major is refused with a message naming both
 * versions and the library's path. Every minor bump has a line in
 * capi/CHANGELOG.md.
 *
 * Model. Request/response over addresses, pull-based like TensorFlow's
 * RecvTensor: a receiver that needs a tensor from another task *calls* that
 * task ("give me step S's key K"), and the sender's host answers from its
 * rendezvous once the tensor is there. Pulling means a tensor is sent only to
 * a receiver that is still waiting for it (an aborted step sends nothing) and
 * the sender never needs to know whether the receiver has started the step.
 *
 * Messages. A message is a method number (the host's), a header (bytes the
 * host encodes and decodes; opaque to the transport) and zero or more payload
 * buffers (tensor contents). Buffers travel without copies where the
 * transport can: the sender *lends* each buffer and is told, through its
 * release callback, when the transport no longer needs it; the receiver is
 * handed buffers that it *owns* and releases when done (the host wraps them
 * into tensors without copying).
 *
 * Threads. Every function of loom_transport_interface may be called from any
 * thread at once, except create/destroy. The plugin calls the host's
 * callbacks (request handlers, call completions) from its own threads; they
 * never block and return quickly (the host hands real work to its pool).
 *
 * Failures. A call completes exactly once: with the peer's response, or with
 * UNAVAILABLE when the peer is unreachable or goes away (heartbeat timeout,
 * closed connection), DEADLINE_EXCEEDED when its deadline passes, CANCELLED
 * when the host cancels it. Messages name the peer's address. Nothing a peer
 * sends can make the plugin open a file or load a library it names.
 */
#ifndef LOOM_TRANSPORT_H_
#define LOOM_TRANSPORT_H_

#include "loom/loom_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOOM_TRANSPORT_ABI_MAJOR 1
#define LOOM_TRANSPORT_ABI_MINOR 0

#ifndef LOOM_STRUCT_SIZE
#define LOOM_STRUCT_SIZE(type, last_field) \
  (offsetof(type, last_field) + sizeof(((type*)0)->last_field))
#endif

#ifndef LOOM_PLUGIN_EXPORT
#if defined(_WIN32)
#define LOOM_PLUGIN_EXPORT __declspec(dllexport)
#else
#define LOOM_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif
#endif

/* Opaque plugin objects. */
typedef struct loom_transport loom_transport;             /* one endpoint of one process */
typedef struct loom_transport_peer loom_transport_peer;   /* a connection to one address */
typedef struct loom_transport_call loom_transport_call;   /* an outgoing request in flight */
typedef struct loom_transport_request loom_transport_request; /* an incoming request to answer */

/* A byte range crossing the boundary, with the callback that gives it back.
 * Lent by the host (requests, responses): the plugin calls release(release_arg)
 * exactly once when it no longer reads `data` — possibly before the send
 * function returns, possibly later, on any thread. Handed to the host
 * (received headers and payloads): the host calls release(release_arg)
 * exactly once when done. release may be NULL when nothing needs giving back
 * (data then lives as long as the call that passed it). */
typedef struct loom_transport_buffer {
  const void* data;
  size_t size;
  void (*release)(void* release_arg);
  void* release_arg;
} loom_transport_buffer;

/* One message: what is sent and what arrives. */
typedef struct loom_transport_message {
  size_t struct_size;
  uint32_t method;                      /* the host's method number; 0 in responses */
  loom_transport_buffer header;         /* opaque to the transport */
  const loom_transport_buffer* payloads; /* num_payloads buffers (tensor bytes) */
  int num_payloads;
  void* ext;
} loom_transport_message;
#define LOOM_TRANSPORT_MESSAGE_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_transport_message, ext)

/* A call finished. status: NULL on success (then `response` is the peer's
 * answer) or an error (owned by the host; response NULL). The response's
 * buffers belong to the host from here on (release each exactly once);
 * the message struct itself is valid only during the callback. */
typedef void (*loom_transport_call_done_fn)(void* done_arg, loom_status* status,
                                            const loom_transport_message* response);

/* A request arrived at a listening endpoint. The host answers it, now or
 * later from any thread, with respond(); until then `request` stays valid.
 * The message's buffers belong to the host (release each exactly once).
 * peer_identity (the caller's `identity` option plus what makes it unique to
 * that process's endpoint) and the message struct are borrowed for the
 * callback. Received buffers carry no alignment promise. */
typedef void (*loom_transport_request_fn)(void* handler_arg, loom_transport_request* request,
                                          const char* peer_identity,
                                          const loom_transport_message* message);

/* A key/value setting for create(); both strings borrowed for the call. */
typedef struct loom_transport_option {
  const char* key;
  const char* value;
} loom_transport_option;

/* [plugin] One transport scheme. `state` is passed back to create.
 *
 * Options every transport understands (others are the plugin's own and
 * documented by it; an unknown key is INVALID_ARGUMENT naming it):
 *   identity              this endpoint's name as its peers see it
 *                         ("/job:ps/replica:0/task:0#<incarnation>")
 *   heartbeat_ms          liveness probe interval (0: transport default)
 *   heartbeat_timeout_ms  a silent peer is declared gone after this long
 *   connect_timeout_ms    a peer not reached within this long fails its calls
 *   max_message_bytes     larger incoming messages are refused and counted
 *   secret_key, public_key   this endpoint's key pair (Z85 for zmq's CURVE)
 *   server_key            the public key peers must prove (clients)
 */
typedef struct loom_transport_interface {
  size_t struct_size;
  const char* scheme;   /* (required) "zmq": addresses are "zmq://host:port" */
  void* state;

  /* (required) A new endpoint. It can call peers at once; it receives
   * requests only after listen(). handler is called for each request. */
  loom_status* (*create)(void* state, const loom_transport_option* options, int num_options,
                         loom_transport_request_fn handler, void* handler_arg,
                         loom_transport** out_transport);
  /* (required) Stops the endpoint: pending calls complete with CANCELLED,
   * unanswered requests are dropped, lent buffers are released; no callback
   * runs after it returns. Never call it from one of t's own callbacks. */
  void (*destroy)(loom_transport* t);

  /* (required) Listens on "host:port" (port 0: any free port). Writes the
   * bound address ("127.0.0.1:40123", NUL-terminated) into out_address. */
  loom_status* (*listen)(loom_transport* t, const char* address, char* out_address,
                         size_t out_address_size);

  /* (required) A peer at "host:port". Does not wait for the connection:
   * calls made before it is up are queued, and fail with UNAVAILABLE if it is
   * not up within connect_timeout_ms. The peer is owned by the transport and
   * valid until destroy(); connecting twice to one address returns the same
   * peer. */
  loom_status* (*connect)(loom_transport* t, const char* address,
                          loom_transport_peer** out_peer);

  /* (required) Sends a request. deadline_ms > 0: completes with
   * DEADLINE_EXCEEDED if no response came within that many milliseconds.
   * done is called exactly once (possibly before call() returns, on this
   * thread, if the request cannot be sent). out_call (may be NULL) lets the
   * host cancel(); it stays a valid argument to cancel() until destroy(),
   * so that a cancel racing with the completion is harmless.
   * A non-NULL return means invalid arguments (NULL peer, request or done, a
   * malformed message): done is then never called. Either way the request's
   * lent buffers are released exactly once. */
  loom_status* (*call)(loom_transport* t, loom_transport_peer* peer,
                       const loom_transport_message* request, int64_t deadline_ms,
                       loom_transport_call_done_fn done, void* done_arg,
                       loom_transport_call** out_call);
  /* (required) Completes a call early with CANCELLED (no-op if done has run
   * or is running). */
  void (*cancel)(loom_transport* t, loom_transport_call* call);

  /* (required) Answers a request (consumes it, whatever respond returns).
   * code/message: the status the caller's call completes with (LOOM_CODE_OK:
   * response is delivered; response may be NULL for an empty one). The
   * response's lent buffers are released exactly once in every case. A
   * non-NULL return says the response will not reach the caller as given
   * (an unknown or already answered request; too much already queued). */
  loom_status* (*respond)(loom_transport* t, loom_transport_request* request, loom_code code,
                          const char* error_message, const loom_transport_message* response);

  /* (optional) Counters, for tests and tools: how many incoming messages
   * were refused as malformed/oversized, and bytes moved. */
  void (*stats)(loom_transport* t, int64_t* out_rejected, int64_t* out_bytes_sent,
                int64_t* out_bytes_received);
  /* (optional) A fresh key pair for secure transports ("loom keygen"):
   * NUL-terminated printable strings (zmq: 40 Z85 characters, so buffers of
   * at least 41 bytes). */
  loom_status* (*keygen)(void* state, char* out_public, size_t public_size, char* out_secret,
                         size_t secret_size);
  void* ext;
} loom_transport_interface;
#define LOOM_TRANSPORT_INTERFACE_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_transport_interface, ext)

/* [plugin] What init reports. Strings must have static lifetime. */
typedef struct loom_transport_info {
  size_t struct_size;
  int abi_major; /* LOOM_TRANSPORT_ABI_MAJOR the plugin was built with */
  int abi_minor; /* LOOM_TRANSPORT_ABI_MINOR the plugin was built with */
  const char* name;
  const char* version;
  void* ext;
} loom_transport_info;
#define LOOM_TRANSPORT_INFO_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_transport_info, ext)

/* [host] Everything a transport plugin may call. Valid for the life of the
 * process. log levels are loom_log_level's numbers (0 debug .. 3 error). */
typedef struct loom_transport_host_api {
  size_t struct_size;
  int abi_major, abi_minor;  /* the host's transport ABI */
  const char* plugin_path;   /* this plugin's file; borrowed */
  loom_status* (*status_new)(loom_code code, const char* message);
  void (*status_free)(loom_status* s);
  loom_code (*status_code)(const loom_status* s);
  const char* (*status_message)(const loom_status* s);
  void (*log)(int level, const char* plugin_name, const char* message);
  /* (call during init only) the interface is copied */
  loom_status* (*register_transport)(const loom_transport_interface* transport);
  void* ext;
} loom_transport_host_api;
#define LOOM_TRANSPORT_HOST_API_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_transport_host_api, ext)

/* The one symbol a transport plugin exports. */
typedef loom_status* (*loom_transport_init_fn)(const loom_transport_host_api* host,
                                               loom_transport_info* out_info);
#define LOOM_TRANSPORT_INIT_SYMBOL "loom_transport_init"

#ifdef __cplusplus
}
#endif

#endif /* LOOM_TRANSPORT_H_ */
