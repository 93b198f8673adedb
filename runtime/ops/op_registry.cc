// The op registry and the parser of TensorFlow's op-definition syntax.
//
// Spec forms accepted (the subset of TensorFlow's grammar that Loom's dtypes
// can express):
//   inputs/outputs  "x: T"  "y: float"  "values: N * T"  "ids: N * int32"
//                   "outs: Tlist" (a list(type) attr)  "ref: Ref(T)"
//   attrs           "T: type"  "T: {float, double}"  "T: numbertype"
//                   "T: {float, double} = DT_FLOAT"  "dtype: type = float"
//                   "N: int >= 1"  "axis: int = -1"  "alpha: float = 0.2"
//                   "keep_dims: bool = false"  "shape: shape"
//                   "shape: shape = { unknown_rank: true }"  "value: tensor"
//                   "squeeze_dims: list(int) >= 0 = []"  "Tlist: list(type) >= 1"
//                   "data_format: {'NHWC', 'NCHW'} = 'NHWC'"  "name: string = ''"
// TensorFlow dtypes Loom does not have (complex, quantized, variant, resource)
// are dropped from allowed sets, so specs copied from TensorFlow still parse.
#include "runtime/ops/op_registry.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <set>

namespace loom {

const AttrDef* OpDef::FindAttr(const std::string& name) const {
  for (const AttrDef& a : attrs) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char ch : s) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_')) return false;
  }
  return true;
}

// Input/output names are lower-case identifiers, as in TensorFlow.
bool IsArgName(const std::string& s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char ch : s) {
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) ||
          ch == '_')) {
      return false;
    }
  }
  return true;
}

// Splits "a, b, c" at top-level commas (not inside quotes or brackets).
std::vector<std::string> SplitTopLevel(const std::string& s) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char ch : s) {
    if (quote) {
      if (ch == quote) quote = 0;
      cur += ch;
      continue;
    }
    if (ch == '\'' || ch == '"') quote = ch;
    if (ch == '[' || ch == '{' || ch == '(') ++depth;
    if (ch == ']' || ch == '}' || ch == ')') --depth;
    if (ch == ',' && depth == 0) {
      parts.push_back(Trim(cur));
      cur.clear();
      continue;
    }
    cur += ch;
  }
  if (!Trim(cur).empty() || !parts.empty()) parts.push_back(Trim(cur));
  return parts;
}

// "DT_FLOAT", "float", "float32", "int32" ... -> dtype.
bool ParseDataType(const std::string& text, DataType* out) {
  std::string s = Trim(text);
  if (s.size() > 3 && (s.compare(0, 3, "DT_") == 0 || s.compare(0, 3, "dt_") == 0)) {
    s = s.substr(3);
  }
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (s == "string") {  // a legal attr/arg dtype even though tensors of it are not
    *out = LOOM_DTYPE_STRING;
    return true;
  }
  return DataTypeFromName(s, out);
}

// TensorFlow dtypes without a Loom equivalent: silently dropped from allowed sets.
bool IsUnsupportedTfType(const std::string& text) {
  static const char* const kNames[] = {"complex64", "complex128", "qint8",   "quint8",
                                       "qint16",    "quint16",    "qint32",  "variant",
                                       "resource",  "float8_e5m2", "float8_e4m3fn"};
  std::string s = Trim(text);
  if (s.size() > 3 && s.compare(0, 3, "DT_") == 0) s = s.substr(3);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  for (const char* n : kNames) {
    if (s == n) return true;
  }
  return false;
}

// Expands TensorFlow's dtype-set shorthands. False if `name` is not one.
bool ExpandTypeShorthand(const std::string& name, std::vector<DataType>* out) {
  static const std::vector<DataType> kReal = {
      LOOM_DTYPE_FLOAT, LOOM_DTYPE_DOUBLE, LOOM_DTYPE_INT32,  LOOM_DTYPE_UINT8,
      LOOM_DTYPE_INT16, LOOM_DTYPE_INT8,   LOOM_DTYPE_INT64,  LOOM_DTYPE_BFLOAT16,
      LOOM_DTYPE_UINT16, LOOM_DTYPE_HALF,  LOOM_DTYPE_UINT32, LOOM_DTYPE_UINT64};
  static const std::vector<DataType> kFloating = {LOOM_DTYPE_HALF, LOOM_DTYPE_BFLOAT16,
                                                  LOOM_DTYPE_FLOAT, LOOM_DTYPE_DOUBLE};
  static const std::vector<DataType> kInteger = {
      LOOM_DTYPE_INT8,  LOOM_DTYPE_INT16,  LOOM_DTYPE_INT32,  LOOM_DTYPE_INT64,
      LOOM_DTYPE_UINT8, LOOM_DTYPE_UINT16, LOOM_DTYPE_UINT32, LOOM_DTYPE_UINT64};
  if (name == "numbertype" || name == "realnumbertype") {
    out->insert(out->end(), kReal.begin(), kReal.end());
  } else if (name == "floatingpoint") {
    out->insert(out->end(), kFloating.begin(), kFloating.end());
  } else if (name == "integertype" || name == "integral") {
    out->insert(out->end(), kInteger.begin(), kInteger.end());
  } else if (name == "quantizedtype") {
    // No quantized dtypes in Loom: contributes nothing.
  } else {
    return false;
  }
  return true;
}

class SpecError {
 public:
  SpecError(const std::string& op, const std::string& what, const std::string& spec)
      : op_(op), what_(what), spec_(spec) {}
  Status operator()(const std::string& why) const {
    return InvalidArgument("Op '", op_, "': bad ", what_, " spec \"", spec_, "\": ", why);
  }

 private:
  std::string op_, what_, spec_;
};

// Parses "{float, double}" or a shorthand into a dtype list.
Status ParseTypeSet(const std::string& body, const SpecError& err, std::vector<DataType>* out) {
  for (const std::string& item : SplitTopLevel(body)) {
    if (item.empty()) return err("empty entry in a type set");
    if (ExpandTypeShorthand(item, out)) continue;
    if (IsUnsupportedTfType(item)) continue;
    DataType dt;
    if (!ParseDataType(item, &dt)) return err(StrCat("unknown dtype '", item, "'"));
    out->push_back(dt);
  }
  // Deduplicate, keeping the first occurrence's order.
  std::vector<DataType> uniq;
  for (DataType dt : *out) {
    if (std::find(uniq.begin(), uniq.end(), dt) == uniq.end()) uniq.push_back(dt);
  }
  *out = std::move(uniq);
  if (out->empty()) return err("the set of allowed dtypes is empty");
  return Status::OK();
}

bool ParseInt(const std::string& text, int64_t* out) {
  std::string s = Trim(text);
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

bool ParseFloat(const std::string& text, float* out) {
  std::string s = Trim(text);
  if (s.empty()) return false;
  char* end = nullptr;
  float v = std::strtof(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool ParseBool(const std::string& text, bool* out) {
  std::string s = Trim(text);
  if (s == "true") {
    *out = true;
  } else if (s == "false") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

bool ParseQuoted(const std::string& text, std::string* out) {
  std::string s = Trim(text);
  if (s.size() < 2) return false;
  char q = s.front();
  if ((q != '\'' && q != '"') || s.back() != q) return false;
  *out = s.substr(1, s.size() - 2);
  return true;
}

// "[]", "[2,3]", "[?,3]", "[-1,3]", "{ unknown_rank: true }", "<unknown>".
bool ParseShape(const std::string& text, PartialShape* out) {
  std::string s = Trim(text);
  std::string compact;
  for (char ch : s) {
    if (!std::isspace(static_cast<unsigned char>(ch))) compact += ch;
  }
  if (compact == "{unknown_rank:true}" || compact == "<unknown>") {
    *out = PartialShape::Unknown();
    return true;
  }
  if (compact == "{}") {  // TensorShapeProto with no dims: a scalar
    *out = PartialShape(std::vector<int64_t>{});
    return true;
  }
  if (compact.size() < 2 || compact.front() != '[' || compact.back() != ']') return false;
  std::vector<int64_t> dims;
  std::string body = compact.substr(1, compact.size() - 2);
  if (!body.empty()) {
    for (const std::string& d : SplitTopLevel(body)) {
      int64_t v;
      if (d == "?") {
        v = -1;
      } else if (!ParseInt(d, &v) || v < -1) {
        return false;
      }
      dims.push_back(v);
    }
  }
  *out = PartialShape(std::move(dims));
  return true;
}

// Parses a list default "[a, b]" with `parse_one` per element.
template <typename T, typename F>
bool ParseList(const std::string& text, F parse_one, std::vector<T>* out) {
  std::string s = Trim(text);
  if (s.size() < 2 || s.front() != '[' || s.back() != ']') return false;
  std::string body = Trim(s.substr(1, s.size() - 2));
  if (body.empty()) return true;
  for (const std::string& item : SplitTopLevel(body)) {
    T v;
    if (!parse_one(item, &v)) return false;
    out->push_back(v);
  }
  return true;
}

bool IsListType(const std::string& t) { return t.compare(0, 5, "list(") == 0; }

Status ParseDefault(const AttrDef& def, const std::string& text, const SpecError& err,
                    AttrValue* out) {
  const std::string& t = def.type;
  auto bad = [&]() { return err(StrCat("cannot parse default '", text, "' as ", t)); };
  if (IsListType(t) && Trim(text) == "[]") {
    *out = AttrValue::IntList({});  // an empty list of any kind
    return Status::OK();
  }
  if (t == "int") {
    int64_t v;
    if (!ParseInt(text, &v)) return bad();
    *out = AttrValue::Int(v);
  } else if (t == "float") {
    float v;
    if (!ParseFloat(text, &v)) return bad();
    *out = AttrValue::Float(v);
  } else if (t == "bool") {
    bool v;
    if (!ParseBool(text, &v)) return bad();
    *out = AttrValue::Bool(v);
  } else if (t == "type") {
    DataType v;
    if (!ParseDataType(text, &v)) return bad();
    *out = AttrValue::Type(v);
  } else if (t == "string") {
    std::string v;
    if (!ParseQuoted(text, &v)) return bad();
    *out = AttrValue::String(v);
  } else if (t == "shape") {
    PartialShape v;
    if (!ParseShape(text, &v)) return bad();
    *out = AttrValue::Shape(v);
  } else if (t == "list(int)") {
    std::vector<int64_t> v;
    if (!ParseList<int64_t>(text, ParseInt, &v)) return bad();
    *out = AttrValue::IntList(v);
  } else if (t == "list(float)") {
    std::vector<float> v;
    if (!ParseList<float>(text, ParseFloat, &v)) return bad();
    *out = AttrValue::FloatList(v);
  } else if (t == "list(bool)") {
    std::vector<bool> v;
    std::vector<int> tmp;
    auto one = [](const std::string& s, int* o) {
      bool b;
      if (!ParseBool(s, &b)) return false;
      *o = b ? 1 : 0;
      return true;
    };
    if (!ParseList<int>(text, one, &tmp)) return bad();
    for (int x : tmp) v.push_back(x != 0);
    *out = AttrValue::BoolList(v);
  } else if (t == "list(type)") {
    std::vector<DataType> v;
    if (!ParseList<DataType>(text, ParseDataType, &v)) return bad();
    *out = AttrValue::TypeList(v);
  } else if (t == "list(string)") {
    std::vector<std::string> v;
    if (!ParseList<std::string>(text, ParseQuoted, &v)) return bad();
    *out = AttrValue::StringList(v);
  } else if (t == "list(shape)") {
    std::vector<PartialShape> v;
    if (!ParseList<PartialShape>(text, ParseShape, &v)) return bad();
    *out = AttrValue::ShapeList(v);
  } else {
    return err(StrCat("attrs of type ", t, " cannot have a default"));
  }
  return Status::OK();
}

// Finds the '=' that starts a default value (not the one in ">=", not quoted).
size_t FindDefaultEquals(const std::string& s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (quote) {
      if (ch == quote) quote = 0;
      continue;
    }
    if (ch == '\'' || ch == '"') {
      quote = ch;
    } else if (ch == '=' && (i == 0 || s[i - 1] != '>')) {
      return i;
    }
  }
  return std::string::npos;
}

// The type of an attr spec: a plain or list type, a dtype set or shorthand,
// or a set of allowed strings (returned in allowed_strings).
Status ParseAttrType(const std::string& type, const SpecError& err, AttrDef* def,
                     std::vector<std::string>* allowed_strings) {
  static const std::set<std::string> kPlain = {"int",   "float",  "bool",  "type",
                                               "shape", "string", "tensor", "func"};
  static const std::set<std::string> kListOf = {"int",   "float",  "bool",  "type",
                                                "shape", "string", "tensor"};
  if (type.front() == '{') {
    if (type.back() != '}') return err("unterminated '{'");
    std::string body = type.substr(1, type.size() - 2);
    std::string first = Trim(body);
    if (!first.empty() && (first.front() == '\'' || first.front() == '"')) {
      def->type = "string";
      for (const std::string& item : SplitTopLevel(body)) {
        std::string v;
        if (!ParseQuoted(item, &v)) return err(StrCat("bad string in set: ", item));
        allowed_strings->push_back(v);
      }
    } else {
      def->type = "type";
      def->has_allowed = true;
      RETURN_IF_ERROR(ParseTypeSet(body, err, &def->allowed));
    }
  } else if (IsListType(type)) {
    if (type.back() != ')') return err("unterminated 'list('");
    std::string inner = Trim(type.substr(5, type.size() - 6));
    if (!inner.empty() && inner.front() == '{') {
      if (inner.back() != '}') return err("unterminated '{'");
      def->type = "list(type)";
      def->has_allowed = true;
      RETURN_IF_ERROR(ParseTypeSet(inner.substr(1, inner.size() - 2), err, &def->allowed));
    } else if (kListOf.count(inner)) {
      def->type = "list(" + inner + ")";
    } else {
      std::vector<DataType> expanded;
      if (!ExpandTypeShorthand(inner, &expanded)) {
        return err(StrCat("unknown list element type '", inner, "'"));
      }
      def->type = "list(type)";
      def->has_allowed = true;
      def->allowed = expanded;
    }
  } else if (kPlain.count(type)) {
    def->type = type;
  } else {
    std::vector<DataType> expanded;
    if (!ExpandTypeShorthand(type, &expanded)) {
      return err(StrCat("unknown attr type '", type, "'"));
    }
    if (expanded.empty()) return err("the set of allowed dtypes is empty");
    def->type = "type";
    def->has_allowed = true;
    def->allowed = expanded;
  }
  return Status::OK();
}

// The "'>=' minimum" of an int or list attr (a list's: its length).
Status ParseAttrMinimum(const std::string& minimum_text, const SpecError& err, AttrDef* def) {
  if (def->type != "int" && !IsListType(def->type)) {
    return err(StrCat("'>=' applies only to int and list attrs, not ", def->type));
  }
  if (!ParseInt(minimum_text, &def->minimum)) {
    return err(StrCat("cannot parse minimum '", minimum_text, "'"));
  }
  if (IsListType(def->type) && def->minimum < 0) return err("a list's minimum length must be >= 0");
  def->has_minimum = true;
  return Status::OK();
}

// The "= default" of an attr, checked against its allowed values and minimum.
Status ParseAttrDefault(const std::string& default_text, const std::vector<std::string>& allowed_strings,
                        const SpecError& err, AttrDef* def) {
  RETURN_IF_ERROR(ParseDefault(*def, default_text, err, &def->default_value));
  def->has_default = true;
  const AttrValue& v = def->default_value;
  if (def->has_allowed && def->type == "type" &&
      std::find(def->allowed.begin(), def->allowed.end(), v.type()) == def->allowed.end()) {
    return err(StrCat("default ", DataTypeName(v.type()), " is not an allowed dtype"));
  }
  if (def->has_allowed && def->type == "list(type)") {
    for (DataType dt : v.tlist()) {
      if (std::find(def->allowed.begin(), def->allowed.end(), dt) == def->allowed.end()) {
        return err(StrCat("default ", DataTypeName(dt), " is not an allowed dtype"));
      }
    }
  }
  if (!allowed_strings.empty() &&
      std::find(allowed_strings.begin(), allowed_strings.end(), v.s()) == allowed_strings.end()) {
    return err(StrCat("default '", v.s(), "' is not one of the allowed strings"));
  }
  if (def->has_minimum && def->type == "int" && v.i() < def->minimum) {
    return err(StrCat("default ", v.i(), " is below the minimum ", def->minimum));
  }
  if (def->has_minimum && IsListType(def->type) &&
      static_cast<int64_t>(v.list_size()) < def->minimum) {
    return err(StrCat("default has ", v.list_size(), " elements, below the minimum ",
                      def->minimum));
  }
  return Status::OK();
}

// "name: type [>= minimum] [= default]": split here, then each part parsed in turn.
Status ParseAttr(const std::string& op, const std::string& spec, AttrDef* out) {
  SpecError err(op, "attr", spec);
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return err("expected 'name: type'");
  AttrDef def;
  def.name = Trim(spec.substr(0, colon));
  if (!IsIdentifier(def.name)) return err(StrCat("'", def.name, "' is not a valid attr name"));
  std::string rest = spec.substr(colon + 1);

  std::string default_text;
  bool has_default = false;
  size_t eq = FindDefaultEquals(rest);
  if (eq != std::string::npos) {
    default_text = Trim(rest.substr(eq + 1));
    rest = rest.substr(0, eq);
    has_default = true;
    if (default_text.empty()) return err("empty default value");
  }
  std::string minimum_text;
  bool has_minimum = false;
  size_t ge = rest.find(">=");
  if (ge != std::string::npos) {
    minimum_text = Trim(rest.substr(ge + 2));
    rest = rest.substr(0, ge);
    has_minimum = true;
  }
  std::string type = Trim(rest);
  if (type.empty()) return err("missing attr type");

  std::vector<std::string> allowed_strings;
  RETURN_IF_ERROR(ParseAttrType(type, err, &def, &allowed_strings));
  if (has_minimum) RETURN_IF_ERROR(ParseAttrMinimum(minimum_text, err, &def));
  if (has_default) RETURN_IF_ERROR(ParseAttrDefault(default_text, allowed_strings, err, &def));
  def.allowed_strings = std::move(allowed_strings);
  *out = std::move(def);
  return Status::OK();
}

// Parses one input/output spec against the already-parsed attrs.
Status ParseArg(const std::string& op, const char* what, const std::string& spec,
                std::vector<AttrDef>* attrs, ArgDef* out) {
  SpecError err(op, what, spec);
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return err("expected 'name: type'");
  ArgDef arg;
  arg.name = Trim(spec.substr(0, colon));
  if (!IsArgName(arg.name)) {
    return err(StrCat("'", arg.name, "' is not a valid name (lower-case letters, digits, _)"));
  }
  std::string type = Trim(spec.substr(colon + 1));
  if (type.compare(0, 4, "Ref(") == 0) {
    if (type.back() != ')') return err("unterminated 'Ref('");
    arg.is_ref = true;
    type = Trim(type.substr(4, type.size() - 5));
  }
  size_t star = type.find('*');
  if (star != std::string::npos) {
    std::string n = Trim(type.substr(0, star));
    type = Trim(type.substr(star + 1));
    AttrDef* nattr = nullptr;
    for (AttrDef& a : *attrs) {
      if (a.name == n) nattr = &a;
    }
    if (!nattr) return err(StrCat("the length attr '", n, "' is not declared"));
    if (nattr->type != "int") {
      return err(StrCat("the length attr '", n, "' must be an int, not ", nattr->type));
    }
    if (!nattr->has_minimum) {  // a list length is never negative
      nattr->has_minimum = true;
      nattr->minimum = 0;
    }
    arg.number_attr = n;
  }
  if (type.empty()) return err("missing type");
  const AttrDef* tattr = nullptr;
  for (const AttrDef& a : *attrs) {
    if (a.name == type) tattr = &a;
  }
  if (tattr) {
    if (tattr->type == "type") {
      arg.type_attr = type;
    } else if (tattr->type == "list(type)") {
      if (!arg.number_attr.empty()) {
        return err(StrCat("'", type, "' is a list(type) attr and cannot follow 'N *'"));
      }
      arg.type_list_attr = type;
    } else {
      return err(StrCat("attr '", type, "' is a ", tattr->type, ", not a type or list(type)"));
    }
  } else {
    DataType dt;
    if (!ParseDataType(type, &dt)) {
      return err(StrCat("'", type, "' is neither a dtype nor a declared type attr"));
    }
    arg.type = dt;
  }
  *out = std::move(arg);
  return Status::OK();
}

}  // namespace

OpDefBuilder::OpDefBuilder(std::string name) : name_(std::move(name)) {}

OpDefBuilder& OpDefBuilder::Input(std::string spec) {
  inputs_.push_back(std::move(spec));
  return *this;
}

OpDefBuilder& OpDefBuilder::Output(std::string spec) {
  outputs_.push_back(std::move(spec));
  return *this;
}

OpDefBuilder& OpDefBuilder::Attr(std::string spec) {
  attrs_.push_back(std::move(spec));
  return *this;
}

OpDefBuilder& OpDefBuilder::SetIsStateful() {
  stateful_ = true;
  return *this;
}

OpDefBuilder& OpDefBuilder::SetShapeFn(ShapeFn fn) {
  shape_fn_ = std::move(fn);
  return *this;
}

Status OpDefBuilder::Build(OpDef* out) const {
  if (!IsIdentifier(name_)) {
    return InvalidArgument("'", name_, "' is not a valid op name");
  }
  OpDef def;
  def.name = name_;
  std::set<std::string> attr_names;
  for (const std::string& spec : attrs_) {
    AttrDef a;
    RETURN_IF_ERROR(ParseAttr(name_, spec, &a));
    if (!attr_names.insert(a.name).second) {
      return InvalidArgument("Op '", name_, "': attr '", a.name, "' is declared twice");
    }
    def.attrs.push_back(std::move(a));
  }
  std::set<std::string> arg_names;
  for (const std::string& spec : inputs_) {
    ArgDef a;
    RETURN_IF_ERROR(ParseArg(name_, "input", spec, &def.attrs, &a));
    if (!arg_names.insert(a.name).second) {
      return InvalidArgument("Op '", name_, "': input '", a.name, "' is declared twice");
    }
    def.inputs.push_back(std::move(a));
  }
  for (const std::string& spec : outputs_) {
    ArgDef a;
    RETURN_IF_ERROR(ParseArg(name_, "output", spec, &def.attrs, &a));
    if (!arg_names.insert(a.name).second) {
      return InvalidArgument("Op '", name_, "': output '", a.name,
                             "' has the name of another input or output");
    }
    def.outputs.push_back(std::move(a));
  }
  def.is_stateful = stateful_;
  def.shape_fn = shape_fn_;
  *out = std::move(def);
  return Status::OK();
}

OpRegistry* OpRegistry::Global() {
  static OpRegistry* registry = new OpRegistry();  // never destroyed: used until exit
  return registry;
}

Status OpRegistry::Register(const OpDefBuilder& b) {
  OpDef def;
  RETURN_IF_ERROR(b.Build(&def));
  return Register(std::move(def));
}

Status OpRegistry::Register(OpDef def) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ops_.count(def.name)) {
    return AlreadyExists("Op '", def.name, "' is already registered");
  }
  std::string name = def.name;
  ops_.emplace(std::move(name), std::make_unique<OpDef>(std::move(def)));
  return Status::OK();
}

const OpDef* OpRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

std::vector<std::string> OpRegistry::ListNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  names.reserve(ops_.size());
  for (const auto& kv : ops_) names.push_back(kv.first);
  return names;
}

void OpRegistry::RegisterGradient(const std::string& op, GradFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  grads_[op] = std::move(fn);
}

Status OpRegistry::FindGradient(const std::string& op, GradFn* fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = grads_.find(op);
  if (it == grads_.end()) {
    return NotFound("No gradient registered for op '", op, "'");
  }
  *fn = it->second;
  return Status::OK();
}

OpRegistration::OpRegistration(const OpDefBuilder& b) {
  Status s = OpRegistry::Global()->Register(b);
  if (!s.ok()) {
    std::fprintf(stderr, "loom: fatal: cannot register a standard op: %s\n", s.message().c_str());
    std::abort();
  }
}

GradRegistration::GradRegistration(const char* op, GradFn fn) {
  OpRegistry::Global()->RegisterGradient(op, std::move(fn));
}

}  // namespace loom
