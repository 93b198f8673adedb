#include "runtime/graph/attr_value.h"

namespace loom {

size_t AttrValue::list_size() const {
  switch (kind_) {
    case kIntList: return ilist_.size();
    case kFloatList: return flist_.size();
    case kBoolList: return blist_.size();
    case kTypeList: return tlist_.size();
    case kShapeList: return shlist_.size();
    case kStringList: return slist_.size();
    case kTensorList: return tlistv_.size();
    default: return 0;
  }
}

const char* AttrValue::KindName(Kind k) {
  switch (k) {
    case kNone: return "none";
    case kInt: return "int";
    case kFloat: return "float";
    case kBool: return "bool";
    case kType: return "type";
    case kShape: return "shape";
    case kString: return "string";
    case kTensor: return "tensor";
    case kIntList: return "list(int)";
    case kFloatList: return "list(float)";
    case kBoolList: return "list(bool)";
    case kTypeList: return "list(type)";
    case kShapeList: return "list(shape)";
    case kStringList: return "list(string)";
    case kTensorList: return "list(tensor)";
  }
  return "?";
}

std::string AttrValue::DebugString() const {
  switch (kind_) {
    case kInt: return std::to_string(i_);
    case kFloat: return std::to_string(f_);
    case kBool: return b_ ? "true" : "false";
    case kType: return DataTypeName(type_);
    case kShape: return shape_.ToString();
    case kString: return "'" + s_ + "'";
    case kTensor: return tensor_.DebugString();
    case kIntList: {
      std::string s = "[";
      for (size_t i = 0; i < ilist_.size(); ++i) s += (i ? "," : "") + std::to_string(ilist_[i]);
      return s + "]";
    }
    default: return StrCat(KindName(kind_), "[", list_size(), "]");
  }
}

Status AttrMap::Get(const std::string& name, AttrValue::Kind kind, const AttrValue** out) const {
  const AttrValue* v = Find(name);
  if (!v) return NotFound("no attr named '", name, "'");
  // An empty list default ("[]") is stored as an empty int list; accept it as any list kind.
  bool empty_list_ok = v->kind() == AttrValue::kIntList && v->ilist().empty() && kind >= AttrValue::kIntList;
  if (v->kind() != kind && !empty_list_ok)
    return InvalidArgument("attr '", name, "' is ", AttrValue::KindName(v->kind()), ", not ",
                           AttrValue::KindName(kind));
  *out = v;
  return Status::OK();
}

Status AttrMap::GetInt(const std::string& name, int64_t* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kInt, &v));
  *out = v->i();
  return Status::OK();
}
Status AttrMap::GetFloat(const std::string& name, float* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kFloat, &v));
  *out = v->f();
  return Status::OK();
}
Status AttrMap::GetBool(const std::string& name, bool* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kBool, &v));
  *out = v->b();
  return Status::OK();
}
Status AttrMap::GetType(const std::string& name, DataType* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kType, &v));
  *out = v->type();
  return Status::OK();
}
Status AttrMap::GetShape(const std::string& name, PartialShape* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kShape, &v));
  *out = v->shape();
  return Status::OK();
}
Status AttrMap::GetString(const std::string& name, std::string* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kString, &v));
  *out = v->s();
  return Status::OK();
}
Status AttrMap::GetTensor(const std::string& name, const Tensor** out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kTensor, &v));
  *out = &v->tensor();
  return Status::OK();
}
Status AttrMap::GetIntList(const std::string& name, std::vector<int64_t>* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kIntList, &v));
  *out = v->ilist();
  return Status::OK();
}
Status AttrMap::GetFloatList(const std::string& name, std::vector<float>* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kFloatList, &v));
  *out = v->flist();
  return Status::OK();
}
Status AttrMap::GetTypeList(const std::string& name, std::vector<DataType>* out) const {
  const AttrValue* v;
  RETURN_IF_ERROR(Get(name, AttrValue::kTypeList, &v));
  *out = v->tlist();
  return Status::OK();
}

}  // namespace loom
