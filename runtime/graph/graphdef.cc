// GraphDef (de)serialisation. See graphdef.h for what import promises.
#include "runtime/graph/graphdef.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <set>
#include <unordered_map>

#include "runtime/graph/graphdef_proto.h"
#include "runtime/ops/op_registry.h"

namespace loom {


// ------------------------------------------------------------------ dtypes, shapes

Status DataTypeFromProto(int proto_dtype, const std::string& what, DataType* out) {
  DataType dt = static_cast<DataType>(proto_dtype);
  if (proto_dtype == LOOM_DTYPE_STRING || DataTypeIsValid(dt)) {
    *out = dt;
    return Status::OK();
  }
  const std::string& name = pb::DataType_IsValid(proto_dtype)
                                ? pb::DataType_Name(static_cast<pb::DataType>(proto_dtype))
                                : StrCat("DataType ", proto_dtype);
  return InvalidArgument(what, ": dtype ", name, " is not supported by Loom");
}

Status PartialShapeFromProto(const pb::TensorShapeProto& p, const std::string& what, PartialShape* out) {
  if (p.unknown_rank()) {
    if (p.dim_size() > 0)
      return InvalidArgument(what, ": shape has unknown_rank set but lists ", p.dim_size(), " dims");
    *out = PartialShape::Unknown();
    return Status::OK();
  }
  if (p.dim_size() > kMaxRank)
    return InvalidArgument(what, ": shape has ", p.dim_size(), " dims, more than the limit of ", kMaxRank);
  std::vector<int64_t> dims(p.dim_size());
  for (int i = 0; i < p.dim_size(); ++i) {
    int64_t d = p.dim(i).size();
    if (d < -1)
      return InvalidArgument(what, ": shape has a negative dimension ", d, " at index ", i,
                             " (only -1, unknown, is allowed)");
    dims[i] = d;
  }
  *out = PartialShape(std::move(dims));
  return Status::OK();
}

Status TensorShapeFromProto(const pb::TensorShapeProto& p, const std::string& what, TensorShape* out) {
  if (p.unknown_rank()) return InvalidArgument(what, ": a tensor's shape must have a known rank");
  PartialShape partial;
  RETURN_IF_ERROR(PartialShapeFromProto(p, what, &partial));
  int64_t n = 1;
  for (int i = 0; i < partial.rank(); ++i) {
    int64_t d = partial.dim(i);
    if (d < 0)
      return InvalidArgument(what, ": tensor shape has a negative dimension ", d, " at index ", i);
    if (__builtin_mul_overflow(n, d, &n) || n > (int64_t{1} << 56))
      return InvalidArgument(what, ": tensor shape ", partial.ToString(), " has too many elements");
  }
  *out = TensorShape(partial.dims());
  return Status::OK();
}

void ShapeToProto(const PartialShape& s, pb::TensorShapeProto* out) {
  out->Clear();
  if (!s.rank_known()) {
    out->set_unknown_rank(true);
    return;
  }
  for (int64_t d : s.dims()) out->add_dim()->set_size(d < 0 ? -1 : d);
}

// ------------------------------------------------------------------ tensors

namespace {

// Copies `n` typed values (converted to T) into dst and repeats the last one
// up to `count` elements (none: zeros, which dst already holds).
template <typename T, typename Field>
void FillFrom(const Field& values, int64_t count, void* dst) {
  T* out = static_cast<T*>(dst);
  const int64_t n = values.size();
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(values.Get(static_cast<int>(i)));
  if (n > 0) std::fill(out + n, out + count, static_cast<T>(values.Get(static_cast<int>(n - 1))));
}

int64_t TypedValueCount(const pb::TensorProto& p, DataType dt) {
  switch (dt) {
    case LOOM_DTYPE_FLOAT: return p.float_val_size();
    case LOOM_DTYPE_DOUBLE: return p.double_val_size();
    case LOOM_DTYPE_INT32: case LOOM_DTYPE_INT16: case LOOM_DTYPE_INT8:
    case LOOM_DTYPE_UINT8: case LOOM_DTYPE_UINT16: return p.int_val_size();
    case LOOM_DTYPE_INT64: return p.int64_val_size();
    case LOOM_DTYPE_BOOL: return p.bool_val_size();
    case LOOM_DTYPE_HALF: case LOOM_DTYPE_BFLOAT16: return p.half_val_size();
    case LOOM_DTYPE_UINT32: return p.uint32_val_size();
    case LOOM_DTYPE_UINT64: return p.uint64_val_size();
    default: return 0;
  }
}

}  // namespace

Status TensorFromProto(const pb::TensorProto& p, int64_t max_fill_bytes, const std::string& what,
                       Tensor* out) {
  DataType dt;
  RETURN_IF_ERROR(DataTypeFromProto(p.dtype(), what, &dt));
  if (dt == LOOM_DTYPE_STRING) return InvalidArgument(what, ": string tensors are not supported by Loom");
  TensorShape shape;
  RETURN_IF_ERROR(TensorShapeFromProto(p.tensor_shape(), what, &shape));
  const int64_t count = shape.num_elements();
  const uint64_t elem = DataTypeSize(dt);
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(count), elem, &bytes))
    return InvalidArgument(what, ": tensor of shape ", shape.ToString(), " is too large");

  if (!p.tensor_content().empty()) {
    if (p.tensor_content().size() != bytes)
      return InvalidArgument(what, ": tensor_content has ", p.tensor_content().size(),
                             " bytes but shape ", shape.ToString(), " of ", DataTypeName(dt), " needs ",
                             bytes);
    RETURN_IF_ERROR(Tensor::Allocate(dt, shape, out).WithPrefix(what + ": "));
    if (bytes) std::memcpy(out->data(), p.tensor_content().data(), bytes);
    return Status::OK();
  }
  const int64_t n = TypedValueCount(p, dt);
  if (n > count)
    return InvalidArgument(what, ": tensor has ", n, " values but its shape ", shape.ToString(), " holds ",
                           count);
  // Everything beyond the values given is materialised by us: bound it.
  if (n < count && static_cast<int64_t>(bytes) > max_fill_bytes)
    return InvalidArgument(what, ": tensor declares shape ", shape.ToString(), " of ", DataTypeName(dt), " (",
                           bytes, " bytes) from only ", n, " value(s); the limit for such tensors is ",
                           max_fill_bytes, " bytes");
  RETURN_IF_ERROR(Tensor::Allocate(dt, shape, out, /*zero=*/true).WithPrefix(what + ": "));
  void* d = out->data();
  switch (dt) {
    case LOOM_DTYPE_FLOAT: FillFrom<float>(p.float_val(), count, d); break;
    case LOOM_DTYPE_DOUBLE: FillFrom<double>(p.double_val(), count, d); break;
    case LOOM_DTYPE_INT32: FillFrom<int32_t>(p.int_val(), count, d); break;
    case LOOM_DTYPE_INT16: FillFrom<int16_t>(p.int_val(), count, d); break;
    case LOOM_DTYPE_INT8: FillFrom<int8_t>(p.int_val(), count, d); break;
    case LOOM_DTYPE_UINT8: FillFrom<uint8_t>(p.int_val(), count, d); break;
    case LOOM_DTYPE_UINT16: FillFrom<uint16_t>(p.int_val(), count, d); break;
    case LOOM_DTYPE_INT64: FillFrom<int64_t>(p.int64_val(), count, d); break;
    case LOOM_DTYPE_BOOL: FillFrom<uint8_t>(p.bool_val(), count, d); break;
    case LOOM_DTYPE_HALF: case LOOM_DTYPE_BFLOAT16: FillFrom<uint16_t>(p.half_val(), count, d); break;
    case LOOM_DTYPE_UINT32: FillFrom<uint32_t>(p.uint32_val(), count, d); break;
    case LOOM_DTYPE_UINT64: FillFrom<uint64_t>(p.uint64_val(), count, d); break;
    default: return InvalidArgument(what, ": dtype ", DataTypeName(dt), " is not supported in a tensor");
  }
  return Status::OK();
}

void TensorToProto(const Tensor& t, pb::TensorProto* out) {
  out->Clear();
  out->set_dtype(static_cast<pb::DataType>(t.dtype()));
  ShapeToProto(PartialShape(t.shape()), out->mutable_tensor_shape());
  if (t.byte_size()) out->set_tensor_content(t.data(), t.byte_size());
}

// ------------------------------------------------------------------ attrs

Status AttrValueFromProto(const pb::AttrValue& p, int64_t max_fill_bytes, const std::string& what,
                          AttrValue* out) {
  switch (p.value_case()) {
    case pb::AttrValue::kS: *out = AttrValue::String(p.s()); return Status::OK();
    case pb::AttrValue::kI: *out = AttrValue::Int(p.i()); return Status::OK();
    case pb::AttrValue::kF: *out = AttrValue::Float(p.f()); return Status::OK();
    case pb::AttrValue::kB: *out = AttrValue::Bool(p.b()); return Status::OK();
    case pb::AttrValue::kType: {
      DataType dt;
      RETURN_IF_ERROR(DataTypeFromProto(p.type(), what, &dt));
      *out = AttrValue::Type(dt);
      return Status::OK();
    }
    case pb::AttrValue::kShape: {
      PartialShape s;
      RETURN_IF_ERROR(PartialShapeFromProto(p.shape(), what, &s));
      *out = AttrValue::Shape(std::move(s));
      return Status::OK();
    }
    case pb::AttrValue::kTensor: {
      Tensor t;
      RETURN_IF_ERROR(TensorFromProto(p.tensor(), max_fill_bytes, what, &t));
      *out = AttrValue::TensorValue(std::move(t));
      return Status::OK();
    }
    case pb::AttrValue::kList: break;
    case pb::AttrValue::kFunc:
    case pb::AttrValue::kPlaceholder:
      return InvalidArgument(what, ": function-valued attrs (TensorFlow functions) are not supported");
    case pb::AttrValue::VALUE_NOT_SET:
      return InvalidArgument(what, ": attr value has no value set");
  }
  const pb::AttrValue::ListValue& l = p.list();
  int kinds = (l.s_size() > 0) + (l.i_size() > 0) + (l.f_size() > 0) + (l.b_size() > 0) +
              (l.type_size() > 0) + (l.shape_size() > 0) + (l.tensor_size() > 0) + (l.func_size() > 0);
  if (kinds > 1) return InvalidArgument(what, ": list attr mixes values of ", kinds, " kinds");
  if (l.func_size() > 0)
    return InvalidArgument(what, ": function-valued attrs (TensorFlow functions) are not supported");
  if (l.s_size() > 0) {
    *out = AttrValue::StringList(std::vector<std::string>(l.s().begin(), l.s().end()));
  } else if (l.f_size() > 0) {
    *out = AttrValue::FloatList(std::vector<float>(l.f().begin(), l.f().end()));
  } else if (l.b_size() > 0) {
    *out = AttrValue::BoolList(std::vector<bool>(l.b().begin(), l.b().end()));
  } else if (l.type_size() > 0) {
    std::vector<DataType> v(l.type_size());
    for (int i = 0; i < l.type_size(); ++i) RETURN_IF_ERROR(DataTypeFromProto(l.type(i), what, &v[i]));
    *out = AttrValue::TypeList(std::move(v));
  } else if (l.shape_size() > 0) {
    std::vector<PartialShape> v(l.shape_size());
    for (int i = 0; i < l.shape_size(); ++i) RETURN_IF_ERROR(PartialShapeFromProto(l.shape(i), what, &v[i]));
    *out = AttrValue::ShapeList(std::move(v));
  } else if (l.tensor_size() > 0) {
    std::vector<Tensor> v(l.tensor_size());
    for (int i = 0; i < l.tensor_size(); ++i)
      RETURN_IF_ERROR(TensorFromProto(l.tensor(i), max_fill_bytes, StrCat(what, "[", i, "]"), &v[i]));
    *out = AttrValue::TensorList(std::move(v));
  } else {
    // list(int), or an empty list of any kind (AttrValue's convention).
    *out = AttrValue::IntList(std::vector<int64_t>(l.i().begin(), l.i().end()));
  }
  return Status::OK();
}

void AttrValueToProto(const AttrValue& v, pb::AttrValue* out) {
  out->Clear();
  switch (v.kind()) {
    case AttrValue::kNone: return;
    case AttrValue::kInt: out->set_i(v.i()); return;
    case AttrValue::kFloat: out->set_f(v.f()); return;
    case AttrValue::kBool: out->set_b(v.b()); return;
    case AttrValue::kType: out->set_type(static_cast<pb::DataType>(v.type())); return;
    case AttrValue::kShape: ShapeToProto(v.shape(), out->mutable_shape()); return;
    case AttrValue::kString: out->set_s(v.s()); return;
    case AttrValue::kTensor: TensorToProto(v.tensor(), out->mutable_tensor()); return;
    default: break;
  }
  pb::AttrValue::ListValue* l = out->mutable_list();
  switch (v.kind()) {
    case AttrValue::kIntList: for (int64_t x : v.ilist()) l->add_i(x); break;
    case AttrValue::kFloatList: for (float x : v.flist()) l->add_f(x); break;
    case AttrValue::kBoolList: for (bool x : v.blist()) l->add_b(x); break;
    case AttrValue::kTypeList:
      for (DataType x : v.tlist()) l->add_type(static_cast<pb::DataType>(x));
      break;
    case AttrValue::kShapeList: for (const auto& x : v.shlist()) ShapeToProto(x, l->add_shape()); break;
    case AttrValue::kStringList: for (const auto& x : v.slist()) l->add_s(x); break;
    case AttrValue::kTensorList: for (const auto& x : v.tensor_list()) TensorToProto(x, l->add_tensor()); break;
    default: break;
  }
}

// ------------------------------------------------------------------ export

bool SerializeDeterministic(const google::protobuf::MessageLite& m, std::string* out) {
  out->clear();
  {
    google::protobuf::io::StringOutputStream stream(out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!m.SerializeToCodedStream(&coded)) return false;
  }
  return true;
}

namespace {
std::string InputName(const Output& o) {
  return o.index == 0 ? o.node->name() : StrCat(o.node->name(), ":", o.index);
}
}  // namespace

void GraphToGraphDef(const Graph& g, pb::GraphDef* out) {
  out->Clear();
  out->mutable_versions()->set_producer(kGraphDefVersion);
  out->mutable_versions()->set_min_consumer(kGraphDefMinConsumer);
  for (int i = 0; i < g.num_nodes(); ++i) {
    const Node* n = g.node(i);
    pb::NodeDef* nd = out->add_node();
    nd->set_name(n->name());
    nd->set_op(n->type());
    if (!n->requested_device().empty()) nd->set_device(n->requested_device());
    for (const Output& in : n->inputs()) nd->add_input(InputName(in));
    for (const Node* c : n->control_inputs()) nd->add_input("^" + c->name());
    for (const auto& kv : n->attrs().map()) {  // sorted by name
      pb::AttrEntry* e = nd->add_attr();
      e->set_key(kv.first);
      AttrValueToProto(kv.second, e->mutable_value());
    }
  }
}

Status ExportGraphDef(const Graph& g, GraphDefFormat format, std::string* out) {
  pb::GraphDef gd;
  GraphToGraphDef(g, &gd);
  if (format == GraphDefFormat::kText) {
    if (!google::protobuf::TextFormat::PrintToString(gd, out))
      return Internal("GraphDef: text serialisation failed");
    return Status::OK();
  }
  if (gd.ByteSizeLong() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return InvalidArgument("GraphDef: the graph serialises to more than 2 GB, protobuf's limit");
  if (!SerializeDeterministic(gd, out)) return Internal("GraphDef: binary serialisation failed");
  return Status::OK();
}

// ------------------------------------------------------------------ import

Status CheckGraphDefVersions(const pb::GraphDef& gd) {
  int producer = gd.has_versions() ? gd.versions().producer() : gd.version();
  if (producer < kGraphDefMinProducer)
    return InvalidArgument("GraphDef producer version ", producer, " is below the minimum ",
                           kGraphDefMinProducer, " that Loom reads");
  if (!gd.has_versions()) return Status::OK();
  const pb::VersionDef& v = gd.versions();
  if (v.min_consumer() > kGraphDefVersion)
    return InvalidArgument("GraphDef min_consumer version ", v.min_consumer(),
                           " is above Loom's GraphDef version ", kGraphDefVersion,
                           ": the graph (producer ", producer,
                           ") needs a newer consumer; re-export it for an older consumer or upgrade Loom");
  for (int bad : v.bad_consumers())
    if (bad == kGraphDefVersion)
      return InvalidArgument("GraphDef lists Loom's GraphDef version ", kGraphDefVersion,
                             " among its bad_consumers (producer ", producer, ")");
  return Status::OK();
}

namespace {

// One parsed input of a NodeDef.
struct InputRef {
  std::string node;   // name in the GraphDef (before prefixing)
  int index = 0;
  bool control = false;
  int internal = -1;  // index of the source NodeDef, or -1 when mapped
  Output mapped;      // data input replaced by input_map
  Node* mapped_ctrl = nullptr;
};

struct PendingNode {
  const pb::NodeDef* def = nullptr;
  const OpDef* op = nullptr;
  std::string name;  // prefixed
  AttrMap attrs;
  std::vector<InputRef> inputs;  // data inputs then control inputs
  int num_data = 0;
};

bool ValidNodeName(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bool ok = isalnum(c) || c == '.' || c == '_' || (i > 0 && (c == '-' || c == '/' || c == '>'));
    if (!ok) return false;
  }
  return true;
}

Status ParseInput(const std::string& who, const std::string& s, InputRef* out) {
  std::string name = s;
  if (!name.empty() && name[0] == '^') {
    out->control = true;
    name = name.substr(1);
  }
  size_t colon = name.rfind(':');
  if (colon != std::string::npos) {
    std::string idx = name.substr(colon + 1);
    if (out->control) return InvalidArgument(who, ": control input '", s, "' must not name an output index");
    if (idx.empty() || idx.size() > 9 || !std::all_of(idx.begin(), idx.end(), ::isdigit))
      return InvalidArgument(who, ": malformed input '", s, "' (expected \"op\", \"op:N\" or \"^op\")");
    out->index = std::stoi(idx);
    name = name.substr(0, colon);
  }
  if (!ValidNodeName(name))
    return InvalidArgument(who, ": malformed input '", s, "' (expected \"op\", \"op:N\" or \"^op\")");
  out->node = name;
  return Status::OK();
}

// True if an attr value is the zero of its kind: the value TensorFlow gives
// attrs it adds to an op later, so dropping it keeps the op's behaviour.
bool IsZeroAttr(const AttrValue& v) {
  switch (v.kind()) {
    case AttrValue::kInt: return v.i() == 0;
    case AttrValue::kFloat: return v.f() == 0;
    case AttrValue::kBool: return !v.b();
    case AttrValue::kString: return v.s().empty();
    default: return v.is_list() && v.list_size() == 0;
  }
}

// Sizes of the data-input slots of a node per its OpDef; INVALID_ARGUMENT if
// the NodeDef's input count cannot match.
Status SlotSizes(const PendingNode& p, const std::string& who, std::vector<int>* sizes) {
  const OpDef* def = p.op;
  sizes->assign(def->inputs.size(), 1);
  int known = 0, unknown_slot = -1;
  for (size_t a = 0; a < def->inputs.size(); ++a) {
    const ArgDef& arg = def->inputs[a];
    int n = -1;
    if (!arg.number_attr.empty()) {
      const AttrValue* v = p.attrs.Find(arg.number_attr);
      if (v && v->kind() == AttrValue::kInt) n = static_cast<int>(std::clamp<int64_t>(v->i(), -1, 1 << 30));
    } else if (!arg.type_list_attr.empty()) {
      const AttrValue* v = p.attrs.Find(arg.type_list_attr);
      if (v && v->is_list()) n = static_cast<int>(v->list_size());
    } else {
      n = 1;
    }
    if (n < 0) {
      if (unknown_slot >= 0)
        return InvalidArgument(who, ": attrs ", def->inputs[unknown_slot].number_attr,
                               def->inputs[unknown_slot].type_list_attr, " and ",
                               arg.number_attr, arg.type_list_attr, " are missing");
      unknown_slot = static_cast<int>(a);
      continue;
    }
    (*sizes)[a] = n;
    known += n;
  }
  if (unknown_slot >= 0) {
    if (p.num_data < known)
      return InvalidArgument(who, ": has ", p.num_data, " data inputs, the op needs at least ", known);
    (*sizes)[unknown_slot] = p.num_data - known;
    return Status::OK();
  }
  if (known != p.num_data) {
    std::string names;
    for (size_t a = 0; a < def->inputs.size(); ++a)
      names += StrCat(a ? ", " : "", def->inputs[a].name, (*sizes)[a] != 1 || !def->inputs[a].number_attr.empty()
                                                             ? StrCat("[", (*sizes)[a], "]")
                                                             : std::string());
    return InvalidArgument(who, ": has ", p.num_data, " data inputs but the op expects ", known, " (",
                           names, ")");
  }
  return Status::OK();
}

// Builds one node into `g`. `built` maps GraphDef index -> node already built
// in g; `mapped` and `mapped_ctrl` give the node in g that stands for a mapped
// input (the real one, or a scratch graph's stand-in).
using MappedOutputFn = std::function<Output(const Output&)>;
using MappedControlFn = std::function<Node*(Node*)>;

Status BuildNode(const PendingNode& p, const ImportOptions& opts, Graph* g, const std::vector<Node*>& built,
                 const MappedOutputFn& mapped, const MappedControlFn& mapped_ctrl, Node** out) {
  const std::string who = StrCat(p.def->op(), " op '", p.name, "'");
  std::vector<int> sizes;
  RETURN_IF_ERROR(SlotSizes(p, who, &sizes));
  auto resolve = [&](const InputRef& r) -> Output {
    return r.internal >= 0 ? Output{built[r.internal], r.index} : mapped(r.mapped);
  };
  NodeBuilder b(g, p.def->op(), p.name);
  int k = 0;
  for (size_t a = 0; a < sizes.size(); ++a) {
    const ArgDef& arg = p.op->inputs[a];
    if (!arg.number_attr.empty() || !arg.type_list_attr.empty()) {
      std::vector<Output> list;
      for (int j = 0; j < sizes[a]; ++j) list.push_back(resolve(p.inputs[k++]));
      b.InputList(std::move(list));
    } else {
      b.Input(resolve(p.inputs[k++]));
    }
  }
  for (size_t i = p.num_data; i < p.inputs.size(); ++i) {
    const InputRef& r = p.inputs[i];
    b.ControlInput(r.internal >= 0 ? built[r.internal] : mapped_ctrl(r.mapped_ctrl));
  }
  std::string device = opts.clear_devices ? std::string() : p.def->device();
  if (device.empty()) device = opts.default_device;
  b.Device(device);
  for (const auto& kv : p.attrs.map()) b.Attr(kv.first, kv.second);
  return b.Finish(out);
}

// A node of a scratch graph standing in for a mapped output of the target
// graph: a Const with the same value (shape functions may read it), a
// VariableV2 for a reference, else a Placeholder of the same dtype and shape.
Status MakeStandIn(Graph* scratch, const Output& real, int k, Output* out) {
  const Node* n = real.node;
  if (real.index < 0 || real.index >= n->num_outputs())
    return InvalidArgument("input mapping refers to nonexistent output ", n->name(), ":", real.index);
  std::string name = StrCat("_import_standin_", k);
  Node* s = nullptr;
  if (n->type() == "Const") {
    NodeBuilder b(scratch, "Const", name);
    for (const auto& kv : n->attrs().map()) b.Attr(kv.first, kv.second);
    RETURN_IF_ERROR(b.Finish(&s));
  } else {
    const bool ref = n->output_is_ref(real.index);
    NodeBuilder b(scratch, ref ? "VariableV2" : "Placeholder", name);
    b.Attr("dtype", AttrValue::Type(n->output_dtype(real.index)));
    b.Attr("shape", AttrValue::Shape(n->output_shape(real.index)));
    RETURN_IF_ERROR(b.Finish(&s).WithPrefix("import: cannot stand in for mapped input " + n->name() + ": "));
  }
  *out = Output{s, 0};
  return Status::OK();
}

// Names: non-empty, well formed, unique (ResolveOpTypes checks they are not taken in g).
Status IndexNodeNames(const pb::GraphDef& gd, std::unordered_map<std::string, int>* out) {
  const int n = gd.node_size();
  std::unordered_map<std::string, int>& index = *out;
  index.reserve(n);
  for (int i = 0; i < n; ++i) {
    const std::string& name = gd.node(i).name();
    if (!ValidNodeName(name))
      return InvalidArgument("GraphDef node ", i, " has an invalid name '", name,
                             "' (expected [A-Za-z0-9._][A-Za-z0-9._/>-]*)");
    if (!index.emplace(name, i).second)
      return InvalidArgument("GraphDef has two nodes named '", name, "'");
  }
  return Status::OK();
}

// Op types: every unknown one, in one error; then no (prefixed) name may be taken in g.
Status ResolveOpTypes(const pb::GraphDef& gd, const ImportOptions& opts, const Graph& g,
                      std::vector<PendingNode>* out) {
  const int n = gd.node_size();
  const std::string prefix = opts.prefix.empty() ? std::string() : opts.prefix + "/";
  std::vector<PendingNode>& pending = *out;
  pending.resize(n);
  std::map<std::string, std::vector<std::string>> unknown;
  for (int i = 0; i < n; ++i) {
    const pb::NodeDef& nd = gd.node(i);
    pending[i].def = &nd;
    pending[i].name = prefix + nd.name();
    pending[i].op = OpRegistry::Global()->Find(nd.op());
    if (!pending[i].op) unknown[nd.op()].push_back(nd.name());
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& kv : unknown) {
      list += StrCat(list.empty() ? "" : ", ", kv.first.empty() ? std::string("(empty)") : kv.first, " (",
                     kv.second.size() == 1 ? "op '" : StrCat(kv.second.size(), " ops, first '"),
                     kv.second[0], "')");
    }
    return Status(LOOM_CODE_NOT_FOUND, StrCat("GraphDef uses ", unknown.size(),
                                              " op type(s) Loom does not have: ", list));
  }
  for (int i = 0; i < n; ++i) {
    if (g.FindNode(pending[i].name))
      return AlreadyExists("cannot import op '", pending[i].name, "': the graph already has an op of that name",
                           opts.prefix.empty() ? " (import with a name prefix)" : "");
  }
  return Status::OK();
}

// Inputs: syntax, data before control, resolution.
Status ResolveInputs(const ImportOptions& opts, const std::unordered_map<std::string, int>& index,
                     std::vector<PendingNode>* out) {
  const int n = static_cast<int>(out->size());
  std::vector<PendingNode>& pending = *out;
  std::set<std::pair<std::string, int>> used_map_keys;
  std::set<std::string> used_ctrl_keys;
  for (int i = 0; i < n; ++i) {
    PendingNode& p = pending[i];
    const std::string who = StrCat(p.def->op(), " op '", p.def->name(), "'");
    for (const std::string& s : p.def->input()) {
      InputRef r;
      RETURN_IF_ERROR(ParseInput(who, s, &r));
      if (!r.control && p.num_data != static_cast<int>(p.inputs.size()))
        return InvalidArgument(who, ": data input '", s, "' follows a control input");
      if (r.control) {
        auto m = opts.control_map.find(r.node);
        if (m != opts.control_map.end()) {
          r.mapped_ctrl = m->second;
          used_ctrl_keys.insert(r.node);
        }
      } else {
        auto m = opts.input_map.find({r.node, r.index});
        if (m != opts.input_map.end()) {
          r.mapped = m->second;
          used_map_keys.insert(m->first);
        }
        ++p.num_data;
      }
      if (!r.mapped.node && !r.mapped_ctrl) {
        auto it = index.find(r.node);
        if (it == index.end())
          return InvalidArgument(who, ": input '", s, "' names op '", r.node,
                                 "', which is not in the GraphDef (and no input mapping replaces it)");
        r.internal = it->second;
      }
      p.inputs.push_back(std::move(r));
    }
  }
  for (const auto& kv : opts.input_map) {
    if (!index.count(kv.first.first))
      return InvalidArgument("input mapping for '", kv.first.first, ":", kv.first.second,
                             "' names no op of the GraphDef");
    if (!kv.second.node) return InvalidArgument("input mapping for '", kv.first.first, "' has no op");
  }
  for (const auto& kv : opts.control_map) {
    if (!index.count(kv.first))
      return InvalidArgument("control input mapping for '^", kv.first, "' names no op of the GraphDef");
    if (!kv.second) return InvalidArgument("control input mapping for '^", kv.first, "' has no op");
  }
  return Status::OK();
}

// Topological order (Kahn's algorithm, stable in GraphDef order).
Status TopologicalOrder(const pb::GraphDef& gd, const std::vector<PendingNode>& pending,
                        std::vector<int>* out) {
  const int n = gd.node_size();
  std::vector<int>& order = *out;
  std::vector<int> pending_count(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (int i = 0; i < n; ++i) {
    for (const InputRef& r : pending[i].inputs) {
      if (r.internal < 0) continue;
      ++pending_count[i];
      consumers[r.internal].push_back(i);
    }
  }
  order.reserve(n);
  std::deque<int> ready;
  for (int i = 0; i < n; ++i)
    if (pending_count[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int c : consumers[i])
      if (--pending_count[c] == 0) ready.push_back(c);
  }
  if (static_cast<int>(order.size()) != n) {
    std::string names;
    int shown = 0;
    for (int i = 0; i < n && shown < 8; ++i)
      if (pending_count[i] > 0) names += StrCat(shown++ ? ", " : "", "'", gd.node(i).name(), "'");
    return InvalidArgument("GraphDef has a cycle: ", n - static_cast<int>(order.size()),
                           " op(s) wait on each other, among them ", names,
                           " (Loom has no control-flow ops, so a GraphDef must be acyclic)");
  }
  return Status::OK();
}

// Attrs, converted once (tensors are shared by both build passes).
Status ConvertAttrs(const ImportOptions& opts, const std::vector<int>& order,
                    std::vector<PendingNode>* out) {
  std::vector<PendingNode>& pending = *out;
  for (int i : order) {
    PendingNode& p = pending[i];
    const std::string who = StrCat(p.def->op(), " op '", p.def->name(), "'");
    std::vector<std::string> foreign;
    for (const pb::AttrEntry& kv : p.def->attr()) {
      // A map on the wire: a repeated key replaces the earlier value.
      const std::string& key = kv.key();
      AttrValue v;
      RETURN_IF_ERROR(AttrValueFromProto(kv.value(), opts.max_tensor_bytes, StrCat(who, " attr '", key, "'"), &v));
      if (!key.empty() && key[0] != '_' && !p.op->FindAttr(key)) {
        // An attr TensorFlow added after Loom's schema: harmless at its zero
        // value (TensorFlow's rule for new attrs), an error otherwise.
        if (IsZeroAttr(v)) continue;
        foreign.push_back(StrCat(key, "=", v.DebugString()));
        continue;
      }
      p.attrs.Set(key, std::move(v));
    }
    if (!foreign.empty()) {
      std::string list;
      for (const auto& f : foreign) list += (list.empty() ? "" : ", ") + f;
      return InvalidArgument(who, ": attrs unknown to Loom's ", p.def->op(), " with non-default values: ", list);
    }
  }
  return Status::OK();
}

// Pass 1: build into a scratch graph, mapped inputs replaced by stand-ins
// (MakeStandIn). A GraphDef that fails here leaves g untouched.
Status BuildIntoScratch(const std::vector<PendingNode>& pending, const std::vector<int>& order,
                        const ImportOptions& opts) {
  const int n = static_cast<int>(pending.size());
  Graph scratch;
  std::map<std::pair<const Node*, int>, Output> out_standin;
  std::map<const Node*, Node*> ctrl_standin;
  int k = 0;
  for (int i = 0; i < n; ++i) {
    for (const InputRef& r : pending[i].inputs) {
      if (r.mapped.node && !out_standin.count({r.mapped.node, r.mapped.index})) {
        Output s;
        RETURN_IF_ERROR(MakeStandIn(&scratch, r.mapped, k++, &s));
        out_standin[{r.mapped.node, r.mapped.index}] = s;
      }
      if (r.mapped_ctrl && !ctrl_standin.count(r.mapped_ctrl)) {
        Node* s = nullptr;
        RETURN_IF_ERROR(NodeBuilder(&scratch, "NoOp", StrCat("_import_standin_", k++)).Finish(&s));
        ctrl_standin[r.mapped_ctrl] = s;
      }
    }
  }
  std::vector<Node*> built(n, nullptr);
  auto mapped = [&](const Output& o) { return out_standin.at({o.node, o.index}); };
  auto mapped_ctrl = [&](Node* c) { return ctrl_standin.at(c); };
  for (int i : order) RETURN_IF_ERROR(BuildNode(pending[i], opts, &scratch, built, mapped, mapped_ctrl, &built[i]));
  return Status::OK();
}

// Pass 2: the target graph.
Status BuildIntoTarget(const std::vector<PendingNode>& pending, const std::vector<int>& order,
                       const ImportOptions& opts, Graph* g, std::vector<Node*>* added) {
  const int n = static_cast<int>(pending.size());
  std::string saved_prefix = g->name_prefix();
  g->set_name_prefix("");
  std::vector<Node*> built(n, nullptr);
  Status s;
  for (int i : order) {
    s = BuildNode(pending[i], opts, g, built, [](const Output& o) { return o; }, [](Node* c) { return c; },
                  &built[i]);
    if (!s.ok()) break;
  }
  g->set_name_prefix(saved_prefix);
  if (!s.ok())
    return s.WithPrefix("import failed after validation; the graph keeps the ops added so far: ");
  if (added)
    for (int i : order) added->push_back(built[i]);
  return Status::OK();
}

}  // namespace

// The phases in order; every check runs before anything is added to g.
Status ImportGraphDefProto(const pb::GraphDef& gd, const ImportOptions& opts, Graph* g,
                           std::vector<Node*>* added) {
  RETURN_IF_ERROR(CheckGraphDefVersions(gd));
  if (!opts.prefix.empty() && !ValidNodeName(opts.prefix))
    return InvalidArgument("import prefix '", opts.prefix, "' is not a valid op name prefix");
  std::unordered_map<std::string, int> index;
  RETURN_IF_ERROR(IndexNodeNames(gd, &index));
  std::vector<PendingNode> pending;
  RETURN_IF_ERROR(ResolveOpTypes(gd, opts, *g, &pending));
  RETURN_IF_ERROR(ResolveInputs(opts, index, &pending));
  std::vector<int> order;
  RETURN_IF_ERROR(TopologicalOrder(gd, pending, &order));
  RETURN_IF_ERROR(ConvertAttrs(opts, order, &pending));
  RETURN_IF_ERROR(BuildIntoScratch(pending, order, opts));
  return BuildIntoTarget(pending, order, opts, g, added);
}

namespace {
// Collects the first text-format error (with its line and column).
class TextErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (first.empty()) first = StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  void AddWarning(int, int, const std::string&) override {}
  std::string first;
};
}  // namespace

Status ImportGraphDef(const void* data, size_t size, const ImportOptions& options, Graph* g,
                      std::vector<Node*>* added) {
  if (!data && size) return InvalidArgument("GraphDef data is NULL");
  if (size > static_cast<size_t>(std::numeric_limits<int>::max()))
    return InvalidArgument("GraphDef is ", size, " bytes, more than protobuf's 2 GB limit");
  pb::GraphDef gd;
  if (options.format == GraphDefFormat::kText) {
    TextErrors errors;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&errors);
    // Fields TensorFlow has and Loom does not (library, debug_info) are skipped.
    parser.AllowUnknownField(true);
    parser.AllowUnknownExtension(true);
    // AttrValue -> NameAttrList -> AttrValue nests without bound; the binary
    // parser stops at 100 levels, the text parser only when told to.
    parser.SetRecursionLimit(100);
    if (!parser.ParseFromString(std::string(static_cast<const char*>(data), size), &gd))
      return InvalidArgument("GraphDef is not valid protobuf text: ",
                             errors.first.empty() ? std::string("parse error") : errors.first);
  } else {
    if (!gd.ParseFromArray(data, static_cast<int>(size)))
      return InvalidArgument("GraphDef is not a valid binary protobuf (", size,
                             " bytes): truncated or corrupted, or not a GraphDef");
  }
  return ImportGraphDefProto(gd, options, g, added);
}

}  // namespace loom
