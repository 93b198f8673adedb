// Adapts a gradient function written against the C ABI (loom.h or
// loom_plugin.h: the same signature) to the core's GradFn.
#ifndef LOOM_RUNTIME_PLUGIN_C_GRADIENT_H_
#define LOOM_RUNTIME_PLUGIN_C_GRADIENT_H_

#include "loom/loom.h"
#include "runtime/ops/op_registry.h"

namespace loom {

// fn NULL gives an empty GradFn (not differentiable).
GradFn MakeCGradFn(loom_gradient_fn fn, void* user_data);

// The C handles are the core objects themselves.
inline loom_graph* ToC(Graph* g) { return reinterpret_cast<loom_graph*>(g); }
inline Graph* FromC(loom_graph* g) { return reinterpret_cast<Graph*>(g); }
inline const Graph* FromC(const loom_graph* g) { return reinterpret_cast<const Graph*>(g); }
inline loom_op* ToC(Node* n) { return reinterpret_cast<loom_op*>(n); }
inline Node* FromC(loom_op* n) { return reinterpret_cast<Node*>(n); }
inline const Node* FromC(const loom_op* n) { return reinterpret_cast<const Node*>(n); }
inline loom_output ToC(Output o) { return loom_output{ToC(o.node), o.index}; }
inline Output FromC(loom_output o) { return Output{FromC(o.op), o.index}; }

}  // namespace loom

#endif  // LOOM_RUNTIME_PLUGIN_C_GRADIENT_H_
