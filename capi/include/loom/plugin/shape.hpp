// Shapes as plugins and Loom's shape functions both see them: the rank limit
// of kernels, a fixed-capacity dims array and the "[2,3]" spelling used in
// every error message. Header-only, no dependency on the host table, so the
// runtime's shape functions include it too (part of the plugin kit, kit.hpp).
#ifndef LOOM_PLUGIN_SHAPE_HPP_
#define LOOM_PLUGIN_SHAPE_HPP_

#include <cstdint>
#include <string>

namespace loom::kit {

// The largest rank a kernel accepts; larger ones are refused with
// INVALID_ARGUMENT (RankError). TensorFlow's Eigen kernels stop at 8; the
// data-movement kernels allow more. Devices that index fewer collapsed dims
// (OpenCL's views) say so with their own constant and check it.
constexpr int kMaxDims = 32;

// "[2,3]"; an unknown dim (-1) prints as -1.
inline std::string ShapeString(const int64_t* dims, int rank) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) {
    if (i) s += ",";
    s += std::to_string(dims[i]);
  }
  return s + "]";
}

inline int64_t NumElements(const int64_t* dims, int rank) {
  int64_t e = 1;
  for (int i = 0; i < rank; ++i) e *= dims[i];
  return e;
}

// "" when a kernel can hold `rank` dims, else the error text.
inline std::string RankError(int rank) {
  if (rank <= kMaxDims) return std::string();
  return "tensors of rank " + std::to_string(rank) + " are not supported (at most " +
         std::to_string(kMaxDims) + ")";
}

// A fixed-capacity shape; cheap to build on the stack in every compute.
struct Dims {
  int64_t d[kMaxDims];
  int n = 0;
  Dims() = default;
  Dims(const int64_t* dims, int rank) : n(rank) {
    for (int i = 0; i < rank; ++i) d[i] = dims[i];
  }
  void push_back(int64_t v) { d[n++] = v; }
  int64_t operator[](int i) const { return d[i]; }
  int64_t& operator[](int i) { return d[i]; }
  int64_t num_elements() const { return NumElements(d, n); }
  bool operator==(const Dims& o) const {
    if (n != o.n) return false;
    for (int i = 0; i < n; ++i)
      if (d[i] != o.d[i]) return false;
    return true;
  }
  bool operator!=(const Dims& o) const { return !(*this == o); }
  std::string str() const { return ShapeString(d, n); }
};

// Row-major strides (in elements) of `d`.
inline void RowMajorStrides(const Dims& d, int64_t* strides) {
  int64_t s = 1;
  for (int i = d.n - 1; i >= 0; --i) {
    strides[i] = s;
    s *= d[i];
  }
}

}  // namespace loom::kit

#endif  // LOOM_PLUGIN_SHAPE_HPP_
