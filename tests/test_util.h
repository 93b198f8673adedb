// The helpers of black-box tests over loom.h — status checks, tensor
// construction and reading, op building (graph_util.h's BuildOp under every
// fixture) — and the GraphTest fixture. The one layer tests build graphs with:
// tests/ops/op_test_util.h (OpTest) and tests/autodiff/test_graph.h (Graph,
// for numerical checks in doubles) extend it. Header-only; uses only loom.h.
#ifndef LOOM_TESTS_TEST_UTIL_H_
#define LOOM_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "graph_util.h"
#include "loom/loom.h"

namespace loomtest {

#define LOOM_ASSERT_OK(expr) ASSERT_EQ(::loomtest::Take(expr), "") << #expr
#define LOOM_EXPECT_OK(expr) EXPECT_EQ(::loomtest::Take(expr), "") << #expr

// A tensor owned by the test.
struct TensorPtr {
  loom_tensor* t = nullptr;
  TensorPtr() = default;
  explicit TensorPtr(loom_tensor* p) : t(p) {}
  TensorPtr(TensorPtr&& o) noexcept : t(o.t) { o.t = nullptr; }
  TensorPtr& operator=(TensorPtr&& o) noexcept {
    std::swap(t, o.t);
    return *this;
  }
  ~TensorPtr() { loom_tensor_free(t); }
  loom_tensor* get() const { return t; }
  std::vector<int64_t> shape() const {
    std::vector<int64_t> d;
    for (int i = 0; i < loom_tensor_num_dims(t); ++i) d.push_back(loom_tensor_dim(t, i));
    return d;
  }
  template <typename T>
  std::vector<T> values() const {
    const T* p = static_cast<const T*>(loom_tensor_data(t));
    return std::vector<T>(p, p + loom_tensor_num_elements(t));
  }
};

template <typename T> loom_dtype DtypeOf();
template <> inline loom_dtype DtypeOf<float>() { return LOOM_DTYPE_FLOAT; }
template <> inline loom_dtype DtypeOf<double>() { return LOOM_DTYPE_DOUBLE; }
template <> inline loom_dtype DtypeOf<int32_t>() { return LOOM_DTYPE_INT32; }
template <> inline loom_dtype DtypeOf<int64_t>() { return LOOM_DTYPE_INT64; }
template <> inline loom_dtype DtypeOf<bool>() { return LOOM_DTYPE_BOOL; }
template <> inline loom_dtype DtypeOf<uint8_t>() { return LOOM_DTYPE_UINT8; }

template <typename T>
TensorPtr MakeTensor(const std::vector<int64_t>& dims, const std::vector<T>& values) {
  loom_tensor* t = nullptr;
  loom_status* s = loom_tensor_new(DtypeOf<T>(), dims.data(), static_cast<int>(dims.size()), &t);
  EXPECT_EQ(Take(s), "");
  if (t) {
    T* p = static_cast<T*>(loom_tensor_data(t));
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];  // also std::vector<bool>
  }
  return TensorPtr(t);
}

// Owns a graph and a session over it.
class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override { g_ = loom_graph_new(); }
  void TearDown() override {
    loom_session_free(sess_);
    loom_graph_free(g_);
  }

  template <typename T>
  loom_output Const(const std::vector<int64_t>& dims, const std::vector<T>& values, const char* name = nullptr) {
    TensorPtr t = MakeTensor<T>(dims, values);
    loom_op_builder* b = loom_op_builder_new(g_, "Const", name);
    loom_op_builder_set_attr_tensor(b, "value", t.get());
    loom_op_builder_set_attr_type(b, "dtype", DtypeOf<T>());
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  }
  template <typename T>
  loom_output Scalar(T v, const char* name = nullptr) { return Const<T>({}, {v}, name); }

  loom_output Placeholder(loom_dtype dt, const std::vector<int64_t>& shape, const char* name = nullptr,
                          bool unknown_rank = false) {
    loom_op_builder* b = loom_op_builder_new(g_, "Placeholder", name);
    loom_op_builder_set_attr_type(b, "dtype", dt);
    if (!unknown_rank) loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  }

  // Builds an op with the given inputs; returns "" or the error.
  std::string TryOp(const char* type, std::vector<loom_output> inputs, loom_op** out,
                    const char* name = nullptr) {
    return BuildOp(g_, type, std::vector<In>(inputs.begin(), inputs.end()), nullptr, name, out);
  }
  loom_output Op(const char* type, std::vector<loom_output> inputs, const char* name = nullptr) {
    loom_op* op = nullptr;
    EXPECT_EQ(TryOp(type, std::move(inputs), &op, name), "");
    return loom_output{op, 0};
  }

  loom_session* Session() {
    if (!sess_) {
      EXPECT_EQ(Take(loom_session_new(g_, nullptr, &sess_)), "");
    }
    return sess_;
  }

  // Runs and returns "" or the error; results in *out.
  std::string Run(std::vector<loom_output> fetches, std::vector<TensorPtr>* out,
                  std::vector<loom_output> feeds = {}, std::vector<loom_tensor*> feed_values = {},
                  std::vector<loom_op*> targets = {}) {
    std::vector<loom_tensor*> raw(fetches.size(), nullptr);
    std::string err = Take(loom_session_run(Session(), feeds.data(), feed_values.data(),
                                            static_cast<int>(feeds.size()), fetches.data(),
                                            static_cast<int>(fetches.size()), targets.data(),
                                            static_cast<int>(targets.size()), raw.data()));
    if (out) {
      out->clear();
      for (auto* t : raw) out->emplace_back(t);
    }
    return err;
  }
  TensorPtr Eval(loom_output o) {
    std::vector<TensorPtr> out;
    EXPECT_EQ(Run({o}, &out), "");
    return out.empty() ? TensorPtr() : std::move(out[0]);
  }

  loom_graph* g_ = nullptr;
  loom_session* sess_ = nullptr;
};

}  // namespace loomtest

#endif  // LOOM_TESTS_TEST_UTIL_H_
