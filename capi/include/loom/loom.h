/* loom.h — the Loom C API for applications and language bindings.
 *
 * Conventions
 * -----------
 *  - Every fallible function returns loom_status*. NULL means OK. A non-NULL
 *    status belongs to the caller, who releases it with loom_status_free.
 *    On failure, out_* parameters are left untouched.
 *  - Handles are opaque. A function named *_new returns an object the caller
 *    owns and releases with the matching *_free. Every *_free accepts NULL.
 *  - "Borrowed" pointers stay valid as long as the object they came from.
 *    loom_op* pointers stay valid as long as their graph.
 *  - Thread safety: graphs may be read from several threads but must not be
 *    modified concurrently with anything else; sessions, tensors (read-only)
 *    and the global registries are thread-safe unless a function says not.
 *  - Ints used as booleans are 0 or 1. Shapes are int64_t arrays; -1 is an
 *    unknown dimension and a num_dims of -1 an unknown rank.
 *  - Data types use TensorFlow's DataType numbers (loom_base.h).
 */
#ifndef LOOM_H_
#define LOOM_H_

#include "loom/loom_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LOOM_API __declspec(dllimport)
#else
#define LOOM_API __attribute__((visibility("default")))
#endif

/* The version of this API. Bumped on every addition (minor) or break (major). */
#define LOOM_API_VERSION_MAJOR 1
#define LOOM_API_VERSION_MINOR 3
#define LOOM_API_VERSION "1.3"

/* The library's version string, e.g. "0.1.0 (api 1.0, plugin abi 1.0)".
 * Static storage; never NULL. */
LOOM_API const char* loom_version(void);

/* ---------------------------------------------------------------- status */

/* Creates a status (for callbacks that must report errors to Loom, such as a
 * gradient function written in a binding's language). code OK gives NULL.
 * msg is copied; NULL is read as "". */
LOOM_API loom_status* loom_status_new(loom_code code, const char* msg);
LOOM_API loom_code loom_status_code(const loom_status* status);  /* NULL: OK */
/* Borrowed; "" for NULL. */
LOOM_API const char* loom_status_message(const loom_status* status);
LOOM_API void loom_status_free(loom_status* status);
/* The canonical name of a code ("INVALID_ARGUMENT"); static storage. */
LOOM_API const char* loom_code_name(loom_code code);

/* ---------------------------------------------------------------- dtypes */

/* Bytes per element (0 for STRING or an unknown dtype). */
LOOM_API size_t loom_dtype_size(loom_dtype dtype);
/* "float", "int32", ... as TensorFlow spells them; "invalid" if unknown. */
LOOM_API const char* loom_dtype_name(loom_dtype dtype);

/* ---------------------------------------------------------------- tensors */

/* Allocates a dense host tensor, zero-filled. num_dims may be 0 (a scalar).
 * Fails with INVALID_ARGUMENT for a negative dimension, an unsupported dtype
 * (STRING) or a byte size that overflows. */
LOOM_API loom_status* loom_tensor_new(loom_dtype dtype, const int64_t* dims,
                                      int num_dims, loom_tensor** out_tensor);

/* Deallocator for a caller-provided buffer: called once, when the last
 * reference to the buffer goes away, from any thread. */
typedef void (*loom_deallocator)(void* data, size_t byte_size, void* arg);

/* Wraps a caller buffer without copying. byte_size must equal the product of
 * dims times the dtype size; data must be 64-byte aligned for best speed (any
 * alignment of the element size is accepted). dealloc may be NULL (the caller
 * then keeps the buffer alive for as long as any tensor uses it — note that
 * fetched results may alias fed buffers). */
LOOM_API loom_status* loom_tensor_new_from_data(loom_dtype dtype, const int64_t* dims,
                                                int num_dims, void* data, size_t byte_size,
                                                loom_deallocator dealloc, void* dealloc_arg,
                                                loom_tensor** out_tensor);
LOOM_API void loom_tensor_free(loom_tensor* tensor);
LOOM_API loom_dtype loom_tensor_dtype(const loom_tensor* tensor);
LOOM_API int loom_tensor_num_dims(const loom_tensor* tensor);
/* Dimension i, 0 <= i < num_dims; -1 if out of range. */
LOOM_API int64_t loom_tensor_dim(const loom_tensor* tensor, int i);
LOOM_API int64_t loom_tensor_num_elements(const loom_tensor* tensor);
LOOM_API size_t loom_tensor_byte_size(const loom_tensor* tensor);
/* Borrowed pointer to the elements (row-major); NULL for an empty tensor may
 * occur. Writing through it is allowed only for tensors the caller created
 * and has not yet fed to a session. */
LOOM_API void* loom_tensor_data(const loom_tensor* tensor);

/* ---------------------------------------------------------------- graphs */

LOOM_API loom_graph* loom_graph_new(void);
/* Frees the graph and all its ops. Sessions over the graph must be freed first. */
LOOM_API void loom_graph_free(loom_graph* graph);

/* Starts an op. name may be NULL: a unique name "<Type>" or "<Type>_<n>" is
 * chosen. The builder is consumed by loom_op_builder_finish or
 * loom_op_builder_abandon, exactly one of which must be called. Errors of the
 * adders are kept and returned by finish. Not thread-safe w.r.t. the graph. */
LOOM_API loom_op_builder* loom_op_builder_new(loom_graph* graph, const char* op_type,
                                              const char* name);
LOOM_API void loom_op_builder_add_input(loom_op_builder* b, loom_output input);
LOOM_API void loom_op_builder_add_input_list(loom_op_builder* b, const loom_output* inputs,
                                             int num_inputs);
LOOM_API void loom_op_builder_add_control_input(loom_op_builder* b, loom_op* op);
/* Requested device, full or partial: "/job:J/replica:R/task:T/device:TYPE:N",
 * "/device:CPU:0", "CPU:0", "" (no request). Copied. */
LOOM_API void loom_op_builder_set_device(loom_op_builder* b, const char* device);
LOOM_API void loom_op_builder_set_attr_int(loom_op_builder* b, const char* name, int64_t v);
LOOM_API void loom_op_builder_set_attr_float(loom_op_builder* b, const char* name, float v);
LOOM_API void loom_op_builder_set_attr_bool(loom_op_builder* b, const char* name, int v);
LOOM_API void loom_op_builder_set_attr_type(loom_op_builder* b, const char* name, loom_dtype v);
/* num_dims -1: unknown rank; a dim of -1: unknown size. */
LOOM_API void loom_op_builder_set_attr_shape(loom_op_builder* b, const char* name,
                                             const int64_t* dims, int num_dims);
LOOM_API void loom_op_builder_set_attr_string(loom_op_builder* b, const char* name,
                                              const void* value, size_t length);
/* The tensor is copied (host tensors only). */
LOOM_API void loom_op_builder_set_attr_tensor(loom_op_builder* b, const char* name,
                                              const loom_tensor* value);
LOOM_API void loom_op_builder_set_attr_int_list(loom_op_builder* b, const char* name,
                                                const int64_t* values, int num_values);
LOOM_API void loom_op_builder_set_attr_float_list(loom_op_builder* b, const char* name,
                                                  const float* values, int num_values);
LOOM_API void loom_op_builder_set_attr_bool_list(loom_op_builder* b, const char* name,
                                                 const int* values, int num_values);
LOOM_API void loom_op_builder_set_attr_type_list(loom_op_builder* b, const char* name,
                                                 const loom_dtype* values, int num_values);
/* dims holds the shapes back to back; num_dims[i] is the rank of shape i. */
LOOM_API void loom_op_builder_set_attr_shape_list(loom_op_builder* b, const char* name,
                                                  const int64_t* const* dims,
                                                  const int* num_dims, int num_shapes);
LOOM_API void loom_op_builder_set_attr_string_list(loom_op_builder* b, const char* name,
                                                   const void* const* values,
                                                   const size_t* lengths, int num_values);
LOOM_API void loom_op_builder_set_attr_tensor_list(loom_op_builder* b, const char* name,
                                                   const loom_tensor* const* values,
                                                   int num_values);
/* Validates against the op's schema (inputs, dtypes, attrs, defaults), runs
 * shape inference and adds the op. Errors (unknown op, wrong input count or
 * dtype, missing or ill-typed attr, incompatible shapes, duplicate name) name
 * the op and what was expected. Consumes b in every case. */
LOOM_API loom_status* loom_op_builder_finish(loom_op_builder* b, loom_op** out_op);
LOOM_API void loom_op_builder_abandon(loom_op_builder* b);

/* Borrowed; NULL if absent. */
LOOM_API loom_op* loom_graph_op_by_name(const loom_graph* graph, const char* name);
LOOM_API int loom_graph_num_ops(const loom_graph* graph);
/* Ops in creation order (0 <= i < num_ops); NULL if out of range. */
LOOM_API loom_op* loom_graph_op_at(const loom_graph* graph, int i);

LOOM_API const char* loom_op_name(const loom_op* op);    /* borrowed */
LOOM_API const char* loom_op_type(const loom_op* op);    /* borrowed */
LOOM_API const char* loom_op_device(const loom_op* op);  /* requested; borrowed */
LOOM_API int loom_op_num_inputs(const loom_op* op);
LOOM_API loom_output loom_op_input(const loom_op* op, int i);
LOOM_API int loom_op_num_control_inputs(const loom_op* op);
LOOM_API loom_op* loom_op_control_input(const loom_op* op, int i);
LOOM_API int loom_op_num_outputs(const loom_op* op);
LOOM_API loom_dtype loom_op_output_dtype(const loom_op* op, int i);
/* Number of ops that consume output.index of output.op. */
LOOM_API int loom_output_num_consumers(loom_output output);

/* The inferred shape of an output. Writes up to max_dims dims and the rank
 * (-1: unknown) to *out_num_dims. */
LOOM_API loom_status* loom_graph_output_shape(const loom_graph* graph, loom_output output,
                                              int64_t* dims, int max_dims, int* out_num_dims);

/* Attribute getters, for gradient functions and tools. NOT_FOUND if the op
 * has no such attr, INVALID_ARGUMENT if it has another kind. */
LOOM_API loom_status* loom_op_attr_int(const loom_op* op, const char* name, int64_t* out);
LOOM_API loom_status* loom_op_attr_float(const loom_op* op, const char* name, float* out);
LOOM_API loom_status* loom_op_attr_bool(const loom_op* op, const char* name, int* out);
LOOM_API loom_status* loom_op_attr_type(const loom_op* op, const char* name, loom_dtype* out);
/* Writes up to max_values values; *out_num is the full count. */
LOOM_API loom_status* loom_op_attr_int_list(const loom_op* op, const char* name,
                                            int64_t* values, int max_values, int* out_num);
LOOM_API loom_status* loom_op_attr_shape(const loom_op* op, const char* name, int64_t* dims,
                                         int max_dims, int* out_num_dims);
/* *out_value is borrowed from the op. */
LOOM_API loom_status* loom_op_attr_string(const loom_op* op, const char* name,
                                          const char** out_value, size_t* out_length);
/* A new tensor owned by the caller. */
LOOM_API loom_status* loom_op_attr_tensor(const loom_op* op, const char* name,
                                          loom_tensor** out);

/* ---------------------------------------------------------------- gradients */

/* A gradient function. Given a forward op and the gradients flowing into its
 * outputs (grad_outputs[i].op == NULL: no gradient reaches output i, treat it as
 * zero), it adds ops to graph and writes the gradient of each input to
 * out_grad_inputs[j] (leave .op NULL for "no gradient": an integer input, or an
 * input it is not differentiable in). Names of the ops it creates are prefixed
 * automatically; pass NULL names. Returns NULL or an error. */
typedef loom_status* (*loom_gradient_fn)(void* user_data, loom_graph* graph, loom_op* op,
                                         const loom_output* grad_outputs, int num_outputs,
                                         loom_output* out_grad_inputs, int num_inputs);

/* Registers fn as the gradient of op_type for every graph in the process,
 * replacing an earlier registration (so a binding may override built-ins).
 * fn NULL declares op_type not differentiable: its inputs receive no gradient.
 * user_data is kept until the process exits. Thread-safe. */
LOOM_API loom_status* loom_register_gradient(const char* op_type, loom_gradient_fn fn,
                                             void* user_data);

/* Adds to graph the ops that compute d(sum of ys)/d(xs), TensorFlow's
 * tf.gradients: dys (NULL or num_ys entries, an entry with op NULL meaning
 * OnesLike(y)) seed the ys; contributions are summed with AddN; ops not on a
 * path from xs to ys are not visited. out_dxs (num_xs entries) receives the
 * gradients; an x that the ys do not depend on gets {NULL, 0}. prefix names
 * the ops ("gradients" if NULL), made unique in the graph. Fails with
 * NOT_FOUND "no gradient for op X (type T) needed by ..." when a needed op has
 * no gradient function. */
LOOM_API loom_status* loom_graph_add_gradients(loom_graph* graph, const char* prefix,
                                               const loom_output* ys, int num_ys,
                                               const loom_output* xs, int num_xs,
                                               const loom_output* dys, loom_output* out_dxs);

/* ---------------------------------------------------------------- sessions */

typedef struct loom_session_options loom_session_options;
typedef struct loom_session loom_session;
typedef struct loom_callable loom_callable;

LOOM_API loom_session_options* loom_session_options_new(void);
LOOM_API void loom_session_options_free(loom_session_options* options);
/* Threads running independent ops (0: choose; 1: run every op in the caller). */
LOOM_API void loom_session_options_set_inter_op_threads(loom_session_options* o, int n);
/* Threads a kernel may split its work over (0: choose = number of cores). */
LOOM_API void loom_session_options_set_intra_op_threads(loom_session_options* o, int n);
/* Default device for ops without a request (e.g. "/device:CPU:0"); copied. */
LOOM_API void loom_session_options_set_default_device(loom_session_options* o,
                                                      const char* device);
/* Place an op on CPU when its requested device has no kernel for it. */
LOOM_API void loom_session_options_set_allow_soft_placement(loom_session_options* o, int v);
/* Print each op's device to stderr when a step is prepared (once per feeds/
 * fetches/targets signature), as "name: (Type): /job:localhost/replica:0/
 * task:0/device:CPU:0", and how a step spanning devices was partitioned.
 * Since API 1.1. */
LOOM_API void loom_session_options_set_log_device_placement(loom_session_options* o, int v);

/* Creates a session over graph (borrowed; must outlive the session). The graph
 * may keep growing after the session exists. options may be NULL. */
LOOM_API loom_status* loom_session_new(loom_graph* graph, const loom_session_options* options,
                                       loom_session** out_session);

/* Runs the graph: feeds replace the named outputs with the given tensors
 * (borrowed; they may be shared zero-copy with the results), fetches are
 * computed and returned as new tensors in out_values[num_fetches] (owned by the
 * caller), targets are ops run for their effects. Thread-safe: several threads
 * may run one session at once. Errors name the op that failed. */
LOOM_API loom_status* loom_session_run(loom_session* session, const loom_output* feeds,
                                       loom_tensor* const* feed_values, int num_feeds,
                                       const loom_output* fetches, int num_fetches,
                                       loom_op* const* targets, int num_targets,
                                       loom_tensor** out_values);

/* Prepares a fixed (feeds, fetches, targets) signature once, for hot loops. */
LOOM_API loom_status* loom_session_make_callable(loom_session* session,
                                                 const loom_output* feeds, int num_feeds,
                                                 const loom_output* fetches, int num_fetches,
                                                 loom_op* const* targets, int num_targets,
                                                 loom_callable** out_callable);
/* feed_values[num_feeds] borrowed; out_values[num_fetches] owned by the caller. */
LOOM_API loom_status* loom_callable_run(loom_callable* callable,
                                        loom_tensor* const* feed_values,
                                        loom_tensor** out_values);
/* Per-run options (API 1.2). The caller sets struct_size = sizeof(loom_run_options). */
typedef struct loom_run_options {
  size_t struct_size;
  /* The step must finish within this many milliseconds, else it is aborted
   * with DEADLINE_EXCEEDED (0: no bound; a session's operation timeout still
   * applies). Honoured by steps over a cluster, whose ops can wait on other
   * processes. */
  int64_t timeout_ms;
} loom_run_options;
/* loom_callable_run with options (NULL: none). */
LOOM_API loom_status* loom_callable_run_with_options(loom_callable* callable, const loom_run_options* options,
                                                     loom_tensor* const* feed_values, loom_tensor** out_values);
/* Callables must be freed before their session. */
LOOM_API void loom_callable_free(loom_callable* callable);

/* Releases variables and cached executors. Waits for runs in flight. */
LOOM_API void loom_session_free(loom_session* session);

/* Whether value, a tensor returned by loom_session_run or loom_callable_run,
 * shares its memory with anything else: a variable (which later steps update
 * in place), a constant of the graph, a fed tensor still alive, or another
 * returned tensor. 0: the handle is the memory's only owner, so a binding may
 * hand loom_tensor_data to its caller without copying; 1: copy it first. The
 * answer holds from the call until the handle is freed only when it is 0; ask
 * before freeing the feeds. NULL gives 0. Thread-safe. Since API 1.3. */
LOOM_API int loom_session_fetch_is_shared(const loom_tensor* value);

/* ---------------------------------------------------------------- clusters (API 1.2)
 *
 * A cluster is a set of jobs ("ps", "worker") of tasks, each a server process
 * listening on host:port (docs/distributed.md). A session whose target is any
 * server of the cluster ("zmq://host:port"; TensorFlow's "grpc://host:port"
 * is accepted) is the cluster's master: it places ops over every task's
 * devices ("/job:ps/replica:0/task:0/device:CPU:0"; ops naming no job go to
 * the target's task), partitions the graph by task and device, and runs each
 * step on all of them. Variables on a server are shared by every session that
 * names them. A task that dies fails the step with UNAVAILABLE naming it; the
 * session stays usable. */

/* The server to run steps on (copied); "" (default): this process only. */
LOOM_API void loom_session_options_set_target(loom_session_options* o, const char* target);
/* Every step over a cluster must finish within ms milliseconds, else it is
 * aborted on every task with DEADLINE_EXCEEDED (0: no bound). */
LOOM_API void loom_session_options_set_operation_timeout(loom_session_options* o, int64_t ms);
/* A transport option (loom_transport.h: "server_key", "public_key",
 * "secret_key", "heartbeat_ms", ...), copied. */
LOOM_API void loom_session_options_set_transport_option(loom_session_options* o, const char* key,
                                                        const char* value);

typedef struct loom_server_options loom_server_options;
typedef struct loom_server loom_server;

LOOM_API loom_server_options* loom_server_options_new(void);
LOOM_API void loom_server_options_free(loom_server_options* o);
/* The cluster as JSON: {"ps": ["host:2222"], "worker": ["host:2223", ...]}
 * (or {"worker": {"1": "host:2224"}}). INVALID_ARGUMENT naming the offset. */
LOOM_API loom_status* loom_server_options_set_cluster(loom_server_options* o, const char* cluster_json);
/* Which task of the cluster this server is (copied). */
LOOM_API void loom_server_options_set_task(loom_server_options* o, const char* job, int task_index);
/* Cluster and task from TensorFlow's TF_CONFIG JSON ({"cluster": {...},
 * "task": {"type": "worker", "index": 0}}). */
LOOM_API loom_status* loom_server_options_set_tf_config(loom_server_options* o, const char* tf_config_json);
/* The transport scheme ("zmq"); NULL, "" or "grpc": the default. */
LOOM_API void loom_server_options_set_protocol(loom_server_options* o, const char* protocol);
/* A transport option (see loom_session_options_set_transport_option). */
LOOM_API void loom_server_options_set_transport_option(loom_server_options* o, const char* key,
                                                       const char* value);
/* 1: listen on a non-loopback address without CURVE keys (refused otherwise). */
LOOM_API void loom_server_options_set_insecure(loom_server_options* o, int v);
/* 1: SIGTERM and SIGINT stop the server (for `loom serve`). */
LOOM_API void loom_server_options_set_handle_signals(loom_server_options* o, int v);
/* Threads running this server's steps (0: number of cores). */
LOOM_API void loom_server_options_set_threads(loom_server_options* o, int n);

/* Creates a server (not yet listening). Fails if the task is not in the
 * cluster, no transport plugin serves the protocol, or a non-loopback
 * address has no keys and insecure is not set. */
LOOM_API loom_status* loom_server_new(const loom_server_options* o, loom_server** out_server);
/* Listens and serves (a second call is a no-op). Thread-safe. */
LOOM_API loom_status* loom_server_start(loom_server* s);
/* Stops serving; idempotent; any thread. */
LOOM_API void loom_server_stop(loom_server* s);
/* Blocks until the server is stopped (by loom_server_stop or a signal). */
LOOM_API void loom_server_join(loom_server* s);
/* "zmq://127.0.0.1:2222" once started ("" before); borrowed, valid while s lives. */
LOOM_API const char* loom_server_target(const loom_server* s);
/* Stops, waits for running steps to end, frees. NULL is allowed. */
LOOM_API void loom_server_free(loom_server* s);

/* A fresh key pair for a secure transport (zmq: CURVE, Z85 text of 40
 * characters each), written NUL-terminated into the caller's buffers. */
LOOM_API loom_status* loom_transport_keygen(const char* scheme, char* out_public, size_t public_size,
                                            char* out_secret, size_t secret_size);

/* ---------------------------------------------------------------- devices, plugins */

/* Devices of all loaded plugins, in priority order. Loading the plugins found in
 * <libdir>/loom/plugins and $LOOM_PLUGIN_PATH happens on first use of any of
 * these functions, of loom_graph_new or of loom_session_new. */
LOOM_API int loom_device_count(void);
/* "/device:CPU:0"; borrowed, static lifetime. NULL if out of range. */
LOOM_API const char* loom_device_name(int i);
LOOM_API const char* loom_device_type(int i);

/* Loads a device or op plugin (the same thing: a shared library with
 * loom_plugin_init). Fails, naming the path, if it cannot be opened, was built
 * for another ABI major, lacks a required function, or its init fails; the
 * process keeps running and earlier plugins stay loaded. Loading the same path
 * twice is a no-op. */
LOOM_API loom_status* loom_plugin_load(const char* path);
/* Op libraries are plugins that register only ops, kernels and gradients. */
LOOM_API loom_status* loom_load_op_library(const char* path);

/* Every plugin seen, loaded or refused, in the order seen. */
LOOM_API int loom_plugin_count(void);
typedef struct loom_plugin_record {
  size_t struct_size;
  const char* path;          /* borrowed, static lifetime */
  const char* name;          /* "" if refused before init */
  const char* version;       /* the plugin's own version string */
  int abi_major, abi_minor;  /* the ABI it was built for (0 if unknown) */
  int loaded;                /* 1 loaded; 0 refused */
  const char* error;         /* why it was refused; "" if loaded */
} loom_plugin_record;
/* Fills *out (out->struct_size must be set by the caller). */
LOOM_API loom_status* loom_plugin_get(int i, loom_plugin_record* out);

/* Registered ops, sorted by name. Borrowed, static lifetime. */
LOOM_API int loom_op_type_count(void);
LOOM_API const char* loom_op_type_at(int i);
/* Device types with a kernel for op_type, comma-separated ("CPU,OPENCL"); owned
 * by the caller, released with loom_string_free. */
LOOM_API char* loom_op_type_kernel_devices(const char* op_type);
LOOM_API void loom_string_free(char* s);

/* ---------------------------------------------------------------- GraphDef */

/* GraphDefs are TensorFlow's graph format (wire-compatible: the same field
 * numbers and enum values), so graphs move between Loom and TensorFlow tools
 * for the ops the two share. */
typedef enum loom_graphdef_format {
  LOOM_GRAPHDEF_BINARY = 0, /* binary protobuf (.pb) */
  LOOM_GRAPHDEF_TEXT = 1    /* protobuf text format (.pbtxt) */
} loom_graphdef_format;

/* Serialises every op of graph (creation order, every attr) as a GraphDef in
 * format (a loom_graphdef_format). *out_data is allocated by Loom, owned by the
 * caller and released with loom_string_free; it is NUL-terminated (the NUL is
 * not counted in *out_len), though binary data may itself contain NULs.
 * Fails with INVALID_ARGUMENT for NULL arguments or an unknown format. Reads
 * graph: not concurrently with its modification. */
LOOM_API loom_status* loom_graph_to_graphdef(const loom_graph* graph, int format, char** out_data,
                                             size_t* out_len);

/* Options of loom_graph_import_graphdef; owned by the caller. Strings are
 * copied. Not thread-safe (one thread builds one options object). */
typedef struct loom_import_options loom_import_options;
LOOM_API loom_import_options* loom_import_options_new(void);
LOOM_API void loom_import_options_free(loom_import_options* options);
/* A loom_graphdef_format; default LOOM_GRAPHDEF_BINARY. */
LOOM_API void loom_import_options_set_format(loom_import_options* options, int format);
/* Prepended as "prefix/" to every imported op's name; NULL or "": none. */
LOOM_API void loom_import_options_set_prefix(loom_import_options* options, const char* prefix);
/* Device for imported ops that request none; NULL or "": none. */
LOOM_API void loom_import_options_set_default_device(loom_import_options* options, const char* device);
/* 1: ignore the GraphDef's device requests (default 0). */
LOOM_API void loom_import_options_set_clear_devices(loom_import_options* options, int clear);
/* Replaces the GraphDef's tensor "src_name:src_index" (a name of the GraphDef,
 * before prefixing), wherever an imported op consumes it, with dst, an output
 * that already exists in the target graph (borrowed; it must stay alive until
 * the import). Importing fails if src_name is no op of the GraphDef. */
LOOM_API void loom_import_options_add_input_mapping(loom_import_options* options, const char* src_name,
                                                    int src_index, loom_output dst);
/* Replaces the control input "^src_name" with dst, an op of the target graph. */
LOOM_API void loom_import_options_add_control_mapping(loom_import_options* options,
                                                      const char* src_name, loom_op* dst);
/* The most bytes import materialises for one tensor given by fewer values than
 * its shape declares (TensorFlow's "repeat the last value" rule); default
 * 1 GiB. Tensors given in full are bounded by the input's own size. */
LOOM_API void loom_import_options_set_max_tensor_bytes(loom_import_options* options, int64_t bytes);

/* Imports a GraphDef of len bytes (binary or text per the options; options
 * may be NULL for the defaults). Every node goes through the op builder, in
 * topological order, so schemas and shapes are checked as for ops built by
 * hand. The new ops are appended to graph: they are loom_graph_op_at(graph, i)
 * for i from the old loom_graph_num_ops onwards. On failure graph is left
 * unchanged. Failures: INVALID_ARGUMENT (malformed or truncated data, producer
 * or min-consumer versions Loom cannot read, a duplicate or invalid op name, a
 * dangling input, a cycle, a malformed attr or tensor, a negative dimension, a
 * tensor larger than the limit above, a schema or shape error naming the op),
 * NOT_FOUND (op types Loom does not have, all listed in one message),
 * ALREADY_EXISTS (an imported name is taken; use a prefix). Hostile input
 * gives a status, never a crash. Not thread-safe w.r.t. the graph. */
LOOM_API loom_status* loom_graph_import_graphdef(loom_graph* graph, const void* data, size_t len,
                                                 const loom_import_options* options);

/* ---------------------------------------------------------------- checkpoints */

/* A checkpoint holds named tensors in Loom's own format (a protobuf header and
 * raw data, a CRC32C per tensor). Writes are atomic: the file is written under
 * a temporary name, fsync'ed and renamed, so a crash mid-save leaves the
 * previous checkpoint intact. Variables are the graph's VariableV2 ops, named
 * by op name. */

/* Saves the variables called names[0..num_names) (names NULL: every variable
 * of the session's graph) to path. NOT_FOUND for a name that is no variable
 * of the graph, FAILED_PRECONDITION for one not initialized, an I/O error
 * (PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...) naming the path. names are
 * borrowed for the call. May run while other threads run the session (a
 * variable updated meanwhile is saved either before or after the update). */
LOOM_API loom_status* loom_session_save(loom_session* session, const char* path,
                                        const char* const* names, int num_names);
/* Restores the variables called names (NULL: every variable of the graph)
 * from path. Everything is read and verified before any variable changes, so
 * on failure no variable has changed. DATA_LOSS naming the variable for a
 * truncated or corrupted file, NOT_FOUND if the checkpoint lacks a variable
 * (or the file does not exist), INVALID_ARGUMENT for a dtype or shape that
 * does not fit the graph's variable. */
LOOM_API loom_status* loom_session_restore(loom_session* session, const char* path,
                                           const char* const* names, int num_names);

/* An open checkpoint file, for listing and reading its tensors. Owned by the
 * caller; thread-safe for reading. */
typedef struct loom_checkpoint loom_checkpoint;
/* Opens path and verifies its structure and header checksum (DATA_LOSS if
 * damaged or truncated, NOT_FOUND if absent). */
LOOM_API loom_status* loom_checkpoint_open(const char* path, loom_checkpoint** out_checkpoint);
LOOM_API void loom_checkpoint_free(loom_checkpoint* checkpoint);
/* Variables in the checkpoint, sorted by name (0 for NULL). */
LOOM_API int loom_checkpoint_num_variables(const loom_checkpoint* checkpoint);
/* Name of variable i (borrowed, lives as long as the checkpoint); NULL if
 * out of range. */
LOOM_API const char* loom_checkpoint_variable_name(const loom_checkpoint* checkpoint, int i);
LOOM_API loom_dtype loom_checkpoint_variable_dtype(const loom_checkpoint* checkpoint, int i);
/* Rank of variable i (-1 if out of range) and its dimension d (-1 if out of range). */
LOOM_API int loom_checkpoint_variable_num_dims(const loom_checkpoint* checkpoint, int i);
LOOM_API int64_t loom_checkpoint_variable_dim(const loom_checkpoint* checkpoint, int i, int d);
/* Reads the tensor called name, verifying its checksum (DATA_LOSS naming it on
 * a mismatch; NOT_FOUND if absent). *out_tensor is new and owned by the caller. */
LOOM_API loom_status* loom_checkpoint_read(const loom_checkpoint* checkpoint, const char* name,
                                           loom_tensor** out_tensor);

/* ---------------------------------------------------------------- model directories */

/* A model directory holds a graph (as a GraphDef), all its variables (a
 * checkpoint) and named signatures: for each, named inputs and outputs
 * (tensors) and targets (ops), e.g. "serving_default" {inputs: x, outputs:
 * probabilities} or "train" {inputs: x, y; outputs: loss; targets: train_op}. */
typedef enum loom_signature_part {
  LOOM_SIGNATURE_INPUTS = 0,
  LOOM_SIGNATURE_OUTPUTS = 1,
  LOOM_SIGNATURE_TARGETS = 2
} loom_signature_part;

/* A set of signatures; owned by the caller. Not thread-safe to modify. */
typedef struct loom_signatures loom_signatures;
LOOM_API loom_signatures* loom_signatures_new(void);
LOOM_API void loom_signatures_free(loom_signatures* signatures);
/* Adds key -> output (recorded by name, "op:index") as an input or output of
 * the signature called signature (created on first use); a repeated key
 * replaces the earlier one. Strings are copied; NULL strings or op are ignored. */
LOOM_API void loom_signatures_add_input(loom_signatures* signatures, const char* signature,
                                        const char* key, loom_output output);
LOOM_API void loom_signatures_add_output(loom_signatures* signatures, const char* signature,
                                         const char* key, loom_output output);
/* Adds op (recorded by name) to the signature's targets. */
LOOM_API void loom_signatures_add_target(loom_signatures* signatures, const char* signature, loom_op* op);
/* Signatures, sorted by name (0 for NULL). */
LOOM_API int loom_signatures_count(const loom_signatures* signatures);
/* Name of signature i; borrowed until the next modification or free; NULL if
 * out of range. */
LOOM_API const char* loom_signatures_name(const loom_signatures* signatures, int i);
/* Number of entries of a part (loom_signature_part) of signature i; 0 if out
 * of range. */
LOOM_API int loom_signatures_num_entries(const loom_signatures* signatures, int i, int part);
/* Entry j of a part of signature i, sorted by key: *out_key is the key ("" for
 * targets) and *out_name the tensor ("op:index") or target op name. Both are
 * borrowed until the next modification or free. OUT_OF_RANGE for bad indices. */
LOOM_API loom_status* loom_signatures_entry(const loom_signatures* signatures, int i, int part, int j,
                                            const char** out_key, const char** out_name);

/* Saves session's graph, every variable (each must be initialized) and the
 * signatures (NULL: none) to the directory dir (created if missing): dir/model.pb
 * and dir/variables.ckpt, each written atomically, the checkpoint first.
 * NOT_FOUND for a signature entry that is not in the graph; errors of
 * loom_session_save. */
LOOM_API loom_status* loom_model_save(loom_session* session, const char* dir,
                                      const loom_signatures* signatures);
/* Loads the model in dir: imports its graph into graph (borrowed; it must
 * have no ops of the same names, and must outlive the session), creates a
 * session over it with options (may be NULL) and restores every variable.
 * *out_session (owned by the caller, freed with loom_session_free before the
 * graph) and *out_signatures (owned by the caller; may be NULL if not wanted)
 * are set on success only. Errors of loom_graph_import_graphdef and
 * loom_session_restore; DATA_LOSS for a damaged model.pb. If the restore fails
 * the graph keeps the imported ops: discard it. */
LOOM_API loom_status* loom_model_load(const char* dir, loom_graph* graph,
                                      const loom_session_options* options, loom_session** out_session,
                                      loom_signatures** out_signatures);

/* ---------------------------------------------------------------- op schemas */

/* The schema of a registered op as text, one item per line, for binding
 * generators (bindings/go/op is generated from it):
 *   op <name>
 *   stateful <0|1>
 *   input <name> <type> [ref]     (one line per input, in order)
 *   output <name> <type> [ref]
 *   attr <name> <attr type> <has default: 0|1> [min=<n>] [allowed=<t1>,<t2>...]
 * where <type> is a dtype name ("float"), a type attr ("T"), "<N>*<T or
 * dtype>" for a list of N tensors of one type, or "list:<attr>" for a list of
 * the types in a list(type) attr; <attr type> is as in op specs ("int",
 * "list(type)", ...). Owned by the caller, released with loom_string_free;
 * NULL if op_type is not registered. Thread-safe. */
LOOM_API char* loom_op_type_schema(const char* op_type);

/* ---------------------------------------------------------------- kernels */

/* Every kernel registered by a loaded plugin, in registration order. */
LOOM_API int loom_kernel_count(void);
typedef struct loom_kernel_record {
  size_t struct_size;        /* set by the caller */
  const char* op_type;       /* borrowed, static lifetime */
  const char* device_type;   /* borrowed, static lifetime */
  const char* plugin_path;   /* the plugin that registered it; static lifetime */
  int priority;
} loom_kernel_record;
/* Fills *out; OUT_OF_RANGE for a bad index. Thread-safe. */
LOOM_API loom_status* loom_kernel_get(int i, loom_kernel_record* out);
/* The plugin that provides device i (as loom_device_name's order); static
 * lifetime; NULL if out of range. */
LOOM_API const char* loom_device_plugin_path(int i);

#ifdef __cplusplus
}
#endif

#endif /* LOOM_H_ */
