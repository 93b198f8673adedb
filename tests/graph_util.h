// Taking statuses and building ops over loom.h, with no test framework: the
// base of the tests' helper layer (test_util.h adds tensors and the GraphTest
// fixture on top) that also serves code outside GoogleTest, such as the MLP
// model shared with the benchmarks (conformance/mlp_model.h). Header-only.
#ifndef LOOM_TESTS_GRAPH_UTIL_H_
#define LOOM_TESTS_GRAPH_UTIL_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "loom/loom.h"

namespace loomtest {

// Takes a status: "" if OK, else "CODE: message".
inline std::string Take(loom_status* s) {
  if (!s) return "";
  std::string out = std::string(loom_code_name(loom_status_code(s))) + ": " + loom_status_message(s);
  loom_status_free(s);
  return out;
}

// One input slot of an op: a single tensor, or a list (N * T) — from a
// std::vector<loom_output>, or spelled In::List({a, b}).
struct In {
  std::vector<loom_output> outs;
  bool is_list = false;
  In(loom_output o) : outs{o} {}                                         // NOLINT: implicit on purpose
  In(std::vector<loom_output> l) : outs(std::move(l)), is_list(true) {}  // NOLINT: implicit on purpose
  static In List(std::vector<loom_output> l) { return In(std::move(l)); }
};

// Sets attrs (or the device) on a builder; may be empty.
using AttrFn = std::function<void(loom_op_builder*)>;

// Adds `type` with the inputs, attrs and name to g; "" or the error. The one
// place tests call the op builder for ordinary ops.
inline std::string BuildOp(loom_graph* g, const char* type, const std::vector<In>& inputs,
                           const AttrFn& attrs, const char* name, loom_op** out) {
  loom_op_builder* b = loom_op_builder_new(g, type, name);
  for (const In& in : inputs) {
    if (in.is_list) {
      loom_op_builder_add_input_list(b, in.outs.data(), static_cast<int>(in.outs.size()));
    } else {
      loom_op_builder_add_input(b, in.outs[0]);
    }
  }
  if (attrs) attrs(b);
  return Take(loom_op_builder_finish(b, out));
}

}  // namespace loomtest

#endif  // LOOM_TESTS_GRAPH_UTIL_H_
