#define _POSIX_C_SOURCE 200809L
#include "nn.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void nn_check(loom_status* s, const char* what) {
  if (!s) return;
  fprintf(stderr, "error: %s: %s: %s\n", what, loom_code_name(loom_status_code(s)),
          loom_status_message(s));
  loom_status_free(s);
  exit(1);
}

void nn_init(nn_ctx* c, loom_graph* g, int64_t seed) {
  c->graph = g;
  c->num_inits = 0;
  c->num_vars = 0;
  c->seed = seed;
  c->next_seed2 = 1;
}

static loom_output finish(loom_op_builder* b, const char* type) {
  loom_op* op = NULL;
  nn_check(loom_op_builder_finish(b, &op), type);
  loom_output o = {op, 0};
  return o;
}

loom_output nn_op1(nn_ctx* c, const char* type, loom_output a) {
  loom_op_builder* b = loom_op_builder_new(c->graph, type, NULL);
  loom_op_builder_add_input(b, a);
  return finish(b, type);
}

loom_output nn_op2(nn_ctx* c, const char* type, loom_output a, loom_output x) {
  loom_op_builder* b = loom_op_builder_new(c->graph, type, NULL);
  loom_op_builder_add_input(b, a);
  loom_op_builder_add_input(b, x);
  return finish(b, type);
}

loom_output nn_placeholder(nn_ctx* c, loom_dtype dt, const int64_t* dims, int num_dims,
                           const char* name) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "Placeholder", name);
  loom_op_builder_set_attr_type(b, "dtype", dt);
  loom_op_builder_set_attr_shape(b, "shape", dims, num_dims);
  return finish(b, "Placeholder");
}

static loom_output const_tensor(nn_ctx* c, loom_tensor* t) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "Const", NULL);
  loom_op_builder_set_attr_tensor(b, "value", t);
  loom_op_builder_set_attr_type(b, "dtype", loom_tensor_dtype(t));
  loom_tensor_free(t);
  return finish(b, "Const");
}

loom_output nn_scalar(nn_ctx* c, float v) {
  loom_tensor* t = NULL;
  nn_check(loom_tensor_new(LOOM_DTYPE_FLOAT, NULL, 0, &t), "scalar");
  *(float*)loom_tensor_data(t) = v;
  return const_tensor(c, t);
}

loom_output nn_ints(nn_ctx* c, const int64_t* values, int n) {
  loom_tensor* t = NULL;
  int64_t dims[1] = {n};
  nn_check(loom_tensor_new(LOOM_DTYPE_INT32, dims, 1, &t), "ints");
  for (int i = 0; i < n; ++i) ((int32_t*)loom_tensor_data(t))[i] = (int32_t)values[i];
  return const_tensor(c, t);
}

loom_output nn_variable(nn_ctx* c, const char* name, const int64_t* dims, int num_dims,
                        loom_output initial, int trainable) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "VariableV2", name);
  loom_op_builder_set_attr_shape(b, "shape", dims, num_dims);
  loom_op_builder_set_attr_type(b, "dtype", loom_op_output_dtype(initial.op, initial.index));
  loom_output v = finish(b, "VariableV2");
  loom_output init = nn_op2(c, "Assign", v, initial);
  c->inits[c->num_inits++] = init.op;
  if (trainable) {
    if (c->num_vars == NN_MAX_VARS) {
      fprintf(stderr, "error: more than %d variables\n", NN_MAX_VARS);
      exit(1);
    }
    c->vars[c->num_vars++] = v;
  }
  return v;
}

loom_output nn_int(nn_ctx* c, int64_t v) {
  loom_tensor* t = NULL;
  nn_check(loom_tensor_new(LOOM_DTYPE_INT32, NULL, 0, &t), "int");
  *(int32_t*)loom_tensor_data(t) = (int32_t)v;
  return const_tensor(c, t);
}

static loom_output zeros(nn_ctx* c, const int64_t* dims, int num_dims) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "Fill", NULL);
  loom_op_builder_add_input(b, nn_ints(c, dims, num_dims));
  loom_op_builder_add_input(b, nn_scalar(c, 0.0f));
  return finish(b, "Fill");
}

loom_output nn_dense(nn_ctx* c, const char* name, loom_output x, int in, int out, int relu,
                     int zero_weights) {
  char wname[256], bname[256];
  snprintf(wname, sizeof wname, "%s/W", name);
  snprintf(bname, sizeof bname, "%s/b", name);
  int64_t wdims[2] = {in, out}, bdims[1] = {out};
  loom_output w_init;
  if (zero_weights) {
    w_init = zeros(c, wdims, 2);
  } else {
    loom_op_builder* b = loom_op_builder_new(c->graph, "TruncatedNormal", NULL);
    loom_op_builder_add_input(b, nn_ints(c, wdims, 2));
    loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
    loom_op_builder_set_attr_int(b, "seed", c->seed);
    loom_op_builder_set_attr_int(b, "seed2", c->next_seed2++);
    w_init = nn_op2(c, "Mul", finish(b, "TruncatedNormal"), nn_scalar(c, sqrtf(2.0f / in)));
  }
  loom_output w = nn_variable(c, wname, wdims, 2, w_init, 1);
  loom_output bias = nn_variable(c, bname, bdims, 1, zeros(c, bdims, 1), 1);
  loom_output y = nn_op2(c, "BiasAdd", nn_op2(c, "MatMul", x, w), bias);
  return relu ? nn_op1(c, "Relu", y) : y;
}

loom_op* nn_adam(nn_ctx* c, loom_output loss, float learning_rate) {
  const float beta1 = 0.9f, beta2 = 0.999f, epsilon = 1e-8f;
  loom_output grads[NN_MAX_VARS];
  nn_check(loom_graph_add_gradients(c->graph, "gradients", &loss, 1, c->vars, c->num_vars, NULL,
                                    grads),
           "gradients");
  int64_t scalar_dims[1] = {0};
  loom_output b1 = nn_scalar(c, beta1), b2 = nn_scalar(c, beta2);
  loom_output b1_power = nn_variable(c, "adam/beta1_power", scalar_dims, 0, b1, 0);
  loom_output b2_power = nn_variable(c, "adam/beta2_power", scalar_dims, 0, b2, 0);
  loom_output lr = nn_scalar(c, learning_rate), eps = nn_scalar(c, epsilon);

  /* Updates apply in place: gate them on every gradient, so no update runs
   * while the backward pass still reads a variable. */
  loom_op_builder* gb = loom_op_builder_new(c->graph, "NoOp", "gradients/gate");
  for (int i = 0; i < c->num_vars; ++i) {
    if (!grads[i].op) {
      fprintf(stderr, "error: the loss does not depend on variable %s\n", loom_op_name(c->vars[i].op));
      exit(1);
    }
    loom_op_builder_add_control_input(gb, grads[i].op);
  }
  loom_op* gate = finish(gb, "NoOp").op;
  loom_op* applies[NN_MAX_VARS];
  for (int i = 0; i < c->num_vars; ++i) {
    loom_output v = c->vars[i];
    char name[256];
    int64_t dims[8];
    int rank = 0;
    nn_check(loom_graph_output_shape(c->graph, v, dims, 8, &rank), "variable shape");
    snprintf(name, sizeof name, "%s/adam_m", loom_op_name(v.op));
    loom_output m = nn_variable(c, name, dims, rank, zeros(c, dims, rank), 0);
    snprintf(name, sizeof name, "%s/adam_v", loom_op_name(v.op));
    loom_output s = nn_variable(c, name, dims, rank, zeros(c, dims, rank), 0);
    loom_op_builder* b = loom_op_builder_new(c->graph, "ApplyAdam", NULL);
    loom_output ins[10] = {v, m, s, b1_power, b2_power, lr, b1, b2, eps, grads[i]};
    for (int k = 0; k < 10; ++k) loom_op_builder_add_input(b, ins[k]);
    loom_op_builder_add_control_input(b, gate);
    applies[i] = finish(b, "ApplyAdam").op;
  }
  /* After every update, advance beta1^t and beta2^t. */
  loom_output updates[2];
  loom_output powers[2] = {b1_power, b2_power}, betas[2] = {b1, b2};
  for (int k = 0; k < 2; ++k) {
    loom_op_builder* b = loom_op_builder_new(c->graph, "Assign", NULL);
    loom_op_builder_add_input(b, powers[k]);
    loom_op_builder_add_input(b, nn_op2(c, "Mul", powers[k], betas[k]));
    for (int i = 0; i < c->num_vars; ++i) loom_op_builder_add_control_input(b, applies[i]);
    updates[k] = finish(b, "Assign");
  }
  loom_op_builder* b = loom_op_builder_new(c->graph, "NoOp", "train");
  loom_op_builder_add_control_input(b, updates[0].op);
  loom_op_builder_add_control_input(b, updates[1].op);
  return finish(b, "NoOp").op;
}

loom_op* nn_init_op(nn_ctx* c) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "NoOp", "init");
  for (int i = 0; i < c->num_inits; ++i) loom_op_builder_add_control_input(b, c->inits[i]);
  return finish(b, "NoOp").op;
}

loom_output nn_accuracy(nn_ctx* c, loom_output logits, loom_output labels) {
  loom_op_builder* b = loom_op_builder_new(c->graph, "ArgMax", NULL);
  loom_op_builder_add_input(b, logits);
  loom_op_builder_add_input(b, nn_int(c, 1));
  loom_op_builder_set_attr_type(b, "output_type", LOOM_DTYPE_INT32);
  loom_output predicted = finish(b, "ArgMax");
  b = loom_op_builder_new(c->graph, "Cast", NULL);
  loom_op_builder_add_input(b, nn_op2(c, "Equal", predicted, labels));
  loom_op_builder_set_attr_type(b, "DstT", LOOM_DTYPE_FLOAT);
  loom_output hits = finish(b, "Cast");
  return nn_op2(c, "Mean", hits, nn_ints(c, (const int64_t[]){0}, 1));
}

double nn_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A new float tensor [n, features] holding rows order[first..first+n) of data. */
static loom_tensor* gather_rows(const float* data, const int* order, int first, int n,
                                int features) {
  loom_tensor* t = NULL;
  int64_t dims[2] = {n, features};
  nn_check(loom_tensor_new(LOOM_DTYPE_FLOAT, dims, 2, &t), "batch tensor");
  float* dst = (float*)loom_tensor_data(t);
  for (int i = 0; i < n; ++i)
    memcpy(dst + (size_t)i * features, data + (size_t)order[first + i] * features,
           sizeof(float) * (size_t)features);
  return t;
}

static loom_tensor* gather_labels(const int32_t* labels, const int* order, int first, int n) {
  loom_tensor* t = NULL;
  int64_t dims[1] = {n};
  nn_check(loom_tensor_new(LOOM_DTYPE_INT32, dims, 1, &t), "label tensor");
  int32_t* dst = (int32_t*)loom_tensor_data(t);
  for (int i = 0; i < n; ++i) dst[i] = labels[order[first + i]];
  return t;
}

static uint32_t next_random(uint64_t* state) {
  *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(*state >> 33);
}

double nn_train_epoch(loom_callable* step, const float* images, const int32_t* labels, int count,
                      int features, int batch, uint64_t* shuffle_state, int print_every,
                      int epoch) {
  int* order = (int*)malloc(sizeof(int) * (size_t)count);
  for (int i = 0; i < count; ++i) order[i] = i;
  for (int i = count - 1; i > 0; --i) { /* Fisher-Yates */
    int j = (int)(next_random(shuffle_state) % (uint32_t)(i + 1));
    int tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  double total = 0, recent = 0;
  int steps = 0, recent_steps = 0;
  for (int first = 0; first + batch <= count; first += batch) {
    loom_tensor* feeds[2] = {gather_rows(images, order, first, batch, features),
                             gather_labels(labels, order, first, batch)};
    loom_tensor* loss = NULL;
    nn_check(loom_callable_run(step, feeds, &loss), "training step");
    const double l = *(const float*)loom_tensor_data(loss);
    loom_tensor_free(loss);
    loom_tensor_free(feeds[0]);
    loom_tensor_free(feeds[1]);
    total += l;
    recent += l;
    ++steps;
    ++recent_steps;
    if (print_every > 0 && steps % print_every == 0) {
      printf("epoch %d step %5d  loss %.4f\n", epoch, steps, recent / recent_steps);
      fflush(stdout);
      recent = 0;
      recent_steps = 0;
    }
  }
  free(order);
  return steps ? total / steps : 0;
}

double nn_evaluate(loom_session* s, loom_output x, loom_output y, loom_output accuracy,
                   const float* images, const int32_t* labels, int count, int features) {
  int* order = (int*)malloc(sizeof(int) * (size_t)count);
  for (int i = 0; i < count; ++i) order[i] = i;
  const int batch = 1000;
  double hits = 0;
  for (int first = 0; first < count; first += batch) {
    int n = count - first < batch ? count - first : batch;
    loom_tensor* feeds[2] = {gather_rows(images, order, first, n, features),
                             gather_labels(labels, order, first, n)};
    loom_output feed_outs[2] = {x, y};
    loom_tensor* acc = NULL;
    nn_check(loom_session_run(s, feed_outs, feeds, 2, &accuracy, 1, NULL, 0, &acc), "evaluation");
    hits += *(const float*)loom_tensor_data(acc) * n;
    loom_tensor_free(acc);
    loom_tensor_free(feeds[0]);
    loom_tensor_free(feeds[1]);
  }
  free(order);
  return count ? hits / count : 0;
}
