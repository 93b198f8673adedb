// The autodiff tests' Graph, on the tests' helper layer (test_util.h): build
// ops in one line (BuildOp), run a session and read results as doubles — what
// numerical gradient checks need. Only loom.h is used, so the tests exercise
// the public C API exactly as applications do.
#ifndef LOOM_TESTS_AUTODIFF_TEST_GRAPH_H_
#define LOOM_TESTS_AUTODIFF_TEST_GRAPH_H_

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "loom/loom.h"
#include "test_util.h"

namespace loom_test {

using loomtest::In;
using AttrSetter = loomtest::AttrFn;

// A host tensor of doubles plus its shape, converted to/from any float or int dtype.
struct Value {
  std::vector<int64_t> shape;
  std::vector<double> data;
  loom_dtype dtype = LOOM_DTYPE_DOUBLE;
  int64_t size() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

inline loom_tensor* MakeTensor(const Value& v) {
  loom_tensor* t = nullptr;
  loom_status* s = loom_tensor_new(v.dtype, v.shape.data(), static_cast<int>(v.shape.size()), &t);
  if (s) {
    ADD_FAILURE() << loomtest::Take(s);
    return nullptr;
  }
  void* p = loom_tensor_data(t);
  for (size_t i = 0; i < v.data.size(); ++i) {
    switch (v.dtype) {
      case LOOM_DTYPE_FLOAT: static_cast<float*>(p)[i] = static_cast<float>(v.data[i]); break;
      case LOOM_DTYPE_DOUBLE: static_cast<double*>(p)[i] = v.data[i]; break;
      case LOOM_DTYPE_INT32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v.data[i]); break;
      case LOOM_DTYPE_INT64: static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v.data[i]); break;
      case LOOM_DTYPE_BOOL: static_cast<uint8_t*>(p)[i] = v.data[i] != 0; break;
      default: ADD_FAILURE() << "MakeTensor: unsupported dtype " << loom_dtype_name(v.dtype);
    }
  }
  return t;
}

inline Value ReadTensor(const loom_tensor* t) {
  Value v;
  v.dtype = loom_tensor_dtype(t);
  for (int i = 0; i < loom_tensor_num_dims(t); ++i) v.shape.push_back(loom_tensor_dim(t, i));
  const int64_t n = loom_tensor_num_elements(t);
  const void* p = loom_tensor_data(t);
  v.data.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    switch (v.dtype) {
      case LOOM_DTYPE_FLOAT: v.data[i] = static_cast<const float*>(p)[i]; break;
      case LOOM_DTYPE_DOUBLE: v.data[i] = static_cast<const double*>(p)[i]; break;
      case LOOM_DTYPE_INT32: v.data[i] = static_cast<const int32_t*>(p)[i]; break;
      case LOOM_DTYPE_INT64: v.data[i] = static_cast<double>(static_cast<const int64_t*>(p)[i]); break;
      case LOOM_DTYPE_BOOL: v.data[i] = static_cast<const uint8_t*>(p)[i]; break;
      default: ADD_FAILURE() << "ReadTensor: unsupported dtype " << loom_dtype_name(v.dtype);
    }
  }
  return v;
}

class Graph {
 public:
  Graph() : g_(loom_graph_new()) {}
  ~Graph() {
    if (sess_) loom_session_free(sess_);
    loom_graph_free(g_);
  }
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  loom_graph* get() const { return g_; }

  // Adds an op; on failure records a test failure and returns {NULL, 0}s.
  std::vector<loom_output> OpN(const std::string& type, const std::vector<In>& inputs,
                               const AttrSetter& attrs = nullptr, const char* name = nullptr) {
    loom_op* op = nullptr;
    std::string m = loomtest::BuildOp(g_, type.c_str(), inputs, attrs, name, &op);
    if (!m.empty()) {
      ADD_FAILURE() << "adding " << type << ": " << m;
      return std::vector<loom_output>(1, loom_output{nullptr, 0});
    }
    std::vector<loom_output> outs;
    for (int i = 0; i < loom_op_num_outputs(op); ++i) outs.push_back(loom_output{op, i});
    if (outs.empty()) outs.push_back(loom_output{op, 0});
    return outs;
  }
  loom_output Op(const std::string& type, const std::vector<In>& inputs,
                 const AttrSetter& attrs = nullptr, const char* name = nullptr) {
    return OpN(type, inputs, attrs, name)[0];
  }

  // shape: nullptr-like {-2} = unknown rank; -1 entries unknown dims.
  loom_output Placeholder(loom_dtype dt, std::vector<int64_t> shape, const char* name = nullptr) {
    return Op("Placeholder", {}, [&](loom_op_builder* b) {
      loom_op_builder_set_attr_type(b, "dtype", dt);
      if (!(shape.size() == 1 && shape[0] == -2))
        loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
    }, name);
  }
  loom_output Const(const Value& v, const char* name = nullptr) {
    loom_tensor* t = MakeTensor(v);
    loom_output o = Op("Const", {}, [&](loom_op_builder* b) {
      loom_op_builder_set_attr_tensor(b, "value", t);
      loom_op_builder_set_attr_type(b, "dtype", v.dtype);
    }, name);
    loom_tensor_free(t);
    return o;
  }
  loom_output Scalar(loom_dtype dt, double x) { return Const(Value{{}, {x}, dt}); }
  loom_output Ints(std::vector<int64_t> v, loom_dtype dt = LOOM_DTYPE_INT32) {
    Value val{{static_cast<int64_t>(v.size())}, {}, dt};
    for (int64_t x : v) val.data.push_back(static_cast<double>(x));
    return Const(val);
  }
  loom_output Int(int64_t x, loom_dtype dt = LOOM_DTYPE_INT32) {
    return Const(Value{{}, {static_cast<double>(x)}, dt});
  }

  // Symbolic gradients; the status message is returned ("" on success).
  std::string Gradients(const std::vector<loom_output>& ys, const std::vector<loom_output>& xs,
                        std::vector<loom_output>* dxs, const std::vector<loom_output>& dys = {},
                        const char* prefix = nullptr) {
    dxs->assign(xs.size(), loom_output{nullptr, 0});
    return loomtest::Take(loom_graph_add_gradients(
        g_, prefix, ys.data(), static_cast<int>(ys.size()), xs.data(),
        static_cast<int>(xs.size()), dys.empty() ? nullptr : dys.data(), dxs->data()));
  }

  // Runs the graph (one session per Graph, created on first use). Returns ""
  // or the error message.
  std::string Run(const std::vector<std::pair<loom_output, Value>>& feeds,
                  const std::vector<loom_output>& fetches, std::vector<Value>* out,
                  const std::vector<loom_op*>& targets = {}) {
    if (!sess_) {
      loom_session_options* o = loom_session_options_new();
      loom_session_options_set_intra_op_threads(o, 1);
      std::string m = loomtest::Take(loom_session_new(g_, o, &sess_));
      loom_session_options_free(o);
      if (!m.empty()) return m;
    }
    std::vector<loom_output> feed_outs;
    std::vector<loom_tensor*> feed_values;
    for (const auto& f : feeds) {
      feed_outs.push_back(f.first);
      feed_values.push_back(MakeTensor(f.second));
    }
    std::vector<loom_tensor*> results(fetches.size(), nullptr);
    std::string m = loomtest::Take(loom_session_run(
        sess_, feed_outs.data(), feed_values.data(), static_cast<int>(feeds.size()),
        fetches.data(), static_cast<int>(fetches.size()), targets.data(),
        static_cast<int>(targets.size()), results.data()));
    for (loom_tensor* t : feed_values) loom_tensor_free(t);
    if (out) out->clear();
    for (loom_tensor* t : results) {
      if (t && out) out->push_back(ReadTensor(t));
      loom_tensor_free(t);
    }
    return m;
  }
  loom_session* session() const { return sess_; }

 private:
  loom_graph* g_;
  loom_session* sess_ = nullptr;
};

// Deterministic pseudo-random numbers (a 64-bit LCG) so tests are reproducible.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
  double Uniform(double lo, double hi) {
    s_ = s_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * static_cast<double>(s_ >> 11) / 9007199254740992.0;
  }

 private:
  uint64_t s_;
};

}  // namespace loom_test

#endif  // LOOM_TESTS_AUTODIFF_TEST_GRAPH_H_
