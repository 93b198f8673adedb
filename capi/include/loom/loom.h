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
#define LOOM_API_VERSION_MINOR 0
#define LOOM_API_VERSION "1.0"

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
/* Callables must be freed before their session. */
LOOM_API void loom_callable_free(loom_callable* callable);

/* Releases variables and cached executors. Waits for runs in flight. */
LOOM_API void loom_session_free(loom_session* session);

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

#ifdef __cplusplus
}
#endif

#endif /* LOOM_H_ */
