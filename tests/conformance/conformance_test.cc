// Runs every case of the tables on every registered device and compares with
// the CPU. Test names: <DEVICE>/<Op>_<case>, e.g. OPENCL/MatMul_transpose_b.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include "conformance.h"

namespace conformance {
namespace {

std::string Take(loom_status* s) {
  if (!s) return "";
  std::string out = std::string(loom_code_name(loom_status_code(s))) + ": " + loom_status_message(s);
  loom_status_free(s);
  return out;
}

// 64-bit LCG -> uniform doubles in [0, 1); the stream depends only on the seed.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  double Next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
  }
};

int64_t NumElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<double> Values(const Input& in, Rng* rng) {
  const int64_t n = NumElements(in.shape);
  if (in.gen == Gen::kGiven) return in.values;
  std::vector<double> v(static_cast<size_t>(n));
  for (auto& x : v) {
    double u = rng->Next();
    if (in.gen == Gen::kUniform) {
      x = in.lo + (in.hi - in.lo) * u;
      if (in.dtype == LOOM_DTYPE_FLOAT) x = static_cast<float>(x);
    } else {
      x = std::floor(in.lo + (in.hi - in.lo + 1) * u);
      if (x > in.hi) x = in.hi;
    }
  }
  return v;
}

loom_tensor* MakeTensor(const Input& in, const std::vector<double>& v) {
  loom_tensor* t = nullptr;
  std::string err = Take(loom_tensor_new(in.dtype, in.shape.data(), static_cast<int>(in.shape.size()), &t));
  EXPECT_EQ(err, "");
  if (!t) return nullptr;
  void* p = loom_tensor_data(t);
  const size_t n = static_cast<size_t>(loom_tensor_num_elements(t));
  EXPECT_EQ(v.size(), n) << "an input's values do not fill its shape";
  for (size_t i = 0; i < n && i < v.size(); ++i) {
    switch (in.dtype) {
      case LOOM_DTYPE_FLOAT: static_cast<float*>(p)[i] = static_cast<float>(v[i]); break;
      case LOOM_DTYPE_DOUBLE: static_cast<double*>(p)[i] = v[i]; break;
      case LOOM_DTYPE_INT32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v[i]); break;
      case LOOM_DTYPE_INT64: static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v[i]); break;
      case LOOM_DTYPE_BOOL: static_cast<uint8_t*>(p)[i] = v[i] != 0; break;
      case LOOM_DTYPE_UINT8: static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v[i]); break;
      case LOOM_DTYPE_INT8: static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v[i]); break;
      case LOOM_DTYPE_INT16: static_cast<int16_t*>(p)[i] = static_cast<int16_t>(v[i]); break;
      default: ADD_FAILURE() << "unsupported dtype in a case table";
    }
  }
  return t;
}

double Element(const loom_tensor* t, int64_t i) {
  const void* p = loom_tensor_data(t);
  switch (loom_tensor_dtype(t)) {
    case LOOM_DTYPE_FLOAT: return static_cast<const float*>(p)[i];
    case LOOM_DTYPE_DOUBLE: return static_cast<const double*>(p)[i];
    case LOOM_DTYPE_INT32: return static_cast<const int32_t*>(p)[i];
    case LOOM_DTYPE_INT64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case LOOM_DTYPE_BOOL:
    case LOOM_DTYPE_UINT8: return static_cast<const uint8_t*>(p)[i];
    case LOOM_DTYPE_INT8: return static_cast<const int8_t*>(p)[i];
    case LOOM_DTYPE_INT16: return static_cast<const int16_t*>(p)[i];
    default: return NAN;
  }
}

std::string ShapeOf(const loom_tensor* t) {
  std::string s = "[";
  for (int i = 0; i < loom_tensor_num_dims(t); ++i) s += (i ? "," : "") + std::to_string(loom_tensor_dim(t, i));
  return s + "]";
}

struct Outcome {
  std::string error;  // "" or "CODE: message"
  std::vector<loom_tensor*> outputs;  // the op's outputs, then each Ref input's value after the run
  ~Outcome() {
    for (auto* t : outputs) loom_tensor_free(t);
  }
};

// Builds the case in a fresh graph with the op on `device` and runs it.
void RunCase(const Case& c, const std::string& device, Outcome* out) {
  loom_graph* g = loom_graph_new();
  Rng rng(c.seed);
  std::vector<loom_output> ins;
  std::vector<loom_op*> inits;
  std::vector<loom_output> refs;
  std::vector<loom_output> feeds;
  std::vector<loom_tensor*> feed_values;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const Input& in = c.inputs[i];
    loom_tensor* t = MakeTensor(in, Values(in, &rng));
    const bool fed = in.fed || (!c.error.empty() && !in.ref);
    loom_op_builder* b = loom_op_builder_new(g, fed ? "Placeholder" : "Const", nullptr);
    if (!fed) loom_op_builder_set_attr_tensor(b, "value", t);
    loom_op_builder_set_attr_type(b, "dtype", in.dtype);
    loom_op* k = nullptr;
    out->error = Take(loom_op_builder_finish(b, &k));
    if (fed && out->error.empty()) {
      feeds.push_back({k, 0});
      feed_values.push_back(t);
    } else {
      loom_tensor_free(t);
    }
    if (!out->error.empty()) break;
    loom_output value{k, 0};
    if (in.ref) {
      b = loom_op_builder_new(g, "VariableV2", ("var" + std::to_string(i)).c_str());
      loom_op_builder_set_attr_type(b, "dtype", in.dtype);
      loom_op_builder_set_attr_shape(b, "shape", in.shape.data(), static_cast<int>(in.shape.size()));
      loom_op_builder_set_device(b, device.c_str());
      loom_op* v = nullptr;
      out->error = Take(loom_op_builder_finish(b, &v));
      if (!out->error.empty()) break;
      b = loom_op_builder_new(g, "Assign", nullptr);
      loom_op_builder_add_input(b, {v, 0});
      loom_op_builder_add_input(b, value);
      loom_op* a = nullptr;
      out->error = Take(loom_op_builder_finish(b, &a));
      if (!out->error.empty()) break;
      inits.push_back(a);
      value = {v, 0};
      refs.push_back(value);
    }
    ins.push_back(value);
  }
  loom_op* op = nullptr;
  if (out->error.empty()) {
    loom_op_builder* b = loom_op_builder_new(g, c.op.c_str(), "under_test");
    const int lb = c.inputs_as_list ? 0 : c.list_begin;
    const int ls = c.inputs_as_list ? static_cast<int>(ins.size()) : c.list_size;
    for (int i = 0; i < static_cast<int>(ins.size());) {
      if (ls > 0 && i == lb) {
        loom_op_builder_add_input_list(b, ins.data() + i, ls);
        i += ls;
      } else {
        loom_op_builder_add_input(b, ins[i++]);
      }
    }
    if (c.attrs) c.attrs(b);
    loom_op_builder_set_device(b, device.c_str());
    out->error = Take(loom_op_builder_finish(b, &op));
  }
  loom_session* s = nullptr;
  if (out->error.empty()) out->error = Take(loom_session_new(g, nullptr, &s));
  if (out->error.empty() && !inits.empty()) {
    out->error = Take(loom_session_run(s, nullptr, nullptr, 0, nullptr, 0, inits.data(),
                                       static_cast<int>(inits.size()), nullptr));
  }
  if (out->error.empty()) {
    std::vector<loom_output> fetches;
    for (int i = 0; i < c.num_outputs; ++i) fetches.push_back({op, i});
    std::vector<loom_tensor*> vals(fetches.size(), nullptr);
    out->error = Take(loom_session_run(s, feeds.data(), feed_values.data(),
                                       static_cast<int>(feeds.size()), fetches.data(),
                                       static_cast<int>(fetches.size()), nullptr, 0, vals.data()));
    out->outputs = vals;
    if (out->error.empty() && !refs.empty()) {  // the variables after the update
      std::vector<loom_tensor*> rv(refs.size(), nullptr);
      out->error = Take(loom_session_run(s, nullptr, nullptr, 0, refs.data(),
                                         static_cast<int>(refs.size()), nullptr, 0, rv.data()));
      out->outputs.insert(out->outputs.end(), rv.begin(), rv.end());
    }
  }
  loom_session_free(s);
  loom_graph_free(g);
  for (auto* t : feed_values) loom_tensor_free(t);
}

bool DevicePresent(const std::string& type) {
  for (int i = 0; i < loom_device_count(); ++i)
    if (type == loom_device_type(i)) return true;
  return false;
}

// Why a device type is absent: what the loader said about each plugin.
std::string PluginReport() {
  std::ostringstream os;
  for (int i = 0; i < loom_plugin_count(); ++i) {
    loom_plugin_record r;
    std::memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    if (loom_plugin_get(i, &r)) continue;
    os << "\n  " << r.path << ": " << (r.loaded ? "loaded" : std::string("refused: ") + r.error);
  }
  return os.str();
}

// The device has no kernel for this case: placement found none for the op
// and its dtypes, or the kernel answered UNIMPLEMENTED.
bool IsMissingKernel(const std::string& err) {
  return err.rfind("UNIMPLEMENTED", 0) == 0 ||
         (err.find("Cannot assign a device") != std::string::npos &&
          err.find("no kernel for") != std::string::npos);
}

struct Param {
  std::string device;
  int case_index;
};

class Conformance : public ::testing::TestWithParam<Param> {};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = AllCases();
  return cases;
}

// `error` with "/device:<type>:0" replaced by "/device:*".
std::string WithoutDevice(std::string error, const std::string& type) {
  const std::string name = "/device:" + type + ":0";
  for (size_t at = error.find(name); at != std::string::npos; at = error.find(name, at)) {
    error.replace(at, name.size(), "/device:*");
  }
  return error;
}

TEST_P(Conformance, MatchesCpu) {
  const Case& c = Cases()[GetParam().case_index];
  const std::string& type = GetParam().device;
  if (!DevicePresent(type)) {
    GTEST_SKIP() << "device type " << type << " is not present; plugins seen:" << PluginReport();
  }
  SCOPED_TRACE(c.op + " case '" + c.name + "' on " + type);
  Outcome ref, dev;
  RunCase(c, "/device:CPU:0", &ref);
  RunCase(c, "/device:" + type + ":0", &dev);
  if (!c.error.empty()) {
    EXPECT_EQ(ref.error.substr(0, c.error.size()), c.error) << "CPU: " << ref.error;
    if (IsMissingKernel(dev.error) && type != "CPU") GTEST_SKIP() << type << " lacks a kernel: " << dev.error;
    EXPECT_EQ(dev.error.substr(0, c.error.size()), c.error) << type << ": " << dev.error;
    // The same bad input gets the same words on every device (the kernels
    // share the plugin kit's op semantics); only the device's name differs.
    EXPECT_EQ(WithoutDevice(dev.error, type), WithoutDevice(ref.error, "CPU"));
    return;
  }
  ASSERT_EQ(ref.error, "") << "the CPU reference failed";
  if (type != "CPU" && IsMissingKernel(dev.error)) {
    GTEST_SKIP() << type << " has no kernel for this case: " << dev.error;
  }
  ASSERT_EQ(dev.error, "");
  ASSERT_EQ(ref.outputs.size(), dev.outputs.size());
  for (size_t o = 0; o < ref.outputs.size(); ++o) {
    const loom_tensor *r = ref.outputs[o], *d = dev.outputs[o];
    ASSERT_EQ(loom_tensor_dtype(d), loom_tensor_dtype(r)) << "output " << o;
    ASSERT_EQ(ShapeOf(d), ShapeOf(r)) << "output " << o;
    const bool is_float = loom_tensor_dtype(r) == LOOM_DTYPE_FLOAT || loom_tensor_dtype(r) == LOOM_DTYPE_DOUBLE;
    const int64_t n = loom_tensor_num_elements(r);
    int reported = 0;
    for (int64_t i = 0; i < n && reported < 8; ++i) {
      const double x = Element(d, i), y = Element(r, i);
      bool ok;
      if (std::isnan(y)) {
        ok = std::isnan(x);
      } else if (std::isinf(y)) {
        ok = x == y;
      } else if (is_float) {
        ok = std::fabs(x - y) <= c.tol.atol + c.tol.rtol * std::fabs(y);
      } else {
        ok = x == y;
      }
      if (!ok) {
        ++reported;
        ADD_FAILURE() << "output " << o << " element " << i << ": " << type << " gives " << x
                      << ", CPU " << y << " (difference " << (x - y) << "; atol " << c.tol.atol
                      << ", rtol " << c.tol.rtol << ": " << c.tol.why << ")";
      }
    }
  }
}

std::vector<Param> AllParams() {
  std::vector<Param> p;
  for (const std::string& d : RegisteredDevices())
    for (size_t i = 0; i < Cases().size(); ++i) p.push_back({d, static_cast<int>(i)});
  return p;
}

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  const Case& c = Cases()[info.param.case_index];
  std::string s = info.param.device + "_" + c.op + "_" + c.name;
  for (char& ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Devices, Conformance, ::testing::ValuesIn(AllParams()), ParamName);

// The tables themselves: names unique, inputs filling their shapes.
TEST(ConformanceTables, CaseNamesAreUnique) {
  std::set<std::string> seen;
  for (const Case& c : Cases()) EXPECT_TRUE(seen.insert(c.op + "." + c.name).second) << c.op << "." << c.name;
}

}  // namespace
}  // namespace conformance
