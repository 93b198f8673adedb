// numpy broadcasting, once: the rule for one dimension (which shape inference
// applies to partially known shapes), the error text, the axes a gradient sums
// over (BroadcastGradientArgs), and the collapsed iteration that element-wise
// kernels walk. Header-only, host-independent: the runtime's shape functions
// and every plugin's kernels include it (as TensorFlow's util/bcast.h).
#ifndef LOOM_PLUGIN_BROADCAST_HPP_
#define LOOM_PLUGIN_BROADCAST_HPP_

#include <cstdint>
#include <string>
#include <vector>

#include "loom/plugin/shape.hpp"

namespace loom::kit {

// One dimension: sizes a and b (-1: unknown) broadcast to *out; false when
// both are known, differ and neither is 1. Unknown vs a known n != 1 gives n
// (the unknown must be 1 or n); unknown vs 1 or unknown stays unknown.
inline bool BroadcastDim(int64_t a, int64_t b, int64_t* out) {
  if (a == 1) {
    *out = b;
  } else if (b == 1) {
    *out = a;
  } else if (a < 0) {
    *out = b;
  } else if (b < 0 || a == b) {
    *out = a;
  } else {
    return false;
  }
  return true;
}

// The words every device and shape inference use for shapes that do not
// broadcast, naming them all and the first two sizes that clash:
// "Incompatible shapes: [2,3] vs. [4,5] (dimensions must be equal or 1 for
// broadcasting, but are 2 and 4)". `shapes` is "[2,3] vs. [4,5]".
inline std::string IncompatibleShapes(const std::string& shapes, int64_t a, int64_t b) {
  return "Incompatible shapes: " + shapes +
         " (dimensions must be equal or 1 for broadcasting, but are " + std::to_string(a) +
         " and " + std::to_string(b) + ")";
}

// The broadcast shape of a and b (right-aligned; dims may be -1), or the error text.
inline std::string BroadcastShape(const int64_t* a, int na, const int64_t* b, int nb,
                                  std::vector<int64_t>* out) {
  const int rank = na > nb ? na : nb;
  out->assign(static_cast<size_t>(rank), 1);
  for (int k = 0; k < rank; ++k) {
    const int ia = na - rank + k, ib = nb - rank + k;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    if (!BroadcastDim(da, db, &(*out)[static_cast<size_t>(k)])) {
      return IncompatibleShapes(ShapeString(a, na) + " vs. " + ShapeString(b, nb), da, db);
    }
  }
  return std::string();
}

// BroadcastGradientArgs: the axes of the broadcast output along which a (r0)
// and b (r1) were broadcast, to sum their gradients over. A dim that is 1 in
// both is reduced in both (as TensorFlow's BCast does).
inline std::string BroadcastGradientAxes(const int64_t* a, int na, const int64_t* b, int nb,
                                         std::vector<int64_t>* r0, std::vector<int64_t>* r1) {
  const int n = na > nb ? na : nb;
  r0->clear();
  r1->clear();
  for (int i = 0; i < n; ++i) {
    const int j0 = i - (n - na), j1 = i - (n - nb);
    const int64_t x = j0 < 0 ? 1 : a[j0], y = j1 < 0 ? 1 : b[j1];
    if (x == y) {
      if (x == 1) {
        r0->push_back(i);
        r1->push_back(i);
      }
    } else if (x == 1) {
      r0->push_back(i);
    } else if (y == 1) {
      r1->push_back(i);
    } else {
      return IncompatibleShapes(ShapeString(a, na) + " vs. " + ShapeString(b, nb), x, y);
    }
  }
  return std::string();
}

// BroadcastTo: the shape `in` takes when broadcast to `target` (either may
// hold -1 for unknown dims; a known input dim refines an unknown target dim),
// or the error text.
inline std::string BroadcastToShape(const int64_t* in, int in_n, const int64_t* target, int tn,
                                    std::vector<int64_t>* out) {
  if (in_n > tn) {
    return "Cannot broadcast a tensor of shape " + ShapeString(in, in_n) +
           " to the lower-rank shape " + ShapeString(target, tn);
  }
  out->assign(target, target + tn);
  const int offset = tn - in_n;
  for (int k = 0; k < in_n; ++k) {
    const int64_t d = in[k];
    int64_t& t = (*out)[static_cast<size_t>(k + offset)];
    if (d < 0 || d == 1) continue;
    if (t >= 0 && t != d) {
      return "Cannot broadcast a tensor of shape " + ShapeString(in, in_n) + " to shape " +
             ShapeString(target, tn) + ": dimension " + std::to_string(k) + " is " +
             std::to_string(d) + ", which is neither 1 nor " + std::to_string(t);
    }
    t = d;
  }
  return std::string();
}

// Broadcasting of up to 3 known shapes, collapsed to as few dims as possible
// (adjacent dims merge when every input broadcasts them alike; size-1 output
// dims drop). The innermost collapsed dim is the "row": each input steps
// through it with stride 0 or 1. Devices pass `strides` to their kernels.
struct Broadcast {
  static constexpr int kMaxInputs = 3;
  int num_inputs = 0;
  Dims out;                               // the full output shape
  int rank = 0;                           // collapsed rank (>= 1)
  int64_t dims[kMaxDims];                 // collapsed output dims
  int64_t strides[kMaxInputs][kMaxDims];  // collapsed input strides; 0 = broadcast

  // "" or the error text (IncompatibleShapes naming all inputs, or RankError).
  std::string Init(const Dims* const* inputs, int n) {
    num_inputs = n;
    int r = 0;
    for (int k = 0; k < n; ++k) r = inputs[k]->n > r ? inputs[k]->n : r;
    std::string err = RankError(r);
    if (!err.empty()) return err;
    out.n = r;
    uint32_t masks[kMaxDims];  // bit k: input k is broadcast along this dim
    for (int i = 0; i < r; ++i) {
      int64_t o = 1;
      uint32_t mask = 0;
      for (int k = 0; k < n; ++k) {
        const Dims& t = *inputs[k];
        const int j = i - (r - t.n);
        const int64_t dk = j < 0 ? 1 : t[j];
        if (dk == 1) {
          mask |= 1u << k;
        } else if (o == 1) {
          o = dk;
        } else if (dk != o) {
          std::string shapes;
          for (int q = 0; q < n; ++q) {
            if (q) shapes += " vs. ";
            shapes += inputs[q]->str();
          }
          return IncompatibleShapes(shapes, o, dk);
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
    return std::string();
  }

  int64_t inner() const { return dims[rank - 1]; }
  int64_t rows() const {
    int64_t r = 1;
    for (int i = 0; i < rank - 1; ++i) r *= dims[i];
    return r;
  }
  bool inner_contiguous(int k) const { return strides[k][rank - 1] != 0; }
  // Calls f(row, offsets[num_inputs]) for rows [begin, end), where offsets are
  // each input's element offset at the start of that row.
  template <typename F>
  void ForRows(int64_t begin, int64_t end, F&& f) const {
    int64_t idx[kMaxDims];
    int64_t off[kMaxInputs] = {0, 0, 0};
    int64_t r = begin;
    for (int d = rank - 2; d >= 0; --d) {
      idx[d] = r % dims[d];
      r /= dims[d];
      for (int k = 0; k < num_inputs; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (int64_t row = begin; row < end; ++row) {
      f(row, off);
      for (int d = rank - 2; d >= 0; --d) {
        for (int k = 0; k < num_inputs; ++k) off[k] += strides[k][d];
        if (++idx[d] < dims[d]) break;
        for (int k = 0; k < num_inputs; ++k) off[k] -= idx[d] * strides[k][d];
        idx[d] = 0;
      }
    }
  }
};

}  // namespace loom::kit

#endif  // LOOM_PLUGIN_BROADCAST_HPP_
