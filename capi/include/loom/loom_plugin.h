/* loom_plugin.h — the Loom device and op plugin ABI (the vendor ABI).
 *
 * A plugin is a shared library exporting exactly one symbol:
 *
 *   loom_status* loom_plugin_init(const loom_host_api* host,
 *                                 loom_plugin_info* out_info);
 *
 * The host passes its function table; the plugin fills out_info (name,
 * version, the ABI it was built for) and calls host->register_* to add
 * devices, ops, kernels and gradients. A plugin links nothing of Loom's: every
 * service it needs comes through `host`, which stays valid for the life of the
 * process (plugins are never unloaded).
 *
 * Versioning. Every struct that crosses the boundary starts with
 * `size_t struct_size` and ends with `void* ext` (reserved, NULL); structs only
 * grow at the end. The filler sets struct_size = LOOM_STRUCT_SIZE(type, last
 * field it knows). A reader checks struct_size before touching a field, so a
 * plugin built against an older minor keeps loading: the host never calls a
 * function that plugin does not have. LOOM_PLUGIN_ABI_MAJOR changes only on a
 * break: a plugin of another major is refused with a message naming both
 * versions and the library path. Every minor bump has a line in
 * capi/CHANGELOG.md.
 *
 * Who fills what: [host] fields are filled by Loom, [plugin] fields by the
 * plugin. (required) function pointers must be non-NULL; (optional) ones may be
 * NULL and the host then behaves as documented (usually UNIMPLEMENTED).
 *
 * Errors: plugin functions return loom_status* (NULL = OK) made with
 * host->status_new; the host takes ownership.
 *
 * Threads: kernels' compute may be called from several threads at once for
 * different steps; a kernel's state must be read-only in compute, or guarded.
 */
#ifndef LOOM_PLUGIN_H_
#define LOOM_PLUGIN_H_

#include "loom/loom_base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LOOM_PLUGIN_ABI_MAJOR 1
#define LOOM_PLUGIN_ABI_MINOR 0

/* The size of `type` up to and including `last_field`. */
#define LOOM_STRUCT_SIZE(type, last_field) \
  (offsetof(type, last_field) + sizeof(((type*)0)->last_field))

#if defined(__cplusplus)
#define LOOM_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define LOOM_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

#if defined(_WIN32)
#define LOOM_PLUGIN_EXPORT __declspec(dllexport)
#else
#define LOOM_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Opaque host objects handed to plugins. */
typedef struct loom_kernel_context loom_kernel_context;      /* one op execution */
typedef struct loom_kernel_construction loom_kernel_construction; /* one kernel creation */
typedef struct loom_shape_context loom_shape_context;        /* one shape inference */
typedef struct loom_attrs loom_attrs;                        /* a node's attributes */
/* Opaque plugin objects the host passes back. */
typedef struct loom_stream loom_stream;
typedef struct loom_event loom_event;

/* ------------------------------------------------------------------ devices */

typedef struct loom_memory_stats {
  size_t struct_size;
  int64_t bytes_in_use;
  int64_t peak_bytes_in_use;
  int64_t bytes_limit; /* -1 unknown */
  void* ext;
} loom_memory_stats;
#define LOOM_MEMORY_STATS_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_memory_stats, ext)

/* [plugin] One device type and its instances. `state` is passed back to every
 * function. Copy functions with a non-NULL stream may complete asynchronously
 * (ordered on that stream); with a NULL stream they complete before returning. */
typedef struct loom_device_interface {
  size_t struct_size;
  const char* type;        /* (required) "CPU", "OPENCL", "MYASIC": [A-Z0-9_]+ */
  int count;               /* number of devices of this type (>= 1) */
  int priority;            /* higher wins when placement is free to choose */
  int memory_is_host;      /* 1: device memory is host memory; copies skipped */
  void* state;
  /* (required) */
  loom_status* (*allocate)(void* state, int ordinal, size_t bytes, size_t alignment,
                           void** out_ptr);
  void (*deallocate)(void* state, int ordinal, void* ptr);
  /* (optional) page-locked host memory for fast transfers */
  loom_status* (*allocate_host_pinned)(void* state, int ordinal, size_t bytes, void** out_ptr);
  void (*deallocate_host_pinned)(void* state, int ordinal, void* ptr);
  /* (required unless memory_is_host) */
  loom_status* (*memcpy_host_to_device)(void* state, int ordinal, loom_stream* stream,
                                        void* dst, const void* src, size_t bytes);
  loom_status* (*memcpy_device_to_host)(void* state, int ordinal, loom_stream* stream,
                                        void* dst, const void* src, size_t bytes);
  loom_status* (*memcpy_device_to_device)(void* state, int ordinal, loom_stream* stream,
                                          void* dst, const void* src, size_t bytes);
  /* (optional) streams and events; NULL means a synchronous device. */
  loom_status* (*stream_create)(void* state, int ordinal, loom_stream** out_stream);
  void (*stream_destroy)(void* state, int ordinal, loom_stream* stream);
  loom_status* (*event_create)(void* state, int ordinal, loom_event** out_event);
  void (*event_destroy)(void* state, int ordinal, loom_event* event);
  loom_status* (*event_record)(void* state, int ordinal, loom_stream* stream, loom_event* e);
  loom_status* (*stream_wait_event)(void* state, int ordinal, loom_stream* stream,
                                    loom_event* e);
  loom_status* (*event_synchronize)(void* state, int ordinal, loom_event* e);
  /* (optional) waits for all work on the device */
  loom_status* (*synchronize)(void* state, int ordinal);
  /* (optional) */
  loom_status* (*memory_stats)(void* state, int ordinal, loom_memory_stats* out_stats);
  void* ext;
} loom_device_interface;
#define LOOM_DEVICE_INTERFACE_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_device_interface, ext)

/* ------------------------------------------------------------------ ops */

/* Shape function: reads input shapes (and constant input values where known)
 * from ctx and sets every output's shape. */
typedef loom_status* (*loom_shape_fn)(void* user_data, loom_shape_context* ctx);

/* [plugin] An op schema. Specs use TensorFlow's op-definition syntax:
 *   inputs/outputs: "x: T", "y: float", "values: N * T", "ref: Ref(T)"
 *   attrs: "T: {float, double}", "N: int >= 1", "transpose_a: bool = false",
 *          "shape: shape", "axis: list(int) = []", "dtype: type"
 * Strings are copied during registration. */
typedef struct loom_op_def {
  size_t struct_size;
  const char* name;
  const char* const* inputs;
  int num_inputs;
  const char* const* outputs;
  int num_outputs;
  const char* const* attrs;
  int num_attrs;
  int is_stateful;              /* never constant-folded or deduplicated */
  loom_shape_fn shape_fn;       /* (optional) NULL: outputs of unknown shape */
  void* shape_fn_user_data;
  void* ext;
} loom_op_def;
#define LOOM_OP_DEF_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_op_def, ext)

/* ------------------------------------------------------------------ kernels */

/* Restricts a type attr to a set of dtypes (LOOM_DTYPE_BIT masks). */
typedef struct loom_type_constraint {
  const char* attr;
  uint64_t dtypes;
} loom_type_constraint;

typedef void (*loom_kernel_done_fn)(void* done_arg, loom_status* status);

/* [plugin] A kernel: the implementation of one op on one device type. */
typedef struct loom_kernel_def {
  size_t struct_size;
  const char* op_type;           /* (required) */
  const char* device_type;       /* (required) a type this plugin registered */
  const loom_type_constraint* constraints;
  int num_constraints;
  /* Names of inputs/outputs kept in host memory (shapes, axes, indices). */
  const char* const* host_memory_args;
  int num_host_memory_args;
  int priority;                  /* among kernels for the same op and device */
  void* user_data;               /* passed to create */
  /* (optional) builds per-node state from the node's attrs; NULL: state = user_data */
  loom_status* (*create)(void* user_data, loom_kernel_construction* ctx, void** out_state);
  /* (required unless compute_async) synchronous compute */
  loom_status* (*compute)(void* state, loom_kernel_context* ctx);
  /* (optional) asynchronous compute: must eventually call done(done_arg, status) */
  void (*compute_async)(void* state, loom_kernel_context* ctx, loom_kernel_done_fn done,
                        void* done_arg);
  /* (optional) releases state from create */
  void (*destroy)(void* state);
  void* ext;
} loom_kernel_def;
#define LOOM_KERNEL_DEF_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_kernel_def, ext)

/* ------------------------------------------------------------------ plugin info */

/* [plugin] What init reports. Strings must have static lifetime. */
typedef struct loom_plugin_info {
  size_t struct_size;
  int abi_major;                 /* LOOM_PLUGIN_ABI_MAJOR the plugin was built with */
  int abi_minor;                 /* LOOM_PLUGIN_ABI_MINOR the plugin was built with */
  const char* name;
  const char* version;
  void* ext;
} loom_plugin_info;
#define LOOM_PLUGIN_INFO_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_plugin_info, ext)

/* ------------------------------------------------------------------ gradients */

/* Same contract as loom_gradient_fn in loom.h: build the gradient subgraph with
 * host->graph functions. */
typedef loom_status* (*loom_plugin_gradient_fn)(void* user_data, loom_graph* graph,
                                                loom_op* op, const loom_output* grad_outputs,
                                                int num_outputs, loom_output* out_grad_inputs,
                                                int num_inputs);

/* [host] The graph-building functions, for gradient functions. Same semantics
 * as the loom.h functions of the same names. */
typedef struct loom_graph_api {
  size_t struct_size;
  loom_op_builder* (*op_builder_new)(loom_graph* g, const char* op_type, const char* name);
  void (*op_builder_add_input)(loom_op_builder* b, loom_output input);
  void (*op_builder_add_input_list)(loom_op_builder* b, const loom_output* in, int n);
  void (*op_builder_add_control_input)(loom_op_builder* b, loom_op* op);
  void (*op_builder_set_device)(loom_op_builder* b, const char* device);
  void (*op_builder_set_attr_int)(loom_op_builder* b, const char* name, int64_t v);
  void (*op_builder_set_attr_float)(loom_op_builder* b, const char* name, float v);
  void (*op_builder_set_attr_bool)(loom_op_builder* b, const char* name, int v);
  void (*op_builder_set_attr_type)(loom_op_builder* b, const char* name, loom_dtype v);
  void (*op_builder_set_attr_shape)(loom_op_builder* b, const char* name,
                                    const int64_t* dims, int num_dims);
  void (*op_builder_set_attr_int_list)(loom_op_builder* b, const char* name,
                                       const int64_t* v, int n);
  void (*op_builder_set_attr_float_list)(loom_op_builder* b, const char* name,
                                         const float* v, int n);
  void (*op_builder_set_attr_tensor)(loom_op_builder* b, const char* name,
                                     const loom_tensor* v);
  loom_status* (*op_builder_finish)(loom_op_builder* b, loom_op** out_op);
  void (*op_builder_abandon)(loom_op_builder* b);
  const char* (*op_name)(const loom_op* op);
  const char* (*op_type)(const loom_op* op);
  int (*op_num_inputs)(const loom_op* op);
  loom_output (*op_input)(const loom_op* op, int i);
  int (*op_num_outputs)(const loom_op* op);
  loom_dtype (*op_output_dtype)(const loom_op* op, int i);
  loom_status* (*op_attr_int)(const loom_op* op, const char* name, int64_t* out);
  loom_status* (*op_attr_float)(const loom_op* op, const char* name, float* out);
  loom_status* (*op_attr_bool)(const loom_op* op, const char* name, int* out);
  loom_status* (*op_attr_type)(const loom_op* op, const char* name, loom_dtype* out);
  loom_status* (*output_shape)(const loom_graph* g, loom_output o, int64_t* dims,
                               int max_dims, int* out_num_dims);
  loom_status* (*tensor_new)(loom_dtype dtype, const int64_t* dims, int num_dims,
                             loom_tensor** out);
  void (*tensor_free)(loom_tensor* t);  /* for tensors from tensor_new */
  void* ext;
} loom_graph_api;
#define LOOM_GRAPH_API_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_graph_api, ext)

/* ------------------------------------------------------------------ host table */

typedef enum loom_log_level {
  LOOM_LOG_DEBUG = 0,
  LOOM_LOG_INFO = 1,
  LOOM_LOG_WARNING = 2,
  LOOM_LOG_ERROR = 3
} loom_log_level;

typedef void (*loom_parallel_fn)(void* arg, int64_t begin, int64_t end);

/* [host] Everything a plugin may call. Valid for the life of the process. */
typedef struct loom_host_api {
  size_t struct_size;
  int abi_major, abi_minor;      /* the host's ABI */
  const char* plugin_path;       /* this plugin's file; borrowed */
  /* Config for this plugin from LOOM_PLUGIN_CONFIG_<NAME>_<KEY> env vars; NULL if unset. */
  const char* (*config_get)(const char* plugin_name, const char* key);

  /* status */
  loom_status* (*status_new)(loom_code code, const char* message);
  void (*status_free)(loom_status* s);
  loom_code (*status_code)(const loom_status* s);
  const char* (*status_message)(const loom_status* s);
  void (*log)(loom_log_level level, const char* plugin_name, const char* message);

  /* registration (call during init only) */
  loom_status* (*register_device)(const loom_device_interface* device);
  loom_status* (*register_op)(const loom_op_def* op);
  loom_status* (*register_kernel)(const loom_kernel_def* kernel);
  /* fn NULL: op_type is not differentiable. */
  loom_status* (*register_gradient)(const char* op_type, loom_plugin_gradient_fn fn,
                                    void* user_data);

  /* tensors (borrowed handles; valid during the call that gave them) */
  loom_dtype (*tensor_dtype)(const loom_tensor* t);
  int (*tensor_num_dims)(const loom_tensor* t);
  const int64_t* (*tensor_dims)(const loom_tensor* t);
  int64_t (*tensor_num_elements)(const loom_tensor* t);
  size_t (*tensor_byte_size)(const loom_tensor* t);
  void* (*tensor_data)(const loom_tensor* t);

  /* attributes; NOT_FOUND / INVALID_ARGUMENT like the loom.h getters */
  loom_status* (*attr_int)(const loom_attrs* a, const char* name, int64_t* out);
  loom_status* (*attr_float)(const loom_attrs* a, const char* name, float* out);
  loom_status* (*attr_bool)(const loom_attrs* a, const char* name, int* out);
  loom_status* (*attr_type)(const loom_attrs* a, const char* name, loom_dtype* out);
  /* *out_values borrowed for the life of the attrs */
  loom_status* (*attr_int_list)(const loom_attrs* a, const char* name,
                                const int64_t** out_values, int* out_num);
  loom_status* (*attr_float_list)(const loom_attrs* a, const char* name,
                                  const float** out_values, int* out_num);
  loom_status* (*attr_string)(const loom_attrs* a, const char* name, const char** out,
                              size_t* out_len);
  /* rank -1: unknown */
  loom_status* (*attr_shape)(const loom_attrs* a, const char* name, const int64_t** out_dims,
                             int* out_num_dims);
  loom_status* (*attr_tensor)(const loom_attrs* a, const char* name,
                              const loom_tensor** out);

  /* kernel construction */
  const loom_attrs* (*construction_attrs)(loom_kernel_construction* c);
  const char* (*construction_op_name)(loom_kernel_construction* c);
  loom_dtype (*construction_input_dtype)(loom_kernel_construction* c, int i);
  loom_dtype (*construction_output_dtype)(loom_kernel_construction* c, int i);
  int (*construction_num_inputs)(loom_kernel_construction* c);

  /* kernel execution */
  const loom_attrs* (*kernel_attrs)(loom_kernel_context* c);
  const char* (*kernel_op_name)(loom_kernel_context* c);
  int (*kernel_device_ordinal)(loom_kernel_context* c);
  loom_stream* (*kernel_stream)(loom_kernel_context* c);
  uint64_t (*kernel_step_id)(loom_kernel_context* c);
  int (*kernel_num_inputs)(loom_kernel_context* c);
  const loom_tensor* (*kernel_input)(loom_kernel_context* c, int i);
  int (*kernel_num_outputs)(loom_kernel_context* c);
  loom_dtype (*kernel_output_dtype)(loom_kernel_context* c, int i);
  /* Allocates output i (uninitialised memory). *out borrowed until compute returns. */
  loom_status* (*kernel_allocate_output)(loom_kernel_context* c, int i, const int64_t* dims,
                                         int num_dims, loom_tensor** out);
  /* Reuses the buffer of one of the candidate inputs if nobody else holds it and
   * it has the output's dtype and byte size; else allocates. */
  loom_status* (*kernel_forward_input_or_allocate_output)(loom_kernel_context* c,
                                                          const int* candidate_inputs,
                                                          int num_candidates, int output,
                                                          const int64_t* dims, int num_dims,
                                                          loom_tensor** out);
  /* Output i aliases input j's buffer with new dims (same byte size): Identity, Reshape. */
  loom_status* (*kernel_forward_input)(loom_kernel_context* c, int input, int output,
                                       const int64_t* dims, int num_dims);
  /* Scratch memory released after compute. */
  loom_status* (*kernel_allocate_temp)(loom_kernel_context* c, loom_dtype dtype,
                                       const int64_t* dims, int num_dims, loom_tensor** out);
  /* Runs fn over [0, n) split into chunks on the session's intra-op pool, with
   * cost_per_unit (~cycles) guiding the split; returns when all chunks finish. */
  void (*kernel_parallel_for)(loom_kernel_context* c, int64_t n, int64_t cost_per_unit,
                              loom_parallel_fn fn, void* arg);
  int (*kernel_num_threads)(loom_kernel_context* c);

  /* shape inference */
  const loom_attrs* (*shape_attrs)(loom_shape_context* c);
  int (*shape_num_inputs)(loom_shape_context* c);
  int (*shape_num_outputs)(loom_shape_context* c);
  int (*shape_input_rank)(loom_shape_context* c, int i);           /* -1 unknown */
  int64_t (*shape_input_dim)(loom_shape_context* c, int i, int d); /* -1 unknown */
  loom_dtype (*shape_input_dtype)(loom_shape_context* c, int i);
  /* The value of input i if it is a constant known at graph-build time; else NULL. */
  const loom_tensor* (*shape_input_value)(loom_shape_context* c, int i);
  loom_status* (*shape_set_output)(loom_shape_context* c, int i, const int64_t* dims,
                                   int num_dims);

  /* graph building, for gradient functions */
  const loom_graph_api* graph;
  void* ext;
} loom_host_api;
#define LOOM_HOST_API_STRUCT_SIZE LOOM_STRUCT_SIZE(loom_host_api, ext)

/* The one symbol a plugin exports. */
typedef loom_status* (*loom_plugin_init_fn)(const loom_host_api* host,
                                            loom_plugin_info* out_info);
#define LOOM_PLUGIN_INIT_SYMBOL "loom_plugin_init"

#ifdef __cplusplus
}
#endif

#endif /* LOOM_PLUGIN_H_ */
