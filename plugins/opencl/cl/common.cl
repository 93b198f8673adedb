// Shared definitions of the Loom OpenCL kernels. The program is the
// concatenation of common.cl, elementwise.cl, matmul.cl, reduce.cl, nn.cl and
// array.cl (in that order), built once per context with -cl-std=CL1.2.
//
// Conventions:
//  - Kernel names are <op>_<type>[_<variant>], with the type tokens float,
//    int, long, bool, uchar, char, short (bool is stored as uchar 0/1).
//  - Element counts and offsets are longs; launches are 1-D with work-groups
//    of 256 rounded up, so every kernel checks its id against the count.
//  - Structs passed by value hold only longs so the host (kernel_util.h) and
//    the device agree on their layout.

#define LOOM_MAX_DIMS 8

// numpy broadcasting of two inputs (kernel_util.h: BroadcastView).
typedef struct {
  long rank;
  long dims[LOOM_MAX_DIMS];
  long sa[LOOM_MAX_DIMS];
  long sb[LOOM_MAX_DIMS];
} bview;

// A strided gather (kernel_util.h: GatherView).
typedef struct {
  long rank;
  long offset;
  long dims[LOOM_MAX_DIMS];
  long mods[LOOM_MAX_DIMS];
  long strides[LOOM_MAX_DIMS];
} gview;

inline void bview_offsets(const bview* v, long i, long* ia, long* ib) {
  long a = 0, b = 0;
  for (int d = (int)v->rank - 1; d > 0; --d) {
    long c = i % v->dims[d];
    i /= v->dims[d];
    a += c * v->sa[d];
    b += c * v->sb[d];
  }
  *ia = a + i * v->sa[0];
  *ib = b + i * v->sb[0];
}

inline long gview_offset(const gview* v, long i) {
  long off = v->offset;
  for (int d = (int)v->rank - 1; d >= 0; --d) {
    long c = i % v->dims[d];
    i /= v->dims[d];
    off += (c % v->mods[d]) * v->strides[d];
  }
  return off;
}

// Storage types of the type tokens.
typedef uchar bool_t;
#define STORAGE_float float
#define STORAGE_int int
#define STORAGE_long long
#define STORAGE_bool uchar
#define STORAGE_uchar uchar
#define STORAGE_char char
#define STORAGE_short short
#define ST(tok) STORAGE_##tok

inline float sigmoidf(float x) {
  // Stable for large |x|: exp never overflows into inf/inf.
  return x >= 0.0f ? 1.0f / (1.0f + exp(-x)) : exp(x) / (1.0f + exp(x));
}
inline float softplusf(float x) {
  // log(1 + exp(x)) without overflow: x + log1p(exp(-x)) for x > 0.
  return x > 0.0f ? x + log1p(exp(-x)) : log1p(exp(x));
}
