// Partitioning of a placed step (runtime/partition): one graph per device,
// one Send/Recv pair per (tensor, destination device, memory type), control
// edges as a sent dummy, feeds as stubs in every partition that reads them.
#include "runtime/partition/partition.h"

#include <gtest/gtest.h>

#include <map>

namespace loom {
namespace {

class PartitionTest : public ::testing::Test {
 protected:
  PartitionTest() {
    a_.name = "/device:DEVA:0";
    a_.type = "DEVA";
    b_.name = "/device:DEVB:0";
    b_.type = "DEVB";
    c_.name = "/device:DEVC:1";
    c_.type = "DEVC";
    c_.ordinal = 1;
  }
  Node* Input(const std::string& name) {
    Node* n = nullptr;
    Tensor t;
    EXPECT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{2}, &t).ok());
    EXPECT_TRUE(NodeBuilder(&g_, "Const", name)
                    .Attr("dtype", LOOM_DTYPE_FLOAT)
                    .Attr("value", AttrValue::TensorValue(t))
                    .Finish(&n)
                    .ok());
    return n;
  }
  Node* Op(const std::string& type, const std::string& name, std::vector<Output> in,
           std::vector<Node*> control = {}) {
    NodeBuilder b(&g_, type, name);
    for (const Output& o : in) b.Input(o);
    for (Node* c : control) b.ControlInput(c);
    Node* n = nullptr;
    Status s = b.Finish(&n);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n;
  }
  // Partitions the nodes placed as given (sorted by id, as the session does).
  Status Partition(std::vector<std::pair<Node*, Device*>> placed, std::vector<Output> feeds,
                   std::vector<Output> fetches) {
    std::sort(placed.begin(), placed.end(),
              [](const auto& x, const auto& y) { return x.first->id() < y.first->id(); });
    std::vector<Node*> nodes;
    std::vector<Device*> devices;
    for (auto& p : placed) {
      nodes.push_back(p.first);
      devices.push_back(p.second);
    }
    pp_ = PartitionedParams();
    return PartitionByDevice(nodes, devices, feeds, fetches, &pp_);
  }
  // Count of nodes of each type in partition p.
  std::map<std::string, int> Types(size_t p) {
    std::map<std::string, int> m;
    for (Node* n : pp_.parts[p].nodes) m[n->type()]++;
    return m;
  }
  Node* Find(size_t p, const std::string& name) {
    for (Node* n : pp_.parts[p].nodes)
      if (n->name() == name) return n;
    return nullptr;
  }
  std::string Attr(const Node* n, const char* name) {
    std::string s;
    EXPECT_TRUE(n->attrs().GetString(name, &s).ok());
    return s;
  }

  Graph g_;
  Device a_, b_, c_;
  PartitionedParams pp_;
};

TEST_F(PartitionTest, OneSendRecvPairPerTensorAndDestination) {
  Node* x = Input("x");
  Node* y = Input("y");
  Node* s = Op("AddV2", "s", {{x, 0}, {y, 0}});     // on A
  Node* m1 = Op("Mul", "m1", {{s, 0}, {s, 0}});     // on B: reads s twice
  Node* m2 = Op("Mul", "m2", {{s, 0}, {m1, 0}});    // on B: reads s again
  Node* m3 = Op("Neg", "m3", {{s, 0}});             // on C
  ASSERT_TRUE(Partition({{x, &a_}, {y, &a_}, {s, &a_}, {m1, &b_}, {m2, &b_}, {m3, &c_}}, {},
                        {{m2, 0}, {m3, 0}, {s, 0}})
                  .ok());
  ASSERT_EQ(pp_.parts.size(), 3u);
  // A sends s once to B and once to C.
  EXPECT_EQ(Types(0)["_Send"], 2);
  EXPECT_EQ(Types(0)["_Recv"], 0);
  EXPECT_EQ(Types(1)["_Recv"], 1);
  EXPECT_EQ(Types(2)["_Recv"], 1);
  // Every consumer of s on B reads the one Recv.
  Node* bm1 = Find(1, "m1");
  Node* bm2 = Find(1, "m2");
  ASSERT_TRUE(bm1 && bm2);
  EXPECT_EQ(bm1->input(0).node->type(), "_Recv");
  EXPECT_EQ(bm1->input(0).node, bm1->input(1).node);
  EXPECT_EQ(bm2->input(0).node, bm1->input(0).node);
  EXPECT_EQ(bm2->input(1).node, bm1);
  // The pair agrees on its rendezvous key.
  Node* recv = bm1->input(0).node;
  Node* send = nullptr;
  for (Node* n : pp_.parts[0].nodes)
    if (n->type() == "_Send" && Attr(n, "recv_device") == b_.name) send = n;
  ASSERT_TRUE(send);
  EXPECT_EQ(Attr(send, "tensor_name"), Attr(recv, "tensor_name"));
  EXPECT_EQ(Attr(send, "send_device"), a_.name);
  EXPECT_EQ(Attr(recv, "send_device"), a_.name);
  EXPECT_EQ(Attr(recv, "recv_device"), b_.name);
  EXPECT_EQ(send->input(0).node, Find(0, "s"));
  // Copies keep the inferred shapes, though their inputs are Recvs of unknown shape.
  EXPECT_EQ(bm2->output_shape(0).ToString(), m2->output_shape(0).ToString());
  // Fetches map back to the step's positions.
  ASSERT_EQ(pp_.parts[1].fetches.size(), 1u);
  EXPECT_EQ(pp_.parts[1].fetches[0].node, bm2);
  EXPECT_EQ(pp_.fetch_index[1], std::vector<int>{0});
  EXPECT_EQ(pp_.fetch_index[2], std::vector<int>{1});
  EXPECT_EQ(pp_.fetch_index[0], std::vector<int>{2});
}

TEST_F(PartitionTest, ControlEdgesAcrossDevicesBecomeASentDummy) {
  Node* x = Input("x");
  Node* first = Op("Neg", "first", {{x, 0}});                   // on A
  Node* then1 = Op("Neg", "then1", {{x, 0}}, {first});          // on B, after first
  Node* then2 = Op("Abs", "then2", {{x, 0}}, {first});          // on B, after first
  ASSERT_TRUE(Partition({{x, &a_}, {first, &a_}, {then1, &b_}, {then2, &b_}}, {}, {{then1, 0}, {then2, 0}}).ok());
  ASSERT_EQ(pp_.parts.size(), 2u);
  // The control edge crosses as one pair; x as a pair for each of then1 and
  // then2 (nodes with control inputs get their own), each Send after `first`.
  EXPECT_EQ(Types(0)["_Send"], 3);
  EXPECT_EQ(Types(1)["_Recv"], 3);
  for (const char* name : {"then1", "then2"}) {
    Node* data_recv = Find(1, name)->input(0).node;
    ASSERT_EQ(data_recv->type(), "_Recv");
    for (Node* n : pp_.parts[0].nodes)
      if (n->type() == "_Send" && Attr(n, "tensor_name") == Attr(data_recv, "tensor_name")) {
        ASSERT_EQ(n->control_inputs().size(), 1u);
        EXPECT_EQ(n->control_inputs()[0], Find(0, "first"));
      }
  }
  Node* t1 = Find(1, "then1");
  Node* t2 = Find(1, "then2");
  ASSERT_EQ(t1->control_inputs().size(), 1u);
  Node* ctl = t1->control_inputs()[0];
  EXPECT_EQ(ctl->type(), "_Recv");
  ASSERT_EQ(t2->control_inputs().size(), 1u);
  EXPECT_EQ(t2->control_inputs()[0], ctl);
  // Its Send's input is a Const that runs after `first`.
  Node* send = nullptr;
  for (Node* n : pp_.parts[0].nodes)
    if (n->type() == "_Send" && Attr(n, "tensor_name") == Attr(ctl, "tensor_name")) send = n;
  ASSERT_TRUE(send);
  Node* dummy = send->input(0).node;
  EXPECT_EQ(dummy->type(), "Const");
  ASSERT_EQ(dummy->control_inputs().size(), 1u);
  EXPECT_EQ(dummy->control_inputs()[0], Find(0, "first"));
}

TEST_F(PartitionTest, FeedsAreStubsInEachPartitionThatReadsThem) {
  Node* x = Input("x");
  Node* y = Op("Neg", "y", {{x, 0}});  // fed: x is not part of the step
  Node* u = Op("Abs", "u", {{y, 0}});  // on A
  Node* v = Op("Abs", "v", {{y, 0}});  // on B
  ASSERT_TRUE(Partition({{u, &a_}, {v, &b_}}, {{y, 0}}, {{u, 0}, {v, 0}, {y, 0}}).ok());
  ASSERT_EQ(pp_.parts.size(), 2u);
  for (size_t p = 0; p < 2; ++p) {
    ASSERT_EQ(pp_.parts[p].feeds.size(), 1u);
    EXPECT_EQ(pp_.feed_index[p], std::vector<int>{0});
    // A Placeholder of the fed dtype stands for y, so the partition needs
    // nothing outside itself (it may be sent to another task).
    EXPECT_EQ(pp_.parts[p].feeds[0].node->name(), "_feed/y_0");
    EXPECT_EQ(pp_.parts[p].feeds[0].node->type(), "Placeholder");
    EXPECT_EQ(pp_.parts[p].feeds[0].node->output_dtype(0), y->output_dtype(0));
    // The stub is not run: only u or v is.
    EXPECT_EQ(pp_.parts[p].nodes.size(), 1u);
    EXPECT_EQ(pp_.parts[p].nodes[0]->input(0), pp_.parts[p].feeds[0]);
  }
  // No Send/Recv: nothing crosses. The fetch of the fed y is the session's.
  EXPECT_EQ(Types(0)["_Send"] + Types(1)["_Recv"], 0);
  EXPECT_EQ(pp_.fetch_index[0], std::vector<int>{0});
  EXPECT_EQ(pp_.fetch_index[1], std::vector<int>{1});
}

TEST_F(PartitionTest, AVariableUpdateOnAnotherDeviceIsRefused) {
  Node* var = nullptr;
  ASSERT_TRUE(NodeBuilder(&g_, "VariableV2", "w")
                  .Attr("dtype", LOOM_DTYPE_FLOAT)
                  .Attr("shape", AttrValue::Shape(PartialShape(TensorShape{2})))
                  .Finish(&var)
                  .ok());
  Node* x = Input("x");
  Node* assign = Op("Assign", "assign", {{var, 0}, {x, 0}});
  Status s = Partition({{var, &a_}, {x, &b_}, {assign, &b_}}, {}, {});
  EXPECT_EQ(s.code(), LOOM_CODE_INTERNAL);
  EXPECT_NE(s.message().find("'assign'"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("'w'"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace loom
