// The OpenCL plugin as a device: discovery and priority, the "no platform"
// path, the on-disk program cache (including a corrupted entry), and
// concurrent sessions sharing one device queue. Op values are covered by the
// conformance suite; these are the device-level behaviours around them.
//
// Several tests run the `loom` tool or the conformance binary in a child
// process with a changed environment (ICD vendors, cache directory, plugin
// config), since discovery and the program cache are once-per-process.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "graph_util.h"
#include "loom/loom.h"

namespace {

using loomtest::Take;

bool HasOpenCl() {
  for (int i = 0; i < loom_device_count(); ++i)
    if (std::strcmp(loom_device_type(i), "OPENCL") == 0) return true;
  return false;
}

#define REQUIRE_OPENCL() \
  if (!HasOpenCl()) GTEST_SKIP() << "no OPENCL device (is pocl-opencl-icd installed?)"

// Runs a shell command; returns its exit status and stdout+stderr.
int Shell(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  output->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Env() { return std::string("LOOM_PLUGIN_PATH=") + LOOM_PLUGIN_DIR + " "; }

TEST(OpenClDevice, ListedAfterTheCpuAtPriority50) {
  REQUIRE_OPENCL();
  int cpu = -1, ocl = -1;
  for (int i = 0; i < loom_device_count(); ++i) {
    if (std::strcmp(loom_device_name(i), "/device:CPU:0") == 0) cpu = i;
    if (std::strcmp(loom_device_name(i), "/device:OPENCL:0") == 0) ocl = i;
  }
  ASSERT_GE(cpu, 0);
  ASSERT_GE(ocl, 0);
  EXPECT_LT(cpu, ocl) << "devices are listed in priority order: CPU (100) before OPENCL (50)";
}

TEST(OpenClDevice, ConfigPriorityCanPutItFirst) {
  REQUIRE_OPENCL();
  std::string out;
  ASSERT_EQ(Shell(Env() + "LOOM_PLUGIN_CONFIG_OPENCL_PRIORITY=200 " LOOM_TOOL " devices", &out), 0) << out;
  EXPECT_EQ(out.rfind("/device:OPENCL:0", 0), 0u) << out;
}

TEST(OpenClDevice, WithoutAPlatformTheLoaderSkipsItWithTheReason) {
  std::string out;
  ASSERT_EQ(Shell(Env() + "OCL_ICD_VENDORS=/nonexistent-loom-test " LOOM_TOOL " plugins", &out), 0) << out;
  EXPECT_NE(out.find("refused"), std::string::npos) << out;
  EXPECT_NE(out.find("no OpenCL platform found"), std::string::npos) << out;
  EXPECT_NE(out.find("pocl-opencl-icd"), std::string::npos) << out;
  ASSERT_EQ(Shell(Env() + "OCL_ICD_VENDORS=/nonexistent-loom-test " LOOM_TOOL " devices", &out), 0) << out;
  EXPECT_NE(out.find("/device:CPU:0"), std::string::npos) << out;
  EXPECT_EQ(out.find("/device:OPENCL"), std::string::npos) << out;
}

// The program binary is written on first use, reused, and a damaged file is
// ignored (compiled again from source and rewritten), never fatal.
TEST(OpenClDevice, ProgramCacheIsWrittenAndADamagedEntryIsRebuilt) {
  REQUIRE_OPENCL();
  char tmpl[] = "/tmp/loom-opencl-cache-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  const std::string run = Env() + "LOOM_OPENCL_CACHE_DIR=" + dir + " " LOOM_CONFORMANCE_TEST +
                          " --gtest_filter='*OPENCL_MatMul_small:*OPENCL_Softmax_mlp_logits'";
  std::string out;
  ASSERT_EQ(Shell(run, &out), 0) << out;
  std::string listing;
  ASSERT_EQ(Shell("ls " + dir, &listing), 0);
  ASSERT_NE(listing.find(".bin"), std::string::npos) << "no cache file in " << dir << ": " << listing;
  const std::string file = dir + "/" + listing.substr(0, listing.find('\n'));
  struct stat before;
  ASSERT_EQ(stat(file.c_str(), &before), 0);
  EXPECT_GT(before.st_size, 100);
  {  // keep the header, damage the binary
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(300);
    const std::string junk(200, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  ASSERT_EQ(Shell(run, &out), 0) << "a damaged cache entry must not fail the run:\n" << out;
  {  // truncated to its header
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    f << "LOOMCLBIN2\n";
  }
  ASSERT_EQ(Shell(run, &out), 0) << out;
  struct stat after;
  ASSERT_EQ(stat(file.c_str(), &after), 0);
  EXPECT_GT(after.st_size, 100) << "the entry is rewritten after a rebuild";
  Shell("rm -rf " + dir, &out);
}

// A failed cl call is a status naming the call, the OpenCL error and the op,
// and the device stays usable afterwards.
TEST(OpenClDevice, AllocationFailureNamesTheCallAndTheOp) {
  REQUIRE_OPENCL();
  loom_graph* g = loom_graph_new();
  auto konst = [&](loom_dtype dt, std::vector<int64_t> dims, const void* data) {
    loom_tensor* t = nullptr;
    EXPECT_EQ(Take(loom_tensor_new(dt, dims.data(), static_cast<int>(dims.size()), &t)), "");
    std::memcpy(loom_tensor_data(t), data, loom_tensor_byte_size(t));
    loom_op_builder* b = loom_op_builder_new(g, "Const", nullptr);
    loom_op_builder_set_attr_tensor(b, "value", t);
    loom_op_builder_set_attr_type(b, "dtype", dt);
    loom_tensor_free(t);
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  };
  auto fill = [&](int64_t n, const char* name) {
    const float one = 1.0f;
    loom_op_builder* b = loom_op_builder_new(g, "Fill", name);
    loom_op_builder_add_input(b, konst(LOOM_DTYPE_INT64, {1}, &n));
    loom_op_builder_add_input(b, konst(LOOM_DTYPE_FLOAT, {}, &one));
    loom_op_builder_set_device(b, "/device:OPENCL:0");
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    loom_op_builder* s = loom_op_builder_new(g, "Sum", nullptr);
    const int32_t axis = 0;
    loom_op_builder_add_input(s, {op, 0});
    loom_op_builder_add_input(s, konst(LOOM_DTYPE_INT32, {1}, &axis));
    loom_op_builder_set_device(s, "/device:OPENCL:0");
    loom_op* sum = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(s, &sum)), "");
    return loom_output{sum, 0};
  };
  loom_output huge = fill(int64_t{1} << 40, "huge");  // 4 TiB
  loom_output small = fill(1000, "small");
  loom_session* sess = nullptr;
  ASSERT_EQ(Take(loom_session_new(g, nullptr, &sess)), "");
  loom_tensor* out = nullptr;
  std::string err = Take(loom_session_run(sess, nullptr, nullptr, 0, &huge, 1, nullptr, 0, &out));
  EXPECT_EQ(err.rfind("RESOURCE_EXHAUSTED", 0), 0u) << err;
  EXPECT_NE(err.find("clCreateBuffer"), std::string::npos) << err;
  EXPECT_NE(err.find("CL_"), std::string::npos) << err;
  EXPECT_NE(err.find("'huge'"), std::string::npos) << err;
  EXPECT_NE(err.find("OPENCL:0"), std::string::npos) << err;
  ASSERT_EQ(Take(loom_session_run(sess, nullptr, nullptr, 0, &small, 1, nullptr, 0, &out)), "");
  EXPECT_EQ(*static_cast<const float*>(loom_tensor_data(out)), 1000.0f);
  loom_tensor_free(out);
  loom_session_free(sess);
  loom_graph_free(g);
}

// Four threads run their own sessions on the one OPENCL:0 queue at once;
// each must get exactly what it gets alone.
TEST(OpenClDevice, ConcurrentSessionsGetTheirOwnResults) {
  REQUIRE_OPENCL();
  auto build = [](loom_graph* g, float scale, loom_output* out) {
    const int64_t n = 96;
    loom_tensor* t = nullptr;
    int64_t dims[2] = {n, n};
    EXPECT_EQ(Take(loom_tensor_new(LOOM_DTYPE_FLOAT, dims, 2, &t)), "");
    float* p = static_cast<float*>(loom_tensor_data(t));
    for (int64_t i = 0; i < n * n; ++i) p[i] = scale * static_cast<float>((i * 37) % 17 - 8) / 8.0f;
    loom_op_builder* b = loom_op_builder_new(g, "Const", nullptr);
    loom_op_builder_set_attr_tensor(b, "value", t);
    loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
    loom_tensor_free(t);
    loom_op* c = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &c)), "");
    loom_output x{c, 0};
    for (int layer = 0; layer < 4; ++layer) {
      b = loom_op_builder_new(g, "MatMul", nullptr);
      loom_op_builder_add_input(b, x);
      loom_op_builder_add_input(b, {c, 0});
      loom_op_builder_set_device(b, "/device:OPENCL:0");
      loom_op* m = nullptr;
      EXPECT_EQ(Take(loom_op_builder_finish(b, &m)), "");
      b = loom_op_builder_new(g, "Softmax", nullptr);
      loom_op_builder_add_input(b, {m, 0});
      loom_op_builder_set_device(b, "/device:OPENCL:0");
      loom_op* s = nullptr;
      EXPECT_EQ(Take(loom_op_builder_finish(b, &s)), "");
      x = {s, 0};
    }
    *out = x;
  };
  const int kThreads = 4, kRuns = 25;
  std::vector<std::vector<float>> alone(kThreads);
  std::vector<loom_graph*> graphs(kThreads);
  std::vector<loom_session*> sessions(kThreads);
  std::vector<loom_output> outs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    graphs[t] = loom_graph_new();
    build(graphs[t], 1.0f + t, &outs[t]);
    ASSERT_EQ(Take(loom_session_new(graphs[t], nullptr, &sessions[t])), "");
    loom_tensor* r = nullptr;
    ASSERT_EQ(Take(loom_session_run(sessions[t], nullptr, nullptr, 0, &outs[t], 1, nullptr, 0, &r)), "");
    const float* p = static_cast<const float*>(loom_tensor_data(r));
    alone[t].assign(p, p + loom_tensor_num_elements(r));
    loom_tensor_free(r);
  }
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRuns; ++i) {
        loom_tensor* r = nullptr;
        std::string e = Take(loom_session_run(sessions[t], nullptr, nullptr, 0, &outs[t], 1, nullptr, 0, &r));
        if (!e.empty()) {
          errors[t] = e;
          return;
        }
        const float* p = static_cast<const float*>(loom_tensor_data(r));
        if (std::memcmp(p, alone[t].data(), alone[t].size() * sizeof(float)) != 0) ++mismatches[t];
        loom_tensor_free(r);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    EXPECT_EQ(mismatches[t], 0) << "thread " << t << " got a different result than alone";
    loom_session_free(sessions[t]);
    loom_graph_free(graphs[t]);
  }
}

}  // namespace
