// Axis arguments: one range rule and one message for every kernel on every
// device and for Loom's shape functions. Header-only, host-independent.
#ifndef LOOM_PLUGIN_AXIS_HPP_
#define LOOM_PLUGIN_AXIS_HPP_

#include <cstdint>
#include <string>
#include <vector>

#include "loom/plugin/shape.hpp"

namespace loom::kit {

// axis in [-rank, rank) -> *out in [0, rank) and "". Otherwise the error text
// naming `what` ("axis", "dimension", ...), e.g.
// "axis 3 is out of range for a tensor of rank 2 (expected a value in [-2, 2))".
inline std::string CanonicalAxis(int64_t axis, int rank, const char* what, int64_t* out) {
  if (axis < -rank || axis >= rank) {
    const std::string r = std::to_string(rank);
    return std::string(what) + " " + std::to_string(axis) +
           " is out of range for a tensor of rank " + r + " (expected a value in [" +
           std::to_string(-rank) + ", " + r + "))";
  }
  *out = axis < 0 ? axis + rank : axis;
  return std::string();
}

// A reduction axis of an input of shape `dims` (rank entries): "" or
// "Invalid reduction dimension 2 for input with 2 dimension(s); input shape [3,4]".
inline std::string CheckReductionAxis(int64_t axis, const int64_t* dims, int rank) {
  if (axis >= -rank && axis < rank) return std::string();
  return "Invalid reduction dimension " + std::to_string(axis) + " for input with " +
         std::to_string(rank) + " dimension(s); input shape " + ShapeString(dims, rank);
}

// Transpose's perm for an input of shape `dims`: one entry per dimension, a
// permutation of [0, rank). "" or the error text.
inline std::string CheckPermutation(const std::vector<int64_t>& perm, const int64_t* dims,
                                    int rank) {
  if (static_cast<int64_t>(perm.size()) != rank) {
    return "transpose expects a vector of size " + std::to_string(rank) +
           ". But input(1) is a vector of size " + std::to_string(perm.size()) +
           " (input shape " + ShapeString(dims, rank) + ")";
  }
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[static_cast<size_t>(p)]) {
      return "perm must be a permutation of [0, " + std::to_string(rank) + "), got " +
             ShapeString(perm.data(), static_cast<int>(perm.size()));
    }
    seen[static_cast<size_t>(p)] = true;
  }
  return std::string();
}

}  // namespace loom::kit

#endif  // LOOM_PLUGIN_AXIS_HPP_
