// Softmax, LogSoftmax, the fused cross-entropy losses, and the variable
// updates (AssignAdd/Sub and the optimizers' Apply* ops), which modify input
// 0 — the variable's buffer, a cl_mem — in place and forward it to output 0.
#include <vector>

#include "kernels.h"

namespace loom_opencl {

namespace {

loom_status* CheckLike(const Tensor& var, const Tensor& t, const char* what) {
  if (!var.same_shape(t)) {
    return InvalidArgument("var and ", what, " do not have the same shape: ", var.shape_str(),
                           " vs. ", t.shape_str());
  }
  return nullptr;
}

loom_status* CheckFloat(const char* op, const Tensor& t) {
  return t.dtype == LOOM_DTYPE_FLOAT ? nullptr : UnsupportedDtype(op, t.dtype);
}

}  // namespace

LOOM_CL_KERNEL(SoftmaxKernel) {
  const char* op = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor x = k.input(0), y;
  if (x.rank < 1) return InvalidArgument("logits must have >= 1 dimension, got ", x.shape_str());
  LOOM_RETURN_IF_ERROR(CheckFloat(op, x));
  LOOM_RETURN_IF_ERROR(k.forward_or_allocate({0}, 0, x.shape(), &y));
  const int64_t cols = x.dim(x.rank - 1);
  if (x.size == 0) return nullptr;
  const int64_t rows = x.size / cols;
  const int log_softmax = std::string(op) == "log_softmax" ? 1 : 0;
  cl_mem xm = Mem(x), ym = Mem(y);
  return k.Launch1D("softmax_float", rows, {xm, ym, rows, cols, log_softmax});
}

LOOM_CL_KERNEL(XentKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), l = k.input(1), loss, back;
  LOOM_RETURN_IF_ERROR(CheckFloat("SoftmaxCrossEntropyWithLogits", x));
  // TensorFlow accepts 2-D features and labels that broadcast to one shape
  // (a 1-D tensor counts as one row).
  if (x.rank > 2 || l.rank > 2 || x.rank < 1 || l.rank < 1) {
    return InvalidArgument("logits and labels must be 2-D (or broadcastable to it), got logits ",
                           x.shape_str(), " and labels ", l.shape_str());
  }
  auto as2d = [](const Tensor& t, int64_t* r, int64_t* c) {
    *r = t.rank == 2 ? t.dim(0) : 1;
    *c = t.dim(t.rank - 1);
  };
  int64_t xr, xc, lr, lc;
  as2d(x, &xr, &xc);
  as2d(l, &lr, &lc);
  if ((xr != lr && xr != 1 && lr != 1) || (xc != lc && xc != 1 && lc != 1)) {
    return InvalidArgument("logits and labels must be broadcastable to the same 2-D shape: "
                           "logits_size=", x.shape_str(), " labels_size=", l.shape_str());
  }
  const int64_t rows = xr == 1 ? lr : xr, cols = xc == 1 ? lc : xc;
  Dims ld, bd;
  ld.push_back(rows);
  bd.push_back(rows);
  bd.push_back(cols);
  LOOM_RETURN_IF_ERROR(k.allocate(0, ld, &loss));
  LOOM_RETURN_IF_ERROR(k.allocate(1, bd, &back));
  if (rows == 0) return nullptr;
  if (cols == 0) {
    const float zero = 0.0f;
    return k.dev().Fill(Mem(loss), &zero, sizeof zero, loss.bytes(), "an empty loss");
  }
  const int64_t xs0 = xr == 1 ? 0 : xc, xs1 = xc == 1 ? 0 : 1;
  const int64_t ls0 = lr == 1 ? 0 : lc, ls1 = lc == 1 ? 0 : 1;
  cl_mem xm = Mem(x), lm = Mem(l), lo = Mem(loss), bm = Mem(back);
  return k.Launch1D("xent_float", rows, {xm, lm, lo, bm, rows, cols, xs0, xs1, ls0, ls1});
}

// labels arrive in host memory (a host-memory argument of this kernel): they
// are checked against the class count here, where an out-of-range label can
// still become INVALID_ARGUMENT, then copied to the device as int64.
LOOM_CL_KERNEL(SparseXentKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), l = k.input(1), loss, back, dl;
  LOOM_RETURN_IF_ERROR(CheckFloat("SparseSoftmaxCrossEntropyWithLogits", x));
  if (x.rank != 2) return InvalidArgument("logits must be 2-D, but got shape ", x.shape_str());
  if (l.rank != 1) return InvalidArgument("labels must be 1-D, but got shape ", l.shape_str());
  if (l.dim(0) != x.dim(0)) {
    return InvalidArgument("logits and labels must have the same first dimension, got logits "
                           "shape ", x.shape_str(), " and labels shape ", l.shape_str());
  }
  const int64_t rows = x.dim(0), cols = x.dim(1);
  if (cols == 0 && rows > 0) {
    return InvalidArgument("Must have at least one class, but got logits shape ", x.shape_str());
  }
  std::vector<int64_t> labels;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(l, "labels", &labels));
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= cols) {
      return InvalidArgument("Received a label value of ", labels[i], " at index ", i,
                             " which is outside the valid range of [0, ", cols,
                             ") (the number of classes)");
    }
  }
  Dims ld;
  ld.push_back(rows);
  LOOM_RETURN_IF_ERROR(k.allocate(0, ld, &loss));
  LOOM_RETURN_IF_ERROR(k.allocate(1, x.shape(), &back));
  if (rows == 0) return nullptr;
  LOOM_RETURN_IF_ERROR(k.temp(LOOM_DTYPE_INT64, ld, &dl));
  LOOM_RETURN_IF_ERROR(
      k.dev().WriteStaged(Mem(dl), labels.data(), labels.size() * sizeof(int64_t), "labels"));
  cl_mem xm = Mem(x), lm = Mem(dl), lo = Mem(loss), bm = Mem(back);
  return k.Launch1D("sparse_xent_float", rows, {xm, lm, lo, bm, rows, cols});
}

// ---------------------------------------------------------------- variable updates

LOOM_CL_KERNEL(AssignUpdateKernel) {
  const char* op = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor var = k.input(0), v = k.input(1);
  if (!var.same_shape(v)) {
    return InvalidArgument("Parameters and update must be the same size: ", var.shape_str(),
                           " vs. ", v.shape_str());
  }
  LOOM_RETURN_IF_ERROR(CheckFloat(op, var));
  cl_mem pm = Mem(var), vm = Mem(v);
  LOOM_RETURN_IF_ERROR(k.Launch1D(StrCat(op, "_float"), var.size, {pm, vm, var.size}));
  return k.forward(0, 0, var.shape());
}

LOOM_CL_KERNEL(ApplyGradientDescentKernel) {
  Kernel k(ctx);
  Tensor var = k.input(0), alpha = k.input(1), delta = k.input(2);
  LOOM_RETURN_IF_ERROR(CheckFloat("ApplyGradientDescent", var));
  LOOM_RETURN_IF_ERROR(CheckScalar(alpha, "alpha"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, delta, "delta"));
  cl_mem pm = Mem(var), am = Mem(alpha), dm = Mem(delta);
  LOOM_RETURN_IF_ERROR(
      k.Launch1D("apply_gradient_descent_float", var.size, {pm, am, dm, var.size}));
  return k.forward(0, 0, var.shape());
}

LOOM_CL_KERNEL(ApplyMomentumKernel) {
  Kernel k(ctx);
  Tensor var = k.input(0), accum = k.input(1), lr = k.input(2), grad = k.input(3),
         mom = k.input(4);
  bool nesterov = false;
  LOOM_RETURN_IF_ERROR(k.attr("use_nesterov", &nesterov, false));
  LOOM_RETURN_IF_ERROR(CheckFloat("ApplyMomentum", var));
  LOOM_RETURN_IF_ERROR(CheckLike(var, accum, "accum"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  LOOM_RETURN_IF_ERROR(CheckScalar(lr, "lr"));
  LOOM_RETURN_IF_ERROR(CheckScalar(mom, "momentum"));
  cl_mem pm = Mem(var), am = Mem(accum), lm = Mem(lr), gm = Mem(grad), mm = Mem(mom);
  const int32_t nest = nesterov ? 1 : 0;
  LOOM_RETURN_IF_ERROR(
      k.Launch1D("apply_momentum_float", var.size, {pm, am, lm, gm, mm, var.size, nest}));
  return k.forward(0, 0, var.shape());
}

LOOM_CL_KERNEL(ApplyAdamKernel) {
  Kernel k(ctx);
  Tensor var = k.input(0), m = k.input(1), v = k.input(2), grad = k.input(9);
  Tensor scal[6];
  const char* names[6] = {"beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"};
  for (int i = 0; i < 6; ++i) {
    scal[i] = k.input(3 + i);
    LOOM_RETURN_IF_ERROR(CheckScalar(scal[i], names[i]));
  }
  bool nesterov = false;
  LOOM_RETURN_IF_ERROR(k.attr("use_nesterov", &nesterov, false));
  LOOM_RETURN_IF_ERROR(CheckFloat("ApplyAdam", var));
  LOOM_RETURN_IF_ERROR(CheckLike(var, m, "m"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, v, "v"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  cl_mem pm = Mem(var), mm = Mem(m), vm = Mem(v), gm = Mem(grad);
  cl_mem s0 = Mem(scal[0]), s1 = Mem(scal[1]), s2 = Mem(scal[2]), s3 = Mem(scal[3]),
         s4 = Mem(scal[4]), s5 = Mem(scal[5]);
  const int32_t nest = nesterov ? 1 : 0;
  LOOM_RETURN_IF_ERROR(k.Launch1D("apply_adam_float", var.size,
                                     {pm, mm, vm, s0, s1, s2, s3, s4, s5, gm, var.size, nest}));
  return k.forward(0, 0, var.shape());
}

LOOM_CL_KERNEL(ApplyAdagradKernel) {
  Kernel k(ctx);
  Tensor var = k.input(0), accum = k.input(1), lr = k.input(2), grad = k.input(3);
  bool update_slots = true;
  LOOM_RETURN_IF_ERROR(k.attr("update_slots", &update_slots, true));
  LOOM_RETURN_IF_ERROR(CheckFloat("ApplyAdagrad", var));
  LOOM_RETURN_IF_ERROR(CheckLike(var, accum, "accum"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  LOOM_RETURN_IF_ERROR(CheckScalar(lr, "lr"));
  cl_mem pm = Mem(var), am = Mem(accum), lm = Mem(lr), gm = Mem(grad);
  const int32_t upd = update_slots ? 1 : 0;
  LOOM_RETURN_IF_ERROR(
      k.Launch1D("apply_adagrad_float", var.size, {pm, am, lm, gm, var.size, upd}));
  return k.forward(0, 0, var.shape());
}

LOOM_CL_KERNEL(ApplyRMSPropKernel) {
  Kernel k(ctx);
  Tensor var = k.input(0), ms = k.input(1), mom = k.input(2), grad = k.input(7);
  Tensor scal[4];
  const char* names[4] = {"lr", "rho", "momentum", "epsilon"};
  for (int i = 0; i < 4; ++i) {
    scal[i] = k.input(3 + i);
    LOOM_RETURN_IF_ERROR(CheckScalar(scal[i], names[i]));
  }
  LOOM_RETURN_IF_ERROR(CheckFloat("ApplyRMSProp", var));
  LOOM_RETURN_IF_ERROR(CheckLike(var, ms, "ms"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, mom, "mom"));
  LOOM_RETURN_IF_ERROR(CheckLike(var, grad, "grad"));
  cl_mem pm = Mem(var), msm = Mem(ms), mom_m = Mem(mom), gm = Mem(grad);
  cl_mem s0 = Mem(scal[0]), s1 = Mem(scal[1]), s2 = Mem(scal[2]), s3 = Mem(scal[3]);
  LOOM_RETURN_IF_ERROR(k.Launch1D("apply_rms_prop_float", var.size,
                                     {pm, msm, mom_m, s0, s1, s2, s3, gm, var.size}));
  return k.forward(0, 0, var.shape());
}

}  // namespace loom_opencl
