// Element-wise kernels: unary math, binary math with numpy broadcasting (a
// flat variant for equal shapes, a _bcast variant indexing through a bview),
// comparisons and logic (bool results), activation gradients, casts,
// BiasAdd and AddN accumulation.

// ---------------------------------------------------------------- unary

#define UNARY(name, T, expr)                                                   \
  __kernel void name##_##T(__global const ST(T)* x_, __global ST(T)* y_, long n) { \
    long i = get_global_id(0);                                                 \
    if (i < n) {                                                               \
      ST(T) x = x_[i];                                                         \
      y_[i] = (expr);                                                          \
    }                                                                          \
  }

UNARY(neg, float, -x)
UNARY(abs, float, fabs(x))
UNARY(square, float, x * x)
UNARY(sign, float, x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x))
UNARY(relu, float, x > 0.0f ? x : 0.0f)
UNARY(round, float, rint(x))
UNARY(exp, float, exp(x))
UNARY(log, float, log(x))
UNARY(log1p, float, log1p(x))
UNARY(sqrt, float, sqrt(x))
UNARY(rsqrt, float, rsqrt(x))
UNARY(sigmoid, float, sigmoidf(x))
UNARY(tanh, float, tanh(x))
UNARY(reciprocal, float, 1.0f / x)
UNARY(floor, float, floor(x))
UNARY(ceil, float, ceil(x))
UNARY(softplus, float, softplusf(x))
UNARY(sin, float, sin(x))
UNARY(cos, float, cos(x))
UNARY(neg, int, -x)
UNARY(abs, int, x < 0 ? -x : x)
UNARY(square, int, x * x)
UNARY(neg, long, -x)
UNARY(abs, long, x < 0 ? -x : x)
UNARY(square, long, x * x)
UNARY(logical_not, bool, (uchar)(x == 0))

// ---------------------------------------------------------------- binary

#define BINARY(name, T, OT, expr)                                              \
  __kernel void name##_##T(__global const ST(T)* a_, __global const ST(T)* b_, \
                           __global ST(OT)* y_, long n) {                      \
    long i = get_global_id(0);                                                 \
    if (i < n) {                                                               \
      ST(T) a = a_[i];                                                         \
      ST(T) b = b_[i];                                                         \
      y_[i] = (expr);                                                          \
    }                                                                          \
  }                                                                            \
  __kernel void name##_##T##_bcast(__global const ST(T)* a_,                    \
                                   __global const ST(T)* b_,                    \
                                   __global ST(OT)* y_, long n, bview v) {     \
    long i = get_global_id(0);                                                 \
    if (i < n) {                                                               \
      long ia, ib;                                                             \
      bview_offsets(&v, i, &ia, &ib);                                          \
      ST(T) a = a_[ia];                                                        \
      ST(T) b = b_[ib];                                                        \
      y_[i] = (expr);                                                          \
    }                                                                          \
  }

inline float floormodf(float a, float b) {
  float r = fmod(a, b);
  return (r != 0.0f && ((r < 0.0f) != (b < 0.0f))) ? r + b : r;
}

BINARY(add, float, float, a + b)
BINARY(sub, float, float, a - b)
BINARY(mul, float, float, a * b)
BINARY(div, float, float, a / b)
BINARY(maximum, float, float, fmax(a, b))
BINARY(minimum, float, float, fmin(a, b))
BINARY(squared_difference, float, float, (a - b) * (a - b))
BINARY(pow, float, float, pow(a, b))
BINARY(floor_div, float, float, floor(a / b))
BINARY(floor_mod, float, float, floormodf(a, b))
// No integer Div/FloorDiv/FloorMod: division by zero must be an error (as on
// the CPU), which a kernel cannot report; those run on the CPU.
BINARY(add, int, int, a + b)
BINARY(sub, int, int, a - b)
BINARY(mul, int, int, a * b)
BINARY(maximum, int, int, max(a, b))
BINARY(minimum, int, int, min(a, b))
BINARY(squared_difference, int, int, (a - b) * (a - b))
BINARY(add, long, long, a + b)
BINARY(sub, long, long, a - b)
BINARY(mul, long, long, a * b)
BINARY(maximum, long, long, max(a, b))
BINARY(minimum, long, long, min(a, b))
BINARY(squared_difference, long, long, (a - b) * (a - b))

#define COMPARISONS(T)                                   \
  BINARY(equal, T, bool, (uchar)(a == b))                \
  BINARY(not_equal, T, bool, (uchar)(a != b))            \
  BINARY(less, T, bool, (uchar)(a < b))                  \
  BINARY(less_equal, T, bool, (uchar)(a <= b))           \
  BINARY(greater, T, bool, (uchar)(a > b))               \
  BINARY(greater_equal, T, bool, (uchar)(a >= b))
COMPARISONS(float)
COMPARISONS(int)
COMPARISONS(long)
BINARY(equal, bool, bool, (uchar)(a == b))
BINARY(not_equal, bool, bool, (uchar)(a != b))
BINARY(logical_and, bool, bool, (uchar)(a && b))
BINARY(logical_or, bool, bool, (uchar)(a || b))

// Activation gradients (same shapes; TensorFlow's argument order).
BINARY(relu_grad, float, float, b > 0.0f ? a : 0.0f)           // (gradients, features)
BINARY(softplus_grad, float, float, a * sigmoidf(b))           // (gradients, features)
BINARY(sigmoid_grad, float, float, b * a * (1.0f - a))         // (y, dy)
BINARY(tanh_grad, float, float, b * (1.0f - a * a))            // (y, dy)
BINARY(sqrt_grad, float, float, b * 0.5f / a)                  // (y, dy)
BINARY(rsqrt_grad, float, float, b * -0.5f * a * a * a)        // (y, dy)
BINARY(reciprocal_grad, float, float, -b * a * a)              // (y, dy)

// ---------------------------------------------------------------- casts

#define CONVERT_float(v) ((float)(v))
#define CONVERT_int(v) ((int)(v))
#define CONVERT_long(v) ((long)(v))
#define CONVERT_bool(v) ((uchar)((v) != 0))
#define CONVERT_uchar(v) ((uchar)(v))
#define CONVERT_char(v) ((char)(v))
#define CONVERT_short(v) ((short)(v))

#define CAST(S, D)                                                                  \
  __kernel void cast_##S##_##D(__global const ST(S)* x, __global ST(D)* y, long n) { \
    long i = get_global_id(0);                                                      \
    if (i < n) y[i] = CONVERT_##D(x[i]);                                            \
  }
#define CASTS_FROM(S) \
  CAST(S, float) CAST(S, int) CAST(S, long) CAST(S, bool) CAST(S, uchar) CAST(S, char) CAST(S, short)
CASTS_FROM(float)
CASTS_FROM(int)
CASTS_FROM(long)
CASTS_FROM(bool)
CASTS_FROM(uchar)
CASTS_FROM(char)
CASTS_FROM(short)

// ---------------------------------------------------------------- BiasAdd, AddN

// y = x + bias along the channel dim: channel of element i is (i / inner) % c
// (NHWC: inner = 1; NCHW: inner = H * W).
__kernel void bias_add_float(__global const float* x, __global const float* bias,
                             __global float* y, long n, long c, long inner) {
  long i = get_global_id(0);
  if (i < n) y[i] = x[i] + bias[(i / inner) % c];
}

// y += x (AddN beyond its first two inputs).
__kernel void accumulate_float(__global float* y, __global const float* x, long n) {
  long i = get_global_id(0);
  if (i < n) y[i] += x[i];
}
__kernel void accumulate_int(__global int* y, __global const int* x, long n) {
  long i = get_global_id(0);
  if (i < n) y[i] += x[i];
}
