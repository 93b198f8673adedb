// Checkpoints and model directories through loom.h: bit-identical round trips,
// named subsets, every damaged byte detected, and a save killed mid-write.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using loomtest::GraphTest;
using loomtest::MakeTensor;
using loomtest::Take;
using loomtest::TensorPtr;

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool Contains(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

std::string TempDir() {
  const char* t = std::getenv("TMPDIR");
  std::string base = std::string(t && *t ? t : "/tmp") + "/loom_ckpt_XXXXXX";
  std::vector<char> buf(base.begin(), base.end());
  buf.push_back('\0');
  char* d = mkdtemp(buf.data());
  EXPECT_NE(d, nullptr);
  return d ? d : "/tmp";
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
}

// A graph with variables, their initializers and a computation over them.
class CheckpointTest : public GraphTest {
 protected:
  void SetUp() override {
    GraphTest::SetUp();
    dir_ = TempDir();
  }
  void TearDown() override {
    GraphTest::TearDown();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }

  loom_output Variable(const char* name, loom_dtype dt, const std::vector<int64_t>& shape) {
    loom_op_builder* b = loom_op_builder_new(g_, "VariableV2", name);
    loom_op_builder_set_attr_type(b, "dtype", dt);
    loom_op_builder_set_attr_shape(b, "shape", shape.data(), static_cast<int>(shape.size()));
    loom_op* op = nullptr;
    EXPECT_EQ(Take(loom_op_builder_finish(b, &op)), "");
    return loom_output{op, 0};
  }
  loom_op* Assign(loom_output var, loom_output value, const char* name = nullptr) {
    loom_op* op = nullptr;
    EXPECT_EQ(TryOp("Assign", {var, value}, &op, name), "");
    return op;
  }

  // w: float [3,4], b: int64 [5], s: double scalar; init assigns known values.
  void BuildModel() {
    w_ = Variable("w", LOOM_DTYPE_FLOAT, {3, 4});
    b_ = Variable("b", LOOM_DTYPE_INT64, {5});
    s_ = Variable("s", LOOM_DTYPE_DOUBLE, {});
    std::vector<float> wv(12);
    for (int i = 0; i < 12; ++i) wv[i] = 0.1f * static_cast<float>(i) - 0.37f;
    init_.push_back(Assign(w_, Const<float>({3, 4}, wv)));
    init_.push_back(Assign(b_, Const<int64_t>({5}, {1, -2, 3000000000LL, 4, 5})));
    init_.push_back(Assign(s_, Scalar<double>(3.141592653589793)));
    other_.push_back(Assign(w_, Const<float>({3, 4}, std::vector<float>(12, 9.0f))));
    other_.push_back(Assign(b_, Const<int64_t>({5}, std::vector<int64_t>(5, 7))));
    other_.push_back(Assign(s_, Scalar<double>(-1.0)));
  }
  void RunTargets(const std::vector<loom_op*>& targets) {
    ASSERT_EQ(Run({}, nullptr, {}, {}, targets), "");
  }
  // The variables' bytes, concatenated.
  std::string Snapshot() {
    std::vector<TensorPtr> out;
    EXPECT_EQ(Run({w_, b_, s_}, &out), "");
    std::string bytes;
    for (auto& t : out)
      bytes.append(static_cast<const char*>(loom_tensor_data(t.get())), loom_tensor_byte_size(t.get()));
    return bytes;
  }
  std::string Save(const std::string& path, std::vector<const char*> names = {}) {
    return Take(loom_session_save(Session(), path.c_str(), names.empty() ? nullptr : names.data(),
                                  static_cast<int>(names.size())));
  }
  std::string Restore(const std::string& path, std::vector<const char*> names = {}) {
    return Take(loom_session_restore(Session(), path.c_str(), names.empty() ? nullptr : names.data(),
                                     static_cast<int>(names.size())));
  }

  std::string dir_;
  loom_output w_{}, b_{}, s_{};
  std::vector<loom_op*> init_, other_;
};

TEST_F(CheckpointTest, SaveThenRestoreIsBitIdentical) {
  BuildModel();
  RunTargets(init_);
  std::string want = Snapshot();
  std::string path = dir_ + "/model.ckpt";
  ASSERT_EQ(Save(path), "");
  RunTargets(other_);
  ASSERT_NE(Snapshot(), want);
  ASSERT_EQ(Restore(path), "");
  EXPECT_EQ(Snapshot(), want);
}

TEST_F(CheckpointTest, RestoreIntoAFreshSessionInitializesTheVariables) {
  BuildModel();
  RunTargets(init_);
  std::string want = Snapshot();
  std::string path = dir_ + "/model.ckpt";
  ASSERT_EQ(Save(path), "");
  loom_session_free(sess_);
  sess_ = nullptr;
  ASSERT_EQ(Restore(path), "");  // no initializer has run in this session
  EXPECT_EQ(Snapshot(), want);
}

TEST_F(CheckpointTest, ListsAndReadsItsVariables) {
  BuildModel();
  RunTargets(init_);
  std::string path = dir_ + "/model.ckpt";
  ASSERT_EQ(Save(path), "");
  loom_checkpoint* ck = nullptr;
  ASSERT_EQ(Take(loom_checkpoint_open(path.c_str(), &ck)), "");
  ASSERT_EQ(loom_checkpoint_num_variables(ck), 3);
  EXPECT_STREQ(loom_checkpoint_variable_name(ck, 0), "b");
  EXPECT_STREQ(loom_checkpoint_variable_name(ck, 1), "s");
  EXPECT_STREQ(loom_checkpoint_variable_name(ck, 2), "w");
  EXPECT_EQ(loom_checkpoint_variable_name(ck, 3), nullptr);
  EXPECT_EQ(loom_checkpoint_variable_dtype(ck, 0), LOOM_DTYPE_INT64);
  EXPECT_EQ(loom_checkpoint_variable_num_dims(ck, 1), 0);
  EXPECT_EQ(loom_checkpoint_variable_num_dims(ck, 2), 2);
  EXPECT_EQ(loom_checkpoint_variable_dim(ck, 2, 1), 4);
  loom_tensor* t = nullptr;
  ASSERT_EQ(Take(loom_checkpoint_read(ck, "b", &t)), "");
  EXPECT_EQ(TensorPtr(t).values<int64_t>(), (std::vector<int64_t>{1, -2, 3000000000LL, 4, 5}));
  EXPECT_TRUE(StartsWith(Take(loom_checkpoint_read(ck, "nope", &t)), "NOT_FOUND"));
  loom_checkpoint_free(ck);
}

TEST_F(CheckpointTest, SavesAndRestoresNamedVariables) {
  BuildModel();
  RunTargets(init_);
  std::string path = dir_ + "/w_only.ckpt";
  ASSERT_EQ(Save(path, {"w"}), "");
  loom_checkpoint* ck = nullptr;
  ASSERT_EQ(Take(loom_checkpoint_open(path.c_str(), &ck)), "");
  EXPECT_EQ(loom_checkpoint_num_variables(ck), 1);
  loom_checkpoint_free(ck);
  std::vector<TensorPtr> before;
  ASSERT_EQ(Run({w_}, &before), "");
  RunTargets(other_);
  ASSERT_EQ(Restore(path, {"w"}), "");
  std::vector<TensorPtr> after;
  ASSERT_EQ(Run({w_, b_}, &after), "");
  EXPECT_EQ(after[0].values<float>(), before[0].values<float>());
  EXPECT_EQ(after[1].values<int64_t>(), std::vector<int64_t>(5, 7));  // untouched
  // Restoring everything needs b, which this checkpoint lacks.
  std::string err = Restore(path);
  EXPECT_TRUE(StartsWith(err, "NOT_FOUND")) << err;
  EXPECT_TRUE(Contains(err, "'b'")) << err;
  err = Save(path, {"no_such_variable"});
  EXPECT_TRUE(StartsWith(err, "NOT_FOUND")) << err;
}

TEST_F(CheckpointTest, UninitializedVariableCannotBeSaved) {
  BuildModel();
  std::string err = Save(dir_ + "/x.ckpt");
  EXPECT_TRUE(StartsWith(err, "FAILED_PRECONDITION")) << err;
  EXPECT_TRUE(Contains(err, "not initialized")) << err;
  struct stat st;
  EXPECT_NE(stat((dir_ + "/x.ckpt").c_str(), &st), 0);
}

TEST_F(CheckpointTest, MismatchedDtypeOrShapeIsInvalidArgument) {
  BuildModel();
  RunTargets(init_);
  std::string path = dir_ + "/m.ckpt";
  ASSERT_EQ(Save(path), "");
  // A second graph whose "w" has another shape.
  loom_graph* g2 = loom_graph_new();
  std::swap(g_, g2);
  loom_session* s1 = sess_;
  sess_ = nullptr;
  Variable("w", LOOM_DTYPE_FLOAT, {4, 3});
  std::string err = Restore(path, {"w"});
  EXPECT_TRUE(StartsWith(err, "INVALID_ARGUMENT")) << err;
  EXPECT_TRUE(Contains(err, "shape")) << err;
  Variable("b", LOOM_DTYPE_INT32, {5});
  err = Restore(path, {"b"});
  EXPECT_TRUE(Contains(err, "dtype int32")) << err;
  loom_session_free(sess_);
  std::swap(g_, g2);
  sess_ = s1;
  loom_graph_free(g2);
}

TEST_F(CheckpointTest, MissingFileIsNotFound) {
  BuildModel();
  std::string err = Restore(dir_ + "/absent.ckpt");
  EXPECT_TRUE(StartsWith(err, "NOT_FOUND")) << err;
}

// Every single-byte corruption is DATA_LOSS, the variables stay as they were,
// and a corrupted tensor's error names its variable.
TEST_F(CheckpointTest, EveryFlippedByteIsDetected) {
  BuildModel();
  RunTargets(init_);
  std::string path = dir_ + "/good.ckpt";
  ASSERT_EQ(Save(path), "");
  std::string good = ReadAll(path);
  ASSERT_GT(good.size(), 100u);
  RunTargets(other_);
  std::string current = Snapshot();
  // Where each variable's data lies: the last 96 + 8 + 40 bytes, in name order
  // b (40 bytes), s (8), w (48).
  const size_t data_start = good.size() - 96;
  std::string bad_path = dir_ + "/bad.ckpt";
  int checked = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      WriteAll(bad_path, bad);
      std::string err = Restore(bad_path);
      ASSERT_TRUE(StartsWith(err, "DATA_LOSS")) << "byte " << i << " mask " << int(mask) << ": " << err;
      if (i >= data_start) {
        const char* var = i < data_start + 40 ? "'b'" : i < data_start + 48 ? "'s'" : "'w'";
        EXPECT_TRUE(Contains(err, var)) << "byte " << i << ": " << err;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>(good.size()) * 3);
  EXPECT_EQ(Snapshot(), current);  // no failed restore changed anything
}

TEST_F(CheckpointTest, EveryTruncationAndAppendedGarbageIsDetected) {
  BuildModel();
  RunTargets(init_);
  std::string path = dir_ + "/good.ckpt";
  ASSERT_EQ(Save(path), "");
  std::string good = ReadAll(path);
  std::string bad_path = dir_ + "/bad.ckpt";
  for (size_t len = 0; len < good.size(); ++len) {
    WriteAll(bad_path, good.substr(0, len));
    std::string err = Restore(bad_path);
    ASSERT_TRUE(StartsWith(err, "DATA_LOSS")) << "length " << len << ": " << err;
  }
  // Truncated inside w's data: the error says the file is truncated and names w.
  WriteAll(bad_path, good.substr(0, good.size() - 5));
  std::string err = Restore(bad_path);
  EXPECT_TRUE(Contains(err, "'w'") && Contains(err, "truncated")) << err;
  WriteAll(bad_path, good + "x");
  err = Restore(bad_path);
  EXPECT_TRUE(StartsWith(err, "DATA_LOSS")) << err;
}

// The child process: saves in a loop until killed (see KilledDuringSave...).
void SaveLoopChild(const char* path) {
  loom_graph* g = loom_graph_new();
  const int64_t dims[] = {1 << 20};  // 4 MB: a save takes a while
  loom_op_builder* b = loom_op_builder_new(g, "VariableV2", "big");
  loom_op_builder_set_attr_type(b, "dtype", LOOM_DTYPE_FLOAT);
  loom_op_builder_set_attr_shape(b, "shape", dims, 1);
  loom_op* var = nullptr;
  if (loom_op_builder_finish(b, &var)) _exit(2);
  loom_op_builder* pb = loom_op_builder_new(g, "Placeholder", "value");
  loom_op_builder_set_attr_type(pb, "dtype", LOOM_DTYPE_FLOAT);
  loom_op_builder_set_attr_shape(pb, "shape", dims, 1);
  loom_op* ph = nullptr;
  if (loom_op_builder_finish(pb, &ph)) _exit(2);
  loom_op_builder* ab = loom_op_builder_new(g, "Assign", "assign");
  loom_op_builder_add_input(ab, loom_output{var, 0});
  loom_op_builder_add_input(ab, loom_output{ph, 0});
  loom_op* assign = nullptr;
  if (loom_op_builder_finish(ab, &assign)) _exit(2);
  loom_session* s = nullptr;
  if (loom_session_new(g, nullptr, &s)) _exit(2);
  for (int step = 1;; ++step) {
    loom_tensor* t = nullptr;
    if (loom_tensor_new(LOOM_DTYPE_FLOAT, dims, 1, &t)) _exit(2);
    float* p = static_cast<float*>(loom_tensor_data(t));
    for (int64_t i = 0; i < dims[0]; ++i) p[i] = static_cast<float>(step);
    loom_output feed{ph, 0};
    if (loom_session_run(s, &feed, &t, 1, nullptr, 0, &assign, 1, nullptr)) _exit(3);
    loom_tensor_free(t);
    if (loom_session_save(s, path, nullptr, 0)) _exit(4);
  }
}

// Runs the save loop when this binary is re-executed as the child.
const bool kChildHook = [] {
  const char* path = std::getenv("LOOM_TEST_SAVE_LOOP");
  if (path && *path) SaveLoopChild(path);
  return true;
}();

TEST(CheckpointKill, KilledDuringSaveLeavesTheLastCheckpointRestorable) {
  std::string dir = TempDir();
  std::string path = dir + "/loop.ckpt";
  std::mt19937 rng(12345);
  int restored = 0, killed_mid_save = 0;
  for (int round = 0; round < 6; ++round) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      setenv("LOOM_TEST_SAVE_LOOP", path.c_str(), 1);
      char self[4096];
      ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
      if (n <= 0) _exit(5);
      self[n] = '\0';
      char* argv[] = {self, nullptr};
      execv(self, argv);
      _exit(6);
    }
    // Wait for a first checkpoint (or the previous round's), then kill at a
    // random moment, most likely in the middle of a save.
    struct stat st;
    for (int i = 0; i < 3000 && stat(path.c_str(), &st) != 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 250));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

    loom_checkpoint* ck = nullptr;
    ASSERT_EQ(Take(loom_checkpoint_open(path.c_str(), &ck)), "") << "round " << round;
    loom_tensor* t = nullptr;
    ASSERT_EQ(Take(loom_checkpoint_read(ck, "big", &t)), "") << "round " << round;
    TensorPtr value(t);
    std::vector<float> v = value.values<float>();
    ASSERT_EQ(v.size(), size_t{1} << 20);
    // One complete save: every element holds the same step number.
    for (float x : v) ASSERT_EQ(x, v[0]);
    EXPECT_GE(v[0], 1.0f);
    loom_checkpoint_free(ck);
    ++restored;
    // A temporary file left behind means the kill hit a save in progress.
    std::string cmd = "ls '" + dir + "' | grep -q tmp- && rm -f '" + dir + "'/*.tmp-*";
    if (std::system(cmd.c_str()) == 0) ++killed_mid_save;
  }
  EXPECT_EQ(restored, 6);
  std::printf("[   INFO   ] %d of 6 kills interrupted a save in progress\n", killed_mid_save);
  std::string cmd = "rm -rf '" + dir + "'";
  (void)std::system(cmd.c_str());
}

// ------------------------------------------------------------------ model directories

TEST_F(CheckpointTest, ModelDirectoryRoundTrip) {
  // y = x @ w + bias, with a signature.
  loom_output w = Variable("w", LOOM_DTYPE_FLOAT, {3, 2});
  loom_output bias = Variable("bias", LOOM_DTYPE_FLOAT, {2});
  RunTargets({Assign(w, Const<float>({3, 2}, {1, 2, 3, 4, 5, 6})), Assign(bias, Const<float>({2}, {0.5f, -0.5f}))});
  loom_output x = Placeholder(LOOM_DTYPE_FLOAT, {-1, 3}, "x");
  loom_output y = Op("Add", {Op("MatMul", {x, w}), bias}, "y");
  TensorPtr in = MakeTensor<float>({2, 3}, {1, 0, -1, 2, 2, 2});
  std::vector<TensorPtr> want;
  ASSERT_EQ(Run({y}, &want, {x}, {in.get()}), "");

  loom_signatures* sigs = loom_signatures_new();
  loom_signatures_add_input(sigs, "serving_default", "x", x);
  loom_signatures_add_output(sigs, "serving_default", "y", y);
  loom_signatures_add_target(sigs, "init", loom_op_input(y.op, 0).op);
  std::string dir = dir_ + "/model";
  ASSERT_EQ(Take(loom_model_save(Session(), dir.c_str(), sigs)), "");
  loom_signatures_free(sigs);

  loom_graph* g2 = loom_graph_new();
  loom_session* s2 = nullptr;
  loom_signatures* loaded = nullptr;
  ASSERT_EQ(Take(loom_model_load(dir.c_str(), g2, nullptr, &s2, &loaded)), "");
  ASSERT_EQ(loom_signatures_count(loaded), 2);
  EXPECT_STREQ(loom_signatures_name(loaded, 0), "init");
  EXPECT_STREQ(loom_signatures_name(loaded, 1), "serving_default");
  ASSERT_EQ(loom_signatures_num_entries(loaded, 1, LOOM_SIGNATURE_INPUTS), 1);
  const char* key = nullptr;
  const char* name = nullptr;
  ASSERT_EQ(Take(loom_signatures_entry(loaded, 1, LOOM_SIGNATURE_OUTPUTS, 0, &key, &name)), "");
  EXPECT_STREQ(key, "y");
  EXPECT_STREQ(name, "y:0");
  ASSERT_EQ(Take(loom_signatures_entry(loaded, 1, LOOM_SIGNATURE_INPUTS, 0, &key, &name)), "");
  EXPECT_STREQ(name, "x:0");
  EXPECT_TRUE(StartsWith(Take(loom_signatures_entry(loaded, 1, LOOM_SIGNATURE_INPUTS, 1, &key, &name)),
                         "OUT_OF_RANGE"));

  loom_output x2{loom_graph_op_by_name(g2, "x"), 0}, y2{loom_graph_op_by_name(g2, "y"), 0};
  loom_tensor* got = nullptr;
  loom_tensor* feeds[] = {in.get()};
  ASSERT_EQ(Take(loom_session_run(s2, &x2, feeds, 1, &y2, 1, nullptr, 0, &got)), "");
  TensorPtr gotp(got);
  EXPECT_EQ(gotp.values<float>(), want[0].values<float>());
  loom_signatures_free(loaded);
  loom_session_free(s2);
  loom_graph_free(g2);

  // A damaged model.pb is DATA_LOSS; a damaged checkpoint names the variable.
  std::string ck = ReadAll(dir + "/variables.ckpt");
  ck[ck.size() - 1] ^= 0x55;
  WriteAll(dir + "/variables.ckpt", ck);
  loom_graph* g3 = loom_graph_new();
  loom_session* s3 = nullptr;
  std::string err = Take(loom_model_load(dir.c_str(), g3, nullptr, &s3, nullptr));
  EXPECT_TRUE(StartsWith(err, "DATA_LOSS")) << err;
  EXPECT_TRUE(Contains(err, "'w'")) << err;
  EXPECT_EQ(s3, nullptr);
  loom_graph_free(g3);
  WriteAll(dir + "/model.pb", "\xff\xff\xff garbage");
  loom_graph* g4 = loom_graph_new();
  err = Take(loom_model_load(dir.c_str(), g4, nullptr, &s3, nullptr));
  EXPECT_TRUE(StartsWith(err, "DATA_LOSS") || StartsWith(err, "INVALID_ARGUMENT")) << err;
  loom_graph_free(g4);
}

}  // namespace
