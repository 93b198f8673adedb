// Graph and Node: ops with typed outputs, data and control edges, attributes
// and a requested device. Nodes are immutable once added (except for their
// consumer lists), so executors prepared from a graph stay valid as it grows.
#ifndef LOOM_RUNTIME_GRAPH_GRAPH_H_
#define LOOM_RUNTIME_GRAPH_GRAPH_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/graph/attr_value.h"

namespace loom {

class Node;
struct OpDef;

// One output of a node.
struct Output {
  Node* node = nullptr;
  int index = 0;
  bool valid() const { return node != nullptr; }
  bool operator==(const Output& o) const { return node == o.node && index == o.index; }
  bool operator!=(const Output& o) const { return !(*this == o); }
};

class Node {
 public:
  int id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  const OpDef* op_def() const { return op_def_; }
  const std::string& requested_device() const { return device_; }
  const AttrMap& attrs() const { return attrs_.map; }
  const loom_attrs* c_attrs() const { return &attrs_; }

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const Output& input(int i) const { return inputs_[i]; }
  const std::vector<Output>& inputs() const { return inputs_; }
  DataType input_dtype(int i) const { return input_types_[i]; }
  // True if input i is a reference (mutable) input: the op updates it in place.
  bool input_is_ref(int i) const { return input_is_ref_[i]; }
  const std::vector<Node*>& control_inputs() const { return control_inputs_; }

  int num_outputs() const { return static_cast<int>(output_types_.size()); }
  DataType output_dtype(int i) const { return output_types_[i]; }
  const PartialShape& output_shape(int i) const { return output_shapes_[i]; }
  bool output_is_ref(int i) const { return output_is_ref_[i]; }
  // Consumers of each output: (node, input index).
  const std::vector<std::pair<Node*, int>>& consumers(int output) const {
    return consumers_[output];
  }
  const std::vector<Node*>& control_outputs() const { return control_outputs_; }
  std::string DebugString() const;  // "MatMul 'dense/MatMul'"
  // The type attrs, for "no kernel" errors: "T=float, Tidx=int32".
  std::string TypeAttrsString() const;

 private:
  friend class Graph;
  friend class NodeBuilder;
  int id_ = -1;
  std::string name_, type_, device_;
  const OpDef* op_def_ = nullptr;
  loom_attrs attrs_;
  std::vector<Output> inputs_;
  std::vector<DataType> input_types_;
  std::vector<bool> input_is_ref_;
  std::vector<Node*> control_inputs_;
  std::vector<DataType> output_types_;
  std::vector<bool> output_is_ref_;
  std::vector<PartialShape> output_shapes_;
  std::vector<std::vector<std::pair<Node*, int>>> consumers_;
  std::vector<Node*> control_outputs_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  Node* node(int id) const { return nodes_[id].get(); }
  Node* FindNode(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  // A name not yet used in the graph: `base`, else `base_1`, `base_2`, ...
  std::string UniqueName(const std::string& base);
  // Prefix applied to every name given to NodeBuilder while set (gradients).
  const std::string& name_prefix() const { return name_prefix_; }
  void set_name_prefix(std::string p) { name_prefix_ = std::move(p); }
  // Adds a copy of `src` (of another graph) as already validated and inferred
  // there: same name, op, attrs, dtypes and shapes, with these inputs (one per
  // input of src, of the same dtypes; not checked) and control inputs, all
  // nodes of this graph. Used by partitioning, which must not re-infer shapes
  // across the Recv nodes it inserts.
  Node* CopyNode(const Node& src, std::vector<Output> inputs, std::vector<Node*> control_inputs);
  // Makes dst wait for src (both nodes of this graph).
  void AddControlEdge(Node* src, Node* dst);
  // Records where a node was placed (partition graphs sent to other tasks).
  void SetDevice(Node* n, std::string device) { n->device_ = std::move(device); }

 private:
  friend class NodeBuilder;
  Node* AddNode(std::unique_ptr<Node> n);
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, Node*> by_name_;
  std::unordered_map<std::string, int> name_counters_;
  std::string name_prefix_;
};

// Builds one node: collect inputs and attrs, then Finish validates them against
// the op's schema (inputs, dtypes, attrs, defaults), infers output dtypes and
// shapes, and adds the node. Errors name the op and what was expected.
class NodeBuilder {
 public:
  NodeBuilder(Graph* g, std::string type, std::string name = "");
  NodeBuilder& Input(Output o);
  NodeBuilder& InputList(std::vector<Output> os);
  NodeBuilder& ControlInput(Node* n);
  NodeBuilder& Attr(const std::string& name, AttrValue v);
  NodeBuilder& Attr(const std::string& name, int64_t v) { return Attr(name, AttrValue::Int(v)); }
  NodeBuilder& Attr(const std::string& name, int v) { return Attr(name, AttrValue::Int(v)); }
  NodeBuilder& Attr(const std::string& name, float v) { return Attr(name, AttrValue::Float(v)); }
  NodeBuilder& Attr(const std::string& name, bool v) { return Attr(name, AttrValue::Bool(v)); }
  NodeBuilder& Attr(const std::string& name, DataType v) { return Attr(name, AttrValue::Type(v)); }
  NodeBuilder& Attr(const std::string& name, std::vector<int64_t> v) {
    return Attr(name, AttrValue::IntList(std::move(v)));
  }
  NodeBuilder& Device(std::string d) { device_ = std::move(d); return *this; }
  // Records an error to be returned by Finish (used by the C API adders).
  NodeBuilder& Fail(Status s) { if (status_.ok()) status_ = std::move(s); return *this; }
  Status Finish(Node** out = nullptr);

 private:
  struct InputSlot {
    bool is_list;
    std::vector<Output> outs;
  };
  // Finish's phases; `who` names the op in errors.
  Status ResolveName(std::string* out) const;
  Status BindInputs(const OpDef& def, const std::string& who, Node* node) const;
  Status SetOutputTypes(const OpDef& def, const std::string& who, Node* node) const;
  Status InferShapes(const OpDef& def, const std::string& who, Node* node) const;
  Graph* g_;
  std::string type_, name_, device_;
  std::vector<InputSlot> inputs_;
  std::vector<Node*> control_;
  AttrMap attrs_;
  Status status_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_GRAPH_GRAPH_H_
