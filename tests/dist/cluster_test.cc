// The distributed runtime end to end in one process: servers for a ps and a
// worker task over the loopback transport fixture, sessions whose target is a
// server (the session is the master). Values are checked against hand-computed
// results; failures against the status a user would act on.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "test_util.h"

using loomtest::MakeTensor;
using loomtest::Take;
using loomtest::TensorPtr;

namespace {

const char* kCluster = R"({"ps": ["127.0.0.1:5001"], "worker": ["127.0.0.1:5002"]})";

struct ServerPtr {
  loom_server* s = nullptr;
  ~ServerPtr() { loom_server_free(s); }
};

std::string StartServer(const char* cluster, const char* job, int task, ServerPtr* out) {
  loom_server_options* o = loom_server_options_new();
  std::string err = Take(loom_server_options_set_cluster(o, cluster));
  loom_server_options_set_task(o, job, task);
  loom_server_options_set_protocol(o, "loopback");
  loom_server_options_set_threads(o, 2);
  if (err.empty()) err = Take(loom_server_new(o, &out->s));
  loom_server_options_free(o);
  if (err.empty()) err = Take(loom_server_start(out->s));
  return err;
}

class ClusterTest : public loomtest::GraphTest {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(Take(loom_plugin_load(LOOM_LOOPBACK_TRANSPORT)), ""); }
  void SetUp() override {
    GraphTest::SetUp();
    ASSERT_EQ(StartServer(kCluster, "ps", 0, &ps_), "");
    ASSERT_EQ(StartServer(kCluster, "worker", 0, &worker_), "");
  }
  void TearDown() override {
    GraphTest::TearDown();  // sessions go before the servers they use
    sess_ = nullptr;
  }
  loom_session* Remote(loom_graph* g) {
    loom_session_options* o = loom_session_options_new();
    loom_session_options_set_target(o, "loopback://127.0.0.1:5002");
    loom_session* s = nullptr;
    EXPECT_EQ(Take(loom_session_new(g, o, &s)), "");
    loom_session_options_free(o);
    return s;
  }
  loom_output Placed(loom_graph* g, const char* type, std::vector<loom_output> in, const char* name,
                     const char* device) {
    loom_op_builder* b = loom_op_builder_new(g, type, name);
    for (auto& i : in) loom_op_builder_add_input(b, i);
    if (device) loom_op_builder_set_device(b, device);
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  }
  loom_output Variable(loom_graph* g, const char* name, std::vector<int64_t> shape, const char* device) {
    loom_op_builder* b = loom_op_builder_new(g, "VariableV2", name);
    loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
    loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
    loom_op_builder_set_device(b, device);
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  }
  loom_output ConstIn(loom_graph* g, const std::vector<int64_t>& dims, const std::vector<float>& v,
                      const char* name, const char* device) {
    TensorPtr t = MakeTensor<float>(dims, v);
    loom_op_builder* b = loom_op_builder_new(g, "Const", name);
    loom_op_builder_set_attr_tensor(b, "value", t.get());
    loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
    if (device) loom_op_builder_set_device(b, device);
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  }
  std::string RunOn(loom_session* s, std::vector<loom_output> fetches, std::vector<TensorPtr>* out,
                    std::vector<loom_output> feeds = {}, std::vector<loom_tensor*> vals = {},
                    std::vector<loom_op*> targets = {}) {
    std::vector<loom_tensor*> raw(fetches.size(), nullptr);
    std::string err = Take(loom_session_run(s, feeds.data(), vals.data(), static_cast<int>(feeds.size()),
                                            fetches.data(), static_cast<int>(fetches.size()), targets.data(),
                                            static_cast<int>(targets.size()), raw.data()));
    if (out) {
      out->clear();
      for (auto* t : raw) out->emplace_back(t);
    }
    return err;
  }
  ServerPtr ps_, worker_;
};

TEST_F(ClusterTest, ServerTargetNamesItsBoundAddress) {
  EXPECT_EQ(std::string(loom_server_target(ps_.s)), "loopback://127.0.0.1:5001");
}

// w lives on the ps; the matmul and the add run on the worker; x is fed by
// the client. z = x.w + b, computed by hand.
TEST_F(ClusterTest, ModelSplitOverPsAndWorkerComputesTheLocalResult) {
  loom_output w = Variable(g_, "w", {2, 2}, "/job:ps/task:0");
  loom_output w0 = ConstIn(g_, {2, 2}, {1, 2, 3, 4}, "w0", "/job:ps/task:0");
  loom_output init = Placed(g_, "Assign", {w, w0}, "init", nullptr);
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 2}, "x");
  loom_output y = Placed(g_, "MatMul", {x, w}, "y", "/job:worker/task:0");
  loom_output b = ConstIn(g_, {2}, {10, 20}, "b", nullptr);
  loom_output z = Placed(g_, "AddV2", {y, b}, "z", nullptr);
  sess_ = Remote(g_);
  std::vector<TensorPtr> out;
  ASSERT_EQ(RunOn(sess_, {init}, &out), "");
  TensorPtr xv = MakeTensor<float>({3, 2}, {1, 0, 0, 1, 2, 3});
  ASSERT_EQ(RunOn(sess_, {z, y}, &out, {x}, {xv.get()}), "");
  EXPECT_EQ(out[0].shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{11, 22, 13, 24, 21, 36}));
  EXPECT_EQ(out[1].values<float>(), (std::vector<float>{1, 2, 3, 4, 11, 16}));
  // Again with other values: the registered partitions are reused.
  TensorPtr xv2 = MakeTensor<float>({1, 2}, {-1, 1});
  ASSERT_EQ(RunOn(sess_, {z}, &out, {x}, {xv2.get()}), "");
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{12, 22}));
}

// Between-graph replication: two clients with graphs of their own name the
// same variable on the ps and update it; each sees the other's updates.
TEST_F(ClusterTest, VariablesOnAServerAreSharedByEveryClient) {
  loom_graph* g2 = loom_graph_new();
  auto build = [&](loom_graph* g, loom_output* v, loom_output* init, loom_output* add) {
    *v = Variable(g, "counter", {}, "/job:ps/task:0");
    loom_output zero = ConstIn(g, {}, {0}, "zero", "/job:ps/task:0");
    loom_output one = ConstIn(g, {}, {1}, "one", "/job:worker/task:0");
    *init = Placed(g, "Assign", {*v, zero}, "init", nullptr);
    *add = Placed(g, "AssignAdd", {*v, one}, "add", nullptr);
  };
  loom_output v1, init1, add1, v2, init2, add2;
  build(g_, &v1, &init1, &add1);
  build(g2, &v2, &init2, &add2);
  sess_ = Remote(g_);
  loom_session* s2 = Remote(g2);
  std::vector<TensorPtr> out;
  ASSERT_EQ(RunOn(sess_, {init1}, &out), "");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(RunOn(sess_, {add1}, &out), "");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(RunOn(s2, {add2}, &out), "");
  ASSERT_EQ(RunOn(s2, {v2}, &out), "");
  EXPECT_EQ(out[0].values<float>(), std::vector<float>{5});
  ASSERT_EQ(RunOn(sess_, {v1}, &out), "");
  EXPECT_EQ(out[0].values<float>(), std::vector<float>{5});
  loom_session_free(s2);
  loom_graph_free(g2);
}

TEST_F(ClusterTest, AnErrorOnATaskNamesTheOpAndTheSessionStaysUsable) {
  loom_output v = Variable(g_, "never_set", {2}, "/job:ps/task:0");
  loom_output twice = Placed(g_, "Mul", {v, v}, "twice", "/job:worker/task:0");
  sess_ = Remote(g_);
  std::vector<TensorPtr> out;
  std::string err = RunOn(sess_, {twice}, &out);
  EXPECT_NE(err.find("FAILED_PRECONDITION"), std::string::npos) << err;
  EXPECT_NE(err.find("never_set"), std::string::npos) << err;
  loom_output init = Placed(g_, "Assign", {v, ConstIn(g_, {2}, {3, -2}, "c", "/job:ps/task:0")}, "init", nullptr);
  ASSERT_EQ(RunOn(sess_, {init}, &out), "");
  ASSERT_EQ(RunOn(sess_, {twice}, &out), "");
  EXPECT_EQ(out[0].values<float>(), (std::vector<float>{9, 4}));
}

TEST_F(ClusterTest, FeedsAndFetchesOfEveryDtypeRoundTripBitIdentical) {
  std::vector<loom_output> feeds, fetches;
  std::vector<TensorPtr> values;
  auto add = [&](loom_dtype dt, TensorPtr t, std::vector<int64_t> shape) {
    loom_output p = Placeholder(dt, shape);
    feeds.push_back(p);
    fetches.push_back(Placed(g_, "Identity", {p}, nullptr, "/job:ps/task:0"));
    values.push_back(std::move(t));
  };
  add(LOOM_DTYPE_FLOAT, MakeTensor<float>({2, 3}, {1.5f, -0.0f, 3e38f, 1e-38f, 7, 8}), {2, 3});
  add(LOOM_DTYPE_DOUBLE, MakeTensor<double>({}, {3.141592653589793}), {});
  add(LOOM_DTYPE_INT32, MakeTensor<int32_t>({4}, {INT32_MIN, -1, 0, INT32_MAX}), {4});
  add(LOOM_DTYPE_INT64, MakeTensor<int64_t>({1}, {INT64_MIN}), {1});
  add(LOOM_DTYPE_UINT8, MakeTensor<uint8_t>({3}, {0, 128, 255}), {3});
  add(LOOM_DTYPE_BOOL, MakeTensor<bool>({2}, {true, false}), {2});
  add(LOOM_DTYPE_FLOAT, MakeTensor<float>({0, 5}, {}), {0, 5});
  sess_ = Remote(g_);
  std::vector<loom_tensor*> raw;
  for (auto& v : values) raw.push_back(v.get());
  std::vector<TensorPtr> out;
  ASSERT_EQ(RunOn(sess_, fetches, &out, feeds, raw), "");
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(loom_tensor_dtype(out[i].get()), loom_tensor_dtype(values[i].get())) << i;
    ASSERT_EQ(out[i].shape(), values[i].shape()) << i;
    ASSERT_EQ(loom_tensor_byte_size(out[i].get()), loom_tensor_byte_size(values[i].get())) << i;
    EXPECT_EQ(std::memcmp(loom_tensor_data(out[i].get()), loom_tensor_data(values[i].get()),
                          loom_tensor_byte_size(values[i].get())),
              0)
        << i;
  }
}

TEST_F(ClusterTest, AnOpOnATaskTheClusterLacksIsRefusedByName) {
  loom_output c = ConstIn(g_, {}, {1}, "c", "/job:ps/task:3");
  sess_ = Remote(g_);
  std::vector<TensorPtr> out;
  std::string err = RunOn(sess_, {c}, &out);
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("/job:ps/task:3"), std::string::npos) << err;
}

// A task that goes away fails the step with UNAVAILABLE naming it; once it is
// back (with fresh, uninitialized variables) the same session works again.
TEST_F(ClusterTest, ALostTaskIsUnavailableByNameAndTheSessionRecovers) {
  loom_output w = Variable(g_, "w", {}, "/job:ps/task:0");
  loom_output init = Placed(g_, "Assign", {w, ConstIn(g_, {}, {2}, "two", "/job:ps/task:0")}, "init", nullptr);
  loom_output y = Placed(g_, "Mul", {w, ConstIn(g_, {}, {5}, "five", nullptr)}, "y", "/job:worker/task:0");
  sess_ = Remote(g_);
  std::vector<TensorPtr> out;
  ASSERT_EQ(RunOn(sess_, {init}, &out), "");
  ASSERT_EQ(RunOn(sess_, {y}, &out), "");
  EXPECT_EQ(out[0].values<float>(), std::vector<float>{10});
  loom_server_free(ps_.s);
  ps_.s = nullptr;
  std::string err = RunOn(sess_, {y}, &out);
  EXPECT_NE(err.find("UNAVAILABLE"), std::string::npos) << err;
  EXPECT_NE(err.find("/job:ps/replica:0/task:0"), std::string::npos) << err;
  ASSERT_EQ(StartServer(kCluster, "ps", 0, &ps_), "");
  err = RunOn(sess_, {y}, &out);
  EXPECT_NE(err.find("FAILED_PRECONDITION"), std::string::npos) << err;
  EXPECT_NE(err.find("uninitialized value w"), std::string::npos) << err;
  ASSERT_EQ(RunOn(sess_, {init}, &out), "");
  ASSERT_EQ(RunOn(sess_, {y}, &out), "");
  EXPECT_EQ(out[0].values<float>(), std::vector<float>{10});
}

TEST(ServerTest, ANonLoopbackAddressWithoutKeysIsRefused) {
  ASSERT_EQ(Take(loom_plugin_load(LOOM_LOOPBACK_TRANSPORT)), "");
  loom_server_options* o = loom_server_options_new();
  ASSERT_EQ(Take(loom_server_options_set_cluster(o, R"({"worker": ["192.0.2.7:2222"]})")), "");
  loom_server_options_set_task(o, "worker", 0);
  loom_server_options_set_protocol(o, "loopback");
  loom_server* s = nullptr;
  std::string err = Take(loom_server_new(o, &s));
  EXPECT_NE(err.find("FAILED_PRECONDITION"), std::string::npos) << err;
  EXPECT_NE(err.find("--insecure"), std::string::npos) << err;
  EXPECT_EQ(s, nullptr);
  loom_server_options_set_insecure(o, 1);
  EXPECT_EQ(Take(loom_server_new(o, &s)), "");  // allowed; never started here
  loom_server_free(s);
  loom_server_options_free(o);
}

TEST(ServerTest, ATaskMissingFromTheClusterIsRefusedByName) {
  loom_server_options* o = loom_server_options_new();
  ASSERT_EQ(Take(loom_server_options_set_cluster(o, kCluster)), "");
  loom_server_options_set_task(o, "worker", 4);
  loom_server* s = nullptr;
  std::string err = Take(loom_server_new(o, &s));
  EXPECT_NE(err.find("NOT_FOUND"), std::string::npos) << err;
  EXPECT_NE(err.find("/job:worker/replica:0/task:4"), std::string::npos) << err;
  loom_server_options_free(o);
}

TEST(ServerTest, TfConfigGivesClusterAndTask) {
  loom_server_options* o = loom_server_options_new();
  EXPECT_EQ(Take(loom_server_options_set_tf_config(
                o, R"({"cluster": {"ps": ["127.0.0.1:1"], "worker": ["127.0.0.1:2", "127.0.0.1:3"]},
                      "task": {"type": "worker", "index": 1}})")),
            "");
  std::string err = Take(loom_server_options_set_tf_config(o, R"({"cluster": {"ps": ["h:1"]}, "task": {"type": "worker"}})"));
  EXPECT_NE(err.find("/job:worker/replica:0/task:0"), std::string::npos) << err;
  err = Take(loom_server_options_set_cluster(o, R"({"ps": ["h:1"], )"));
  EXPECT_NE(err.find("INVALID_ARGUMENT"), std::string::npos) << err;
  EXPECT_NE(err.find("offset"), std::string::npos) << err;
  loom_server_options_free(o);
}

}  // namespace
