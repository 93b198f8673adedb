#include "runtime/session/session.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "runtime/core/logging.h"
#include "runtime/partition/partition.h"
#include "runtime/placement/device_name.h"

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
  pool_.reset();
}

Status Session::ValidateFeeds(const std::vector<Output>& feeds, const Tensor* values) {
  for (size_t i = 0; i < feeds.size(); ++i) {
    const Output& o = feeds[i];
    const Tensor& v = values[i];
    if (!v.valid()) return InvalidArgument("feed ", i, " for '", o.node->name(), ":", o.index, "' is empty");
    DataType want = o.node->output_dtype(o.index);
    if (v.dtype() != want)
      return InvalidArgument("Cannot feed value of dtype ", DataTypeName(v.dtype()), " for tensor '",
                             o.node->name(), ":", o.index, "' (", o.node->type(), "), which has dtype ",
                             DataTypeName(want));
    const PartialShape& shape = o.node->output_shape(o.index);
    if (!shape.IsCompatibleWith(v.shape()))
      return InvalidArgument("Cannot feed value of shape ", v.shape().ToString(), " for tensor '",
                             o.node->name(), ":", o.index, "' (", o.node->type(), "), which has shape ",
                             shape.ToString());
  }
  return Status::OK();
}

Status Session::Run(const std::vector<Output>& feeds, const std::vector<Tensor>& feed_values,
                    const std::vector<Output>& fetches, const std::vector<Node*>& targets,
                    std::vector<Tensor>* fetch_values) {
  if (feeds.size() != feed_values.size())
    return InvalidArgument(feeds.size(), " feeds but ", feed_values.size(), " feed values");
  std::shared_ptr<Executor> ex;
  RETURN_IF_ERROR(GetExecutor(feeds, fetches, targets, &ex));
  RETURN_IF_ERROR(ValidateFeeds(feeds, feed_values.data()));
  return ex->Run(feed_values, fetch_values);
}

Status Session::GetExecutor(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                            const std::vector<Node*>& targets, std::shared_ptr<Executor>* out) {
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
  std::unique_ptr<Executor> ex;
  RETURN_IF_ERROR(Prepare(feeds, fetches, targets, &ex));
  std::unique_lock<std::shared_mutex> l(cache_mu_);
  auto& slot = cache_[key];
  if (!slot) slot = std::shared_ptr<Executor>(std::move(ex));
  *out = slot;
  return Status::OK();
}

Status Session::Prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                        const std::vector<Node*>& targets, std::unique_ptr<Executor>* out) {
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
  std::vector<Node*> nodes;
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

  std::vector<Device*> devices;
  RETURN_IF_ERROR(Place(nodes, &devices));
  if (options_.log_device_placement) {
    std::string log;
    for (size_t i = 0; i < nodes.size(); ++i)
      log += StrCat(nodes[i]->name(), ": (", nodes[i]->type(), "): /job:localhost/replica:0/task:0",
                    devices[i]->name, "\n");
    std::fputs(log.c_str(), stderr);
  }
  auto configure = [&](ExecutorParams* p) {
    p->pool = pool_.get();
    p->inter_op_threads = inter_op_;
    p->intra_op_threads = intra_op_;
    p->resources = &resources_;
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
    return Executor::Create(std::move(p), out);
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
  return Executor::CreatePartitioned(std::move(pp), out);
}

namespace {
std::string TypeAttrs(const Node* n) {
  std::string s;
  for (const auto& kv : n->attrs().map())
    if (kv.second.kind() == AttrValue::kType)
      s += StrCat(s.empty() ? "" : ", ", kv.first, "=", DataTypeName(kv.second.type()));
  return s;
}
}  // namespace

Status Session::Place(const std::vector<Node*>& nodes, std::vector<Device*>* out) {
  Registry* reg = Registry::Get();
  std::vector<Device*> all = reg->devices();  // priority order
  if (all.empty())
    return FailedPrecondition("no devices: no device plugin is loaded (looked in <libdir>/loom/plugins and "
                              "$LOOM_PLUGIN_PATH; see `loom plugins`)");
  DeviceName default_req;
  RETURN_IF_ERROR(ParseDeviceName(options_.default_device, &default_req).WithPrefix("default device: "));
  std::vector<Device*> placed(graph_->num_nodes(), nullptr);
  out->clear();
  // Nodes arrive sorted by id, which is a topological order (inputs exist before use).
  for (Node* n : nodes) {
    DeviceName req;
    RETURN_IF_ERROR(ParseDeviceName(n->requested_device(), &req).WithPrefix(n->DebugString() + ": "));
    if (!n->requested_device().empty() && default_req.has_type && !req.has_type) {
      req.has_type = true;
      req.type = default_req.type;
      req.has_id = default_req.has_id;
      req.id = default_req.id;
    } else if (n->requested_device().empty()) {
      req = default_req;
    }
    if (req.has_job && req.job != "localhost")
      return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": it requests ",
                             n->requested_device(), " but this session runs in one process (job localhost)");
    const bool intrinsic = IsIntrinsicOp(n->type());
    auto has_kernel = [&](Device* d) {
      return intrinsic || reg->FindKernel(n->type(), d->type, n->attrs()) != nullptr;
    };
    Device* chosen = nullptr;
    // Ops that update a variable run where the variable lives.
    for (int i = 0; i < n->num_inputs() && !chosen; ++i)
      if (n->input_is_ref(i)) chosen = placed[n->input(i).node->id()];
    if (chosen && !has_kernel(chosen))
      return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": it updates variable '",
                             n->input(0).node->name(), "' on ", chosen->name, ", which has no kernel for ",
                             n->type(), " with ", TypeAttrs(n));
    if (!chosen) {
      std::string tried;
      for (Device* d : all) {
        DeviceName dn;
        dn.has_type = dn.has_id = true;
        dn.type = d->type;
        dn.id = d->ordinal;
        req.has_job = req.has_replica = req.has_task = false;
        if (!req.Matches(dn)) continue;
        tried += StrCat(tried.empty() ? "" : ", ", d->name);
        if (has_kernel(d)) {
          chosen = d;
          break;
        }
      }
      if (!chosen) {
        std::vector<std::string> types = reg->KernelDeviceTypes(n->type());
        std::string have;
        for (const auto& t : types) have += StrCat(have.empty() ? "" : ", ", t);
        bool soft_ok = options_.allow_soft_placement && !n->requested_device().empty();
        if (soft_ok) {
          for (Device* d : all)
            if (has_kernel(d)) {
              chosen = d;
              break;
            }
          if (chosen)
            LogMessage(LOOM_LOG_INFO, "placement",
                       StrCat(n->DebugString(), " requested ", n->requested_device(), "; placed on ",
                              chosen->name, " (soft placement)"));
        }
        if (!chosen) {
          if (tried.empty())
            return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": no device matches '",
                                   n->requested_device().empty() ? options_.default_device : n->requested_device(),
                                   "'; available devices: ", [&] {
                                     std::string s;
                                     for (Device* d : all) s += StrCat(s.empty() ? "" : ", ", d->name);
                                     return s;
                                   }());
          return InvalidArgument("Cannot assign a device for ", n->DebugString(), ": no kernel for ",
                                 n->type(), " with ", TypeAttrs(n), " on the devices tried (", tried,
                                 "); device types with kernels for ", n->type(), ": ",
                                 have.empty() ? std::string("none") : have);
        }
      }
    }
    placed[n->id()] = chosen;
    out->push_back(chosen);
  }
  return Status::OK();
}

}  // namespace loom
