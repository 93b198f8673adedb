/* nn.h — a few helpers that keep the C training examples short: one-line op
 * builders, variables with initialisers, dense layers, and Adam, all plain
 * graph ops built through loom.h. Errors end the program with a message
 * (nn_check), which is what a small example wants. */
#ifndef LOOM_EXAMPLES_NN_H_
#define LOOM_EXAMPLES_NN_H_

#include "loom/loom.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NN_MAX_VARS 64

typedef struct nn_ctx {
  loom_graph* graph;
  loom_op* inits[3 * NN_MAX_VARS + 8]; /* Assign ops that initialise variables */
  int num_inits;
  loom_output vars[NN_MAX_VARS]; /* trainable variables */
  int num_vars;
  int64_t seed; /* graph-level seed for initialisers (op seeds count up from it) */
  int64_t next_seed2;
} nn_ctx;

/* Prints what failed and the status message, then exits, if s is not OK. */
void nn_check(loom_status* s, const char* what);

void nn_init(nn_ctx* c, loom_graph* g, int64_t seed);

/* An op with the given inputs (any may be a list via nn_op_list). */
loom_output nn_op1(nn_ctx* c, const char* type, loom_output a);
loom_output nn_op2(nn_ctx* c, const char* type, loom_output a, loom_output b);
loom_output nn_placeholder(nn_ctx* c, loom_dtype dt, const int64_t* dims, int num_dims,
                           const char* name);
loom_output nn_scalar(nn_ctx* c, float v);
loom_output nn_ints(nn_ctx* c, const int64_t* values, int n); /* 1-D int32 */
loom_output nn_int(nn_ctx* c, int64_t v);                     /* scalar int32 */

/* A variable of the given shape initialised from `initial` (an op output of
 * that shape); trainable variables are what nn_adam updates. */
loom_output nn_variable(nn_ctx* c, const char* name, const int64_t* dims, int num_dims,
                        loom_output initial, int trainable);

/* y = x W + b, W He-initialised (truncated normal, stddev sqrt(2 / in)),
 * b zero; ReLU applied when relu is 1. zero_weights: W starts at 0. */
loom_output nn_dense(nn_ctx* c, const char* name, loom_output x, int in, int out, int relu,
                     int zero_weights);

/* Adds Adam (TensorFlow's defaults: beta1 0.9, beta2 0.999, epsilon 1e-8)
 * minimising loss over the trainable variables; returns the op to run once
 * per step. */
loom_op* nn_adam(nn_ctx* c, loom_output loss, float learning_rate);

/* An op that runs every initialiser added so far. */
loom_op* nn_init_op(nn_ctx* c);

/* Mean of equal(argmax(logits, 1), labels) as a float scalar. */
loom_output nn_accuracy(nn_ctx* c, loom_output logits, loom_output labels);

/* One epoch of minibatch steps in a shuffled order (shuffle_state: an LCG
 * state, advanced). `step` is a callable with feeds (images [batch, features]
 * float, labels [batch] int32), fetch (loss) and the train op as target. A
 * last partial batch is skipped. Prints the running loss every print_every
 * steps (0: never). Returns the epoch's mean loss. */
double nn_train_epoch(loom_callable* step, const float* images, const int32_t* labels, int count,
                      int features, int batch, uint64_t* shuffle_state, int print_every,
                      int epoch);

/* Accuracy over a whole set, fed in batches of 1000 to (x, y). */
double nn_evaluate(loom_session* s, loom_output x, loom_output y, loom_output accuracy,
                   const float* images, const int32_t* labels, int count, int features);

/* Seconds since an arbitrary start (monotonic clock). */
double nn_seconds(void);

#ifdef __cplusplus
}
#endif

#endif /* LOOM_EXAMPLES_NN_H_ */
