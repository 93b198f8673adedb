// Neural-network kernels: Softmax, LogSoftmax, the two cross-entropy losses,
// and the variable updates (AssignAdd/Sub and the optimizers' Apply* ops),
// which modify input 0 (the variable's buffer) in place and forward it.
#include <algorithm>
#include <cmath>

#include <Eigen/Core>

#include "kernels.h"

namespace loom_cpu {
namespace {

template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// ---------------------------------------------------------------- softmax

template <bool kLog>
loom_status* SoftmaxImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0);
  if (x.rank < 1) {
    return InvalidArgument("logits must have >= 1 dimension, got ", x.shape_str());
  }
  Tensor y;
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  const int64_t cls = x.dim(x.rank - 1);
  if (y.size == 0) return nullptr;
  const int64_t rows = x.size / cls;
  return Dispatch(FloatTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* in = x.as<const T>();
    T* out = y.as<T>();
    k.parallel_for(rows, cls * 30 + 20, [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        ConstArrayMap<T> xi(in + r * cls, cls);
        ArrayMap<T> yo(out + r * cls, cls);
        const T m = xi.maxCoeff();
        if constexpr (kLog) {
          yo = xi - m;
          const T lse = std::log(yo.exp().sum());
          yo -= lse;
        } else {
          yo = (xi - m).exp();
          yo *= T(1) / yo.sum();
        }
      }
    });
    return nullptr;
  });
}

// ---------------------------------------------------------------- losses

// loss[b] = sum_j -labels[b,j] * log_softmax(logits)[b,j]; backprop = softmax - labels.
template <typename T>
void XentRows(const Kernel& k, const T* logits, const T* labels, int64_t rows, int64_t cls,
              T* loss, T* back) {
  k.parallel_for(rows, cls * 40 + 20, [&](int64_t s, int64_t e) {
    for (int64_t r = s; r < e; ++r) {
      ConstArrayMap<T> x(logits + r * cls, cls), l(labels + r * cls, cls);
      ArrayMap<T> b(back + r * cls, cls);
      const T m = x.maxCoeff();
      b = x - m;                          // shifted logits
      const T lse = std::log(b.exp().sum());
      loss[r] = (l * (lse - b)).sum();
      b = (b - lse).exp() - l;            // softmax - labels
    }
  });
}

loom_status* SoftmaxXentImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), l = k.input(1);
  Broadcast bc;
  const Tensor* in[2] = {&x, &l};
  loom_status* s = BroadcastInputs(in, 2, &bc);
  if (s != nullptr || bc.out.n != 2) {
    if (s) g_host->status_free(s);
    return InvalidArgument("logits and labels must be broadcastable to the same 2-D shape: "
                           "logits_size=", x.shape_str(), " labels_size=", l.shape_str());
  }
  const int64_t rows = bc.out[0], cls = bc.out[1];
  Dims ld;
  ld.push_back(rows);
  Tensor loss, back;
  LOOM_RETURN_IF_ERROR(k.allocate(0, ld, &loss));
  LOOM_RETURN_IF_ERROR(k.allocate(1, bc.out, &back));
  return Dispatch(FloatTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    if (rows == 0) return nullptr;
    if (cls == 0) {
      std::fill(loss.as<T>(), loss.as<T>() + rows, T(0));
      return nullptr;
    }
    // Materialise broadcast operands (rare: labels or logits of shape [1, C]).
    std::vector<T> xb, lb;
    auto materialise = [&](const Tensor& t, int which, std::vector<T>* buf) -> const T* {
      if (t.same_shape(back)) return t.as<const T>();
      buf->resize(static_cast<size_t>(rows * cls));
      const int64_t inner = bc.inner();
      const bool contiguous = bc.inner_contiguous(which);
      bc.ForRows(0, bc.rows(), [&](int64_t row, const int64_t* off) {
        for (int64_t i = 0; i < inner; ++i)
          (*buf)[row * inner + i] = t.as<const T>()[off[which] + (contiguous ? i : 0)];
      });
      return buf->data();
    };
    const T* xp = materialise(x, 0, &xb);
    const T* lp = materialise(l, 1, &lb);
    XentRows<T>(k, xp, lp, rows, cls, loss.as<T>(), back.as<T>());
    return nullptr;
  });
}

loom_status* SparseSoftmaxXentImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor x = k.input(0), l = k.input(1);
  if (x.rank != 2) return InvalidArgument("logits must be 2-D, but got shape ", x.shape_str());
  if (l.rank != 1) return InvalidArgument("labels must be 1-D, but got shape ", l.shape_str());
  if (l.dim(0) != x.dim(0)) {
    return InvalidArgument("logits and labels must have the same first dimension, got logits "
                           "shape ", x.shape_str(), " and labels shape ", l.shape_str());
  }
  const int64_t rows = x.dim(0), cls = x.dim(1);
  if (cls == 0 && rows > 0) {
    return InvalidArgument("Must have at least one class, but got logits shape ",
                           x.shape_str());
  }
  std::vector<int64_t> labels;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(l, "labels", &labels));
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= cls) {
      return InvalidArgument("Received a label value of ", labels[i], " at index ", i,
                             " which is outside the valid range of [0, ", cls,
                             ") (the number of classes)");
    }
  }
  Dims ld;
  ld.push_back(rows);
  Tensor loss, back;
  LOOM_RETURN_IF_ERROR(k.allocate(0, ld, &loss));
  LOOM_RETURN_IF_ERROR(k.allocate(1, x.shape(), &back));
  if (rows == 0) return nullptr;
  return Dispatch(FloatTypes{}, x.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T* in = x.as<const T>();
    T* lo = loss.as<T>();
    T* bp = back.as<T>();
    k.parallel_for(rows, cls * 30 + 20, [&](int64_t s, int64_t e) {
      for (int64_t r = s; r < e; ++r) {
        ConstArrayMap<T> xi(in + r * cls, cls);
        ArrayMap<T> b(bp + r * cls, cls);
        const T m = xi.maxCoeff();
        b = xi - m;
        const T lse = std::log(b.exp().sum());
        lo[r] = lse - b[labels[r]];
        b = (b - lse).exp();
        b[labels[r]] -= T(1);
      }
    });
    return nullptr;
  });
}

// ---------------------------------------------------------------- variable updates

loom_status* CheckLike(const Tensor& var, const Tensor& t, const char* name) {
  if (!var.same_shape(t)) {
    return InvalidArgument("var and ", name, " do not have the same shape: ", var.shape_str(),
                           " vs. ", t.shape_str());
  }
  return nullptr;
}
loom_status* CheckScalar(const Tensor& t, const char* name) {
  if (t.rank != 0) return InvalidArgument(name, " is not a scalar: ", t.shape_str());
  return nullptr;
}

// Runs f(begin, end) over the variable's elements, then forwards input 0 (the
// variable, updated in place) to output 0.
template <typename F>
loom_status* UpdateInPlace(const Kernel& k, const Tensor& var, int64_t cost, F&& f) {
  k.parallel_for(var.size, cost, f);
  return k.forward(0, 0, var.shape());
}

template <bool kAdd>
loom_status* AssignUpdateImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor var = k.input(0), v = k.input(1);
  if (!var.same_shape(v)) {
    return InvalidArgument("Parameters and update must be the same size: ", var.shape_str(),
                           " vs. ", v.shape_str());
  }
  return Dispatch(NumericTypes{}, var.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    T* p = var.as<T>();
    const T* u = v.as<const T>();
    return UpdateInPlace(k, var, 1, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) p[i] = kAdd ? p[i] + u[i] : p[i] - u[i];
    });
  });
}

loom_status* ApplyGradientDescentImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor var = k.input(0), alpha = k.input(1), delta = k.input(2);
  LOOM_RETURN_IF_ERROR(CheckScalar(alpha, "alpha"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, delta, "delta"));
  return Dispatch(FloatTypes{}, var.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    T* p = var.as<T>();
    const T* d = delta.as<const T>();
    const T a = alpha.as<const T>()[0];
    return UpdateInPlace(k, var, 2, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) p[i] -= a * d[i];
    });
  });
}

loom_status* ApplyMomentumImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor var = k.input(0), accum = k.input(1), lr = k.input(2), grad = k.input(3),
         mom = k.input(4);
  bool nesterov = false;
  LOOM_RETURN_IF_ERROR(k.attr("use_nesterov", &nesterov, false));
  LOOM_RETURN_IF_ERROR(CheckLike(var, accum, "accum"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  LOOM_RETURN_IF_ERROR(CheckScalar(lr, "lr"));
  LOOM_RETURN_IF_ERROR(CheckScalar(mom, "momentum"));
  return Dispatch(FloatTypes{}, var.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    T* p = var.as<T>();
    T* a = accum.as<T>();
    const T* g = grad.as<const T>();
    const T l = lr.as<const T>()[0], m = mom.as<const T>()[0];
    return UpdateInPlace(k, var, 4, [&](int64_t s, int64_t e) {
      for (int64_t i = s; i < e; ++i) {
        a[i] = a[i] * m + g[i];
        p[i] -= nesterov ? g[i] * l + a[i] * m * l : l * a[i];
      }
    });
  });
}

loom_status* ApplyAdamImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor var = k.input(0), m = k.input(1), v = k.input(2);
  Tensor scal[6];
  const char* names[6] = {"beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"};
  for (int i = 0; i < 6; ++i) {
    scal[i] = k.input(3 + i);
    LOOM_RETURN_IF_ERROR(CheckScalar(scal[i], names[i]));
  }
  Tensor grad = k.input(9);
  bool nesterov = false;
  LOOM_RETURN_IF_ERROR(k.attr("use_nesterov", &nesterov, false));
  LOOM_RETURN_IF_ERROR(CheckLike(var, m, "m"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, v, "v"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  return Dispatch(FloatTypes{}, var.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T b1p = scal[0].as<const T>()[0], b2p = scal[1].as<const T>()[0];
    const T lr = scal[2].as<const T>()[0], b1 = scal[3].as<const T>()[0];
    const T b2 = scal[4].as<const T>()[0], eps = scal[5].as<const T>()[0];
    const T lr_t = lr * std::sqrt(T(1) - b2p) / (T(1) - b1p);
    T* pp = var.as<T>();
    T* mp = m.as<T>();
    T* vp = v.as<T>();
    const T* gp = grad.as<const T>();
    return UpdateInPlace(k, var, 12, [&](int64_t s, int64_t e) {
      const int64_t n = e - s;
      ArrayMap<T> P(pp + s, n), M(mp + s, n), V(vp + s, n);
      ConstArrayMap<T> G(gp + s, n);
      M += (G - M) * (T(1) - b1);
      V += (G.square() - V) * (T(1) - b2);
      if (nesterov) {
        P -= ((G * (T(1) - b1) + b1 * M) * lr_t) / (V.sqrt() + eps);
      } else {
        P -= (M * lr_t) / (V.sqrt() + eps);
      }
    });
  });
}

loom_status* ApplyAdagradImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor var = k.input(0), accum = k.input(1), lr = k.input(2), grad = k.input(3);
  bool update_slots = true;
  LOOM_RETURN_IF_ERROR(k.attr("update_slots", &update_slots, true));
  LOOM_RETURN_IF_ERROR(CheckLike(var, accum, "accum"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  LOOM_RETURN_IF_ERROR(CheckScalar(lr, "lr"));
  return Dispatch(FloatTypes{}, var.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T l = lr.as<const T>()[0];
    T* pp = var.as<T>();
    T* ap = accum.as<T>();
    const T* gp = grad.as<const T>();
    return UpdateInPlace(k, var, 10, [&](int64_t s, int64_t e) {
      const int64_t n = e - s;
      ArrayMap<T> P(pp + s, n), A(ap + s, n);
      ConstArrayMap<T> G(gp + s, n);
      if (update_slots) A += G.square();
      P -= G * l * A.rsqrt();
    });
  });
}

loom_status* ApplyRMSPropImpl(loom_kernel_context* c) {
  Kernel k(c);
  Tensor var = k.input(0), ms = k.input(1), mom = k.input(2);
  Tensor scal[4];
  const char* names[4] = {"lr", "rho", "momentum", "epsilon"};
  for (int i = 0; i < 4; ++i) {
    scal[i] = k.input(3 + i);
    LOOM_RETURN_IF_ERROR(CheckScalar(scal[i], names[i]));
  }
  Tensor grad = k.input(7);
  LOOM_RETURN_IF_ERROR(CheckLike(var, ms, "ms"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, mom, "mom"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  return Dispatch(FloatTypes{}, var.dtype, [&](auto zero) -> loom_status* {
    using T = decltype(zero);
    const T lr = scal[0].as<const T>()[0], rho = scal[1].as<const T>()[0];
    const T momentum = scal[2].as<const T>()[0], eps = scal[3].as<const T>()[0];
    T* pp = var.as<T>();
    T* msp = ms.as<T>();
    T* mop = mom.as<T>();
    const T* gp = grad.as<const T>();
    return UpdateInPlace(k, var, 12, [&](int64_t s, int64_t e) {
      const int64_t n = e - s;
      ArrayMap<T> P(pp + s, n), MS(msp + s, n), MOM(mop + s, n);
      ConstArrayMap<T> G(gp + s, n);
      MS += (G.square() - MS) * (T(1) - rho);
      MOM = MOM * momentum + G * lr / (MS + eps).sqrt();
      P -= MOM;
    });
  });
}

}  // namespace

LOOM_CPU_KERNEL(SoftmaxKernel) { return SoftmaxImpl<false>(ctx); }
LOOM_CPU_KERNEL(LogSoftmaxKernel) { return SoftmaxImpl<true>(ctx); }
LOOM_CPU_KERNEL(SoftmaxCrossEntropyWithLogitsKernel) { return SoftmaxXentImpl(ctx); }
LOOM_CPU_KERNEL(SparseSoftmaxCrossEntropyWithLogitsKernel) {
  return SparseSoftmaxXentImpl(ctx);
}
LOOM_CPU_KERNEL(AssignAddKernel) { return AssignUpdateImpl<true>(ctx); }
LOOM_CPU_KERNEL(AssignSubKernel) { return AssignUpdateImpl<false>(ctx); }
LOOM_CPU_KERNEL(ApplyGradientDescentKernel) { return ApplyGradientDescentImpl(ctx); }
LOOM_CPU_KERNEL(ApplyMomentumKernel) { return ApplyMomentumImpl(ctx); }
LOOM_CPU_KERNEL(ApplyAdamKernel) { return ApplyAdamImpl(ctx); }
LOOM_CPU_KERNEL(ApplyAdagradKernel) { return ApplyAdagradImpl(ctx); }
LOOM_CPU_KERNEL(ApplyRMSPropKernel) { return ApplyRMSPropImpl(ctx); }

}  // namespace loom_cpu
