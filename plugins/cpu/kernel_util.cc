// Out-of-line parts of kernel_util.h.
#include "kernel_util.h"

namespace loom_cpu {

loom_status* UnsupportedDtype(loom_dtype dt) {
  return Error(LOOM_CODE_UNIMPLEMENTED,
               StrCat("the CPU kernel has no implementation for dtype ", DtypeName(dt)));
}

// ---------------------------------------------------------------- broadcasting

loom_status* BroadcastInputs(const Tensor* const* inputs, int n, Broadcast* bc) {
  Dims shapes[Broadcast::kMaxInputs];
  const Dims* ptrs[Broadcast::kMaxInputs];
  for (int k = 0; k < n; ++k) {
    LOOM_RETURN_IF_ERROR(CheckRank(inputs[k]->rank));  // before Dims copies the dims
    shapes[k] = inputs[k]->shape();
    ptrs[k] = &shapes[k];
  }
  return InvalidArgumentIf(bc->Init(ptrs, n));
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
