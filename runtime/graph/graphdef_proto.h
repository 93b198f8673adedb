// Conversions between Loom's graph values and their protobuf messages
// (proto/*.proto, C++ namespace loom::pb). Internal: included only by .cc files of the core, never by
// a public header.
#ifndef LOOM_RUNTIME_GRAPH_GRAPHDEF_PROTO_H_
#define LOOM_RUNTIME_GRAPH_GRAPHDEF_PROTO_H_

#include <string>

#include "proto/graph.pb.h"
#include "runtime/graph/graphdef.h"

namespace loom {

// A dtype Loom has (loom_dtype); INVALID_ARGUMENT naming `what` otherwise.
Status DataTypeFromProto(int proto_dtype, const std::string& what, DataType* out);

// Shapes. A partial shape allows unknown dims (-1) and an unknown rank; a
// concrete one does not. Dims below -1, or more than kMaxRank of them, are
// INVALID_ARGUMENT naming `what`; so is an element count that overflows.
constexpr int kMaxRank = 254;
Status PartialShapeFromProto(const pb::TensorShapeProto& p, const std::string& what, PartialShape* out);
Status TensorShapeFromProto(const pb::TensorShapeProto& p, const std::string& what, TensorShape* out);
void ShapeToProto(const PartialShape& s, pb::TensorShapeProto* out);

// TensorProto -> host Tensor: tensor_content (exact size) or the typed value
// fields (fewer values than elements repeat the last one; none means zeros),
// the latter limited to max_fill_bytes of output.
Status TensorFromProto(const pb::TensorProto& p, int64_t max_fill_bytes, const std::string& what,
                       Tensor* out);
// Host tensor -> TensorProto with tensor_content.
void TensorToProto(const Tensor& t, pb::TensorProto* out);

Status AttrValueFromProto(const pb::AttrValue& p, int64_t max_fill_bytes, const std::string& what,
                          AttrValue* out);
void AttrValueToProto(const AttrValue& v, pb::AttrValue* out);

// Graph <-> GraphDef message (see graphdef.h for the semantics).
void GraphToGraphDef(const Graph& g, pb::GraphDef* out);
Status ImportGraphDefProto(const pb::GraphDef& gd, const ImportOptions& options, Graph* g,
                           std::vector<Node*>* added);
// Serialises with map entries sorted, so equal messages give equal bytes.
bool SerializeDeterministic(const google::protobuf::MessageLite& m, std::string* out);
// Checks a GraphDef's versions against Loom's (see kGraphDefVersion).
Status CheckGraphDefVersions(const pb::GraphDef& gd);

}  // namespace loom

#endif  // LOOM_RUNTIME_GRAPH_GRAPHDEF_PROTO_H_
