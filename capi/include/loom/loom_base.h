/* loom_base.h — types shared by Loom's three public C headers.
 *
 * Included by loom.h (applications), loom_plugin.h (device and op plugins) and
 * loom_transport.h (transport plugins). It declares only what crosses every
 * boundary: status codes, data types, opaque handles, and the loom_output pair.
 * It holds no function declarations, so a plugin that includes it links
 * nothing of ours.
 *
 * Conventions (shared by all Loom headers):
 *  - Names are loom_<object>_<verb>; enum values carry the enum's name.
 *  - Every fallible call returns loom_status*: NULL means OK; a non-NULL status
 *    is owned by the caller and released with loom_status_free (applications)
 *    or host->status_free (plugins).
 *  - Output parameters are named out_*; they are written only on success.
 *  - No bool (int 0/1), no C++ types, no protobuf types.
 */
#ifndef LOOM_BASE_H_
#define LOOM_BASE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Canonical status codes (the same numbers as TensorFlow/absl). */
typedef enum loom_code {
  LOOM_CODE_OK = 0,
  LOOM_CODE_CANCELLED = 1,
  LOOM_CODE_UNKNOWN = 2,
  LOOM_CODE_INVALID_ARGUMENT = 3,
  LOOM_CODE_DEADLINE_EXCEEDED = 4,
  LOOM_CODE_NOT_FOUND = 5,
  LOOM_CODE_ALREADY_EXISTS = 6,
  LOOM_CODE_PERMISSION_DENIED = 7,
  LOOM_CODE_RESOURCE_EXHAUSTED = 8,
  LOOM_CODE_FAILED_PRECONDITION = 9,
  LOOM_CODE_ABORTED = 10,
  LOOM_CODE_OUT_OF_RANGE = 11,
  LOOM_CODE_UNIMPLEMENTED = 12,
  LOOM_CODE_INTERNAL = 13,
  LOOM_CODE_UNAVAILABLE = 14,
  LOOM_CODE_DATA_LOSS = 15,
  LOOM_CODE_UNAUTHENTICATED = 16
} loom_code;

/* An error: a code and a message. Opaque; see loom_status_* in loom.h. */
typedef struct loom_status loom_status;

/* Element types, numbered as TensorFlow's DataType so GraphDefs interoperate. */
typedef enum loom_dtype {
  LOOM_DTYPE_INVALID = 0,
  LOOM_DTYPE_FLOAT = 1,
  LOOM_DTYPE_DOUBLE = 2,
  LOOM_DTYPE_INT32 = 3,
  LOOM_DTYPE_UINT8 = 4,
  LOOM_DTYPE_INT16 = 5,
  LOOM_DTYPE_INT8 = 6,
  LOOM_DTYPE_STRING = 7,
  LOOM_DTYPE_INT64 = 9,
  LOOM_DTYPE_BOOL = 10,
  LOOM_DTYPE_BFLOAT16 = 14,
  LOOM_DTYPE_UINT16 = 17,
  LOOM_DTYPE_HALF = 19,
  LOOM_DTYPE_UINT32 = 22,
  LOOM_DTYPE_UINT64 = 23
} loom_dtype;

/* A set of dtypes as a bit mask (all loom_dtype values are below 64). */
#define LOOM_DTYPE_BIT(dtype) (((uint64_t)1) << (unsigned)(dtype))

/* Opaque handles. A loom_tensor is a host-visible, reference-counted n-d array
 * (its memory may belong to a device). A loom_graph owns its loom_ops. */
typedef struct loom_tensor loom_tensor;
typedef struct loom_graph loom_graph;
typedef struct loom_op loom_op;
typedef struct loom_op_builder loom_op_builder;

/* One output of an op: (op, index). op == NULL means "no tensor" (for example
 * an input that receives no gradient). Passed by value. */
typedef struct loom_output {
  loom_op* op;
  int index;
} loom_output;

/* Bytes per element of a fixed-size dtype; 0 for STRING and INVALID. */
static inline size_t loom_dtype_size_inline(loom_dtype dtype) {
  switch (dtype) {
    case LOOM_DTYPE_FLOAT: case LOOM_DTYPE_INT32: case LOOM_DTYPE_UINT32: return 4;
    case LOOM_DTYPE_DOUBLE: case LOOM_DTYPE_INT64: case LOOM_DTYPE_UINT64: return 8;
    case LOOM_DTYPE_UINT8: case LOOM_DTYPE_INT8: case LOOM_DTYPE_BOOL: return 1;
    case LOOM_DTYPE_INT16: case LOOM_DTYPE_UINT16: case LOOM_DTYPE_HALF:
    case LOOM_DTYPE_BFLOAT16: return 2;
    default: return 0;
  }
}

/* TensorFlow's short name of a dtype ("float", "int32", ...); "invalid" for
 * values outside the enum. Static storage. */
static inline const char* loom_dtype_name_inline(loom_dtype dtype) {
  switch (dtype) {
    case LOOM_DTYPE_FLOAT: return "float";
    case LOOM_DTYPE_DOUBLE: return "double";
    case LOOM_DTYPE_INT32: return "int32";
    case LOOM_DTYPE_UINT8: return "uint8";
    case LOOM_DTYPE_INT16: return "int16";
    case LOOM_DTYPE_INT8: return "int8";
    case LOOM_DTYPE_STRING: return "string";
    case LOOM_DTYPE_INT64: return "int64";
    case LOOM_DTYPE_BOOL: return "bool";
    case LOOM_DTYPE_BFLOAT16: return "bfloat16";
    case LOOM_DTYPE_UINT16: return "uint16";
    case LOOM_DTYPE_HALF: return "half";
    case LOOM_DTYPE_UINT32: return "uint32";
    case LOOM_DTYPE_UINT64: return "uint64";
    default: return "invalid";
  }
}

#ifdef __cplusplus
}
#endif

#endif /* LOOM_BASE_H_ */
