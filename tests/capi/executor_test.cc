// The executor's scheduling: diamonds, wide graphs run with inter-op
// parallelism, long chains, errors in one branch, and repeated runs, each
// compared with values computed by hand.
#include <atomic>
#include <thread>

#include "test_util.h"

using loomtest::GraphTest;
using loomtest::MakeTensor;
using loomtest::Take;
using loomtest::TensorPtr;

namespace {

class Executor : public GraphTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    GraphTest::SetUp();
    loom_session_options* o = loom_session_options_new();
    loom_session_options_set_inter_op_threads(o, GetParam());
    loom_session_options_set_intra_op_threads(o, 2);
    EXPECT_EQ(Take(loom_session_new(g_, o, &sess_)), "");
    loom_session_options_free(o);
  }
};

TEST_P(Executor, DiamondJoinsBothBranches) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {3}, "x");
  loom_output left = Op("Mul", {x, x});    // x^2
  loom_output right = Op("AddV2", {x, x}); // 2x
  loom_output join = Op("Sub", {left, right});
  TensorPtr v = MakeTensor<float>({3}, {1, 2, 3});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({join}, &out, {x}, {v.get()}), "");
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{-1, 0, 3}));
}

TEST_P(Executor, WideGraphOfIndependentBranchesSumsCorrectly) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {256}, "x");
  std::vector<loom_output> branches;
  for (int i = 0; i < 64; ++i) {
    loom_output k = Scalar<float>(static_cast<float>(i));
    branches.push_back(Op("Mul", {x, k}));
  }
  loom_op_builder* b = loom_op_builder_new(g_, "AddN", "sum");
  loom_op_builder_add_input_list(b, branches.data(), static_cast<int>(branches.size()));
  loom_op* sum = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &sum));
  std::vector<float> ones(256, 1.0f);
  TensorPtr v = MakeTensor<float>({256}, ones);
  for (int run = 0; run < 20; ++run) {
    std::vector<TensorPtr> out;
    ASSERT_EQ(Run({{sum, 0}}, &out, {x}, {v.get()}), "");
    for (float f : out[0].values<float>()) ASSERT_EQ(f, 2016.0f);  // 0 + 1 + ... + 63
  }
}

TEST_P(Executor, LongChainComputesTheClosedForm) {
  loom_output x = Placeholder(LOOM_DTYPE_INT64, {}, "x");
  loom_output y = x;
  for (int i = 0; i < 500; ++i) y = Op("AddV2", {y, x});
  TensorPtr v = MakeTensor<int64_t>({}, {3});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({y}, &out, {x}, {v.get()}), "");
  EXPECT_EQ(out[0].values<int64_t>()[0], 3 * 501);
}

TEST_P(Executor, AnErrorInOneBranchFailsTheStepWithThatError) {
  loom_output a = Const<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, -1}, "x");
  loom_output ok = Op("Mul", {a, a});
  loom_op* bad = nullptr;
  ASSERT_EQ(TryOp("MatMul", {a, x}, &bad, "bad_matmul"), "");
  loom_output both = Op("AddV2", {ok, {bad, 0}});
  TensorPtr v = MakeTensor<float>({2, 2}, {1, 0, 0, 1});  // inner dims 3 vs 2
  std::string err = Run({both}, nullptr, {x}, {v.get()});
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("'bad_matmul'"), std::string::npos) << err;
  EXPECT_NE(err.find("/device:CPU:0"), std::string::npos) << err;
  // The session still works afterwards.
  EXPECT_EQ(Eval(ok).values<float>(), (std::vector<float>{1, 4, 9, 16, 25, 36}));
}

TEST_P(Executor, ConcurrentRunsOfAParallelGraphDoNotInterfere) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {4}, "x");
  loom_output a = Op("Mul", {x, Scalar<float>(2)});
  loom_output b = Op("Mul", {x, Scalar<float>(3)});
  loom_output y = Op("AddV2", {a, b});  // 5x
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        float base = static_cast<float>(t * 1000 + i);
        TensorPtr v = MakeTensor<float>({4}, {base, base + 1, base + 2, base + 3});
        loom_tensor* in[] = {v.get()};
        loom_tensor* out = nullptr;
        loom_status* s = loom_session_run(sess_, &x, in, 1, &y, 1, nullptr, 0, &out);
        if (s) {
          wrong++;
          loom_status_free(s);
          continue;
        }
        const float* r = static_cast<const float*>(loom_tensor_data(out));
        for (int k = 0; k < 4; ++k)
          if (r[k] != 5 * (base + k)) wrong++;
        loom_tensor_free(out);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(InterOpThreads, Executor, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& i) { return "inter" + std::to_string(i.param); });

}  // namespace
