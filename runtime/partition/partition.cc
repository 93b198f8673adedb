#include "runtime/partition/partition.h"

#include <map>
#include <tuple>
#include <unordered_map>

#include "runtime/exec/intrinsic.h"

namespace loom {

namespace {

// "/device:OPENCL:0" -> "OPENCL_0", "/job:ps/replica:0/task:1/device:CPU:0" ->
// "ps_1_CPU_0", for readable node names.
std::string ShortDeviceName(const Device* d) {
  if (d->name.rfind("/job:", 0) != 0) return StrCat(d->type, "_", d->ordinal);
  size_t job_end = d->name.find('/', 5);
  size_t task = d->name.find("/task:");
  std::string t = task == std::string::npos ? "0" : d->name.substr(task + 6, d->name.find('/', task + 1) - task - 6);
  return StrCat(d->name.substr(5, job_end - 5), "_", t, "_", d->type, "_", d->ordinal);
}

class Partitioner {
 public:
  Partitioner(const std::vector<Node*>& nodes, const std::vector<Device*>& devices,
              const std::vector<Output>& feeds, PartitionedParams* out)
      : nodes_(nodes), devices_(devices), feeds_(feeds), out_(out) {}

  Status Run(const std::vector<Output>& fetches);

 private:
  int AddPartition(Device* d);
  Status AddToPartition(int p, NodeBuilder& b, Node** made);
  // The Recv in partition p that delivers `src` (of partition q) into host
  // memory or p's device memory; made with its Send on first use. `owner`:
  // the one consumer of a pair of its own (nullptr: shared by all consumers).
  Status RecvOf(const Output& src, int q, int p, bool host, const Node* owner, Output* out);
  // A Recv in partition p that completes after node `src` (of partition q).
  Status ControlRecvOf(const Node* src, int q, int p, Node** out);
  Output FeedStub(int feed, int p);

  const std::vector<Node*>& nodes_;
  const std::vector<Device*>& devices_;
  const std::vector<Output>& feeds_;
  PartitionedParams* out_;
  std::vector<Device*> part_device_;
  std::unordered_map<const Node*, int> part_of_;    // original node -> partition
  std::unordered_map<const Node*, Node*> copy_of_;  // original node -> its copy
  std::map<std::tuple<const Node*, int, int, bool, const Node*>, Output> recvs_;
  std::unordered_map<const Node*, Node*> send_of_;  // Recv -> its Send
  std::map<std::pair<const Node*, int>, Node*> control_recvs_;
  std::map<std::pair<int, int>, Output> feed_stubs_;  // (feed, partition)
};

int Partitioner::AddPartition(Device* d) {
  for (size_t p = 0; p < part_device_.size(); ++p)
    if (part_device_[p] == d) return static_cast<int>(p);
  part_device_.push_back(d);
  out_->graphs.push_back(std::make_unique<Graph>());
  out_->parts.emplace_back();
  out_->feed_index.emplace_back();
  out_->fetch_index.emplace_back();
  return static_cast<int>(part_device_.size()) - 1;
}

Status Partitioner::AddToPartition(int p, NodeBuilder& b, Node** made) {
  RETURN_IF_ERROR(b.Finish(made).WithPrefix("partitioning: "));
  part_of_[*made] = p;
  out_->parts[p].nodes.push_back(*made);
  out_->parts[p].devices.push_back(part_device_[p]);
  return Status::OK();
}

Status Partitioner::RecvOf(const Output& src, int q, int p, bool host, const Node* owner, Output* out) {
  auto key = std::make_tuple(src.node, src.index, p, host, owner);
  auto it = recvs_.find(key);
  if (it != recvs_.end()) {
    *out = it->second;
    return Status::OK();
  }
  const Device* from = part_device_[q];
  const Device* to = part_device_[p];
  const DataType dtype = src.node->output_dtype(src.index);
  const std::string tensor_name = StrCat("edge_", src.node->name(), ":", src.index, host ? "/host" : "",
                                         owner ? "/for_" + owner->name() : std::string());
  const std::string base = StrCat(src.node->name(), "_", src.index, "_", ShortDeviceName(from), "_to_",
                                  ShortDeviceName(to), host ? "_host" : "",
                                  owner ? "_for_" + owner->name() : std::string());
  Graph* gq = out_->graphs[q].get();
  Graph* gp = out_->graphs[p].get();
  NodeBuilder send(gq, "_Send", gq->UniqueName("_send/" + base));
  send.Input(Output{copy_of_.at(src.node), src.index})
      .Attr("T", dtype)
      .Attr("tensor_name", AttrValue::String(tensor_name))
      .Attr("send_device", AttrValue::String(from->name))
      .Attr("send_device_incarnation", int64_t{0})
      .Attr("recv_device", AttrValue::String(to->name))
      .Device(from->name);
  Node* s = nullptr;
  RETURN_IF_ERROR(AddToPartition(q, send, &s));
  NodeBuilder recv(gp, "_Recv", gp->UniqueName("_recv/" + base));
  recv.Attr("tensor_type", dtype)
      .Attr("tensor_name", AttrValue::String(tensor_name))
      .Attr("send_device", AttrValue::String(from->name))
      .Attr("send_device_incarnation", int64_t{0})
      .Attr("recv_device", AttrValue::String(to->name))
      .Device(to->name);
  Node* r = nullptr;
  RETURN_IF_ERROR(AddToPartition(p, recv, &r));
  *out = Output{r, 0};
  recvs_[key] = *out;
  send_of_[r] = s;
  return Status::OK();
}

Status Partitioner::ControlRecvOf(const Node* src, int q, int p, Node** out) {
  auto key = std::make_pair(src, p);
  auto it = control_recvs_.find(key);
  if (it != control_recvs_.end()) {
    *out = it->second;
    return Status::OK();
  }
  // A scalar made after src in its partition, sent to p: its Recv completes
  // only once src has run.
  Graph* gq = out_->graphs[q].get();
  Tensor dummy;
  RETURN_IF_ERROR(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{}, &dummy));
  *dummy.data_as<float>() = 0.0f;
  NodeBuilder c(gq, "Const",
                gq->UniqueName(StrCat("_control/", src->name(), "_to_", ShortDeviceName(part_device_[p]))));
  c.Attr("dtype", LOOM_DTYPE_FLOAT)
      .Attr("value", AttrValue::TensorValue(dummy))
      .ControlInput(copy_of_.at(src))
      .Device(part_device_[q]->name);
  Node* trigger = nullptr;
  RETURN_IF_ERROR(AddToPartition(q, c, &trigger));
  // Indexed by the trigger (an original-graph node never has this address).
  copy_of_[trigger] = trigger;
  Output recv;
  RETURN_IF_ERROR(RecvOf(Output{trigger, 0}, q, p, /*host=*/true, nullptr, &recv));
  control_recvs_[key] = recv.node;
  *out = recv.node;
  return Status::OK();
}

Output Partitioner::FeedStub(int feed, int p) {
  auto key = std::make_pair(feed, p);
  auto it = feed_stubs_.find(key);
  if (it != feed_stubs_.end()) return it->second;
  // Never run: the partition's executor fills its consumers from the feed. A
  // Placeholder of the fed dtype and shape, so the partition stands alone
  // (it is sent to other tasks as a GraphDef).
  const Output& o = feeds_[feed];
  Graph* g = out_->graphs[p].get();
  NodeBuilder b(g, "Placeholder", g->UniqueName(StrCat("_feed/", o.node->name(), "_", o.index)));
  b.Attr("dtype", o.node->output_dtype(o.index)).Device(part_device_[p]->name);
  const PartialShape& shape = o.node->output_shape(o.index);
  if (shape.rank_known()) b.Attr("shape", AttrValue::Shape(shape));
  Node* stub = nullptr;
  Status s = b.Finish(&stub);
  if (!s.ok()) stub = g->CopyNode(*o.node, {}, {});  // cannot happen for a valid dtype; keep the old stub
  Output made{stub, s.ok() ? 0 : o.index};
  out_->parts[p].feeds.push_back(made);
  out_->feed_index[p].push_back(feed);
  feed_stubs_[key] = made;
  return made;
}

Status Partitioner::Run(const std::vector<Output>& fetches) {
  for (size_t i = 0; i < nodes_.size(); ++i) part_of_[nodes_[i]] = AddPartition(devices_[i]);
  auto feed_of = [&](const Output& o) {
    for (size_t f = 0; f < feeds_.size(); ++f)
      if (feeds_[f] == o) return static_cast<int>(f);
    return -1;
  };
  Registry* reg = Registry::Get();
  // Nodes arrive sorted by id, a topological order: every input's copy exists.
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node* n = nodes_[i];
    const int p = part_of_.at(n);
    Device* d = part_device_[p];
    const KernelDef* kernel = IsIntrinsicOp(n->type()) ? nullptr : reg->FindKernel(n->type(), d->type, n->attrs());
    std::vector<MemoryType> memory;
    std::vector<uint8_t> outputs_on_host;
    InputOutputMemory(n, d, kernel, &memory, &outputs_on_host);
    // A node with control inputs gets Send/Recv pairs of its own, and their
    // Sends wait for those control inputs too: what it reads from another
    // device is read after them (a read of a variable after its Assign).
    const bool gated = !n->control_inputs().empty();
    std::vector<Node*> gated_sends;
    std::vector<Output> inputs;
    inputs.reserve(n->num_inputs());
    for (int j = 0; j < n->num_inputs(); ++j) {
      const Output& src = n->input(j);
      int feed = feed_of(src);
      if (feed >= 0) {
        inputs.push_back(FeedStub(feed, p));
        continue;
      }
      auto found = part_of_.find(src.node);
      if (found == part_of_.end())
        return Internal("partitioning: input ", j, " of ", n->DebugString(), " comes from ",
                        src.node->DebugString(), ", which is not part of the step");
      const int q = found->second;
      if (q == p) {
        inputs.push_back(Output{copy_of_.at(src.node), src.index});
        continue;
      }
      if (n->input_is_ref(j))
        return Internal("partitioning: ", n->DebugString(), " on ", d->name, " updates ", src.node->DebugString(),
                        " on ", part_device_[q]->name, "; a variable and its updates must share a device");
      Output recv;
      RETURN_IF_ERROR(RecvOf(src, q, p, memory[j] == MemoryType::kHost, gated ? n : nullptr, &recv));
      inputs.push_back(recv);
      if (gated) gated_sends.push_back(send_of_.at(recv.node));
    }
    std::vector<Node*> controls;
    for (Node* c : n->control_inputs()) {
      auto found = part_of_.find(c);
      if (found == part_of_.end()) continue;  // not part of the step: nothing to wait for
      if (found->second == p) {
        controls.push_back(copy_of_.at(c));
      } else {
        Node* recv = nullptr;
        RETURN_IF_ERROR(ControlRecvOf(c, found->second, p, &recv));
        controls.push_back(recv);
      }
    }
    for (Node* send : gated_sends) {
      const int q = part_of_.at(send);
      for (Node* c : n->control_inputs()) {
        auto found = part_of_.find(c);
        if (found == part_of_.end()) continue;
        Node* after = nullptr;
        if (found->second == q)
          after = copy_of_.at(c);
        else
          RETURN_IF_ERROR(ControlRecvOf(c, found->second, q, &after));
        out_->graphs[q]->AddControlEdge(after, send);
      }
    }
    Node* copy = out_->graphs[p]->CopyNode(*n, std::move(inputs), std::move(controls));
    out_->graphs[p]->SetDevice(copy, d->name);
    copy_of_[n] = copy;
    out_->parts[p].nodes.push_back(copy);
    out_->parts[p].devices.push_back(d);
  }
  for (size_t f = 0; f < fetches.size(); ++f) {
    const Output& o = fetches[f];
    if (feed_of(o) >= 0) continue;  // answered with the feed
    auto found = part_of_.find(o.node);
    if (found == part_of_.end())
      return Internal("partitioning: fetched ", o.node->DebugString(), " is not part of the step");
    out_->parts[found->second].fetches.push_back(Output{copy_of_.at(o.node), o.index});
    out_->fetch_index[found->second].push_back(static_cast<int>(f));
  }
  return Status::OK();
}

}  // namespace

Status PartitionByDevice(const std::vector<Node*>& nodes, const std::vector<Device*>& devices,
                         const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                         PartitionedParams* out) {
  if (nodes.size() != devices.size())
    return Internal("partitioning: ", nodes.size(), " nodes but ", devices.size(), " placements");
  out->feeds = feeds;
  out->fetches = fetches;
  Partitioner p(nodes, devices, feeds, out);
  return p.Run(fetches);
}

}  // namespace loom
