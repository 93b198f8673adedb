// A plugin built against the frozen v1.0 plugin headers loads in this runtime,
// runs its op, and trains through its registered gradient.
#include "test_util.h"

using loomtest::GraphTest;
using loomtest::Take;

namespace {

class AbiV10 : public GraphTest {
 protected:
  void SetUp() override {
    GraphTest::SetUp();
    LOOM_ASSERT_OK(loom_plugin_load(LOOM_FIXTURE_PLUGIN_DIR "/libloom_fixture_abi_v1_0.so"));
  }
};

TEST_F(AbiV10, FrozenHeaderPluginRunsItsOp) {
  loom_output x = Const<float>({3}, {1, -2, 0.5f});
  loom_op_builder* b = loom_op_builder_new(g_, "AbiV10Scale", "scale");
  loom_op_builder_add_input(b, x);
  loom_op_builder_set_attr_float(b, "factor", 3.0f);
  loom_op* op = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &op));
  EXPECT_EQ(Eval({op, 0}).values<float>(), (std::vector<float>{3, -6, 1.5f}));
}

TEST_F(AbiV10, ItsGradientComesFromThePlugin) {
  loom_output x = Const<float>({2}, {1, 2});
  loom_op_builder* b = loom_op_builder_new(g_, "AbiV10Scale", "scale");
  loom_op_builder_add_input(b, x);  // factor defaults to 2
  loom_op* op = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &op));
  loom_output y{op, 0}, dx{nullptr, 0};
  LOOM_ASSERT_OK(loom_graph_add_gradients(g_, nullptr, &y, 1, &x, 1, nullptr, &dx));
  ASSERT_NE(dx.op, nullptr);
  EXPECT_EQ(Eval(dx).values<float>(), (std::vector<float>{2, 2}));
}

}  // namespace
