// Helpers for the op tests: build one op (inputs, input lists, attrs), run it,
// compare the result with a reference. Black-box: only loom.h.
#ifndef LOOM_TESTS_OPS_OP_TEST_UTIL_H_
#define LOOM_TESTS_OPS_OP_TEST_UTIL_H_

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace loomtest {

template <> inline loom_dtype DtypeOf<int8_t>() { return LOOM_DTYPE_INT8; }
template <> inline loom_dtype DtypeOf<int16_t>() { return LOOM_DTYPE_INT16; }

// std::vector<bool> has no data(): bool tensors are filled element by element.
template <>
inline TensorPtr MakeTensor<bool>(const std::vector<int64_t>& dims, const std::vector<bool>& values) {
  loom_tensor* t = nullptr;
  EXPECT_EQ(Take(loom_tensor_new(LOOM_DTYPE_BOOL, dims.data(), static_cast<int>(dims.size()), &t)), "");
  if (t) {
    bool* p = static_cast<bool*>(loom_tensor_data(t));
    for (size_t i = 0; i < values.size(); ++i) p[i] = values[i];
  }
  return TensorPtr(t);
}

class OpTest : public GraphTest {
 protected:
  // Builds `type` with the inputs and attrs; "" or the error.
  std::string TryBuild(const char* type, const std::vector<In>& inputs, const AttrFn& attrs,
                       loom_op** out, const char* name = nullptr) {
    return BuildOp(g_, type, inputs, attrs, name, out);
  }
  loom_op* Build(const char* type, const std::vector<In>& inputs, const AttrFn& attrs = {},
                 const char* name = nullptr) {
    loom_op* op = nullptr;
    EXPECT_EQ(TryBuild(type, inputs, attrs, &op, name), "") << type;
    return op;
  }
  loom_output B(const char* type, const std::vector<In>& inputs, const AttrFn& attrs = {},
                const char* name = nullptr) {
    return loom_output{Build(type, inputs, attrs, name), 0};
  }

  // A placeholder of unknown shape: graph-time shape checks cannot see its
  // value, so errors come from the kernel.
  loom_output Unknown(loom_dtype dt, const char* name) {
    return Placeholder(dt, {}, name, /*unknown_rank=*/true);
  }

  // Runs the fetches with the feeds; expects success.
  std::vector<TensorPtr> RunOk(std::vector<loom_output> fetches,
                               std::vector<loom_output> feeds = {},
                               std::vector<loom_tensor*> values = {}) {
    std::vector<TensorPtr> out;
    EXPECT_EQ(Run(std::move(fetches), &out, std::move(feeds), std::move(values)), "");
    return out;
  }
  // Runs and returns the error ("" if it unexpectedly succeeds).
  std::string RunErr(std::vector<loom_output> fetches, std::vector<loom_output> feeds = {},
                     std::vector<loom_tensor*> values = {}) {
    std::vector<TensorPtr> out;
    return Run(std::move(fetches), &out, std::move(feeds), std::move(values));
  }
};

// Attr setters, composable: Attrs(Int("axis", 1), Bool("keep_dims", true)).
inline AttrFn Int(const char* n, int64_t v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_int(b, n, v); };
}
inline AttrFn Float(const char* n, float v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_float(b, n, v); };
}
inline AttrFn Bool(const char* n, bool v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_bool(b, n, v ? 1 : 0); };
}
inline AttrFn Type(const char* n, loom_dtype v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_type(b, n, v); };
}
inline AttrFn Str(const char* n, std::string v) {
  return [=](loom_op_builder* b) { loom_op_builder_set_attr_string(b, n, v.data(), v.size()); };
}
inline AttrFn IntList(const char* n, std::vector<int64_t> v) {
  return [=](loom_op_builder* b) {
    loom_op_builder_set_attr_int_list(b, n, v.data(), static_cast<int>(v.size()));
  };
}
inline AttrFn Attrs(std::vector<AttrFn> fns) {
  return [=](loom_op_builder* b) {
    for (const auto& f : fns) f(b);
  };
}

// Exact comparison (integers, bools, data movement).
template <typename T>
void ExpectValues(const TensorPtr& t, const std::vector<int64_t>& shape,
                  const std::vector<T>& expected) {
  ASSERT_NE(t.get(), nullptr);
  EXPECT_EQ(loom_tensor_dtype(t.get()), DtypeOf<T>());
  EXPECT_EQ(t.shape(), shape);
  if (loom_tensor_num_elements(t.get()) == static_cast<int64_t>(expected.size())) {
    EXPECT_EQ(t.values<T>(), expected);
  } else {
    ADD_FAILURE() << "expected " << expected.size() << " elements, got "
                  << loom_tensor_num_elements(t.get());
  }
}

// |got - want| <= atol + rtol * |want| elementwise; NaNs must match NaNs.
template <typename T>
void ExpectNear(const TensorPtr& t, const std::vector<int64_t>& shape,
                const std::vector<T>& expected, double rtol, double atol = 0) {
  ASSERT_NE(t.get(), nullptr);
  EXPECT_EQ(loom_tensor_dtype(t.get()), DtypeOf<T>());
  EXPECT_EQ(t.shape(), shape);
  ASSERT_EQ(loom_tensor_num_elements(t.get()), static_cast<int64_t>(expected.size()));
  std::vector<T> got = t.values<T>();
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = expected[i];
    if (std::isnan(w)) {
      EXPECT_TRUE(std::isnan(g)) << "at " << i << ": got " << g << ", want NaN";
    } else if (std::isinf(w)) {
      EXPECT_EQ(g, w) << "at " << i;
    } else {
      EXPECT_LE(std::fabs(g - w), atol + rtol * std::fabs(w))
          << "at " << i << ": got " << g << ", want " << w;
    }
  }
}

// Asserts an error of `code` whose message contains every one of `parts`.
inline void ExpectError(const std::string& err, const char* code,
                        std::initializer_list<const char*> parts) {
  EXPECT_EQ(err.rfind(code, 0), 0u) << err;
  for (const char* p : parts) EXPECT_NE(err.find(p), std::string::npos) << "'" << p << "' not in: " << err;
}

}  // namespace loomtest

#endif  // LOOM_TESTS_OPS_OP_TEST_UTIL_H_
