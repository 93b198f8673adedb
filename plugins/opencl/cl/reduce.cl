// Reductions over the middle axis of a tensor viewed as [outer, R, inner]
// (the host merges the reduced axes into that shape, one contiguous group per
// pass). A work-item produces one output: it combines the elements
// [p * chunk, min(R, (p + 1) * chunk)) of its (outer, inner) position, so
// reductions with few outputs and a long R split into `parts` partial results
// that a second pass combines: both passes keep the work parallel and the
// serial sums short (chunk <= 4096 terms). The output is [outer, parts,
// inner]; sums are multiplied by `scale` (1/count in Mean's last pass).

#define REDUCE(name, T, INIT, MAP, COMBINE, FINISH)                                  \
  __kernel void reduce_##name##_##T(__global const ST(T)* x, __global ST(T)* y,      \
                                    long outer, long R, long inner, long chunk,      \
                                    long parts, float scale) {                       \
    const long g = get_global_id(0);                                                 \
    if (g >= outer * parts * inner) return;                                          \
    const long in = g % inner;                                                       \
    const long t = g / inner;                                                        \
    const long p = t % parts;                                                        \
    const long o = t / parts;                                                        \
    const long r0 = p * chunk;                                                       \
    const long r1 = min(R, r0 + chunk);                                              \
    __global const ST(T)* base = x + o * R * inner + in;                              \
    ST(T) acc = INIT;                                                                \
    for (long r = r0; r < r1; ++r) {                                                 \
      ST(T) v = base[r * inner];                                                     \
      acc = COMBINE(acc, MAP(v));                                                    \
    }                                                                                \
    y[g] = FINISH(acc);                                                              \
  }

#define R_ID(v) (v)
#define R_SQ(v) ((v) * (v))
#define R_ADD(a, b) ((a) + (b))
#define R_MUL(a, b) ((a) * (b))
#define R_FMAX(a, b) fmax(a, b)
#define R_FMIN(a, b) fmin(a, b)
#define R_MAX(a, b) max(a, b)
#define R_MIN(a, b) min(a, b)
#define R_SCALE(a) ((a) * scale)
#define R_KEEP(a) (a)

REDUCE(sum, float, 0.0f, R_ID, R_ADD, R_SCALE)
REDUCE(sumsq, float, 0.0f, R_SQ, R_ADD, R_SCALE)
REDUCE(prod, float, 1.0f, R_ID, R_MUL, R_KEEP)
REDUCE(max, float, -INFINITY, R_ID, R_FMAX, R_KEEP)
REDUCE(min, float, INFINITY, R_ID, R_FMIN, R_KEEP)
REDUCE(sum, int, 0, R_ID, R_ADD, R_KEEP)
REDUCE(prod, int, 1, R_ID, R_MUL, R_KEEP)
REDUCE(max, int, INT_MIN, R_ID, R_MAX, R_KEEP)
REDUCE(min, int, INT_MAX, R_ID, R_MIN, R_KEEP)
REDUCE(sum, long, 0, R_ID, R_ADD, R_KEEP)
REDUCE(prod, long, 1, R_ID, R_MUL, R_KEEP)
REDUCE(max, long, LONG_MIN, R_ID, R_MAX, R_KEEP)
REDUCE(min, long, LONG_MAX, R_ID, R_MIN, R_KEEP)

// ArgMax / ArgMin over the middle axis of [outer, R, inner]: the first index
// of the extreme value (as TensorFlow's CPU kernel). NaN never wins.
#define ARGREDUCE(name, T, OT, BETTER)                                               \
  __kernel void name##_##T##_##OT(__global const ST(T)* x, __global ST(OT)* y,       \
                                  long outer, long R, long inner) {                  \
    const long g = get_global_id(0);                                                 \
    if (g >= outer * inner) return;                                                  \
    const long in = g % inner, o = g / inner;                                        \
    __global const ST(T)* base = x + o * R * inner + in;                              \
    long best = 0;                                                                   \
    ST(T) bv = base[0];                                                              \
    for (long r = 1; r < R; ++r) {                                                   \
      ST(T) v = base[r * inner];                                                     \
      if (BETTER(v, bv)) {                                                           \
        bv = v;                                                                      \
        best = r;                                                                    \
      }                                                                              \
    }                                                                                \
    y[g] = (ST(OT))best;                                                             \
  }
#define A_GT(v, b) ((v) > (b) || ((b) != (b) && (v) == (v)))
#define A_LT(v, b) ((v) < (b) || ((b) != (b) && (v) == (v)))
#define ARGS_FOR(T)                        \
  ARGREDUCE(argmax, T, int, A_GT)          \
  ARGREDUCE(argmax, T, long, A_GT)         \
  ARGREDUCE(argmin, T, int, A_LT)          \
  ARGREDUCE(argmin, T, long, A_LT)
ARGS_FOR(float)
ARGS_FOR(int)
ARGS_FOR(long)
