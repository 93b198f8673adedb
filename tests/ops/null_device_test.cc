// The null device plugin (plugins/null): it is listed, never chosen by default
// placement (priority 0 < CPU's 100), its Add kernel fails with UNIMPLEMENTED
// through the whole stack, and tensors round-trip through its memory.
#include <string>

#include "op_test_util.h"

namespace loomtest {
namespace {

class NullDevice : public OpTest {
 protected:
  void SetUp() override {
    OpTest::SetUp();
    bool found = false;
    for (int i = 0; i < loom_device_count(); ++i)
      found |= std::string(loom_device_type(i)) == "NULL";
    if (!found) GTEST_SKIP() << "the null plugin (libloom_null.so) is not loaded";
  }
};

TEST_F(NullDevice, IsListedAfterTheCpu) {
  int cpu = -1, null = -1;
  for (int i = 0; i < loom_device_count(); ++i) {
    if (std::string(loom_device_name(i)) == "/device:CPU:0") cpu = i;
    if (std::string(loom_device_name(i)) == "/device:NULL:0") null = i;
  }
  ASSERT_GE(cpu, 0);
  ASSERT_GE(null, 0);
  EXPECT_LT(cpu, null);  // devices are listed in priority order
}

TEST_F(NullDevice, IsNotChosenWhenNoDeviceIsRequested) {
  loom_output y = B("Add", {Const<float>({2}, {1, 2}), Const<float>({2}, {3, 4})});
  ExpectValues<float>(RunOk({y})[0], {2}, {4, 6});
}

TEST_F(NullDevice, AddRequestedOnNullIsUnimplementedNamingTheOp) {
  loom_output y = B("Add", {Const<float>({2}, {1, 2}), Const<float>({2}, {3, 4})},
                    [](loom_op_builder* b) { loom_op_builder_set_device(b, "/device:NULL:0"); },
                    "null_add");
  ExpectError(RunErr({y}), "UNIMPLEMENTED", {"null device: Add is not implemented", "null_add"});
}

TEST_F(NullDevice, TensorsRoundTripThroughItsMemory) {
  // CPU -> Identity on NULL (copied into NULL memory) -> Neg on CPU (copied back).
  loom_output on_null = B("Identity", {Const<float>({3}, {1, 2, 3})},
                          [](loom_op_builder* b) { loom_op_builder_set_device(b, "/device:NULL:0"); });
  loom_output y = B("Neg", {on_null}, [](loom_op_builder* b) {
    loom_op_builder_set_device(b, "/device:CPU:0");
  });
  ExpectValues<float>(RunOk({y})[0], {3}, {-1, -2, -3});
}

}  // namespace
}  // namespace loomtest
