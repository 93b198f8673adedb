// Symbolic (symbol-to-symbol) gradients: TensorFlow's tf.gradients over a Graph.
#ifndef LOOM_RUNTIME_AUTODIFF_GRADIENTS_H_
#define LOOM_RUNTIME_AUTODIFF_GRADIENTS_H_

#include <string>
#include <vector>

#include "runtime/graph/graph.h"

namespace loom {

// Adds to g the nodes computing d(sum of ys)/d(xs).
//
//  - Only nodes on a path from an x to a y (reachable backward from ys and
//    forward from xs) are visited; their registered gradient functions are
//    called in reverse topological order.
//  - dys: empty, or one entry per y; an empty or invalid entry seeds that y
//    with OnesLike(y).
//  - Several contributions to one tensor are summed with AddN; a single one
//    passes through unchanged.
//  - (*dxs)[i] is invalid when ys do not depend on xs[i] (or only through
//    integer tensors or not-differentiable ops).
//  - Gradients flow only through float-typed tensors (float, double, half,
//    bfloat16); reference outputs (variables) flow like values.
//  - Every node added is named under "<unique prefix>/", the prefix being
//    `prefix` ("gradients" if empty) made unique in g, and each op's gradient
//    under "<unique prefix>/<op name>_grad/".
//  - Errors: NOT_FOUND "No gradient defined for op 'name' of type 'Type'" with
//    the path from an x to a y that needed it; INVALID_ARGUMENT for bad
//    arguments; a gradient function's own error, prefixed with the op. On
//    error, nodes added so far stay in the graph (unreachable from fetches
//    the caller already had).
// Not thread-safe with respect to g.
Status AddGradients(Graph* g, const std::string& prefix, const std::vector<Output>& ys,
                    const std::vector<Output>& xs, const std::vector<Output>& dys,
                    std::vector<Output>* dxs);

}  // namespace loom

#endif  // LOOM_RUNTIME_AUTODIFF_GRADIENTS_H_
