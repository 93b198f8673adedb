// Reductions: Sum, Mean, Max, Min, Prod over axes (host-memory
// reduction_indices), ArgMax/ArgMin, L2Loss and BiasAddGrad.
//
// The reduced axes are merged into groups of adjacent axes; each pass
// reduces the last remaining group with cl/reduce.cl, viewing the tensor as
// [outer, R, inner]. A pass with few outputs and a long R produces partial
// results first (see reduce.cl), which the next pass combines.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels.h"

namespace loom_opencl {

namespace {

struct Group {
  int64_t size;
  bool reduced;
};

// Merges adjacent axes with the same role; drops size-1 axes.
std::vector<Group> Collapse(const Dims& d, const std::vector<bool>& reduced) {
  std::vector<Group> g;
  for (int i = 0; i < d.n; ++i) {
    if (d[i] == 1) continue;
    if (!g.empty() && g.back().reduced == reduced[i]) {
      g.back().size *= d[i];
    } else {
      g.push_back({d[i], static_cast<bool>(reduced[i])});
    }
  }
  return g;
}

// Reduces `in` (viewed as `groups`) into `out` with cl kernels reduce_<op>_<type>.
// first_op is used for the first pass ("sumsq" for L2Loss), op for the rest;
// the last pass multiplies sums by `scale`.
loom_status* RunPasses(const Kernel& k, const char* first_op, const char* op, loom_dtype dt,
                       cl_mem in, std::vector<Group> groups, cl_mem out, float scale) {
  const char* type = ClTypeName(dt);
  cl_mem cur = in;
  bool first = true;
  for (;;) {
    int g = -1;
    for (int i = static_cast<int>(groups.size()) - 1; i >= 0; --i)
      if (groups[i].reduced) {
        g = i;
        break;
      }
    if (g < 0) break;  // the caller handles "nothing to reduce"
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < g; ++i) outer *= groups[i].size;
    for (size_t i = g + 1; i < groups.size(); ++i) inner *= groups[i].size;
    const int64_t r = groups[g].size, outputs = outer * inner;
    int64_t parts = 1, chunk = r;
    if (r > 4096 && outputs < 4096) {
      const int64_t want = std::max<int64_t>(1, 8192 / outputs);
      parts = std::min<int64_t>((r + 255) / 256, want);
      chunk = (r + parts - 1) / parts;
      parts = (r + chunk - 1) / chunk;
    }
    bool more = parts > 1;
    for (int i = 0; i < g && !more; ++i) more = groups[i].reduced;
    cl_mem dst = out;
    Tensor tmp;
    if (more) {
      Dims d;
      d.push_back(outer * parts * inner);
      LOOM_RETURN_IF_ERROR(k.temp(dt, d, &tmp));
      dst = Mem(tmp);
    }
    const float s = more ? 1.0f : scale;
    const std::string name = StrCat("reduce_", first ? first_op : op, "_", type);
    LOOM_RETURN_IF_ERROR(
        k.Launch1D(name, outer * parts * inner, {cur, dst, outer, r, inner, chunk, parts, s}));
    first = false;
    if (!more) return nullptr;
    cur = dst;
    if (parts > 1) {
      groups[g].size = parts;
    } else {
      groups.erase(groups.begin() + g);
      // Merge neighbours that became adjacent with the same role.
      std::vector<Group> merged;
      for (const Group& x : groups) {
        if (!merged.empty() && merged.back().reduced == x.reduced) {
          merged.back().size *= x.size;
        } else {
          merged.push_back(x);
        }
      }
      groups = merged;
    }
  }
  return nullptr;
}

// The value of an empty reduction.
loom_status* FillIdentity(const Kernel& k, const char* op, const Tensor& out) {
  const bool is_max = std::string(op) == "max", is_min = std::string(op) == "min";
  const bool is_prod = std::string(op) == "prod", is_mean = std::string(op) == "mean";
  if (out.dtype == LOOM_DTYPE_FLOAT) {
    const float v = is_max ? -INFINITY : is_min ? INFINITY : is_prod ? 1.0f : is_mean ? NAN : 0.0f;
    return k.dev().Fill(Mem(out), &v, sizeof v, out.bytes(), "an empty reduction");
  }
  if (out.dtype == LOOM_DTYPE_INT32) {
    const int32_t v = is_max ? INT32_MIN : is_min ? INT32_MAX : is_prod ? 1 : 0;
    return k.dev().Fill(Mem(out), &v, sizeof v, out.bytes(), "an empty reduction");
  }
  const int64_t v = is_max ? INT64_MIN : is_min ? INT64_MAX : is_prod ? 1 : 0;
  return k.dev().Fill(Mem(out), &v, sizeof v, out.bytes(), "an empty reduction");
}

}  // namespace

LOOM_CL_KERNEL(ReduceKernel) {
  const char* op = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor x = k.input(0), axes_t = k.input(1), y;
  bool keep_dims = false;
  LOOM_RETURN_IF_ERROR(k.attr("keep_dims", &keep_dims, false));
  std::vector<int64_t> axes;
  LOOM_RETURN_IF_ERROR(ReadIndexVector(axes_t, "reduction_indices", &axes));
  std::vector<bool> reduced(x.rank, false);
  for (int64_t a : axes) {
    int ax = 0;
    LOOM_RETURN_IF_ERROR(
        InvalidArgumentIf(loom::kit::CheckReductionAxis(a, x.dims, x.rank)));
    LOOM_RETURN_IF_ERROR(NormalizeAxis(a, x.rank, "reduction axis", &ax));
    reduced[ax] = true;
  }
  Dims out;
  int64_t count = 1;
  for (int i = 0; i < x.rank; ++i) {
    if (reduced[i]) {
      count *= x.dim(i);
      if (keep_dims) out.push_back(1);
    } else {
      out.push_back(x.dim(i));
    }
  }
  const bool is_mean = std::string(op) == "mean";
  if (!ClTypeName(x.dtype) || (is_mean && x.dtype != LOOM_DTYPE_FLOAT)) {
    return UnsupportedDtype(op, x.dtype);
  }
  std::vector<Group> groups = Collapse(x.shape(), reduced);
  bool any = false;
  for (const Group& g : groups) any = any || g.reduced;
  if (x.size > 0 && !any) return k.forward(0, 0, out);  // only size-1 axes reduced
  LOOM_RETURN_IF_ERROR(k.allocate(0, out, &y));
  if (y.size == 0) return nullptr;
  if (x.size == 0) return FillIdentity(k, op, y);
  const char* kop = is_mean ? "sum" : op;
  return RunPasses(k, kop, kop, x.dtype, Mem(x), groups, Mem(y),
                   is_mean ? static_cast<float>(1.0 / static_cast<double>(count)) : 1.0f);
}

LOOM_CL_KERNEL(L2LossKernel) {
  Kernel k(ctx);
  Tensor x = k.input(0), y;
  if (x.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype("L2Loss", x.dtype);
  LOOM_RETURN_IF_ERROR(k.allocate(0, Dims(), &y));
  if (x.size == 0) {
    const float zero = 0.0f;
    return k.dev().Fill(Mem(y), &zero, sizeof zero, y.bytes(), "L2Loss of an empty tensor");
  }
  std::vector<Group> groups = {{x.size, true}};
  return RunPasses(k, "sumsq", "sum", x.dtype, Mem(x), groups, Mem(y), 0.5f);
}

LOOM_CL_KERNEL(BiasAddGradKernel) {
  Kernel k(ctx);
  Tensor g = k.input(0), y;
  std::string format;
  LOOM_RETURN_IF_ERROR(k.attr_string("data_format", &format, "NHWC"));
  if (g.rank < 2) return InvalidArgument("Input tensor must be at least 2D: ", g.shape_str());
  int channel_dim;
  if (format == "NHWC") {
    channel_dim = g.rank - 1;
  } else if (format == "NCHW") {
    channel_dim = 1;
  } else {
    return InvalidArgument("data_format must be NHWC or NCHW, got '", format, "'");
  }
  if (g.dtype != LOOM_DTYPE_FLOAT) return UnsupportedDtype("BiasAddGrad", g.dtype);
  Dims out;
  out.push_back(g.dim(channel_dim));
  LOOM_RETURN_IF_ERROR(k.allocate(0, out, &y));
  if (y.size == 0) return nullptr;
  if (g.size == 0) return FillIdentity(k, "sum", y);
  std::vector<bool> reduced(g.rank, true);
  reduced[channel_dim] = false;
  // Keep the channel axis even when it has size 1 (Collapse drops size-1 axes).
  std::vector<Group> groups;
  for (int i = 0; i < g.rank; ++i) {
    if (reduced[i] && g.dim(i) == 1) continue;
    if (!groups.empty() && groups.back().reduced == reduced[i]) {
      groups.back().size *= g.dim(i);
    } else {
      groups.push_back({g.dim(i), static_cast<bool>(reduced[i])});
    }
  }
  bool any = false;
  for (const Group& x : groups) any = any || x.reduced;
  if (!any) return k.dev().Copy(Mem(y), 0, Mem(g), 0, y.bytes(), "BiasAddGrad");
  return RunPasses(k, "sum", "sum", g.dtype, Mem(g), groups, Mem(y), 1.0f);
}

LOOM_CL_KERNEL(ArgReduceKernel) {
  const char* op = static_cast<const char*>(state);
  Kernel k(ctx);
  Tensor x = k.input(0), dim_t = k.input(1), y;
  int64_t axis64 = 0;
  LOOM_RETURN_IF_ERROR(ReadIndexScalar(dim_t, "dimension", &axis64));
  int axis = 0;
  LOOM_RETURN_IF_ERROR(NormalizeAxis(axis64, x.rank, "dimension", &axis));
  if (x.dim(axis) == 0) {
    return InvalidArgument("Reduction axis ", axis, " is empty in shape ", x.shape_str());
  }
  Dims out;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < x.rank; ++i) {
    if (i == axis) continue;
    out.push_back(x.dim(i));
    if (i < axis) outer *= x.dim(i);
    if (i > axis) inner *= x.dim(i);
  }
  const loom_dtype ot = k.output_dtype(0);
  if (x.dtype != LOOM_DTYPE_FLOAT && x.dtype != LOOM_DTYPE_INT32 && x.dtype != LOOM_DTYPE_INT64) {
    return UnsupportedDtype(op, x.dtype);
  }
  LOOM_RETURN_IF_ERROR(k.allocate(0, out, &y));
  const int64_t r = x.dim(axis);
  cl_mem xm = Mem(x), ym = Mem(y);
  return k.Launch1D(StrCat(op, "_", ClTypeName(x.dtype), "_", ClTypeName(ot)), outer * inner,
                    {xm, ym, outer, r, inner});
}

}  // namespace loom_opencl
