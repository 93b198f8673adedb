// The plugin loader against purpose-built bad plugins (tests/plugins/): each
// is refused with a message that says why, and the process keeps working.
#include <cstdlib>

#include "test_util.h"

using loomtest::GraphTest;
using loomtest::MakeTensor;
using loomtest::Take;
using loomtest::TensorPtr;

namespace {

std::string PluginPath(const std::string& name) {
  return std::string(LOOM_FIXTURE_PLUGIN_DIR) + "/libloom_fixture_" + name + ".so";
}

loom_plugin_record Record(const std::string& path_suffix) {
  loom_plugin_record r{};
  for (int i = 0; i < loom_plugin_count(); ++i) {
    loom_plugin_record x{};
    x.struct_size = sizeof(x);
    EXPECT_EQ(Take(loom_plugin_get(i, &x)), "");
    std::string p = x.path;
    if (p.size() >= path_suffix.size() && p.compare(p.size() - path_suffix.size(), path_suffix.size(), path_suffix) == 0)
      r = x;
  }
  return r;
}

TEST(PluginLoader, WrongMajorIsRefusedWithBothVersionsAndThePath) {
  std::string path = PluginPath("bad_major");
  std::string err = Take(loom_plugin_load(path.c_str()));
  EXPECT_NE(err.find("FAILED_PRECONDITION"), std::string::npos) << err;
  EXPECT_NE(err.find("99.3"), std::string::npos) << err;
  EXPECT_NE(err.find("ABI 1.0"), std::string::npos) << err;
  EXPECT_NE(err.find("libloom_fixture_bad_major.so"), std::string::npos) << err;
  loom_plugin_record r = Record("libloom_fixture_bad_major.so");
  EXPECT_EQ(r.loaded, 0);
  EXPECT_EQ(r.abi_major, 99);
}

TEST(PluginLoader, MissingRequiredFunctionIsRefusedByName) {
  std::string err = Take(loom_plugin_load(PluginPath("missing_compute").c_str()));
  EXPECT_NE(err.find("lacks required function 'compute'"), std::string::npos) << err;
  EXPECT_NE(err.find("libloom_fixture_missing_compute.so"), std::string::npos) << err;
}

TEST(PluginLoader, MissingDeallocateIsRefusedByName) {
  std::string err = Take(loom_plugin_load(PluginPath("bad_registration").c_str()));
  EXPECT_NE(err.find("lacks required function 'deallocate'"), std::string::npos) << err;
  // Nothing it registered survives.
  for (int i = 0; i < loom_device_count(); ++i) EXPECT_STRNE(loom_device_type(i), "BROKEN");
}

TEST(PluginLoader, FailingInitIsReportedAndOthersStillLoad) {
  std::string err = Take(loom_plugin_load(PluginPath("init_fails").c_str()));
  EXPECT_NE(err.find("UNAVAILABLE"), std::string::npos) << err;
  EXPECT_NE(err.find("no accelerator found"), std::string::npos) << err;
  EXPECT_EQ(Take(loom_plugin_load(PluginPath("old_minor").c_str())), "");
  loom_plugin_record r = Record("libloom_fixture_init_fails.so");
  EXPECT_EQ(r.loaded, 0);
  EXPECT_NE(std::string(r.error).find("no accelerator"), std::string::npos);
}

TEST(PluginLoader, LibraryWithoutEntryPointIsRefused) {
  std::string err = Take(loom_plugin_load(PluginPath("no_init").c_str()));
  EXPECT_NE(err.find("exports neither loom_plugin_init"), std::string::npos) << err;
}

// tests/transport/bad_major_transport.c reports transport ABI 2.0.
TEST(PluginLoader, TransportPluginOfAnotherMajorIsRefusedNamingBothVersions) {
  const std::string path = PluginPath("bad_major_transport");
  std::string err = Take(loom_plugin_load(path.c_str()));
  EXPECT_NE(err.find("FAILED_PRECONDITION"), std::string::npos) << err;
  EXPECT_NE(err.find("transport ABI 2."), std::string::npos) << err;
  EXPECT_NE(err.find("provides ABI 1."), std::string::npos) << err;
  EXPECT_NE(err.find(path), std::string::npos) << err;
}

TEST(PluginLoader, MissingFileIsNotFoundNamingThePath) {
  std::string err = Take(loom_plugin_load("/nonexistent/libnothing.so"));
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
  EXPECT_NE(err.find("/nonexistent/libnothing.so"), std::string::npos) << err;
}

TEST(PluginLoader, SecondPluginClaimingADeviceTypeIsRefused) {
  bool have_cpu = false;
  for (int i = 0; i < loom_device_count(); ++i) have_cpu = have_cpu || std::string(loom_device_type(i)) == "CPU";
  if (!have_cpu) GTEST_SKIP() << "the CPU plugin is not loaded";
  std::string err = Take(loom_plugin_load(PluginPath("dup_cpu_device").c_str()));
  EXPECT_NE(err.find("ALREADY_EXISTS"), std::string::npos) << err;
  EXPECT_NE(err.find("device type CPU"), std::string::npos) << err;
}

class OlderMinor : public GraphTest {};

// A plugin whose structs are from an older, smaller version loads, and its op
// runs on its device; the optional functions it lacks are never called.
TEST_F(OlderMinor, PluginBuiltForOlderStructsLoadsAndRuns) {
  LOOM_ASSERT_OK(loom_plugin_load(PluginPath("old_minor").c_str()));
  LOOM_ASSERT_OK(loom_plugin_load(PluginPath("old_minor").c_str()));  // again: a no-op
  loom_output x = Const<float>({3}, {1, 2, -4});
  loom_op_builder* b = loom_op_builder_new(g_, "OldTimesTwo", "twice");
  loom_op_builder_add_input(b, x);
  loom_op_builder_set_device(b, "/device:OLDDEV:0");
  loom_op* op = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &op));
  int64_t dims[2];
  int rank = -2;
  LOOM_ASSERT_OK(loom_graph_output_shape(g_, {op, 0}, dims, 2, &rank));
  EXPECT_EQ(rank, 1);
  EXPECT_EQ(dims[0], 3);
  auto t = Eval({op, 0});
  EXPECT_EQ(t.values<float>(), (std::vector<float>{2, 4, -8}));
  loom_plugin_record r = Record("libloom_fixture_old_minor.so");
  EXPECT_EQ(r.loaded, 1);
  EXPECT_STREQ(r.name, "old_minor");
}

// A plugin built for a newer runtime may register kernels for ops this one
// lacks: those kernels are refused one by one (NOT_FOUND to the plugin, a
// warning in the log), the rest of the plugin loads and runs.
TEST_F(OlderMinor, AKernelForAnUnknownOpIsSkippedNotTheWholePlugin) {
  LOOM_ASSERT_OK(loom_plugin_load(PluginPath("future_op").c_str()));
  loom_output x = Const<float>({2}, {1, -3});
  loom_op_builder* b = loom_op_builder_new(g_, "Neg", "neg");
  loom_op_builder_add_input(b, x);
  loom_op_builder_set_device(b, "/device:FUTUREDEV:0");
  loom_op* op = nullptr;
  LOOM_ASSERT_OK(loom_op_builder_finish(b, &op));
  EXPECT_EQ(Eval({op, 0}).values<float>(), (std::vector<float>{-1, 3}));
  EXPECT_EQ(Record("libloom_fixture_future_op.so").loaded, 1);
}

TEST(PluginLoader, EmptyPathIsInvalidArgument) {
  EXPECT_NE(Take(loom_plugin_load("")).find("INVALID_ARGUMENT"), std::string::npos);
  EXPECT_NE(Take(loom_plugin_load(nullptr)).find("INVALID_ARGUMENT"), std::string::npos);
}

}  // namespace
