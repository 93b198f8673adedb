// The StridedSlice spec, once: TensorFlow's ValidateStridedSliceOp with the
// ellipsis, new-axis and shrink-axis masks, resolved against an input shape.
// Header-only and host-independent: the runtime's shape function (which may
// know only part of the shape or of begin/end/strides) and every plugin's
// StridedSlice/StridedSliceGrad kernels include it, so they agree on the
// output shape and on the words of every error.
#ifndef LOOM_PLUGIN_STRIDED_SLICE_HPP_
#define LOOM_PLUGIN_STRIDED_SLICE_HPP_

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "loom/plugin/shape.hpp"

namespace loom::kit {

struct StridedSliceMasks {
  int64_t begin = 0, end = 0, ellipsis = 0, new_axis = 0, shrink_axis = 0;
};

// A slice resolved against an input of `rank` dims.
struct StridedSliceSpec {
  std::vector<int64_t> begin;   // per input dim: first index (canonical)
  std::vector<int64_t> stride;  // per input dim: step (shrunk dims: 1)
  std::vector<int64_t> size;    // per input dim: extent (shrunk: 1; -1 unknown)
  std::vector<int64_t> final_shape;  // the output (new axes added, shrunk dims dropped)
  bool identity = false;        // the slice is the whole input, unchanged
};

// `dims` (rank entries, -1 unknown) is the input's shape; begin/end/strides
// hold n entries each, or are nullptr when unknown (shape inference). Returns
// "" and *spec, or the error text.
inline std::string ResolveStridedSlice(const int64_t* dims, int rank, int n,
                                       const int64_t* begin, const int64_t* end,
                                       const int64_t* strides, const StridedSliceMasks& m,
                                       StridedSliceSpec* spec) {
  auto bit = [](int64_t mask, int i) { return i < 63 && ((mask >> i) & 1) != 0; };
  int ellipsis_at = -1;
  for (int i = 0; i < n; ++i) {
    if (bit(m.ellipsis, i)) {
      if (ellipsis_at >= 0) return "Multiple ellipses in slice spec not allowed";
      ellipsis_at = i;
    }
  }
  int n_sparse = n;
  if (ellipsis_at < 0) {  // an implicit ellipsis after the last entry
    ellipsis_at = n;
    n_sparse = n + 1;
  }
  int new_axis_after_ellipsis = 0;
  for (int i = ellipsis_at + 1; i < n; ++i) {
    if (bit(m.new_axis, i)) ++new_axis_after_ellipsis;
  }
  spec->begin.assign(static_cast<size_t>(rank), 0);
  spec->stride.assign(static_cast<size_t>(rank), 1);
  spec->size.assign(dims, dims + rank);
  constexpr int kNewAxis = -1, kShrink = -2;
  std::vector<int> gather;  // per output dim: an input dim, kNewAxis or kShrink
  int full = 0;
  for (int i = 0; i < n_sparse; ++i) {
    if (i == ellipsis_at) {  // whole dims
      const int next = std::min(rank - (n_sparse - i) + 1 + new_axis_after_ellipsis, rank);
      for (; full < next; ++full) gather.push_back(full);
      continue;
    }
    if (bit(m.new_axis, i)) {
      gather.push_back(kNewAxis);
      continue;
    }
    if (full >= rank) {
      return "Index out of range using input dim " + std::to_string(full) + "; input has only " +
             std::to_string(rank) + " dims (shape " + ShapeString(dims, rank) + ")";
    }
    const size_t f = static_cast<size_t>(full);
    const int64_t d = dims[full];
    const int64_t s = strides ? strides[i] : 0;
    if (strides && s == 0) return "strides[" + std::to_string(i) + "] must be non-zero";
    if (bit(m.shrink_axis, i)) {
      if (begin && d >= 0) {
        const int64_t x = begin[i] < 0 ? begin[i] + d : begin[i];
        if (x < 0 || x >= d) {
          return "slice index " + std::to_string(begin[i]) + " of dimension " +
                 std::to_string(full) + " out of bounds (input shape " +
                 ShapeString(dims, rank) + ")";
        }
        spec->begin[f] = x;
      }
      spec->size[f] = 1;
      gather.push_back(kShrink);
      ++full;
      continue;
    }
    const bool bm = bit(m.begin, i), em = bit(m.end, i);
    int64_t size = -1;
    if (d >= 0 && strides && (begin || bm) && (end || em)) {
      const int64_t lo = s > 0 ? 0 : -1, hi = s > 0 ? d : d - 1;
      auto canon = [&](int64_t v, bool masked, bool is_begin) -> int64_t {
        if (masked) return (s > 0) == is_begin ? lo : hi;
        const int64_t x = v < 0 ? v + d : v;
        return std::max(lo, std::min(hi, x));
      };
      const int64_t cb = canon(begin ? begin[i] : 0, bm, true);
      const int64_t interval = canon(end ? end[i] : 0, em, false) - cb;
      if (interval == 0 || ((interval < 0) != (s < 0))) {
        size = 0;
      } else {
        size = interval / s + (interval % s != 0 ? 1 : 0);
      }
      spec->begin[f] = cb;
    }
    spec->stride[f] = s;
    spec->size[f] = size;
    gather.push_back(full);
    ++full;
  }
  for (; full < rank; ++full) gather.push_back(full);  // not reached: the ellipsis covers them
  spec->identity = true;
  for (int i = 0; i < rank; ++i) {
    const size_t f = static_cast<size_t>(i);
    spec->identity &= spec->begin[f] == 0 && spec->stride[f] == 1 && spec->size[f] == dims[i] &&
                      dims[i] >= 0;
  }
  spec->final_shape.clear();
  for (int g : gather) {
    if (g == kNewAxis) {
      spec->final_shape.push_back(1);
    } else if (g != kShrink) {
      spec->final_shape.push_back(spec->size[static_cast<size_t>(g)]);
    }
  }
  return std::string();
}

}  // namespace loom::kit

#endif  // LOOM_PLUGIN_STRIDED_SLICE_HPP_
