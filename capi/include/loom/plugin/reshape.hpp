// Reshape's requested shape, once: at most one -1 ("whatever is left"), every
// other entry >= 0, and the element count must match. Header-only and
// host-independent: the runtime's Reshape shape function and every plugin's
// Reshape kernel include it, so a bad request gets the same words at graph
// construction and on every device.
#ifndef LOOM_PLUGIN_RESHAPE_HPP_
#define LOOM_PLUGIN_RESHAPE_HPP_

#include <cstdint>
#include <string>

#include "loom/plugin/shape.hpp"

namespace loom::kit {

// A checked request: where its -1 is (or -1 if none) and the product of the
// other entries (it may overflow only for requests no tensor can match).
struct ReshapeRequest {
  int unknown_at = -1;
  int64_t known = 1;
};

// "" and *out, or the error text for a second -1 or another negative entry.
inline std::string CheckReshapeRequest(const int64_t* dims, int n, ReshapeRequest* out) {
  *out = ReshapeRequest{};
  for (int i = 0; i < n; ++i) {
    if (dims[i] == -1) {
      if (out->unknown_at >= 0) {
        return "Reshape can infer only one input size (-1), not both " +
               std::to_string(out->unknown_at) + " and " + std::to_string(i);
      }
      out->unknown_at = i;
    } else if (dims[i] < 0) {
      return "Size " + std::to_string(i) + " of the requested shape must be >= -1, not " +
             std::to_string(dims[i]);
    } else {
      out->known *= dims[i];
    }
  }
  return std::string();
}

// The text for a request that cannot hold `num_elements` elements of an input
// of shape `in_shape` (as the caller spells it).
inline std::string ReshapeMismatch(int64_t num_elements, const std::string& in_shape,
                                   const int64_t* dims, int n, const ReshapeRequest& r) {
  std::string s = "Cannot reshape a tensor with " + std::to_string(num_elements) +
                  " elements (shape " + in_shape + ") to shape " + ShapeString(dims, n);
  if (r.unknown_at < 0 || r.known == 0) {
    return s + " (" + std::to_string(r.known) + " elements)";
  }
  return s + ": " + std::to_string(num_elements) + " is not a multiple of " +
         std::to_string(r.known) + ", the product of the known dimensions";
}

// Resolves the request in place for an input of `num_elements` elements: the
// -1 becomes what is left. "" or the error text. A -1 next to a 0 is refused
// (any size would fit an empty tensor), as TensorFlow's kernel does.
inline std::string ResolveReshape(int64_t num_elements, const std::string& in_shape,
                                  int64_t* dims, int n) {
  ReshapeRequest r;
  std::string err = CheckReshapeRequest(dims, n, &r);
  if (!err.empty()) return err;
  if (r.unknown_at < 0) {
    if (r.known != num_elements) return ReshapeMismatch(num_elements, in_shape, dims, n, r);
    return std::string();
  }
  if (r.known == 0) {
    if (num_elements != 0) return ReshapeMismatch(num_elements, in_shape, dims, n, r);
    return "Reshape cannot infer the missing input size for an empty tensor unless all "
           "specified input sizes are non-zero; requested shape " + ShapeString(dims, n);
  }
  if (num_elements % r.known != 0) return ReshapeMismatch(num_elements, in_shape, dims, n, r);
  dims[r.unknown_at] = num_elements / r.known;
  return std::string();
}

}  // namespace loom::kit

#endif  // LOOM_PLUGIN_RESHAPE_HPP_
