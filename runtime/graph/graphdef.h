// GraphDef import and export: Loom graphs to and from TensorFlow's wire
// format (proto/graph.proto). This header is protobuf-free; the proto-typed
// conversions live in graphdef_proto.h.
//
// Import treats its input as hostile: it parses, checks versions, lists every
// unknown op type in one error, resolves every input ("name", "name:1",
// "^ctrl"), rejects dangling inputs and cycles, bounds the memory a declared
// tensor may make it allocate, and only then adds nodes -- each through
// NodeBuilder, so schemas and shapes are validated exactly as for a graph
// built by hand. Nodes are first built into a scratch graph, so a GraphDef
// that fails leaves the target graph unchanged.
#ifndef LOOM_RUNTIME_GRAPH_GRAPHDEF_H_
#define LOOM_RUNTIME_GRAPH_GRAPHDEF_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runtime/graph/graph.h"

namespace loom {

// The GraphDef version Loom writes as `producer`: the TensorFlow GraphDef
// version whose op semantics Loom follows (TensorFlow 2.11). Loom reads a
// GraphDef when its producer >= kGraphDefMinProducer, its min_consumer <=
// kGraphDefVersion and kGraphDefVersion is not one of its bad_consumers.
constexpr int kGraphDefVersion = 1205;
constexpr int kGraphDefMinProducer = 0;
constexpr int kGraphDefMinConsumer = 0;

enum class GraphDefFormat { kBinary = 0, kText = 1 };

// The default limit on the bytes of one tensor that import materialises from
// fewer values than its shape declares (TensorFlow's "repeat the last value"
// rule), so a 20-byte Const declaring [1e12] floats cannot allocate 4 TB.
// Tensors given in full (tensor_content) are bounded by the input's size.
constexpr int64_t kDefaultMaxTensorBytes = int64_t{1} << 30;

struct ImportOptions {
  GraphDefFormat format = GraphDefFormat::kBinary;
  // Prepended as "prefix/" to every imported op's name (and to the names in
  // its inputs); empty: names are kept.
  std::string prefix;
  // Device for ops whose NodeDef requests none; empty: none.
  std::string default_device;
  // Drop every device request of the GraphDef (then default_device applies).
  bool clear_devices = false;
  // Inputs "name:index" of the GraphDef (names before prefixing) replaced by
  // outputs that already exist in the target graph. Every key must name an op
  // of the GraphDef.
  std::map<std::pair<std::string, int>, Output> input_map;
  // Control inputs "^name" replaced by ops of the target graph.
  std::map<std::string, Node*> control_map;
  int64_t max_tensor_bytes = kDefaultMaxTensorBytes;
};

// Serialises every node of g, in creation order (a topological order), with
// all its attrs, into a GraphDef with versions {producer: kGraphDefVersion,
// min_consumer: kGraphDefMinConsumer}.
Status ExportGraphDef(const Graph& g, GraphDefFormat format, std::string* out);

// Imports a serialised GraphDef into g. On success `added` (may be null)
// receives the new nodes in the order they were added. On failure g is
// unchanged. Errors: INVALID_ARGUMENT (malformed bytes or text, bad versions,
// a duplicate or empty node name, a dangling input, a cycle, an invalid attr
// or tensor, a schema or shape error from NodeBuilder), NOT_FOUND (op types
// Loom does not have -- all of them listed), ALREADY_EXISTS (an imported name
// is taken in g).
Status ImportGraphDef(const void* data, size_t size, const ImportOptions& options, Graph* g,
                      std::vector<Node*>* added = nullptr);

}  // namespace loom

#endif  // LOOM_RUNTIME_GRAPH_GRAPHDEF_H_
