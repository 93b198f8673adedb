// Placement across devices, with the FAKEDEV test plugin (tests/plugins/
// fake_device.c): explicit requests, soft placement, colocation of variable
// updates, host-memory arguments, and the copies between device memories.
#include <atomic>
#include <thread>

#include "test_util.h"

using loomtest::GraphTest;
using loomtest::Take;
using loomtest::TensorPtr;

namespace {

class Placement : public GraphTest {
 protected:
  void SetUp() override {
    GraphTest::SetUp();
    LOOM_ASSERT_OK(loom_plugin_load(LOOM_FIXTURE_PLUGIN_DIR "/libloom_fixture_fake_device.so"));
  }
  loom_output On(const char* device, const char* type, std::vector<loom_output> in, const char* name = nullptr) {
    loom_op_builder* b = loom_op_builder_new(g_, type, name);
    for (auto& i : in) loom_op_builder_add_input(b, i);
    loom_op_builder_set_device(b, device);
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return {op, 0};
  }
  std::vector<int64_t> CopyStats() {
    if (!stats_) {
      loom_op* op = nullptr;
      EXPECT_EQ(TryOp("FakeDevCopyStats", {}, &op, "stats"), "");
      stats_ = op;
    }
    std::vector<TensorPtr> out;
    EXPECT_EQ(Run({{stats_, 0}, {stats_, 1}}, &out), "");
    return {out[0].values<int64_t>()[0], out[1].values<int64_t>()[0]};
  }
  loom_op* stats_ = nullptr;
};

TEST_F(Placement, ExplicitDeviceRunsThereAndCopiesBothWays) {
  loom_output a = Const<float>({4}, {1, 2, 3, 4});
  loom_output b = Const<float>({4}, {10, 20, 30, 40});
  loom_output sum = On("/device:FAKEDEV:1", "AddV2", {a, b}, "sum");
  auto before = CopyStats();
  EXPECT_EQ(Eval(sum).values<float>(), (std::vector<float>{11, 22, 33, 44}));
  auto after = CopyStats();
  EXPECT_EQ(after[0] - before[0], 2 * 16);  // both inputs to the device
  EXPECT_EQ(after[1] - before[1], 16);      // the result back to the host
}

TEST_F(Placement, ChainsAcrossDevicesGiveTheCpuResult) {
  loom_output a = Const<float>({3}, {1, 2, 3});
  loom_output b = Const<float>({3}, {4, 5, 6});
  loom_output m = On("/device:FAKEDEV:0", "Mul", {a, b});         // 4 10 18
  loom_output s = On("/device:FAKEDEV:1", "AddV2", {m, a});       // 5 12 21
  loom_output c = On("/device:CPU:0", "Sub", {s, b});             // 1 7 15
  EXPECT_EQ(Eval(c).values<float>(), (std::vector<float>{1, 7, 15}));
}

TEST_F(Placement, HostMemoryArgumentsStayOnTheHost) {
  loom_output x = Const<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  loom_output shape = Const<int32_t>({2}, {3, 2});
  loom_output r = On("/device:FAKEDEV:0", "Reshape", {x, shape});
  auto t = Eval(r);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(t.values<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST_F(Placement, UnplaceableOpNamesTheOpAndTheDevicesTried) {
  loom_output a = Const<float>({2}, {1, 2});
  loom_output d = On("/device:FAKEDEV:0", "Sub", {a, a}, "diff");
  std::string err = Run({d}, nullptr);
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("'diff'"), std::string::npos) << err;
  EXPECT_NE(err.find("/device:FAKEDEV:0"), std::string::npos) << err;
  EXPECT_NE(err.find("CPU"), std::string::npos) << err;  // where kernels exist
}

TEST_F(Placement, SoftPlacementFallsBackToADeviceWithAKernel) {
  loom_output a = Const<float>({2}, {1, 5});
  loom_output d = On("/device:FAKEDEV:0", "Sub", {a, Const<float>({2}, {1, 1})}, "diff");
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_allow_soft_placement(o, 1);
  LOOM_ASSERT_OK(loom_session_new(g_, o, &sess_));
  loom_session_options_free(o);
  EXPECT_EQ(Eval(d).values<float>(), (std::vector<float>{0, 4}));
}

TEST_F(Placement, VariableUpdatesRunWhereTheVariableLives) {
  loom_op_builder* b = loom_op_builder_new(g_, "VariableV2", "w");
  loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
  int64_t dims[] = {2};
  loom_op_builder_set_attr_shape(b, "shape", dims, 1);
  loom_op_builder_set_device(b, "/device:FAKEDEV:0");
  loom_op* v = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &v));
  loom_output assign = Op("Assign", {{v, 0}, Const<float>({2}, {3, 4})}, "w/Assign");
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({}, &out, {}, {}, {assign.op}), "");
  // The read runs on the CPU; the value crosses from FAKEDEV memory.
  loom_output doubled = Op("AddV2", {{v, 0}, {v, 0}}, "doubled");
  EXPECT_EQ(Eval(doubled).values<float>(), (std::vector<float>{6, 8}));
  // AssignAdd must run beside the variable, and FAKEDEV has no kernel for it.
  loom_output inc = Op("AssignAdd", {{v, 0}, Const<float>({2}, {1, 1})}, "w/AssignAdd");
  std::string err = Run({inc}, nullptr);
  EXPECT_NE(err.find("variable 'w'"), std::string::npos) << err;
  EXPECT_NE(err.find("FAKEDEV"), std::string::npos) << err;
}

TEST_F(Placement, DefaultPlacementPrefersTheHighestPriorityDeviceWithAKernel) {
  // FAKEDEV has priority 0 and CPU 100: unrequested ops go to the CPU even
  // where FAKEDEV has a kernel. (No copies to FAKEDEV happen.)
  loom_output a = Const<float>({2}, {1, 2});
  loom_output s = Op("AddV2", {a, a});
  auto before = CopyStats();
  EXPECT_EQ(Eval(s).values<float>(), (std::vector<float>{2, 4}));
  auto after = CopyStats();
  EXPECT_EQ(after[0], before[0]);
}

// Partitioning: each device runs its own partition; cross-device edges are
// Send/Recv pairs, one per (tensor, destination device, memory type).
TEST_F(Placement, ATensorReadTwiceOnADeviceIsCopiedThereOnce) {
  loom_output a = Const<float>({4}, {1, 2, 3, 4});
  loom_output sq = On("/device:FAKEDEV:0", "Mul", {a, a}, "sq");     // 1 4 9 16
  loom_output s = On("/device:FAKEDEV:0", "AddV2", {sq, a}, "s");    // 2 6 12 20
  loom_output t = On("/device:FAKEDEV:1", "AddV2", {a, s}, "t");     // 3 8 15 24
  auto before = CopyStats();
  EXPECT_EQ(Eval(t).values<float>(), (std::vector<float>{3, 8, 15, 24}));
  auto after = CopyStats();
  // a once to FAKEDEV:0 (read three times there) and once to FAKEDEV:1; s
  // from FAKEDEV:0 to FAKEDEV:1 through the host; t back to the host.
  EXPECT_EQ(after[0] - before[0], 3 * 16);
  EXPECT_EQ(after[1] - before[1], 2 * 16);
}

TEST_F(Placement, AFailureOnOneDeviceEndsTheStepWithItsCause) {
  loom_output x = Const<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  loom_output shape = Placeholder(LOOM_DTYPE_INT32, {1}, "shape");
  loom_output r = On("/device:FAKEDEV:0", "Reshape", {x, shape}, "bad_reshape");
  loom_output y = On("/device:CPU:0", "Neg", {r}, "after");  // waits on a Recv from FAKEDEV
  TensorPtr good = loomtest::MakeTensor<int32_t>({1}, {6});
  TensorPtr bad = loomtest::MakeTensor<int32_t>({1}, {4});
  std::vector<TensorPtr> out;
  for (int i = 0; i < 3; ++i) {
    std::string err = Run({y}, &out, {shape}, {bad.get()});
    EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
    EXPECT_NE(err.find("'bad_reshape'"), std::string::npos) << err;
    EXPECT_EQ(err.find("CANCELLED"), std::string::npos) << err;
    // The session stays usable.
    ASSERT_EQ(Run({y}, &out, {shape}, {good.get()}), "");
    EXPECT_EQ(out[0].values<float>(), (std::vector<float>{-1, -2, -3, -4, -5, -6}));
  }
}

TEST_F(Placement, ControlDependenciesHoldAcrossDevices) {
  // w lives on the CPU; FAKEDEV reads it only after the CPU assigned it.
  loom_op_builder* b = loom_op_builder_new(g_, "VariableV2", "w");
  loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
  int64_t dims[] = {2};
  loom_op_builder_set_attr_shape(b, "shape", dims, 1);
  loom_op* v = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &v));
  loom_output value = Placeholder(LOOM_DTYPE_FLOAT, {2}, "value");
  loom_output assign = Op("Assign", {{v, 0}, value}, "w/Assign");
  b = loom_op_builder_new(g_, "AddV2", "twice");
  loom_op_builder_add_input(b, {v, 0});
  loom_op_builder_add_input(b, {v, 0});
  loom_op_builder_add_control_input(b, assign.op);
  loom_op_builder_set_device(b, "/device:FAKEDEV:0");
  loom_op* twice = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &twice));
  std::vector<TensorPtr> out;
  TensorPtr zero = loomtest::MakeTensor<float>({2}, {0, 0});
  ASSERT_EQ(Run({}, &out, {value}, {zero.get()}, {assign.op}), "");
  for (int i = 1; i <= 20; ++i) {
    TensorPtr val = loomtest::MakeTensor<float>({2}, {float(i), float(-i)});
    ASSERT_EQ(Run({{twice, 0}}, &out, {value}, {val.get()}), "");
    EXPECT_EQ(out[0].values<float>(), (std::vector<float>{2.0f * i, -2.0f * i})) << i;
  }
}

TEST_F(Placement, AFeedReadOnTwoDevicesAndFetched) {
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {3}, "x");
  loom_output on_dev = On("/device:FAKEDEV:0", "Mul", {x, x}, "sq");
  loom_output on_cpu = On("/device:CPU:0", "Neg", {x}, "neg");
  loom_output sum = On("/device:CPU:0", "AddV2", {on_dev, on_cpu}, "sum");
  TensorPtr xv = loomtest::MakeTensor<float>({3}, {1, 2, 3});
  std::vector<TensorPtr> out;
  ASSERT_EQ(Run({sum, x, on_dev}, &out, {x}, {xv.get()}), "");
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{0, 2, 6}));
  EXPECT_EQ(out[1].values<float>(), (std::vector<float>{1, 2, 3}));
  EXPECT_EQ(out[2].values<float>(), (std::vector<float>{1, 4, 9}));
}

TEST_F(Placement, LogDevicePlacementPrintsEachOpsDeviceAndThePartitions) {
  loom_output a = Const<float>({2}, {1, 2}, "a");
  loom_output m = On("/device:FAKEDEV:0", "Mul", {a, a}, "sq");
  loom_output n = On("/device:CPU:0", "Neg", {m}, "neg");
  loom_session_options* o = loom_session_options_new();
  loom_session_options_set_log_device_placement(o, 1);
  LOOM_ASSERT_OK(loom_session_new(g_, o, &sess_));
  loom_session_options_free(o);
  testing::internal::CaptureStderr();
  TensorPtr t = Eval(n);
  std::string log = testing::internal::GetCapturedStderr();
  EXPECT_EQ(t.values<float>(), (std::vector<float>{-1, -4}));
  EXPECT_NE(log.find("sq: (Mul): /job:localhost/replica:0/task:0/device:FAKEDEV:0"), std::string::npos) << log;
  EXPECT_NE(log.find("neg: (Neg): /job:localhost/replica:0/task:0/device:CPU:0"), std::string::npos) << log;
  EXPECT_NE(log.find("on /device:FAKEDEV:0: 3 ops (1 _Send, 1 _Recv)"), std::string::npos) << log;
  // Once per signature: the cached step logs nothing.
  testing::internal::CaptureStderr();
  Eval(n);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST_F(Placement, PartitionedStepsRunConcurrentlyFromSeveralThreads) {
  // One session, four threads, each feeding its own value through a step
  // that crosses CPU -> FAKEDEV:0 -> FAKEDEV:1 -> CPU; every result must be
  // its own feed's (rendezvous keys are per step).
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {2}, "x");
  loom_output a = On("/device:CPU:0", "Neg", {x}, "a");            // -x
  loom_output b = On("/device:FAKEDEV:0", "Mul", {a, a}, "b");     // x^2
  loom_output c = On("/device:FAKEDEV:1", "AddV2", {b, a}, "c");   // x^2 - x
  loom_output d = On("/device:CPU:0", "Sub", {c, x}, "d");         // x^2 - 2x
  Session();
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        float v = static_cast<float>(t * 100 + i);
        TensorPtr in = loomtest::MakeTensor<float>({2}, {v, -v});
        loom_tensor* out = nullptr;
        loom_status* s = loom_session_run(sess_, &x, &in.t, 1, &d, 1, nullptr, 0, &out);
        TensorPtr result(out);
        if (s) {
          loom_status_free(s);
          bad++;
          continue;
        }
        std::vector<float> r = result.values<float>();
        if (r[0] != v * v - 2 * v || r[1] != v * v + 2 * v) bad++;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
