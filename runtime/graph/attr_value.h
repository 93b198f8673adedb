// AttrValue: the value of one node attribute (int, float, bool, type, shape,
// string, tensor, or a list of one of these).
#ifndef LOOM_RUNTIME_GRAPH_ATTR_VALUE_H_
#define LOOM_RUNTIME_GRAPH_ATTR_VALUE_H_

#include <map>
#include <string>
#include <vector>

#include "runtime/core/tensor.h"

namespace loom {

class AttrValue {
 public:
  enum Kind {
    kNone, kInt, kFloat, kBool, kType, kShape, kString, kTensor,
    kIntList, kFloatList, kBoolList, kTypeList, kShapeList, kStringList, kTensorList
  };
  AttrValue() = default;
  static AttrValue Int(int64_t v) { AttrValue a(kInt); a.i_ = v; return a; }
  static AttrValue Float(float v) { AttrValue a(kFloat); a.f_ = v; return a; }
  static AttrValue Bool(bool v) { AttrValue a(kBool); a.b_ = v; return a; }
  static AttrValue Type(DataType v) { AttrValue a(kType); a.type_ = v; return a; }
  static AttrValue Shape(PartialShape v) { AttrValue a(kShape); a.shape_ = std::move(v); return a; }
  static AttrValue String(std::string v) { AttrValue a(kString); a.s_ = std::move(v); return a; }
  static AttrValue TensorValue(Tensor v) { AttrValue a(kTensor); a.tensor_ = std::move(v); return a; }
  static AttrValue IntList(std::vector<int64_t> v) { AttrValue a(kIntList); a.ilist_ = std::move(v); return a; }
  static AttrValue FloatList(std::vector<float> v) { AttrValue a(kFloatList); a.flist_ = std::move(v); return a; }
  static AttrValue BoolList(std::vector<bool> v) { AttrValue a(kBoolList); a.blist_ = std::move(v); return a; }
  static AttrValue TypeList(std::vector<DataType> v) { AttrValue a(kTypeList); a.tlist_ = std::move(v); return a; }
  static AttrValue ShapeList(std::vector<PartialShape> v) { AttrValue a(kShapeList); a.shlist_ = std::move(v); return a; }
  static AttrValue StringList(std::vector<std::string> v) { AttrValue a(kStringList); a.slist_ = std::move(v); return a; }
  static AttrValue TensorList(std::vector<Tensor> v) { AttrValue a(kTensorList); a.tlistv_ = std::move(v); return a; }

  Kind kind() const { return kind_; }
  bool is_list() const { return kind_ >= kIntList; }
  int64_t i() const { return i_; }
  float f() const { return f_; }
  bool b() const { return b_; }
  DataType type() const { return type_; }
  const PartialShape& shape() const { return shape_; }
  const std::string& s() const { return s_; }
  const Tensor& tensor() const { return tensor_; }
  const std::vector<int64_t>& ilist() const { return ilist_; }
  const std::vector<float>& flist() const { return flist_; }
  const std::vector<bool>& blist() const { return blist_; }
  const std::vector<DataType>& tlist() const { return tlist_; }
  const std::vector<PartialShape>& shlist() const { return shlist_; }
  const std::vector<std::string>& slist() const { return slist_; }
  const std::vector<Tensor>& tensor_list() const { return tlistv_; }
  // Number of elements of a list value (an empty list of any kind is kIntList
  // with no elements when it comes from a spec default "[]").
  size_t list_size() const;

  // "int", "list(float)", ... as in op specs.
  static const char* KindName(Kind k);
  std::string DebugString() const;

 private:
  explicit AttrValue(Kind k) : kind_(k) {}
  Kind kind_ = kNone;
  int64_t i_ = 0;
  float f_ = 0;
  bool b_ = false;
  DataType type_ = LOOM_DTYPE_INVALID;
  PartialShape shape_;
  std::string s_;
  Tensor tensor_;
  std::vector<int64_t> ilist_;
  std::vector<float> flist_;
  std::vector<bool> blist_;
  std::vector<DataType> tlist_;
  std::vector<PartialShape> shlist_;
  std::vector<std::string> slist_;
  std::vector<Tensor> tlistv_;
};

// A node's attributes, sorted by name.
class AttrMap {
 public:
  const AttrValue* Find(const std::string& name) const {
    auto it = m_.find(name);
    return it == m_.end() ? nullptr : &it->second;
  }
  void Set(const std::string& name, AttrValue v) { m_[name] = std::move(v); }
  const std::map<std::string, AttrValue>& map() const { return m_; }

  // Typed getters: NOT_FOUND if absent, INVALID_ARGUMENT if of another kind.
  Status GetInt(const std::string& name, int64_t* out) const;
  Status GetFloat(const std::string& name, float* out) const;
  Status GetBool(const std::string& name, bool* out) const;
  Status GetType(const std::string& name, DataType* out) const;
  Status GetShape(const std::string& name, PartialShape* out) const;
  Status GetString(const std::string& name, std::string* out) const;
  Status GetTensor(const std::string& name, const Tensor** out) const;
  Status GetIntList(const std::string& name, std::vector<int64_t>* out) const;
  Status GetFloatList(const std::string& name, std::vector<float>* out) const;
  Status GetTypeList(const std::string& name, std::vector<DataType>* out) const;

 private:
  Status Get(const std::string& name, AttrValue::Kind kind, const AttrValue** out) const;
  std::map<std::string, AttrValue> m_;
};

}  // namespace loom

// The plugin ABI's attrs handle is an AttrMap.
struct loom_attrs {
  loom::AttrMap map;
};

#endif  // LOOM_RUNTIME_GRAPH_ATTR_VALUE_H_
