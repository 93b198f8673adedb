// The case runner: builds a case on the CPU and on the device under test,
// runs both, compares. Uses only loom.h.
#include "runner.h"

#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

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

// The input as a host tensor; nullptr and *err set if the table is wrong.
loom_tensor* MakeTensor(const Input& in, const std::vector<double>& v, std::string* err) {
  loom_tensor* t = nullptr;
  *err = Take(loom_tensor_new(in.dtype, in.shape.data(), static_cast<int>(in.shape.size()), &t));
  if (!t) return nullptr;
  void* p = loom_tensor_data(t);
  const size_t n = static_cast<size_t>(loom_tensor_num_elements(t));
  if (v.size() != n) {
    *err = "case table: an input's values (" + std::to_string(v.size()) + ") do not fill its shape (" +
           std::to_string(n) + " elements)";
    loom_tensor_free(t);
    return nullptr;
  }
  for (size_t i = 0; i < n; ++i) {
    switch (in.dtype) {
      case LOOM_DTYPE_FLOAT: static_cast<float*>(p)[i] = static_cast<float>(v[i]); break;
      case LOOM_DTYPE_DOUBLE: static_cast<double*>(p)[i] = v[i]; break;
      case LOOM_DTYPE_INT32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v[i]); break;
      case LOOM_DTYPE_INT64: static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v[i]); break;
      case LOOM_DTYPE_BOOL: static_cast<uint8_t*>(p)[i] = v[i] != 0; break;
      case LOOM_DTYPE_UINT8: static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v[i]); break;
      case LOOM_DTYPE_INT8: static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v[i]); break;
      case LOOM_DTYPE_INT16: static_cast<int16_t*>(p)[i] = static_cast<int16_t>(v[i]); break;
      default:
        *err = std::string("case table: unsupported input dtype ") + loom_dtype_name(in.dtype);
        loom_tensor_free(t);
        return nullptr;
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
    loom_tensor* t = MakeTensor(in, Values(in, &rng), &out->error);
    if (!t) break;
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

}  // namespace

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

namespace {

// The device has no kernel for this case: placement found none for the op
// and its dtypes, or the kernel answered UNIMPLEMENTED.
bool IsMissingKernel(const std::string& err) {
  return err.rfind("UNIMPLEMENTED", 0) == 0 ||
         (err.find("Cannot assign a device") != std::string::npos &&
          err.find("no kernel for") != std::string::npos);
}

// An error with the device's name replaced, so errors of two devices compare.
std::string WithoutDevice(std::string error, const std::string& type) {
  const std::string name = "/device:" + type + ":0";
  for (size_t at = error.find(name); at != std::string::npos; at = error.find(name, at))
    error.replace(at, name.size(), "/device:*");
  return error;
}

}  // namespace

Result CheckCase(const Case& c, const std::string& type) {
  Result r;
  auto fail = [&r](const std::string& why) {
    r.verdict = Verdict::kFail;
    r.detail += (r.detail.empty() ? "" : "\n") + why;
  };
  const std::string where = c.op + " case '" + c.name + "' on " + type;
  Outcome ref, dev;
  RunCase(c, "/device:CPU:0", &ref);
  RunCase(c, "/device:" + type + ":0", &dev);
  if (!c.error.empty()) {
    if (ref.error.compare(0, c.error.size(), c.error) != 0)
      fail(where + ": the CPU reference should fail with " + c.error + ", got: " +
           (ref.error.empty() ? "success" : ref.error));
    if (IsMissingKernel(dev.error) && type != "CPU") {
      if (r.verdict == Verdict::kFail) return r;
      return {Verdict::kSkip, type + " lacks a kernel: " + dev.error};
    }
    if (dev.error.compare(0, c.error.size(), c.error) != 0)
      fail(where + ": should fail with " + c.error + ", got: " + (dev.error.empty() ? "success" : dev.error));
    // The same bad input gets the same words on every device (kernels share
    // the plugin kit's op semantics); only the device's name differs.
    else if (WithoutDevice(dev.error, type) != WithoutDevice(ref.error, "CPU"))
      fail(where + ": the error's words differ from the CPU's:\n  " + type + ": " + dev.error + "\n  CPU: " +
           ref.error);
    return r;
  }
  if (!ref.error.empty()) {
    fail(where + ": the CPU reference failed: " + ref.error);
    return r;
  }
  if (type != "CPU" && IsMissingKernel(dev.error))
    return {Verdict::kSkip, type + " has no kernel for this case: " + dev.error};
  if (!dev.error.empty()) {
    fail(where + ": failed: " + dev.error);
    return r;
  }
  if (ref.outputs.size() != dev.outputs.size()) {
    fail(where + ": " + std::to_string(dev.outputs.size()) + " outputs, the CPU gives " +
         std::to_string(ref.outputs.size()));
    return r;
  }
  for (size_t o = 0; o < ref.outputs.size(); ++o) {
    const loom_tensor *rt = ref.outputs[o], *dt = dev.outputs[o];
    const std::string out = where + ": output " + std::to_string(o);
    if (loom_tensor_dtype(dt) != loom_tensor_dtype(rt)) {
      fail(out + " has dtype " + loom_dtype_name(loom_tensor_dtype(dt)) + ", the CPU's " +
           loom_dtype_name(loom_tensor_dtype(rt)));
      continue;
    }
    if (ShapeOf(dt) != ShapeOf(rt)) {
      fail(out + " has shape " + ShapeOf(dt) + ", the CPU's " + ShapeOf(rt));
      continue;
    }
    const bool is_float = loom_tensor_dtype(rt) == LOOM_DTYPE_FLOAT || loom_tensor_dtype(rt) == LOOM_DTYPE_DOUBLE;
    const int64_t n = loom_tensor_num_elements(rt);
    int reported = 0;
    for (int64_t i = 0; i < n && reported < 8; ++i) {
      const double x = Element(dt, i), y = Element(rt, i);
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
        std::ostringstream os;
        os << out << " element " << i << ": " << type << " gives " << x << ", CPU " << y
           << " (difference " << (x - y) << "; atol " << c.tol.atol << ", rtol " << c.tol.rtol << ": "
           << c.tol.why << ")";
        fail(os.str());
      }
    }
  }
  return r;
}

}  // namespace conformance
