// Batch normalisation kernels (NHWC, float): FusedBatchNorm{,V2,V3} and
// FusedBatchNormGrad{,V2,V3}; per-channel statistics accumulated in double.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <type_traits>
#include <vector>

#include "conv_util.h"
#include "kernels.h"

namespace loom_cpu {
namespace {

// Per-channel sums of f(row pointer, channel) over the [rows, C] view, split
// over the pool; accumulated in double so 10^5-row batches lose nothing.
template <typename F>
loom_status* ChannelSums(const Kernel& k, int64_t rows, int64_t C, int nsums, double* out,
                         F&& f) {
  std::fill(out, out + nsums * C, 0.0);
  const int64_t parts = std::max<int64_t>(
      1, std::min<int64_t>(k.num_threads(), rows * C / (8 * kInlineCostCycles) + 1));
  Tensor partials;
  Dims d;
  d.push_back(parts);
  d.push_back(nsums * C);
  LOOM_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_DOUBLE, d, &partials));
  double* ps = partials.as<double>();
  k.parallel_for(parts, std::numeric_limits<int32_t>::max(), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      double* acc = ps + p * nsums * C;
      std::fill(acc, acc + nsums * C, 0.0);
      const int64_t r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
      for (int64_t r = r0; r < r1; ++r) f(r, acc);
    }
  });
  for (int64_t p = 0; p < parts; ++p)
    for (int64_t i = 0; i < nsums * C; ++i) out[i] += ps[p * nsums * C + i];
  return nullptr;
}

// y = x * a[c] + b[c] over the [rows, C] view.
void ScaleShift(const Kernel& k, const float* x, int64_t rows, int64_t C, const float* a,
                const float* b, float* y) {
  k.parallel_for(rows, 2 * C + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xi = x + r * C;
      float* yi = y + r * C;
      for (int64_t ch = 0; ch < C; ++ch) yi[ch] = xi[ch] * a[ch] + b[ch];
    }
  });
}

loom_status* CheckVector(const Tensor& t, const char* what, int64_t C) {
  if (t.rank != 1 || t.dim(0) != C) {
    return InvalidArgument(what, " must be 1-D with ", C, " elements (the channels of x), but "
                           "has shape ", t.shape_str());
  }
  return nullptr;
}

// FusedBatchNorm, V2 and V3 (V3: one more output, reserve_space_3, empty).
loom_status* FusedBatchNormImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), scale = k.input(1), offset = k.input(2), mean_in = k.input(3),
         var_in = k.input(4);
  LOOM_RETURN_IF_ERROR(RequireNhwc(k));
  LOOM_RETURN_IF_ERROR(Require4D(x, "x"));
  if (x.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype(x.dtype);
  float eps = 1e-4f, factor = 1.0f;
  bool training = true;
  LOOM_RETURN_IF_ERROR(k.attr("epsilon", &eps, 1e-4f));
  LOOM_RETURN_IF_ERROR(k.attr("exponential_avg_factor", &factor, 1.0f));
  LOOM_RETURN_IF_ERROR(k.attr("is_training", &training, true));
  const int64_t C = x.dim(3), rows = x.size / std::max<int64_t>(C, 1);
  LOOM_RETURN_IF_ERROR(CheckVector(scale, "scale", C));
  LOOM_RETURN_IF_ERROR(CheckVector(offset, "offset", C));
  const bool use_running = !training || factor != 1.0f;
  if (use_running) {
    LOOM_RETURN_IF_ERROR(CheckVector(mean_in, "mean", C));
    LOOM_RETURN_IF_ERROR(CheckVector(var_in, "variance", C));
  }
  Tensor y, bmean, bvar, r1, r2;
  const int64_t cd[1] = {C};
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  LOOM_RETURN_IF_ERROR(k.allocate(1, cd, 1, &bmean));
  LOOM_RETURN_IF_ERROR(k.allocate(2, cd, 1, &bvar));
  LOOM_RETURN_IF_ERROR(k.allocate(3, cd, 1, &r1));
  LOOM_RETURN_IF_ERROR(k.allocate(4, cd, 1, &r2));
  if (k.num_outputs() > 5) {
    const int64_t zero[1] = {0};
    Tensor r3;
    LOOM_RETURN_IF_ERROR(k.allocate(5, zero, 1, &r3));
  }
  const float* xp = x.as<const float>();
  const float* sp = scale.as<const float>();
  const float* op = offset.as<const float>();
  std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C));
  if (!training) {
    const float* m = mean_in.as<const float>();
    const float* v = var_in.as<const float>();
    for (int64_t ch = 0; ch < C; ++ch) {
      a[ch] = sp[ch] / std::sqrt(v[ch] + eps);
      b[ch] = op[ch] - m[ch] * a[ch];
      bmean.as<float>()[ch] = r1.as<float>()[ch] = m[ch];
      bvar.as<float>()[ch] = r2.as<float>()[ch] = v[ch];
    }
    ScaleShift(k, xp, rows, C, a.data(), b.data(), y.as<float>());
    return nullptr;
  }
  // Two passes (mean, then centred squares) for accuracy with large means.
  std::vector<double> sum(static_cast<size_t>(C)), sq(static_cast<size_t>(C));
  LOOM_RETURN_IF_ERROR(ChannelSums(k, rows, C, 1, sum.data(), [&](int64_t r, double* acc) {
    const float* xi = xp + r * C;
    for (int64_t ch = 0; ch < C; ++ch) acc[ch] += xi[ch];
  }));
  std::vector<float> mean(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) mean[ch] = rows ? static_cast<float>(sum[ch] / rows) : 0.f;
  LOOM_RETURN_IF_ERROR(ChannelSums(k, rows, C, 1, sq.data(), [&](int64_t r, double* acc) {
    const float* xi = xp + r * C;
    for (int64_t ch = 0; ch < C; ++ch) {
      const double d = static_cast<double>(xi[ch]) - mean[ch];
      acc[ch] += d * d;
    }
  }));
  const double adjust = rows > 1 ? static_cast<double>(rows) / (rows - 1) : 1.0;
  for (int64_t ch = 0; ch < C; ++ch) {
    const float var = rows ? static_cast<float>(sq[ch] / rows) : 0.f;
    a[ch] = sp[ch] / std::sqrt(var + eps);
    b[ch] = op[ch] - mean[ch] * a[ch];
    r1.as<float>()[ch] = mean[ch];
    r2.as<float>()[ch] = var;
    const float unbiased = static_cast<float>(var * adjust);
    if (factor == 1.0f) {
      bmean.as<float>()[ch] = mean[ch];
      bvar.as<float>()[ch] = unbiased;
    } else {
      bmean.as<float>()[ch] = (1 - factor) * mean_in.as<const float>()[ch] + factor * mean[ch];
      bvar.as<float>()[ch] = (1 - factor) * var_in.as<const float>()[ch] + factor * unbiased;
    }
  }
  ScaleShift(k, xp, rows, C, a.data(), b.data(), y.as<float>());
  return nullptr;
}

// FusedBatchNormGrad{,V2,V3}: inputs y_backprop, x, scale, reserve_space_1
// (mean), reserve_space_2 (variance) [, reserve_space_3 (unused)].
loom_status* FusedBatchNormGradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor dy = k.input(0), x = k.input(1), scale = k.input(2), mean = k.input(3),
         var = k.input(4);
  LOOM_RETURN_IF_ERROR(RequireNhwc(k));
  LOOM_RETURN_IF_ERROR(Require4D(x, "x"));
  if (!dy.same_shape(x)) {
    return InvalidArgument("y_backprop and x must have the same shape, got ", dy.shape_str(),
                           " and ", x.shape_str());
  }
  if (x.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype(x.dtype);
  float eps = 1e-4f;
  bool training = true;
  LOOM_RETURN_IF_ERROR(k.attr("epsilon", &eps, 1e-4f));
  LOOM_RETURN_IF_ERROR(k.attr("is_training", &training, true));
  const int64_t C = x.dim(3), rows = x.size / std::max<int64_t>(C, 1);
  LOOM_RETURN_IF_ERROR(CheckVector(scale, "scale", C));
  LOOM_RETURN_IF_ERROR(CheckVector(mean, "reserve_space_1 (mean)", C));
  LOOM_RETURN_IF_ERROR(CheckVector(var, "reserve_space_2 (variance)", C));
  Tensor dx, dscale, doffset, e3, e4;
  const int64_t cd[1] = {C}, zero[1] = {0};
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &dx));
  LOOM_RETURN_IF_ERROR(k.allocate(1, cd, 1, &dscale));
  LOOM_RETURN_IF_ERROR(k.allocate(2, cd, 1, &doffset));
  LOOM_RETURN_IF_ERROR(k.allocate(3, zero, 1, &e3));
  LOOM_RETURN_IF_ERROR(k.allocate(4, zero, 1, &e4));
  const float* dyp = dy.as<const float>();
  const float* xp = x.as<const float>();
  const float* mp = mean.as<const float>();
  std::vector<float> inv(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) inv[ch] = 1.0f / std::sqrt(var.as<const float>()[ch] + eps);
  // sums[0:C] = sum(dy), sums[C:2C] = sum(dy * (x - mean)).
  std::vector<double> sums(static_cast<size_t>(2 * C));
  LOOM_RETURN_IF_ERROR(ChannelSums(k, rows, C, 2, sums.data(), [&](int64_t r, double* acc) {
    const float* dyi = dyp + r * C;
    const float* xi = xp + r * C;
    for (int64_t ch = 0; ch < C; ++ch) {
      acc[ch] += dyi[ch];
      acc[C + ch] += static_cast<double>(dyi[ch]) * (xi[ch] - mp[ch]);
    }
  }));
  // dx = a * dy + b * (x - mean) + d, per channel.
  std::vector<float> a(static_cast<size_t>(C)), bb(static_cast<size_t>(C)),
      dd(static_cast<size_t>(C));
  for (int64_t ch = 0; ch < C; ++ch) {
    const float s = scale.as<const float>()[ch];
    doffset.as<float>()[ch] = static_cast<float>(sums[ch]);
    dscale.as<float>()[ch] = static_cast<float>(sums[C + ch] * inv[ch]);
    a[ch] = s * inv[ch];
    if (training && rows > 0) {
      const double mean_dy = sums[ch] / rows;
      const double mean_dyxc = sums[C + ch] / rows;  // mean(dy * (x - mean))
      bb[ch] = static_cast<float>(-a[ch] * mean_dyxc * inv[ch] * inv[ch]);
      dd[ch] = static_cast<float>(-a[ch] * mean_dy);
    } else {
      bb[ch] = 0;
      dd[ch] = 0;
    }
  }
  float* dxp = dx.as<float>();
  k.parallel_for(rows, 4 * C + 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* dyi = dyp + r * C;
      const float* xi = xp + r * C;
      float* o = dxp + r * C;
      for (int64_t ch = 0; ch < C; ++ch)
        o[ch] = a[ch] * dyi[ch] + bb[ch] * (xi[ch] - mp[ch]) + dd[ch];
    }
  });
  return nullptr;
}

}  // namespace

LOOM_CPU_KERNEL(FusedBatchNormKernel) { return FusedBatchNormImpl(ctx); }
LOOM_CPU_KERNEL(FusedBatchNormGradKernel) { return FusedBatchNormGradImpl(ctx); }

}  // namespace loom_cpu
