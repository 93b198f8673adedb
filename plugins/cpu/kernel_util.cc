// Out-of-line parts of kernel_util.h.
#include "kernel_util.h"

namespace loom_cpu {

const loom_host_api* g_host = nullptr;

std::string ShapeString(const int64_t* dims, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

const char* DtypeName(loom_dtype dt) {
  switch (dt) {
    case LOOM_DTYPE_FLOAT: return "float";
    case LOOM_DTYPE_DOUBLE: return "double";
    case LOOM_DTYPE_INT32: return "int32";
    case LOOM_DTYPE_UINT8: return "uint8";
    case LOOM_DTYPE_INT16: return "int16";
    case LOOM_DTYPE_INT8: return "int8";
    case LOOM_DTYPE_STRING: return "string";
    case LOOM_DTYPE_INT64: return "int64";
    case LOOM_DTYPE_BOOL: return "bool";
    case LOOM_DTYPE_BFLOAT16: return "bfloat16";
    case LOOM_DTYPE_UINT16: return "uint16";
    case LOOM_DTYPE_HALF: return "half";
    case LOOM_DTYPE_UINT32: return "uint32";
    case LOOM_DTYPE_UINT64: return "uint64";
    default: return "invalid";
  }
}

loom_status* UnsupportedDtype(loom_dtype dt) {
  return Error(LOOM_CODE_UNIMPLEMENTED,
               StrCat("the CPU kernel has no implementation for dtype ", DtypeName(dt)));
}

// ---------------------------------------------------------------- attrs

namespace {
// NOT_FOUND -> use the default; any other error is returned.
loom_status* TakeDefault(loom_status* s, bool* use_default) {
  *use_default = false;
  if (s == nullptr) return nullptr;
  if (g_host->status_code(s) == LOOM_CODE_NOT_FOUND) {
    g_host->status_free(s);
    *use_default = true;
    return nullptr;
  }
  return s;
}
}  // namespace

loom_status* Kernel::attr(const char* name, int64_t* out, int64_t def) const {
  bool use_def;
  LOOM_CPU_RETURN_IF_ERROR(
      TakeDefault(g_host->attr_int(g_host->kernel_attrs(ctx_), name, out), &use_def));
  if (use_def) *out = def;
  return nullptr;
}

loom_status* Kernel::attr(const char* name, bool* out, bool def) const {
  bool use_def;
  int v = 0;
  LOOM_CPU_RETURN_IF_ERROR(
      TakeDefault(g_host->attr_bool(g_host->kernel_attrs(ctx_), name, &v), &use_def));
  *out = use_def ? def : (v != 0);
  return nullptr;
}

loom_status* Kernel::attr(const char* name, float* out, float def) const {
  bool use_def;
  LOOM_CPU_RETURN_IF_ERROR(
      TakeDefault(g_host->attr_float(g_host->kernel_attrs(ctx_), name, out), &use_def));
  if (use_def) *out = def;
  return nullptr;
}

loom_status* Kernel::attr(const char* name, loom_dtype* out, loom_dtype def) const {
  bool use_def;
  LOOM_CPU_RETURN_IF_ERROR(
      TakeDefault(g_host->attr_type(g_host->kernel_attrs(ctx_), name, out), &use_def));
  if (use_def) *out = def;
  return nullptr;
}

loom_status* Kernel::attr_string(const char* name, std::string* out, const char* def) const {
  bool use_def;
  const char* v = nullptr;
  size_t len = 0;
  LOOM_CPU_RETURN_IF_ERROR(TakeDefault(
      g_host->attr_string(g_host->kernel_attrs(ctx_), name, &v, &len), &use_def));
  if (use_def) {
    *out = def;
  } else {
    out->assign(v ? v : "", v ? len : 0);
  }
  return nullptr;
}

loom_status* Kernel::attr_list(const char* name, std::vector<int64_t>* out) const {
  bool use_def;
  const int64_t* v = nullptr;
  int n = 0;
  LOOM_CPU_RETURN_IF_ERROR(TakeDefault(
      g_host->attr_int_list(g_host->kernel_attrs(ctx_), name, &v, &n), &use_def));
  out->clear();
  if (!use_def && v != nullptr) out->assign(v, v + n);
  return nullptr;
}

// ---------------------------------------------------------------- index inputs

loom_status* ReadIndexVector(const Tensor& t, const char* what, std::vector<int64_t>* out) {
  if (t.rank > 1) {
    return InvalidArgument(what, " must be a scalar or a vector, but has shape ",
                           t.shape_str());
  }
  out->resize(static_cast<size_t>(t.size));
  if (t.dtype == LOOM_DTYPE_INT32) {
    for (int64_t i = 0; i < t.size; ++i) (*out)[i] = t.as<const int32_t>()[i];
  } else if (t.dtype == LOOM_DTYPE_INT64) {
    for (int64_t i = 0; i < t.size; ++i) (*out)[i] = t.as<const int64_t>()[i];
  } else {
    return InvalidArgument(what, " must be int32 or int64, not ", DtypeName(t.dtype));
  }
  return nullptr;
}

loom_status* ReadIndexScalar(const Tensor& t, const char* what, int64_t* out) {
  if (t.size != 1) {
    return InvalidArgument(what, " must be a scalar, but has shape ", t.shape_str());
  }
  if (t.dtype == LOOM_DTYPE_INT32) {
    *out = t.as<const int32_t>()[0];
  } else if (t.dtype == LOOM_DTYPE_INT64) {
    *out = t.as<const int64_t>()[0];
  } else {
    return InvalidArgument(what, " must be int32 or int64, not ", DtypeName(t.dtype));
  }
  return nullptr;
}

loom_status* NormalizeAxis(int64_t axis, int rank, const char* what, int* out) {
  if (axis < -rank || axis >= rank) {
    return InvalidArgument("Expected ", what, " in the range [", -rank, ", ", rank,
                           "), but got ", axis);
  }
  *out = static_cast<int>(axis < 0 ? axis + rank : axis);
  return nullptr;
}

loom_status* CheckRank(int rank) {
  if (rank > kMaxDims) {
    return InvalidArgument("tensors of rank ", rank, " are not supported (at most ",
                           kMaxDims, ")");
  }
  return nullptr;
}

void RowMajorStrides(const Dims& d, int64_t* strides) {
  int64_t s = 1;
  for (int i = d.n - 1; i >= 0; --i) {
    strides[i] = s;
    s *= d[i];
  }
}

// ---------------------------------------------------------------- broadcasting

loom_status* Broadcast::Init(const Tensor* const* inputs, int n) {
  num_inputs = n;
  int r = 0;
  for (int k = 0; k < n; ++k) r = inputs[k]->rank > r ? inputs[k]->rank : r;
  LOOM_CPU_RETURN_IF_ERROR(CheckRank(r));
  out.n = r;
  uint32_t masks[kMaxDims];
  for (int i = 0; i < r; ++i) {
    int64_t o = 1;
    uint32_t mask = 0;
    for (int k = 0; k < n; ++k) {
      const Tensor& t = *inputs[k];
      int j = i - (r - t.rank);
      int64_t dk = j < 0 ? 1 : t.dims[j];
      if (dk == 1) {
        mask |= 1u << k;
      } else if (o == 1) {
        o = dk;
      } else if (dk != o) {
        std::string msg = "Incompatible shapes: ";
        for (int q = 0; q < n; ++q) {
          if (q) msg += " vs. ";
          msg += inputs[q]->shape_str();
        }
        return InvalidArgument(msg);
      }
    }
    out[i] = o;
    // Inputs that are 1 where the output is 1 are not broadcast there.
    masks[i] = (o == 1) ? 0 : mask;
  }
  // Collapse: drop size-1 output dims, merge neighbours broadcast alike.
  rank = 0;
  uint32_t cmask[kMaxDims];
  for (int i = 0; i < r; ++i) {
    if (out[i] == 1) continue;
    if (rank > 0 && cmask[rank - 1] == masks[i]) {
      dims[rank - 1] *= out[i];
    } else {
      dims[rank] = out[i];
      cmask[rank] = masks[i];
      ++rank;
    }
  }
  if (rank == 0) {
    rank = 1;
    dims[0] = 1;
    cmask[0] = 0;
  }
  for (int k = 0; k < n; ++k) {
    int64_t s = 1;
    for (int j = rank - 1; j >= 0; --j) {
      if (cmask[j] & (1u << k)) {
        strides[k][j] = 0;
      } else {
        strides[k][j] = s;
        s *= dims[j];
      }
    }
  }
  return nullptr;
}

// ---------------------------------------------------------------- strided copy

namespace {
// kScatter false: contiguous[i] = strided[i]; true: strided[i] = contiguous[i].
template <bool kScatter, typename U>
void StridedT(const Kernel& k, const Dims& dims, const int64_t* strides, U* strided, U* contiguous) {
  const int rank = dims.n;
  if (rank == 0) {
    if (kScatter) strided[0] = contiguous[0];
    else contiguous[0] = strided[0];
    return;
  }
  const int64_t inner = dims[rank - 1];
  const int64_t s_inner = strides[rank - 1];
  int64_t rows = 1;
  for (int i = 0; i < rank - 1; ++i) rows *= dims[i];
  if (rows * inner == 0) return;
  k.parallel_for(rows, inner * 2 + 10, [&](int64_t begin, int64_t end) {
    int64_t idx[kMaxDims];
    int64_t off = 0;
    int64_t r = begin;
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = r % dims[d];
      r /= dims[d];
      off += idx[d] * strides[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      U* c = contiguous + row * inner;
      U* s = strided + off;
      if (s_inner == 1) {
        if (kScatter) std::memcpy(s, c, static_cast<size_t>(inner) * sizeof(U));
        else std::memcpy(c, s, static_cast<size_t>(inner) * sizeof(U));
      } else if (kScatter) {
        for (int64_t i = 0; i < inner; ++i) s[i * s_inner] = c[i];
      } else {
        for (int64_t i = 0; i < inner; ++i) c[i] = s[i * s_inner];
      }
      for (int d = rank - 2; d >= 0; --d) {
        off += strides[d];
        if (++idx[d] < dims[d]) break;
        off -= idx[d] * strides[d];
        idx[d] = 0;
      }
    }
  });
}

template <bool kScatter>
void Strided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides, void* strided,
             void* contiguous) {
  switch (esize) {
    case 1: StridedT<kScatter>(k, dims, strides, static_cast<uint8_t*>(strided), static_cast<uint8_t*>(contiguous)); break;
    case 2: StridedT<kScatter>(k, dims, strides, static_cast<uint16_t*>(strided), static_cast<uint16_t*>(contiguous)); break;
    case 4: StridedT<kScatter>(k, dims, strides, static_cast<uint32_t*>(strided), static_cast<uint32_t*>(contiguous)); break;
    case 8: StridedT<kScatter>(k, dims, strides, static_cast<uint64_t*>(strided), static_cast<uint64_t*>(contiguous)); break;
    default: break;
  }
}
}  // namespace

void CopyStrided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides,
                 const void* src, void* dst) {
  Strided<false>(k, esize, dims, strides, const_cast<void*>(src), dst);
}

void ScatterStrided(const Kernel& k, int esize, const Dims& dims, const int64_t* strides,
                    const void* src, void* dst) {
  Strided<true>(k, esize, dims, strides, dst, const_cast<void*>(src));
}

}  // namespace loom_cpu
