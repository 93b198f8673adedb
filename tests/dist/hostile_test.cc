// What a hostile or broken peer sends a worker — through a real transport
// (ZeroMQ) to a real server: garbage headers for every method, feeds whose
// metas disagree with their payloads, a GraphDef naming an op that does not
// exist or a device of another task, an unknown method. Each gets a clear
// error back and the server keeps serving.
#include <gtest/gtest.h>

#include <future>

#include "proto/graph.pb.h"
#include "proto/worker.pb.h"
#include "runtime/dist/server.h"
#include "runtime/dist/wire.h"
#include "runtime/plugin/registry.h"

namespace loom {
namespace {

// A one-node GraphDef.
std::string OneNode(const std::string& name, const std::string& op, const std::string& device,
                    bool float_dtype = false) {
  pb::GraphDef g;
  pb::NodeDef* n = g.add_node();
  n->set_name(name);
  n->set_op(op);
  n->set_device(device);
  if (float_dtype) {
    pb::AttrEntry* a = n->add_attr();
    a->set_key("dtype");
    a->mutable_value()->set_type(pb::DT_FLOAT);
  }
  return g.SerializeAsString();
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Registry::Get()->FindTransport("zmq")) GTEST_SKIP() << "the zmq transport plugin is not built";
    ServerOptions o;
    ASSERT_TRUE(ClusterSpec::FromJson(R"({"worker": ["127.0.0.1:0"]})", &o.cluster).ok());
    o.job = "worker";
    o.threads = 2;
    ASSERT_TRUE(Server::Create(o, &server_).ok());
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_TRUE(Endpoint::Create("zmq", {}, nullptr, &client_).ok());
    std::string scheme, address;
    ASSERT_TRUE(ParseTarget(server_->target(), &scheme, &address).ok());
    ASSERT_TRUE(client_->Peer(address, &peer_).ok());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
  }
  Status Call(uint32_t method, const std::string& header, std::vector<Tensor> payloads = {},
              WireMessage* out = nullptr) {
    std::promise<std::pair<Status, WireMessage>> p;
    client_->Call(peer_, method, header, payloads, 10000,
                  [&](const Status& s, WireMessage m) { p.set_value({s, std::move(m)}); });
    auto r = p.get_future().get();
    if (out) *out = std::move(r.second);
    return r.first;
  }
  void ExpectStillServing() {
    WireMessage m;
    ASSERT_TRUE(Call(kGetStatus, EncodeHeader(pb::GetStatusRequest()), {}, &m).ok());
    pb::GetStatusResponse st;
    ASSERT_TRUE(DecodeHeader(m.header, &st, "test").ok());
    EXPECT_EQ(st.task(), "/job:worker/replica:0/task:0");
  }
  std::unique_ptr<Server> server_;
  std::unique_ptr<Endpoint> client_;
  loom_transport_peer* peer_ = nullptr;
};

TEST_F(HostileTest, GarbageHeadersOfEveryMethodAreInvalidArguments) {
  const std::string garbage("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x07", 11);
  for (uint32_t m : {kRegisterGraph, kRunGraph, kCleanupGraph, kRecvTensor, kEndStep}) {
    Status s = Call(m, garbage);
    EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT) << WireMethodName(m) << ": " << s.message();
  }
  Status s = Call(99, "");
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT) << s.message();
  EXPECT_NE(s.message().find("unknown method 99"), std::string::npos) << s.message();
  ExpectStillServing();
}

TEST_F(HostileTest, AGraphWithAnUnknownOpOrAnotherTasksDeviceIsRefused) {
  pb::RegisterGraphRequest r;
  r.set_graph_def(OneNode("x", "NoSuchOp", ""));
  Status s = Call(kRegisterGraph, EncodeHeader(r));
  EXPECT_EQ(s.code(), LOOM_CODE_NOT_FOUND) << s.message();
  EXPECT_NE(s.message().find("NoSuchOp"), std::string::npos) << s.message();
  r.set_graph_def(OneNode("c", "NoOp", "/job:ps/replica:0/task:0/device:CPU:0"));
  s = Call(kRegisterGraph, EncodeHeader(r));
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT) << s.message();
  EXPECT_NE(s.message().find("not on a device of this task"), std::string::npos) << s.message();
  ExpectStillServing();
}

TEST_F(HostileTest, RunGraphOfAnUnknownGraphOrWithBadFeedsIsRefused) {
  pb::RunGraphRequest r;
  r.set_graph_handle("nothing/1");
  Status s = Call(kRunGraph, EncodeHeader(r));
  EXPECT_EQ(s.code(), LOOM_CODE_NOT_FOUND) << s.message();
  // A registered graph fed a tensor whose meta disagrees with its payload.
  pb::RegisterGraphRequest reg;
  reg.set_graph_def(OneNode("x", "Placeholder", "/job:worker/replica:0/task:0/device:CPU:0", true));
  reg.add_feeds("x:0");
  reg.add_fetches("x:0");
  WireMessage m;
  ASSERT_TRUE(Call(kRegisterGraph, EncodeHeader(reg), {}, &m).ok());
  pb::RegisterGraphResponse handle;
  ASSERT_TRUE(DecodeHeader(m.header, &handle, "test").ok());
  r.set_graph_handle(handle.graph_handle());
  pb::TensorMeta* meta = r.add_feeds();
  meta->set_name("x:0");
  meta->set_dtype(pb::DT_FLOAT);
  meta->add_dims(1000);  // 4000 bytes claimed
  meta->set_payload(0);
  Tensor small;
  ASSERT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{3}, &small).ok());
  s = Call(kRunGraph, EncodeHeader(r), {small});
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT) << s.message();
  EXPECT_NE(s.message().find("needs 4000 bytes"), std::string::npos) << s.message();
  ExpectStillServing();
}

}  // namespace
}  // namespace loom
