// Sessions: feeds, fetches, targets, variables, pruning, caching, threads, and
// the errors of each kind of bad run.
#include <atomic>
#include <thread>

#include "test_util.h"

using loomtest::GraphTest;
using loomtest::MakeTensor;
using loomtest::Take;
using loomtest::TensorPtr;

namespace {

class SessionRun : public GraphTest {
 protected:
  loom_output Variable(const char* name, loom_dtype dt, std::vector<int64_t> shape) {
    loom_op_builder* b = loom_op_builder_new(g_, "VariableV2", name);
    loom_op_builder_set_attr_type(b, "dtype", dt);
    loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return {op, 0};
  }
};

TEST_F(SessionRun, FeedsReplacePlaceholders) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 2}, "x");
  loom_output y = Op("Identity", {x}, "y");
  TensorPtr v = MakeTensor<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({y}, &out, {x}, {v.get()}), "");
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST_F(SessionRun, MissingFeedNamesThePlaceholder) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 784}, "images");
  loom_output y = Op("Identity", {x}, "y");
  std::string err = Run({y}, nullptr);
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("You must feed a value for placeholder tensor 'images'"), std::string::npos) << err;
  EXPECT_NE(err.find("[?,784]"), std::string::npos) << err;
}

TEST_F(SessionRun, FeedingTheWrongDtypeIsInvalidArgument) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {2}, "x");
  TensorPtr v = MakeTensor<int32_t>({2}, {1, 2});
  std::string err = Run({x}, nullptr, {x}, {v.get()});
  EXPECT_NE(err.find("Cannot feed value of dtype int32"), std::string::npos) << err;
  EXPECT_NE(err.find("'x:0'"), std::string::npos) << err;
}

TEST_F(SessionRun, FeedingTheWrongShapeIsInvalidArgument) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 3}, "x");
  TensorPtr v = MakeTensor<float>({2, 2}, {1, 2, 3, 4});
  std::string err = Run({x}, nullptr, {x}, {v.get()});
  EXPECT_NE(err.find("Cannot feed value of shape [2,2]"), std::string::npos) << err;
  EXPECT_NE(err.find("[?,3]"), std::string::npos) << err;
}

TEST_F(SessionRun, FeedingANonPlaceholderWithAWrongShapeIsRejected) {
  loom_output c = Const<float>({2}, {1, 2}, "c");
  loom_output y = Op("Identity", {c}, "y");
  TensorPtr v = MakeTensor<float>({3}, {7, 8, 9});
  std::string err = Run({y}, nullptr, {c}, {v.get()});
  EXPECT_NE(err.find("Cannot feed value of shape [3]"), std::string::npos) << err;
  TensorPtr ok = MakeTensor<float>({2}, {7, 8});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({y}, &out, {c}, {ok.get()}), "");
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{7, 8}));
}

TEST_F(SessionRun, FetchingANonexistentOutputIsOutOfRange) {
  loom_output c = Scalar<float>(1, "c");
  loom_output bad{c.op, 3};
  std::string err = Run({bad}, nullptr);
  EXPECT_NE(err.find("OUT_OF_RANGE"), std::string::npos) << err;
  EXPECT_NE(err.find("'c:3'"), std::string::npos) << err;
}

TEST_F(SessionRun, PrunesToWhatTheFetchesNeed) {
  // An unfed placeholder that the fetch does not need must not fail the run.
  Placeholder(LOOM_DTYPE_FLOAT, {1}, "unused");
  loom_output c = Scalar<float>(4, "c");
  EXPECT_EQ(Eval(c).values<float>(), (std::vector<float>{4}));
}

TEST_F(SessionRun, FetchingAFedTensorReturnsTheFeed) {
  loom_output x = Placeholder(LOOM_DTYPE_INT32, {2}, "x");
  TensorPtr v = MakeTensor<int32_t>({2}, {5, 6});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({x}, &out, {x}, {v.get()}), "");
  EXPECT_EQ(out[0].values<int32_t>(), (std::vector<int32_t>{5, 6}));
}

TEST_F(SessionRun, VariablesKeepValuesAcrossRuns) {
  loom_output v = Variable("w", LOOM_DTYPE_FLOAT, {2});
  loom_output init = Const<float>({2}, {1.5f, -2.0f});
  loom_output assign = Op("Assign", {v, init}, "w/Assign");
  loom_output read = Op("Identity", {v}, "w/read");
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({}, &out, {}, {}, {assign.op}), "");
  EXPECT_EQ(Eval(read).values<float>(), (std::vector<float>{1.5f, -2.0f}));
  // A fetched variable value is a copy: later assignments do not change it.
  TensorPtr before = Eval(v);
  loom_output other = Const<float>({2}, {9, 9});
  loom_output assign2 = Op("Assign", {v, other}, "w/Assign2");
  ASSERT_EQ(Run({}, &out, {}, {}, {assign2.op}), "");
  EXPECT_EQ(before.values<float>(), (std::vector<float>{1.5f, -2.0f}));
  EXPECT_EQ(Eval(read).values<float>(), (std::vector<float>{9, 9}));
}

// Bindings wrap a fetched value without copying only when the core says its
// memory is the handle's alone (loom_session_fetch_is_shared).
TEST_F(SessionRun, FetchIsSharedOnlyWhileSomethingElseHoldsTheMemory) {
  loom_output v = Variable("w", LOOM_DTYPE_FLOAT, {2});
  loom_output assign = Op("Assign", {v, Const<float>({2}, {1, 2})}, "w/Assign");
  loom_output read = Op("Identity", {v}, "w/read");
  loom_output sum = Op("Add", {read, Const<float>({2}, {10, 20})});
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {2}, "x");
  loom_output fed_view = Op("Identity", {x});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({}, &out, {}, {}, {assign.op}), "");
  TensorPtr feed = MakeTensor<float>({2}, {3, 4});
  ASSERT_EQ(Run({sum, fed_view}, &out, {x}, {feed.get()}), "");
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{11, 22}));
  EXPECT_EQ(loom_session_fetch_is_shared(out[0].get()), 0);  // a fresh result
  EXPECT_EQ(out[1].values<float>(), (std::vector<float>{3, 4}));
  EXPECT_EQ(loom_session_fetch_is_shared(out[1].get()), 1);  // the feed's memory
  feed = TensorPtr();
  EXPECT_EQ(loom_session_fetch_is_shared(out[1].get()), 0);  // the feed is gone
  // The same value fetched twice: two handles on one buffer.
  ASSERT_EQ(Run({sum, sum}, &out), "");
  EXPECT_EQ(loom_session_fetch_is_shared(out[0].get()), 1);
  EXPECT_EQ(loom_session_fetch_is_shared(nullptr), 0);
}

TEST_F(SessionRun, ReadingAnUninitializedVariableIsFailedPrecondition) {
  loom_output v = Variable("weights", LOOM_DTYPE_FLOAT, {3});
  loom_output read = Op("Identity", {v}, "weights/read");
  std::string err = Run({read}, nullptr);
  EXPECT_NE(err.find("FAILED_PRECONDITION"), std::string::npos) << err;
  EXPECT_NE(err.find("Attempting to use uninitialized value weights"), std::string::npos) << err;
  loom_output inited = Op("IsVariableInitialized", {v}, "is_init");
  EXPECT_EQ(Eval(inited).values<uint8_t>(), (std::vector<uint8_t>{0}));
}

TEST_F(SessionRun, AssignWithTheWrongShapeIsInvalidArgument) {
  loom_output v = Variable("w", LOOM_DTYPE_FLOAT, {2});
  loom_output init = Const<float>({3}, {1, 2, 3});
  loom_op* assign = nullptr;
  std::string err = TryOp("Assign", {v, init}, &assign, "bad_assign");
  if (err.empty()) err = Run({}, nullptr, {}, {}, {assign});
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
}

TEST_F(SessionRun, VariablesBelongToTheirSession) {
  loom_output v = Variable("w", LOOM_DTYPE_FLOAT, {1});
  loom_output assign = Op("Assign", {v, Const<float>({1}, {3})}, "assign");
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({}, &out, {}, {}, {assign.op}), "");
  loom_session* other = nullptr;
  LOOM_ASSERT_OK(loom_session_new(g_, nullptr, &other));
  loom_tensor* result = nullptr;
  std::string err = Take(loom_session_run(other, nullptr, nullptr, 0, &v, 1, nullptr, 0, &result));
  EXPECT_NE(err.find("uninitialized"), std::string::npos) << err;
  loom_session_free(other);
}

TEST_F(SessionRun, CallableRunsAPreparedSignature) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {2}, "x");
  loom_output y = Op("Identity", {x}, "y");
  loom_callable* c = nullptr;
  LOOM_ASSERT_OK(loom_session_make_callable(Session(), &x, 1, &y, 1, nullptr, 0, &c));
  for (int i = 0; i < 3; ++i) {
    TensorPtr v = MakeTensor<float>({2}, {float(i), float(2 * i)});
    loom_tensor* in[] = {v.get()};
    loom_tensor* out = nullptr;
    LOOM_ASSERT_OK(loom_callable_run(c, in, &out));
    TensorPtr o(out);
    EXPECT_EQ(o.values<float>(), (std::vector<float>{float(i), float(2 * i)}));
  }
  loom_callable_free(c);
}

TEST_F(SessionRun, ManyThreadsRunOneSession) {
  loom_output x = Placeholder(LOOM_DTYPE_INT32, {1}, "x");
  loom_output y = Op("Identity", {Op("Identity", {x})}, "y");
  Session();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int32_t value = t * 1000 + i;
        TensorPtr v = MakeTensor<int32_t>({1}, {value});
        loom_tensor* feed[] = {v.get()};
        loom_tensor* out = nullptr;
        loom_status* s = loom_session_run(sess_, &x, feed, 1, &y, 1, nullptr, 0, &out);
        if (s || *static_cast<int32_t*>(loom_tensor_data(out)) != value) wrong++;
        loom_status_free(s);
        loom_tensor_free(out);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(SessionRun, NoOpTargetWithControlInputsRunsThem) {
  loom_output v = Variable("counter", LOOM_DTYPE_INT32, {});
  loom_output assign = Op("Assign", {v, Scalar<int32_t>(7)}, "assign");
  loom_op_builder* b = loom_op_builder_new(g_, "NoOp", "init");
  loom_op_builder_add_control_input(b, assign.op);
  loom_op* init = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &init));
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({}, &out, {}, {}, {init}), "");
  EXPECT_EQ(Eval(v).values<int32_t>(), (std::vector<int32_t>{7}));
}

TEST_F(SessionRun, UnknownDefaultDeviceIsAClearError) {
  loom_output c = Scalar<float>(1, "c");
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_default_device(o, "/device:TPU:7");
  loom_session* s = nullptr;
  LOOM_ASSERT_OK(loom_session_new(g_, o, &s));
  loom_session_options_free(o);
  loom_tensor* out = nullptr;
  std::string err = Take(loom_session_run(s, nullptr, nullptr, 0, &c, 1, nullptr, 0, &out));
  EXPECT_NE(err.find("no device matches"), std::string::npos) << err;
  loom_session_free(s);
}

}  // namespace
