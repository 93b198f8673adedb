#include "runtime/session/session.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "runtime/core/logging.h"
#include "runtime/dist/master.h"
#include "runtime/partition/partition.h"
#include "runtime/placement/device_name.h"
#include "runtime/placement/placer.h"

namespace loom {

Session::Session(Graph* graph, SessionOptions options) : graph_(graph), options_(std::move(options)) {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  inter_op_ = options_.inter_op_threads > 0 ? options_.inter_op_threads : cores;
  intra_op_ = options_.intra_op_threads > 0 ? options_.intra_op_threads : cores;
  int workers = std::max(inter_op_, intra_op_) - 1;
  pool_ = std::make_unique<ThreadPool>(workers);
}

Session::~Session() {
  {
    std::unique_lock<std::shared_mutex> l(cache_mu_);
    cache_.clear();
  }
  master_.reset();
  pool_.reset();
}

Status Session::ValidateFeeds(const std::vector<Output>& feeds, const Tensor* values) {
  return ::loom::ValidateFeeds(feeds, values);
}

Status Session::Run(const std::vector<Output>& feeds, const std::vector<Tensor>& feed_values,
                    const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                    std::vector<Tensor>* fetch_values) {
  if (feeds.size() != feed_values.size())
    return InvalidArgument(feeds.size(), " feeds but ", feed_values.size(), " feed values");
  std::shared_ptr<Runnable> ex;
  RETURN_IF_ERROR(GetExecutor(feeds, fetches, targets, &ex));
  RETURN_IF_ERROR(ValidateFeeds(feeds, feed_values.data()));
  fetch_values->resize(fetches.size());
  return ex->Run(feed_values.data(), static_cast<int>(feed_values.size()), fetch_values->data(),
                 static_cast<int>(fetch_values->size()));
}

Status Session::GetExecutor(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                            const std::vector<Node*>& targets, std::shared_ptr<Runnable>* out) {
  std::string key;
  key.reserve(16 * (feeds.size() + fetches.size() + targets.size()));
  for (const Output& o : feeds) key += StrCat(o.node ? o.node->id() : -1, ":", o.index, ",");
  key += "|";
  for (const Output& o : fetches) key += StrCat(o.node ? o.node->id() : -1, ":", o.index, ",");
  key += "|";
  for (Node* n : targets) key += StrCat(n ? n->id() : -1, ",");
  {
    std::shared_lock<std::shared_mutex> l(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      *out = it->second;
      return Status::OK();
    }
  }
  std::unique_ptr<Runnable> ex;
  RETURN_IF_ERROR(Prepare(feeds, fetches, targets, &ex));
  std::unique_lock<std::shared_mutex> l(cache_mu_);
  auto& slot = cache_[key];
  if (!slot) slot = std::shared_ptr<Runnable>(std::move(ex));
  *out = slot;
  return Status::OK();
}

Status Session::Prune(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                      const std::vector<Node*>& targets, std::vector<Node*>* out) {
  auto check = [&](const Output& o, const char* what) -> Status {
    if (!o.node) return InvalidArgument(what, " has no op");
    if (o.node->id() >= graph_->num_nodes() || graph_->node(o.node->id()) != o.node)
      return InvalidArgument(what, " refers to an op of another graph");
    if (o.index < 0 || o.index >= o.node->num_outputs())
      return OutOfRange(what, " '", o.node->name(), ":", o.index, "' does not exist: ", o.node->DebugString(),
                        " has ", o.node->num_outputs(), " outputs");
    return Status::OK();
  };
  for (const Output& o : feeds) RETURN_IF_ERROR(check(o, "feed"));
  for (const Output& o : fetches) RETURN_IF_ERROR(check(o, "fetch"));
  for (Node* n : targets)
    if (!n || n->id() >= graph_->num_nodes() || graph_->node(n->id()) != n)
      return InvalidArgument("target is not an op of this session's graph");
  for (size_t i = 0; i < feeds.size(); ++i)
    for (size_t j = i + 1; j < feeds.size(); ++j)
      if (feeds[i] == feeds[j])
        return InvalidArgument("'", feeds[i].node->name(), ":", feeds[i].index, "' is fed twice");

  // Prune: walk back from fetches and targets, stopping at fed outputs.
  auto fed = [&](const Output& o) { return std::find(feeds.begin(), feeds.end(), o) != feeds.end(); };
  std::vector<bool> needed(graph_->num_nodes(), false);
  std::vector<Node*> stack;
  for (const Output& o : fetches)
    if (!fed(o)) stack.push_back(o.node);
  for (Node* n : targets) stack.push_back(n);
  std::vector<Node*>& nodes = *out;
  nodes.clear();
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (needed[n->id()]) continue;
    needed[n->id()] = true;
    nodes.push_back(n);
    for (const Output& in : n->inputs())
      if (!fed(in) && !needed[in.node->id()]) stack.push_back(in.node);
    for (Node* c : n->control_inputs())
      if (!needed[c->id()]) stack.push_back(c);
  }
  std::sort(nodes.begin(), nodes.end(), [](Node* a, Node* b) { return a->id() < b->id(); });
  return Status::OK();
}

void Session::LogPlacement(const std::vector<Node*>& nodes, const std::vector<Device*>& devices) const {
  std::string log;
  for (size_t i = 0; i < nodes.size(); ++i)
    log += StrCat(nodes[i]->name(), ": (", nodes[i]->type(), "): ",
                  devices[i]->name.rfind("/job:", 0) == 0 ? "" : "/job:localhost/replica:0/task:0", devices[i]->name,
                  "\n");
  std::fputs(log.c_str(), stderr);
}

Status Session::PrepareRemote(const std::vector<Node*>& nodes, const std::vector<Output>& feeds,
                              const std::vector<Output>& fetches, std::unique_ptr<Runnable>* out) {
  Master* master;
  {
    std::lock_guard<std::mutex> l(master_mu_);
    if (!master_) {
      MasterOptions mo;
      mo.target = options_.target;
      mo.operation_timeout_ms = options_.operation_timeout_ms;
      mo.transport = options_.transport;
      RETURN_IF_ERROR(Master::Create(std::move(mo), &master_));
    }
    master = master_.get();
  }
  std::vector<Device*> candidates;
  std::vector<std::pair<std::string, Status>> unavailable;
  PlacementOptions po;
  po.default_device = options_.default_device;
  po.allow_soft_placement = options_.allow_soft_placement;
  RETURN_IF_ERROR(master->Devices(&candidates, &po.default_task, &unavailable));
  // An op asking for a task that does not answer fails with that task's error.
  for (Node* n : nodes) {
    DeviceName req;
    if (n->requested_device().empty() || !ParseDeviceName(n->requested_device(), &req).ok() || !req.has_job)
      continue;
    for (const auto& u : unavailable) {
      DeviceName task;
      if (!ParseDeviceName(u.first, &task).ok() || task.job != req.job || (req.has_task && task.task != req.task))
        continue;
      return Status(u.second.code() == LOOM_CODE_OK ? LOOM_CODE_UNAVAILABLE : u.second.code(),
                    StrCat(n->DebugString(), " is placed on ", n->requested_device(), ", but ", u.first,
                           " is unavailable: ", u.second.message()));
    }
  }
  std::vector<Device*> devices;
  RETURN_IF_ERROR(PlaceNodes(nodes, graph_->num_nodes(), candidates, po, &devices));
  if (options_.log_device_placement) LogPlacement(nodes, devices);
  return master->Prepare(nodes, devices, feeds, fetches, out);
}

Status Session::Prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                        const std::vector<Node*>& targets, std::unique_ptr<Runnable>* out) {
  std::vector<Node*> nodes;
  RETURN_IF_ERROR(Prune(feeds, fetches, targets, &nodes));
  if (!options_.target.empty()) return PrepareRemote(nodes, feeds, fetches, out);

  std::vector<Device*> devices;
  PlacementOptions po;
  po.default_device = options_.default_device;
  po.allow_soft_placement = options_.allow_soft_placement;
  RETURN_IF_ERROR(PlaceNodes(nodes, graph_->num_nodes(), Registry::Get()->devices(), po, &devices));
  if (options_.log_device_placement) LogPlacement(nodes, devices);
  auto configure = [&](ExecutorParams* p) {
    p->pool = pool_.get();
    p->inter_op_threads = inter_op_;
    p->intra_op_threads = intra_op_;
    p->resources = &resources_;
    p->operation_timeout_ms = options_.operation_timeout_ms;
  };
  const bool one_device =
      std::all_of(devices.begin(), devices.end(), [&](Device* d) { return d == devices.front(); });
  if (one_device) {
    ExecutorParams p;
    p.nodes = std::move(nodes);
    p.devices = std::move(devices);
    p.feeds = feeds;
    p.fetches = fetches;
    configure(&p);
    std::unique_ptr<Executor> ex;
    RETURN_IF_ERROR(Executor::Create(std::move(p), &ex));
    *out = std::move(ex);
    return Status::OK();
  }
  // Several devices: one partition per device, Send/Recv on the edges between.
  PartitionedParams pp;
  RETURN_IF_ERROR(PartitionByDevice(nodes, devices, feeds, fetches, &pp));
  if (options_.log_device_placement) {
    std::string log;
    for (size_t p = 0; p < pp.parts.size(); ++p) {
      int sends = 0, recvs = 0;
      for (Node* n : pp.parts[p].nodes) {
        sends += n->type() == "_Send";
        recvs += n->type() == "_Recv";
      }
      log += StrCat("partition ", p, " on ", pp.parts[p].devices.front()->name, ": ", pp.parts[p].nodes.size(),
                    " ops (", sends, " _Send, ", recvs, " _Recv)\n");
    }
    std::fputs(log.c_str(), stderr);
  }
  for (ExecutorParams& p : pp.parts) configure(&p);
  pp.pool = pool_.get();
  std::unique_ptr<Executor> ex;
  RETURN_IF_ERROR(Executor::CreatePartitioned(std::move(pp), &ex));
  *out = std::move(ex);
  return Status::OK();
}

}  // namespace loom
