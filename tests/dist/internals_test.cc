// runtime/dist pieces that need no servers: cluster specs, targets, and the
// decoding of what a peer sends (hostile input is refused with a clear error).
#include <gtest/gtest.h>

#include <cstring>

#include "proto/worker.pb.h"
#include "runtime/dist/cluster.h"
#include "runtime/dist/wire.h"

namespace loom {
namespace {

TEST(ClusterSpecTest, ParsesListsAndSparseJobs) {
  ClusterSpec c;
  ASSERT_TRUE(ClusterSpec::FromJson(R"({"ps": ["a:1"], "worker": {"2": "b:3", "0": "c:4"}})", &c).ok());
  EXPECT_EQ(c.jobs.at("ps"), std::vector<std::string>{"a:1"});
  EXPECT_EQ(c.jobs.at("worker"), (std::vector<std::string>{"c:4", "", "b:3"}));
  std::string addr;
  EXPECT_TRUE(c.Address("worker", 2, &addr).ok());
  EXPECT_EQ(addr, "b:3");
  Status s = c.Address("worker", 1, &addr);
  EXPECT_EQ(s.code(), LOOM_CODE_NOT_FOUND);
  EXPECT_NE(s.message().find("/job:worker/replica:0/task:1"), std::string::npos) << s.message();
  ClusterSpec back;
  ASSERT_TRUE(ClusterSpec::FromJson(R"({"ps": ["a:1"], "worker": ["x:1", "y:2"]})", &c).ok());
  ASSERT_TRUE(ClusterSpec::FromJson(c.ToJson(), &back).ok());
  EXPECT_EQ(back.jobs, c.jobs);
}

TEST(ClusterSpecTest, MalformedSpecsNameWhatWasExpected) {
  ClusterSpec c;
  for (const char* bad : {"", "[", R"({"ps": "a:1"})", R"({"ps": [1]})", R"({"p/s": ["a:1"]})",
                          R"({"ps": ["nocolon"]})", R"({"ps": {"x": "a:1"}})", R"({"ps": ["a:1"]} trailing)"}) {
    Status s = ClusterSpec::FromJson(bad, &c);
    EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT) << bad;
    EXPECT_FALSE(s.message().empty());
  }
}

TEST(TargetTest, SchemesAndTensorFlowTargets) {
  std::string scheme, addr;
  ASSERT_TRUE(ParseTarget("zmq://127.0.0.1:2222", &scheme, &addr).ok());
  EXPECT_EQ(scheme, "zmq");
  EXPECT_EQ(addr, "127.0.0.1:2222");
  ASSERT_TRUE(ParseTarget("grpc://localhost:1", &scheme, &addr).ok());
  EXPECT_EQ(scheme, "");  // the default transport
  EXPECT_EQ(ParseTarget("zmq://nohost", &scheme, &addr).code(), LOOM_CODE_INVALID_ARGUMENT);
}

class DecodeTest : public ::testing::Test {
 protected:
  std::shared_ptr<Buffer> Bytes(size_t n) {
    auto b = AllocateHostBuffer(n);
    std::memset(b->data, 7, n);
    return b;
  }
  Status Decode(DataType dt, std::vector<int64_t> dims, int payload, size_t bytes, Tensor* out) {
    pb::TensorMeta m;
    m.set_dtype(static_cast<pb::DataType>(dt));
    for (int64_t d : dims) m.add_dims(d);
    m.set_payload(payload);
    return DecodeTensor(m, {Bytes(bytes)}, "test", out);
  }
};

TEST_F(DecodeTest, AWellFormedTensorSharesItsPayload) {
  Tensor t;
  ASSERT_TRUE(Decode(LOOM_DTYPE_FLOAT, {2, 3}, 0, 24, &t).ok());
  EXPECT_EQ(t.shape(), (TensorShape{2, 3}));
  EXPECT_EQ(t.data_as<uint8_t>()[23], 7);
}

TEST_F(DecodeTest, HostileMetasAreRefused) {
  Tensor t;
  EXPECT_EQ(Decode(LOOM_DTYPE_FLOAT, {2, 3}, 0, 20, &t).code(), LOOM_CODE_INVALID_ARGUMENT);   // short
  EXPECT_EQ(Decode(LOOM_DTYPE_FLOAT, {-1}, 0, 4, &t).code(), LOOM_CODE_INVALID_ARGUMENT);      // negative
  EXPECT_EQ(Decode(LOOM_DTYPE_FLOAT, {1LL << 40, 1LL << 40}, 0, 4, &t).code(),
            LOOM_CODE_INVALID_ARGUMENT);                                                       // overflow
  EXPECT_EQ(Decode(static_cast<DataType>(99), {1}, 0, 4, &t).code(), LOOM_CODE_INVALID_ARGUMENT);  // dtype
  EXPECT_EQ(Decode(LOOM_DTYPE_FLOAT, {1}, 3, 4, &t).code(), LOOM_CODE_INVALID_ARGUMENT);       // no payload 3
  EXPECT_EQ(Decode(LOOM_DTYPE_FLOAT, std::vector<int64_t>(40, 1), 0, 4, &t).code(),
            LOOM_CODE_INVALID_ARGUMENT);                                                       // rank
  Status s = Decode(LOOM_DTYPE_INT32, {3}, 0, 8, &t);
  EXPECT_NE(s.message().find("needs 12 bytes"), std::string::npos) << s.message();
}

TEST_F(DecodeTest, GarbageHeadersAreRefused) {
  pb::RunGraphRequest r;
  EXPECT_EQ(DecodeHeader(std::string("\xff\xff\xff\xff\x0f", 5), &r, "RunGraph").code(), LOOM_CODE_INVALID_ARGUMENT);
}

}  // namespace
}  // namespace loom
