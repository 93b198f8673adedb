#include "runtime/graph/graph.h"

#include "runtime/ops/op_registry.h"
#include "runtime/ops/shape_inference.h"
#include "runtime/placement/device_name.h"

namespace loom {

std::string Node::TypeAttrsString() const {
  std::string s;
  for (const auto& kv : attrs().map())
    if (kv.second.kind() == AttrValue::kType)
      s += StrCat(s.empty() ? "" : ", ", kv.first, "=", DataTypeName(kv.second.type()));
  return s;
}

std::string Node::DebugString() const { return StrCat(type_, " op '", name_, "'"); }

std::string Graph::UniqueName(const std::string& base) {
  if (!by_name_.count(base)) {
    name_counters_.emplace(base, 0);
    return base;
  }
  int& n = name_counters_[base];
  std::string candidate;
  do {
    candidate = StrCat(base, "_", ++n);
  } while (by_name_.count(candidate));
  return candidate;
}

Node* Graph::AddNode(std::unique_ptr<Node> n) {
  n->id_ = static_cast<int>(nodes_.size());
  Node* raw = n.get();
  by_name_[raw->name_] = raw;
  nodes_.push_back(std::move(n));
  for (int i = 0; i < raw->num_inputs(); ++i)
    raw->inputs_[i].node->consumers_[raw->inputs_[i].index].emplace_back(raw, i);
  for (Node* c : raw->control_inputs_) c->control_outputs_.push_back(raw);
  return raw;
}

Node* Graph::CopyNode(const Node& src, std::vector<Output> inputs, std::vector<Node*> control_inputs) {
  auto n = std::make_unique<Node>();
  n->name_ = src.name_;
  n->type_ = src.type_;
  n->device_ = src.device_;
  n->op_def_ = src.op_def_;
  n->attrs_ = src.attrs_;
  n->inputs_ = std::move(inputs);
  n->input_types_ = src.input_types_;
  n->input_is_ref_ = src.input_is_ref_;
  n->control_inputs_ = std::move(control_inputs);
  n->output_types_ = src.output_types_;
  n->output_is_ref_ = src.output_is_ref_;
  n->output_shapes_ = src.output_shapes_;
  n->consumers_.resize(src.output_types_.size());
  return AddNode(std::move(n));
}

void Graph::AddControlEdge(Node* src, Node* dst) {
  for (Node* c : dst->control_inputs_)
    if (c == src) return;
  dst->control_inputs_.push_back(src);
  src->control_outputs_.push_back(dst);
}

NodeBuilder::NodeBuilder(Graph* g, std::string type, std::string name)
    : g_(g), type_(std::move(type)), name_(std::move(name)) {}

NodeBuilder& NodeBuilder::Input(Output o) {
  inputs_.push_back({false, {o}});
  return *this;
}
NodeBuilder& NodeBuilder::InputList(std::vector<Output> os) {
  inputs_.push_back({true, std::move(os)});
  return *this;
}
NodeBuilder& NodeBuilder::ControlInput(Node* n) {
  if (!n) return Fail(InvalidArgument("null control input"));
  control_.push_back(n);
  return *this;
}
NodeBuilder& NodeBuilder::Attr(const std::string& name, AttrValue v) {
  attrs_.Set(name, std::move(v));
  return *this;
}

namespace {

AttrValue::Kind KindOfSpecType(const std::string& t) {
  static const struct { const char* n; AttrValue::Kind k; } kKinds[] = {
      {"int", AttrValue::kInt},          {"float", AttrValue::kFloat},
      {"bool", AttrValue::kBool},        {"type", AttrValue::kType},
      {"shape", AttrValue::kShape},      {"string", AttrValue::kString},
      {"tensor", AttrValue::kTensor},    {"list(int)", AttrValue::kIntList},
      {"list(float)", AttrValue::kFloatList}, {"list(bool)", AttrValue::kBoolList},
      {"list(type)", AttrValue::kTypeList},   {"list(shape)", AttrValue::kShapeList},
      {"list(string)", AttrValue::kStringList}, {"list(tensor)", AttrValue::kTensorList},
  };
  for (const auto& e : kKinds)
    if (t == e.n) return e.k;
  return AttrValue::kNone;
}

std::string TypeListString(const std::vector<DataType>& ts) {
  std::string s;
  for (size_t i = 0; i < ts.size(); ++i) s += StrCat(i ? ", " : "", DataTypeName(ts[i]));
  return s;
}

// Attrs: defaults, kinds, allowed values, minimums, unknown names.
Status CheckAttrs(const OpDef& def, const std::string& type, const std::string& who, AttrMap& attrs) {
  for (const AttrDef& ad : def.attrs) {
    const AttrValue* v = attrs.Find(ad.name);
    if (!v) {
      if (!ad.has_default)
        return InvalidArgument(who, ": missing required attr '", ad.name, "' of type ", ad.type);
      attrs.Set(ad.name, ad.default_value);
      v = attrs.Find(ad.name);
    }
    AttrValue::Kind want = KindOfSpecType(ad.type);
    bool empty_list_ok = v->kind() == AttrValue::kIntList && v->ilist().empty() &&
                         want >= AttrValue::kIntList;
    // An int literal for a float attr is accepted, as TensorFlow's Python does.
    if (want == AttrValue::kFloat && v->kind() == AttrValue::kInt) {
      attrs.Set(ad.name, AttrValue::Float(static_cast<float>(v->i())));
      v = attrs.Find(ad.name);
    }
    if (v->kind() != want && !empty_list_ok)
      return InvalidArgument(who, ": attr '", ad.name, "' must be ", ad.type, ", got ",
                             AttrValue::KindName(v->kind()), " ", v->DebugString());
    if (ad.has_allowed) {
      std::vector<DataType> check;
      if (v->kind() == AttrValue::kType) check.push_back(v->type());
      if (v->kind() == AttrValue::kTypeList) check = v->tlist();
      for (DataType t : check) {
        bool ok = false;
        for (DataType a : ad.allowed) ok = ok || a == t;
        if (!ok)
          return InvalidArgument(who, ": attr '", ad.name, "' is ", DataTypeName(t),
                                 ", which is not one of the allowed types {",
                                 TypeListString(ad.allowed), "}");
      }
    }
    if (!ad.allowed_strings.empty() && v->kind() == AttrValue::kString) {
      bool ok = false;
      std::string allowed;
      for (const auto& a : ad.allowed_strings) {
        ok = ok || a == v->s();
        allowed += StrCat(allowed.empty() ? "" : ", ", "'", a, "'");
      }
      if (!ok)
        return InvalidArgument(who, ": attr '", ad.name, "' is '", v->s(), "', which is not one of {", allowed, "}");
    }
    if (ad.has_minimum) {
      int64_t got = v->kind() == AttrValue::kInt ? v->i() : static_cast<int64_t>(v->list_size());
      if (got < ad.minimum)
        return InvalidArgument(who, ": attr '", ad.name, "' is ", got, ", must be at least ",
                               ad.minimum);
    }
  }
  for (const auto& kv : attrs.map()) {
    if (!kv.first.empty() && kv.first[0] == '_') continue;  // internal attrs are free-form
    if (!def.FindAttr(kv.first))
      return InvalidArgument(who, ": unknown attr '", kv.first, "' (", type, " has no such attr)");
  }
  return Status::OK();
}

}  // namespace

// Finish's phases, in order: name, inputs, attrs, output dtypes, shapes.
Status NodeBuilder::Finish(Node** out) {
  const OpDef* def = OpRegistry::Global()->Find(type_);
  std::string who = StrCat(type_, " op '", name_.empty() ? type_ : name_, "'");
  if (!def) return NotFound("Op type not registered '", type_, "' (requested for op '", name_, "')");
  RETURN_IF_ERROR(status_.WithPrefix(who + ": "));

  std::string name;
  RETURN_IF_ERROR(ResolveName(&name));
  who = StrCat(type_, " op '", name, "'");

  auto node = std::make_unique<Node>();
  node->name_ = name;
  node->type_ = type_;
  node->op_def_ = def;
  node->device_ = device_;
  if (!device_.empty()) {
    DeviceName parsed;
    RETURN_IF_ERROR(ParseDeviceName(device_, &parsed).WithPrefix(who + ": "));
  }
  node->attrs_.map = attrs_;

  RETURN_IF_ERROR(BindInputs(*def, who, node.get()));
  RETURN_IF_ERROR(CheckAttrs(*def, type_, who, node->attrs_.map));
  RETURN_IF_ERROR(SetOutputTypes(*def, who, node.get()));
  node->control_inputs_ = control_;
  RETURN_IF_ERROR(InferShapes(*def, who, node.get()));

  Node* added = g_->AddNode(std::move(node));
  if (out) *out = added;
  return Status::OK();
}

// Name: prefixed while building gradients; generated when empty.
Status NodeBuilder::ResolveName(std::string* out) const {
  std::string name = name_;
  const std::string& prefix = g_->name_prefix();
  if (name.empty()) {
    name = g_->UniqueName(prefix.empty() ? type_ : prefix + "/" + type_);
  } else if (!prefix.empty()) {
    name = g_->UniqueName(prefix + "/" + name);
  } else if (g_->FindNode(name)) {
    return AlreadyExists("Duplicate op name '", name, "' (type ", type_,
                         "): an op of that name already exists in the graph");
  }
  *out = std::move(name);
  return Status::OK();
}

// Inputs against the schema; infer type attrs and list lengths.
Status NodeBuilder::BindInputs(const OpDef& def, const std::string& who, Node* node) const {
  AttrMap& attrs = node->attrs_.map;
  if (inputs_.size() != def.inputs.size()) {
    std::string names;
    for (const auto& a : def.inputs) names += (names.empty() ? "" : ", ") + a.name;
    return InvalidArgument(who, " expects ", def.inputs.size(), " inputs (", names, "), got ",
                           inputs_.size());
  }
  for (size_t a = 0; a < def.inputs.size(); ++a) {
    const ArgDef& arg = def.inputs[a];
    const InputSlot& slot = inputs_[a];
    bool list_arg = !arg.number_attr.empty() || !arg.type_list_attr.empty();
    if (list_arg != slot.is_list && !(list_arg && !slot.is_list)) {
      return InvalidArgument(who, ": input '", arg.name, "' expects a single tensor, got a list of ",
                             slot.outs.size());
    }
    std::vector<DataType> types;
    for (size_t k = 0; k < slot.outs.size(); ++k) {
      const Output& o = slot.outs[k];
      if (!o.node || o.index < 0 || o.index >= o.node->num_outputs())
        return InvalidArgument(who, ": input '", arg.name, "' refers to a nonexistent output ",
                               o.node ? StrCat(o.node->name(), ":", o.index) : std::string("(null)"));
      if (arg.is_ref && !o.node->output_is_ref(o.index))
        return InvalidArgument(who, ": input '", arg.name, "' must be a reference (a variable), but ",
                               o.node->name(), ":", o.index, " is a value");
      types.push_back(o.node->output_dtype(o.index));
    }
    if (!arg.type_list_attr.empty()) {
      const AttrValue* have = attrs.Find(arg.type_list_attr);
      if (have && have->kind() == AttrValue::kTypeList && have->tlist() != types)
        return InvalidArgument(who, ": input '", arg.name, "' has dtypes [", TypeListString(types),
                               "] but attr ", arg.type_list_attr, " is [", TypeListString(have->tlist()), "]");
      attrs.Set(arg.type_list_attr, AttrValue::TypeList(types));
    } else {
      if (!arg.number_attr.empty()) {
        const AttrValue* have = attrs.Find(arg.number_attr);
        if (have && have->kind() == AttrValue::kInt && have->i() != static_cast<int64_t>(types.size()))
          return InvalidArgument(who, ": input '", arg.name, "' has ", types.size(),
                                 " tensors but attr ", arg.number_attr, " is ", have->i());
        attrs.Set(arg.number_attr, AttrValue::Int(static_cast<int64_t>(types.size())));
      }
      for (size_t k = 0; k < types.size(); ++k) {
        DataType want = arg.type;
        if (!arg.type_attr.empty()) {
          const AttrValue* t = attrs.Find(arg.type_attr);
          if (t && t->kind() == AttrValue::kType) {
            want = t->type();
          } else {
            attrs.Set(arg.type_attr, AttrValue::Type(types[k]));
            want = types[k];
          }
        }
        if (types[k] != want) {
          const Output& o = slot.outs[k];
          return InvalidArgument(who, ": input '", arg.name, "'", slot.is_list ? StrCat("[", k, "]") : "",
                                 " from ", o.node->name(), ":", o.index, " has dtype ",
                                 DataTypeName(types[k]), " but ",
                                 arg.type_attr.empty() ? std::string("the op")
                                                       : StrCat("attr ", arg.type_attr),
                                 " expects ", DataTypeName(want));
        }
      }
    }
    for (size_t k = 0; k < slot.outs.size(); ++k) {
      node->inputs_.push_back(slot.outs[k]);
      node->input_types_.push_back(types[k]);
      node->input_is_ref_.push_back(arg.is_ref);
    }
  }
  return Status::OK();
}

// Output dtypes.
Status NodeBuilder::SetOutputTypes(const OpDef& def, const std::string& who, Node* node) const {
  const AttrMap& attrs = node->attrs_.map;
  for (const ArgDef& arg : def.outputs) {
    std::vector<DataType> types;
    if (!arg.type_list_attr.empty()) {
      RETURN_IF_ERROR(attrs.GetTypeList(arg.type_list_attr, &types).WithPrefix(who + ": "));
    } else {
      DataType t = arg.type;
      if (!arg.type_attr.empty()) RETURN_IF_ERROR(attrs.GetType(arg.type_attr, &t).WithPrefix(who + ": "));
      int64_t n = 1;
      if (!arg.number_attr.empty()) RETURN_IF_ERROR(attrs.GetInt(arg.number_attr, &n).WithPrefix(who + ": "));
      types.assign(static_cast<size_t>(n), t);
    }
    for (DataType t : types) {
      node->output_types_.push_back(t);
      node->output_is_ref_.push_back(arg.is_ref);
    }
  }
  return Status::OK();
}

// Shapes.
Status NodeBuilder::InferShapes(const OpDef& def, const std::string& who, Node* node) const {
  std::vector<PartialShape> in_shapes;
  std::vector<const Tensor*> in_values;
  for (const Output& o : node->inputs_) {
    in_shapes.push_back(o.node->output_shape(o.index));
    const Tensor* value = nullptr;
    if (o.node->type() == "Const") {
      const AttrValue* v = o.node->attrs().Find("value");
      if (v && v->kind() == AttrValue::kTensor) value = &v->tensor();
    }
    in_values.push_back(value);
  }
  int num_outputs = static_cast<int>(node->output_types_.size());
  InferenceContext ctx(node, &node->attrs_.map, std::move(in_shapes), std::move(in_values),
                       node->input_types_, num_outputs);
  if (def.shape_fn) RETURN_IF_ERROR(def.shape_fn(ctx).WithPrefix(who + ": "));
  node->output_shapes_ = ctx.outputs();
  node->consumers_.resize(num_outputs);
  return Status::OK();
}

}  // namespace loom
