// Neural-network kernels: softmax over rows, the fused cross-entropy losses,
// and the optimizer updates (in place on the variable's buffer). Scalars of
// the updates (learning rate, betas, ...) are read from 1-element device
// buffers, so a step never waits for the host.

// Softmax / LogSoftmax of each row of [rows, cols]; one work-item per row.
__kernel void softmax_float(__global const float* x, __global float* y, long rows, long cols,
                            int log_softmax) {
  const long r = get_global_id(0);
  if (r >= rows) return;
  x += r * cols;
  y += r * cols;
  float m = -INFINITY;
  for (long c = 0; c < cols; ++c) m = fmax(m, x[c]);
  float s = 0.0f;
  for (long c = 0; c < cols; ++c) s += exp(x[c] - m);
  if (log_softmax) {
    const float ls = log(s);
    for (long c = 0; c < cols; ++c) y[c] = x[c] - m - ls;
  } else {
    for (long c = 0; c < cols; ++c) y[c] = exp(x[c] - m) / s;
  }
}

// SoftmaxCrossEntropyWithLogits on [rows, cols]; features and labels are read
// through (row, col) strides so either may broadcast (stride 0).
__kernel void xent_float(__global const float* x, __global const float* l,
                         __global float* loss, __global float* back, long rows, long cols,
                         long xs0, long xs1, long ls0, long ls1) {
  const long r = get_global_id(0);
  if (r >= rows) return;
  x += r * xs0;
  l += r * ls0;
  back += r * cols;
  float m = -INFINITY;
  for (long c = 0; c < cols; ++c) m = fmax(m, x[c * xs1]);
  float s = 0.0f;
  for (long c = 0; c < cols; ++c) s += exp(x[c * xs1] - m);
  const float ls = log(s);
  float total = 0.0f;
  for (long c = 0; c < cols; ++c) {
    const float z = x[c * xs1] - m;
    const float lab = l[c * ls1];
    total += lab * (ls - z);
    back[c] = exp(z) / s - lab;
  }
  loss[r] = total;
}

// SparseSoftmaxCrossEntropyWithLogits; labels (already checked to lie in
// [0, cols) on the host) as longs.
__kernel void sparse_xent_float(__global const float* x, __global const long* labels,
                                __global float* loss, __global float* back, long rows,
                                long cols) {
  const long r = get_global_id(0);
  if (r >= rows) return;
  x += r * cols;
  back += r * cols;
  const long label = labels[r];
  float m = -INFINITY;
  for (long c = 0; c < cols; ++c) m = fmax(m, x[c]);
  float s = 0.0f;
  for (long c = 0; c < cols; ++c) s += exp(x[c] - m);
  const float ls = log(s);
  for (long c = 0; c < cols; ++c) back[c] = exp(x[c] - m) / s - (c == label ? 1.0f : 0.0f);
  loss[r] = ls - (x[label] - m);
}

// ---------------------------------------------------------------- variable updates

__kernel void assign_add_float(__global float* var, __global const float* v, long n) {
  const long i = get_global_id(0);
  if (i < n) var[i] += v[i];
}
__kernel void assign_sub_float(__global float* var, __global const float* v, long n) {
  const long i = get_global_id(0);
  if (i < n) var[i] -= v[i];
}

__kernel void apply_gradient_descent_float(__global float* var, __global const float* alpha,
                                           __global const float* delta, long n) {
  const long i = get_global_id(0);
  if (i < n) var[i] -= alpha[0] * delta[i];
}

__kernel void apply_momentum_float(__global float* var, __global float* accum,
                                   __global const float* lr, __global const float* grad,
                                   __global const float* momentum, long n, int nesterov) {
  const long i = get_global_id(0);
  if (i >= n) return;
  const float g = grad[i];
  const float a = accum[i] * momentum[0] + g;
  accum[i] = a;
  var[i] -= nesterov ? g * lr[0] + a * momentum[0] * lr[0] : lr[0] * a;
}

__kernel void apply_adam_float(__global float* var, __global float* m, __global float* v,
                               __global const float* beta1_power,
                               __global const float* beta2_power, __global const float* lr,
                               __global const float* beta1, __global const float* beta2,
                               __global const float* epsilon, __global const float* grad,
                               long n, int nesterov) {
  const long i = get_global_id(0);
  if (i >= n) return;
  const float b1 = beta1[0], b2 = beta2[0];
  const float lr_t = lr[0] * sqrt(1.0f - beta2_power[0]) / (1.0f - beta1_power[0]);
  const float g = grad[i];
  const float mi = m[i] + (g - m[i]) * (1.0f - b1);
  const float vi = v[i] + (g * g - v[i]) * (1.0f - b2);
  m[i] = mi;
  v[i] = vi;
  const float step = nesterov ? (g * (1.0f - b1) + b1 * mi) : mi;
  var[i] -= step * lr_t / (sqrt(vi) + epsilon[0]);
}

__kernel void apply_adagrad_float(__global float* var, __global float* accum,
                                  __global const float* lr, __global const float* grad, long n,
                                  int update_slots) {
  const long i = get_global_id(0);
  if (i >= n) return;
  const float g = grad[i];
  float a = accum[i];
  if (update_slots) {
    a += g * g;
    accum[i] = a;
  }
  var[i] -= lr[0] * g / sqrt(a);
}

__kernel void apply_rms_prop_float(__global float* var, __global float* ms, __global float* mom,
                                   __global const float* lr, __global const float* rho,
                                   __global const float* momentum,
                                   __global const float* epsilon, __global const float* grad,
                                   long n) {
  const long i = get_global_id(0);
  if (i >= n) return;
  const float g = grad[i];
  const float s = ms[i] + (g * g - ms[i]) * (1.0f - rho[0]);
  ms[i] = s;
  const float mo = mom[i] * momentum[0] + lr[0] * g / sqrt(s + epsilon[0]);
  mom[i] = mo;
  var[i] -= mo;
}
