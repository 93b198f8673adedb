#include "runtime/exec/executor.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "runtime/core/c_status.h"
#include "runtime/exec/kernel_context.h"
#include "runtime/ops/op_registry.h"

namespace loom {

struct Executor::RunState {
  std::vector<loom_tensor> slots;
  std::vector<Variable*> slot_refs;
  std::vector<loom_tensor> outs;
  std::vector<Variable*> out_refs;
  std::unique_ptr<std::atomic<int>[]> pending;
  std::atomic<int> outstanding{0};
  Tensor* fetches = nullptr;
  std::mutex mu;
  Status status;
  std::atomic<bool> failed{false};
  Rendezvous own_rendezvous;
  Rendezvous* rendezvous = &own_rendezvous;  // shared by a step's partitions
  uint64_t step_id = 0;
};

namespace {

std::atomic<uint64_t> g_step_ids{1};

}  // namespace

Status ValidateFeeds(const std::vector<Output>& feeds, const Tensor* values) {
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

Executor::~Executor() {
  for (ExecNode& en : nodes_)
    if (en.kernel && en.kernel->destroy && en.kernel_state) en.kernel->destroy(en.kernel_state);
}

Status Executor::Create(ExecutorParams params, std::unique_ptr<Executor>* out) {
  std::unique_ptr<Executor> ex(new Executor(std::move(params)));
  RETURN_IF_ERROR(ex->Prepare());
  *out = std::move(ex);
  return Status::OK();
}


namespace {
// A _Send or _Recv node's rendezvous key, from its attrs.
std::string RendezvousKeyOf(const Node& n) {
  std::string tensor_name, send_device, recv_device;
  int64_t incarnation = 0;
  (void)n.attrs().GetString("tensor_name", &tensor_name);
  (void)n.attrs().GetString("send_device", &send_device);
  (void)n.attrs().GetString("recv_device", &recv_device);
  (void)n.attrs().GetInt("send_device_incarnation", &incarnation);
  return Rendezvous::CreateKey(send_device, static_cast<uint64_t>(incarnation), recv_device, tensor_name);
}
}  // namespace

// Node positions and fed outputs, looked up while Prepare wires the step.
struct Executor::StepIndex {
  explicit StepIndex(const ExecutorParams& P) {
    int max_id = 0;
    for (Node* n : P.nodes) max_id = std::max(max_id, n->id() + 1);
    position.assign(max_id, -1);
    for (size_t i = 0; i < P.nodes.size(); ++i) position[P.nodes[i]->id()] = static_cast<int>(i);
    for (size_t f = 0; f < P.feeds.size(); ++f) feed_of[Key(P.feeds[f])] = static_cast<int>(f);
  }
  // The node's position in P.nodes, or -1 when it is not part of the step.
  int Find(const Node* n) const {
    return n->id() < static_cast<int>(position.size()) ? position[n->id()] : -1;
  }
  // The feed that supplies output o, or -1.
  int FeedOf(const Output& o) const {
    auto f = feed_of.find(Key(o));
    return f == feed_of.end() ? -1 : f->second;
  }
  static int64_t Key(const Output& o) { return (static_cast<int64_t>(o.node->id()) << 16) | o.index; }

  std::vector<int> position;                 // node id -> position in P.nodes
  std::unordered_map<int64_t, int> feed_of;  // (node id << 16 | output) -> feed index
};

// Prepare's phases, in order; each relies on what the earlier ones set up.
Status Executor::Prepare() {
  const StepIndex ix(params_);
  LayOutSlots();
  RETURN_IF_ERROR(ConnectEdges(ix));
  OrderOutEdges();
  RETURN_IF_ERROR(ConnectFetches(ix));
  RETURN_IF_ERROR(CheckAcyclic());
  for (ExecNode& en : nodes_) RETURN_IF_ERROR(PrepareNode(&en));
  PlaceMemory();
  return Status::OK();
}

// Input slots, output positions and error prefix of every node.
void Executor::LayOutSlots() {
  const auto& P = params_;
  feed_slots_.assign(P.feeds.size(), {});
  feed_fetches_.assign(P.feeds.size(), {});
  nodes_.resize(P.nodes.size());
  for (size_t i = 0; i < P.nodes.size(); ++i) {
    ExecNode& en = nodes_[i];
    en.node = P.nodes[i];
    en.device = P.devices[i];
    en.input_start = num_slots_;
    en.num_inputs = en.node->num_inputs();
    num_slots_ += en.num_inputs;
    en.output_start = num_outputs_;
    en.num_outputs = en.node->num_outputs();
    num_outputs_ += en.num_outputs;
    en.fetch_index.resize(en.num_outputs);
    en.error_prefix = StrCat(en.node->type(), " op '", en.node->name(), "' on ", en.device->name, ": ");
  }
}

// Data and control edges; fed inputs become feed slots instead.
Status Executor::ConnectEdges(const StepIndex& ix) {
  for (size_t d = 0; d < nodes_.size(); ++d) {
    ExecNode& dst = nodes_[d];
    for (int i = 0; i < dst.num_inputs; ++i) {
      const Output& src = dst.node->input(i);
      const int feed = ix.FeedOf(src);
      if (feed >= 0) {
        feed_slots_[feed].push_back(dst.input_start + i);
        continue;
      }
      const int from = ix.Find(src.node);
      if (from < 0)
        return Internal("executor: input ", i, " of ", dst.node->DebugString(), " comes from ",
                        src.node->DebugString(), ", which is not part of the step");
      ExecNode& s = nodes_[from];
      s.out_edges.push_back({src.index, static_cast<int>(d), dst.input_start + i, false});
      dst.initial_pending++;
    }
    for (Node* c : dst.node->control_inputs()) {
      const int from = ix.Find(c);
      if (from < 0) continue;  // a control input of a fed-only path: nothing to wait for
      nodes_[from].out_edges.push_back({0, static_cast<int>(d), -1, false});
      dst.initial_pending++;
    }
  }
  return Status::OK();
}

// Data edges before control edges; mark each output's last reader.
void Executor::OrderOutEdges() {
  for (ExecNode& en : nodes_) {
    std::stable_partition(en.out_edges.begin(), en.out_edges.end(),
                          [](const OutEdge& e) { return e.dst_slot >= 0; });
    std::vector<bool> seen(en.num_outputs, false);
    for (auto it = en.out_edges.rbegin(); it != en.out_edges.rend(); ++it) {
      if (it->dst_slot < 0 || seen[it->output]) continue;
      seen[it->output] = true;
      it->last_use = true;
    }
  }
}

// Each fetch is answered by a feed or by a node's output.
Status Executor::ConnectFetches(const StepIndex& ix) {
  const auto& P = params_;
  fetch_is_ref_.assign(P.fetches.size(), false);
  for (size_t f = 0; f < P.fetches.size(); ++f) {
    const Output& o = P.fetches[f];
    const int fed = ix.FeedOf(o);
    if (fed >= 0) {
      feed_fetches_[fed].push_back(static_cast<int>(f));
      continue;
    }
    const int at = ix.Find(o.node);
    if (at < 0) return Internal("executor: fetched ", o.node->DebugString(), " is not part of the step");
    nodes_[at].fetch_index[o.index].push_back(static_cast<int>(f));
    fetch_is_ref_[f] = o.node->output_is_ref(o.index);
  }
  return Status::OK();
}

// Cycle check (Kahn); the nodes that wait on nothing become the roots.
Status Executor::CheckAcyclic() {
  std::vector<int> pending(nodes_.size());
  std::vector<int> queue;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    pending[i] = nodes_[i].initial_pending;
    if (pending[i] == 0) queue.push_back(static_cast<int>(i));
  }
  roots_ = queue;
  size_t visited = 0;
  while (!queue.empty()) {
    int n = queue.back();
    queue.pop_back();
    ++visited;
    for (const OutEdge& e : nodes_[n].out_edges)
      if (--pending[e.dst_node] == 0) queue.push_back(e.dst_node);
  }
  if (visited != nodes_.size()) {
    std::string names;
    int listed = 0;
    for (size_t i = 0; i < nodes_.size() && listed < 5; ++i)
      if (pending[i] > 0) {
        names += StrCat(listed++ ? ", " : "", "'", nodes_[i].node->name(), "'");
      }
    return InvalidArgument("the graph has a cycle; ops on it include ", names);
  }
  return Status::OK();
}

// Kernels and intrinsic state.
Status Executor::PrepareNode(ExecNode* node) {
  const auto& P = params_;
  ExecNode& en = *node;
  en.intrinsic = IntrinsicOf(en.node->type());
  if (en.intrinsic == kConst) {
    const Tensor* v = nullptr;
    RETURN_IF_ERROR(en.node->attrs().GetTensor("value", &v).WithPrefix(en.error_prefix));
    en.const_value = *v;
  } else if (en.intrinsic == kVariable) {
    if (!P.resources) return Internal("executor: no resource manager for variables");
    std::string shared;
    (void)en.node->attrs().GetString("shared_name", &shared);
    DataType dt = LOOM_DTYPE_FLOAT;
    PartialShape shape;
    (void)en.node->attrs().GetType("dtype", &dt);
    (void)en.node->attrs().GetShape("shape", &shape);
    en.variable = P.resources->LookupOrCreate(shared.empty() ? en.node->name() : shared, dt, shape);
  } else if (en.intrinsic == kSend || en.intrinsic == kRecv) {
    en.rendezvous_key = RendezvousKeyOf(*en.node);
  } else if (en.intrinsic == kResourceOp) {
    std::unique_ptr<ResourceOp> op;
    RETURN_IF_ERROR(ResourceOp::Create(en.node, P.resources, &op).WithPrefix(en.error_prefix));
    en.resource_op = std::move(op);
  } else if (en.intrinsic == kNotIntrinsic) {
    en.kernel = Registry::Get()->FindKernel(en.node->type(), en.device->type, en.node->attrs());
    if (!en.kernel)
      return NotFound(en.error_prefix, "no kernel registered for ", en.node->type(), " on ",
                      en.device->type, " with ", en.node->TypeAttrsString());
    en.kernel_state = en.kernel->user_data;
    if (en.kernel->create) {
      loom_kernel_construction cc{en.node, en.device};
      void* state = nullptr;
      RETURN_IF_ERROR(TakeStatus(en.kernel->create(en.kernel->user_data, &cc, &state))
                          .WithPrefix(en.error_prefix));
      en.kernel_state = state;
    }
  }
  return Status::OK();
}

// Memory placement of inputs and outputs.
void Executor::PlaceMemory() {
  slot_device_.assign(num_slots_, nullptr);
  slot_needs_host_.assign(num_slots_, 0);
  for (ExecNode& en : nodes_) {
    std::vector<MemoryType> in_mem;
    InputOutputMemory(en.node, en.device, en.kernel, &in_mem, &en.output_on_host);
    for (int i = 0; i < en.num_inputs; ++i) {
      if (in_mem[i] == MemoryType::kHost) slot_needs_host_[en.input_start + i] = 1;
      if (in_mem[i] == MemoryType::kDevice) slot_device_[en.input_start + i] = en.device;
    }
  }
  // A Recv places what it receives where its first consumer wants it (the
  // partitioner gives each memory type its own Recv).
  for (ExecNode& en : nodes_) {
    if (en.intrinsic != kRecv) continue;
    for (const OutEdge& e : en.out_edges)
      if (e.dst_slot >= 0) {
        en.recv_slot = e.dst_slot;
        break;
      }
  }
}

void InputOutputMemory(const Node* n, const Device* d, const KernelDef* kernel, std::vector<MemoryType>* inputs,
                       std::vector<uint8_t>* outputs_on_host) {
  const int ni = n->num_inputs(), no = n->num_outputs();
  outputs_on_host->assign(no, d->memory_is_host ? 1 : 0);
  if (!kernel) {
    // The core's own ops read and write host memory, except variables, which
    // live on their device (Assign copies into it): their inputs take any memory.
    inputs->assign(ni, MemoryType::kAny);
    return;
  }
  std::vector<uint8_t> input_on_host(ni, d->memory_is_host ? 1 : 0);
  if (!kernel->host_memory_args.empty() && n->op_def()) {
    auto mark = [&](const std::vector<ArgDef>& args, std::vector<uint8_t>* flags) {
      size_t pos = 0;
      for (const ArgDef& a : args) {
        int64_t count = 1;
        if (!a.number_attr.empty()) (void)n->attrs().GetInt(a.number_attr, &count);
        if (!a.type_list_attr.empty()) {
          std::vector<DataType> ts;
          (void)n->attrs().GetTypeList(a.type_list_attr, &ts);
          count = static_cast<int64_t>(ts.size());
        }
        bool host = std::find(kernel->host_memory_args.begin(), kernel->host_memory_args.end(), a.name) !=
                    kernel->host_memory_args.end();
        for (int64_t k = 0; k < count && pos < flags->size(); ++k, ++pos)
          if (host) (*flags)[pos] = 1;
      }
    };
    mark(n->op_def()->inputs, &input_on_host);
    mark(n->op_def()->outputs, outputs_on_host);
  }
  inputs->assign(ni, MemoryType::kAny);
  for (int i = 0; i < ni; ++i) {
    if (input_on_host[i])
      (*inputs)[i] = MemoryType::kHost;
    else if (!n->input_is_ref(i))
      (*inputs)[i] = MemoryType::kDevice;
  }
}

Status Executor::PlaceInput(Tensor* t, int slot) const {
  if (!t->valid()) return Status::OK();
  Device* where = t->buffer()->device;
  if (where && where->memory_is_host) where = nullptr;
  if (slot_needs_host_[slot]) {
    if (!where) return Status::OK();
    return CopyTensor(*t, nullptr, t);
  }
  Device* want = slot_device_[slot];
  if (!want || want->memory_is_host) {
    if (!where) return Status::OK();
    return want ? CopyTensor(*t, nullptr, t) : Status::OK();
  }
  if (where == want) return Status::OK();
  return CopyTensor(*t, want, t);
}

Status Executor::Run(const std::vector<Tensor>& feed_values, std::vector<Tensor>* fetch_values) {
  fetch_values->resize(params_.fetches.size());
  return Run(feed_values.data(), static_cast<int>(feed_values.size()), fetch_values->data(),
             static_cast<int>(fetch_values->size()));
}

Status Executor::Run(const Tensor* feed_values, int num_feeds, Tensor* fetch_values, int num_fetches) {
  if (num_feeds != static_cast<int>(params_.feeds.size()) ||
      num_fetches != static_cast<int>(params_.fetches.size()))
    return InvalidArgument("executor: expected ", params_.feeds.size(), " feeds and ",
                           params_.fetches.size(), " fetches, got ", num_feeds, " and ", num_fetches);
  if (!parts_.empty()) return RunPartitions(feed_values, fetch_values);
  RunState rs;
  const auto start = std::chrono::steady_clock::now();
  Status s = Start(&rs, feed_values, fetch_values, g_step_ids.fetch_add(1, std::memory_order_relaxed));
  if (!s.ok()) return s;
  WaitForStep(&rs, start);
  return Finish(&rs, fetch_values);
}

Status Executor::RunStep(const Tensor* feed_values, Tensor* fetch_values, Rendezvous* rendezvous,
                         uint64_t step_id) const {
  if (!parts_.empty()) return Internal("RunStep on a partitioned executor");
  RunState rs;
  rs.rendezvous = rendezvous;
  Status s = Start(&rs, feed_values, fetch_values, step_id);
  if (!s.ok()) {
    rendezvous->StartAbort(s);
    return s;
  }
  WaitForCounter(rs.outstanding, params_.pool);
  // Stopped by another partition's failure: report that root cause.
  if (rs.status.ok() && rendezvous->aborted()) return rendezvous->abort_status();
  return Finish(&rs, fetch_values);
}

Status Executor::Start(RunState* rs, const Tensor* feed_values, Tensor* fetch_values, uint64_t step_id) const {
  rs->step_id = step_id;
  rs->slots.resize(num_slots_);
  rs->slot_refs.assign(num_slots_, nullptr);
  rs->outs.resize(num_outputs_);
  rs->out_refs.assign(num_outputs_, nullptr);
  rs->pending.reset(new std::atomic<int>[nodes_.size()]);
  for (size_t i = 0; i < nodes_.size(); ++i)
    rs->pending[i].store(nodes_[i].initial_pending, std::memory_order_relaxed);
  rs->fetches = fetch_values;
  const int num_feeds = static_cast<int>(params_.feeds.size());
  for (int f = 0; f < num_feeds; ++f) {
    for (int slot : feed_slots_[f]) {
      rs->slots[slot].t = feed_values[f];
      RETURN_IF_ERROR(PlaceInput(&rs->slots[slot].t, slot)
                          .WithPrefix(StrCat("copying feed ", f, " to its device: ")));
    }
    for (int pos : feed_fetches_[f]) fetch_values[pos] = feed_values[f];
  }
  rs->outstanding.store(static_cast<int>(nodes_.size()), std::memory_order_relaxed);
  if (nodes_.empty()) return Status::OK();
  // Roots beyond the first go to the pool when there is inter-op parallelism.
  bool parallel = params_.pool && params_.inter_op_threads > 1 && params_.pool->num_workers() > 0;
  if (parallel) {
    for (size_t r = 1; r < roots_.size(); ++r) {
      int n = roots_[r];
      if (nodes_[n].intrinsic != kNotIntrinsic) continue;
      params_.pool->Schedule([this, rs, n] { RunFrom(rs, n); });
    }
    RunFrom(rs, roots_[0]);
    for (size_t r = 1; r < roots_.size(); ++r)
      if (nodes_[roots_[r]].intrinsic != kNotIntrinsic) RunFrom(rs, roots_[r]);
  } else {
    for (int r : roots_) RunFrom(rs, r);
  }
  return Status::OK();
}

void Executor::WaitForStep(RunState* rs, std::chrono::steady_clock::time_point start) const {
  const int64_t timeout = params_.operation_timeout_ms;
  if (timeout <= 0) {
    WaitForCounter(rs->outstanding, params_.pool);
    return;
  }
  // The partitions of one step share one deadline.
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  if (WaitForCounterFor(rs->outstanding, params_.pool, std::max<int64_t>(1, timeout - elapsed))) return;
  // Wakes what waits (a dequeue, a Recv) with the deadline; the rest is skipped.
  rs->rendezvous->StartAbort(
      DeadlineExceeded("the step did not finish within the operation timeout of ", timeout, " ms"));
  WaitForCounter(rs->outstanding, params_.pool);
}

Status Executor::Finish(RunState* rs, Tensor* fetch_values) const {
  if (!rs->status.ok()) return rs->status;
  const int num_fetches = static_cast<int>(params_.fetches.size());
  for (int f = 0; f < num_fetches; ++f) {
    if (!fetch_values[f].valid())
      return FailedPrecondition("fetch ", params_.fetches[f].node->name(), ":", params_.fetches[f].index,
                                " produced no value (an uninitialized variable?)");
    // Results are returned in host memory; a variable's value is copied out so
    // later updates do not change the result.
    if (!fetch_values[f].on_host()) {
      RETURN_IF_ERROR(CopyTensor(fetch_values[f], nullptr, &fetch_values[f])
                          .WithPrefix(StrCat("copying fetch ", f, " to the host: ")));
    } else if (fetch_is_ref_[f]) {
      fetch_values[f] = fetch_values[f].DeepCopy();
    }
  }
  return Status::OK();
}

Status Executor::CreatePartitioned(PartitionedParams pp, std::unique_ptr<Executor>* out) {
  ExecutorParams top;
  top.feeds = pp.feeds;
  top.fetches = pp.fetches;
  top.pool = pp.pool;
  std::unique_ptr<Executor> ex(new Executor(std::move(top)));
  ex->graphs_ = std::move(pp.graphs);
  for (ExecutorParams& p : pp.parts) {
    std::unique_ptr<Executor> part;
    RETURN_IF_ERROR(Create(std::move(p), &part));
    ex->parts_.push_back(std::move(part));
  }
  ex->part_feeds_ = std::move(pp.feed_index);
  ex->part_fetches_ = std::move(pp.fetch_index);
  // A fetched output that is also fed answers with the feed.
  ex->fetch_from_feed_.assign(pp.fetches.size(), -1);
  for (size_t f = 0; f < pp.fetches.size(); ++f)
    for (size_t i = 0; i < pp.feeds.size(); ++i)
      if (pp.fetches[f] == pp.feeds[i]) ex->fetch_from_feed_[f] = static_cast<int>(i);
  *out = std::move(ex);
  return Status::OK();
}

Status Executor::RunPartitions(const Tensor* feed_values, Tensor* fetch_values) const {
  // One rendezvous and step id for all partitions; each starts in this thread
  // and runs until it waits on a Recv, whose Send then continues it.
  Rendezvous rendezvous;
  const auto start = std::chrono::steady_clock::now();
  const uint64_t step_id = g_step_ids.fetch_add(1, std::memory_order_relaxed);
  const size_t n = parts_.size();
  std::vector<RunState> states(n);
  std::vector<std::vector<Tensor>> feeds(n), fetches(n);
  size_t started = 0;
  Status start_error;
  for (size_t p = 0; p < n; ++p) {
    for (int f : part_feeds_[p]) feeds[p].push_back(feed_values[f]);
    fetches[p].resize(part_fetches_[p].size());
    states[p].rendezvous = &rendezvous;
    start_error = parts_[p]->Start(&states[p], feeds[p].data(), fetches[p].data(), step_id);
    if (!start_error.ok()) {
      rendezvous.StartAbort(start_error);
      break;
    }
    ++started;
  }
  for (size_t p = 0; p < started; ++p) parts_[p]->WaitForStep(&states[p], start);
  if (!start_error.ok()) return start_error;
  // The first failure aborted the rendezvous with its status: that is the root
  // cause; the other partitions' errors are the cancellation it caused.
  Status root = rendezvous.abort_status();
  if (!root.ok()) return root;
  for (size_t p = 0; p < n; ++p) {
    RETURN_IF_ERROR(parts_[p]->Finish(&states[p], fetches[p].data()));
    for (size_t i = 0; i < part_fetches_[p].size(); ++i)
      fetch_values[part_fetches_[p][i]] = std::move(fetches[p][i]);
  }
  for (size_t f = 0; f < fetch_from_feed_.size(); ++f)
    if (fetch_from_feed_[f] >= 0) fetch_values[f] = feed_values[fetch_from_feed_[f]];
  return Status::OK();
}

void Executor::RunFrom(RunState* rs, int first) const {
  std::vector<int> stack;
  stack.reserve(16);
  stack.push_back(first);
  const bool parallel = params_.pool && params_.inter_op_threads > 1 && params_.pool->num_workers() > 0;
  while (!stack.empty()) {
    int n = stack.back();
    stack.pop_back();
    size_t before = stack.size();
    if (!Process(rs, n, &stack)) continue;  // asynchronous: its callback continues
    // Several nodes became ready: keep the last inline, hand expensive others to the pool.
    if (parallel && stack.size() > before + 1) {
      size_t keep = before;
      for (size_t i = before; i + 1 < stack.size(); ++i) {
        int m = stack[i];
        if (nodes_[m].intrinsic == kNotIntrinsic) {
          params_.pool->Schedule([this, rs, m] { RunFrom(rs, m); });
        } else {
          stack[keep++] = m;
        }
      }
      stack[keep++] = stack.back();
      stack.resize(keep);
    }
  }
}

Status Executor::CheckInputs(RunState* rs, const ExecNode& en) const {
  for (int i = 0; i < en.num_inputs; ++i) {
    int slot = en.input_start + i;
    if (rs->slots[slot].t.valid()) continue;
    if (i == 0 && (en.intrinsic == kAssign || en.intrinsic == kIsVariableInitialized)) continue;
    if (en.intrinsic == kResourceOp && en.resource_op->IsHandleInput(i)) continue;  // a handle has no value
    if (Variable* v = rs->slot_refs[slot])
      return FailedPrecondition("Attempting to use uninitialized value ", v->name,
                                " (input ", i, " of ", en.node->DebugString(), ")");
    return Internal("input ", i, " of ", en.node->DebugString(), " has no value");
  }
  return Status::OK();
}

bool Executor::Process(RunState* rs, int n, std::vector<int>* ready) const {
  const ExecNode& en = nodes_[n];
  // Once the step failed — here, or in another partition of it (the shared
  // rendezvous is aborted) — the remaining ops are skipped.
  if (rs->failed.load(std::memory_order_relaxed) || rs->rendezvous->aborted()) {
    NodeDone(rs, n, Status::OK(), ready);
    return true;
  }
  Status s = CheckInputs(rs, en);
  loom_kernel_context ctx;
  ctx.node = en.node;
  ctx.device = en.device;
  ctx.pool = params_.pool;
  ctx.num_threads = params_.intra_op_threads;
  ctx.step_id = rs->step_id;
  ctx.inputs = rs->slots.data() + en.input_start;
  ctx.num_inputs = en.num_inputs;
  ctx.outputs = rs->outs.data() + en.output_start;
  ctx.num_outputs = en.num_outputs;
  ctx.output_on_host = en.output_on_host.data();
  if (s.ok()) {
    if (en.intrinsic == kRecv) {
      rs->rendezvous->RecvAsync(en.rendezvous_key, [this, rs, n](const Status& st, const Tensor& t) {
        const ExecNode& e = nodes_[n];
        Status status = st;
        if (status.ok()) {
          Tensor& out = rs->outs[e.output_start].t;
          out = t;
          // Deliver into the memory its consumers read (the devices' copy functions).
          if (e.recv_slot >= 0) status = PlaceInput(&out, e.recv_slot);
        }
        std::vector<int> more;
        NodeDone(rs, n, status, &more);
        // This runs on the sender's thread (inside its Send): continue on the
        // pool, so chains of Send/Recv do not nest on one stack.
        for (int m : more) {
          if (params_.pool)
            params_.pool->Schedule([this, rs, m] { RunFrom(rs, m); });
          else
            RunFrom(rs, m);
        }
      });
      return false;
    }
    if (en.intrinsic == kResourceOp) return ProcessResourceOp(rs, n, ready);
    if (en.intrinsic != kNotIntrinsic) {
      s = RunIntrinsic(rs, en, &ctx);
    } else if (en.kernel->compute) {
      s = TakeStatus(en.kernel->compute(en.kernel_state, &ctx));
    } else {
      // Asynchronous kernel: the context must outlive this call.
      auto* actx = new loom_kernel_context;
      actx->node = ctx.node;
      actx->device = ctx.device;
      actx->pool = ctx.pool;
      actx->num_threads = ctx.num_threads;
      actx->step_id = ctx.step_id;
      actx->inputs = ctx.inputs;
      actx->num_inputs = ctx.num_inputs;
      actx->outputs = ctx.outputs;
      actx->num_outputs = ctx.num_outputs;
      actx->output_on_host = ctx.output_on_host;
      struct Done {
        const Executor* ex;
        RunState* rs;
        int n;
        loom_kernel_context* ctx;
      };
      auto* done = new Done{this, rs, n, actx};
      en.kernel->compute_async(en.kernel_state, actx, [](void* arg, loom_status* st) {
        Done* d = static_cast<Done*>(arg);
        Status status = TakeStatus(st);
        const ExecNode& e = d->ex->nodes_[d->n];
        for (int o = 0; status.ok() && o < e.num_outputs; ++o)
          if (!d->rs->outs[e.output_start + o].t.valid())
            status = Internal("kernel did not set output ", o);
        std::vector<int> more;
        d->ex->NodeDone(d->rs, d->n, status, &more);
        for (int m : more) d->ex->RunFrom(d->rs, m);
        delete d->ctx;
        delete d;
      }, done);
      return false;
    }
    if (s.ok()) s = CheckOutputs(rs, en);
  }
  NodeDone(rs, n, s, ready);
  return true;
}

Status Executor::CheckOutputs(RunState* rs, const ExecNode& en) const {
  for (int o = 0; o < en.num_outputs; ++o) {
    const Tensor& t = rs->outs[en.output_start + o].t;
    // A variable may be uninitialized; a queue's handle carries no value.
    if (!t.valid() && !(en.intrinsic == kVariable) && !(en.intrinsic == kResourceOp && en.node->output_is_ref(o)))
      return Internal("kernel did not set output ", o);
    if (t.valid() && t.dtype() != en.node->output_dtype(o))
      return Internal("kernel produced ", DataTypeName(t.dtype()), " for output ", o, " of dtype ",
                      DataTypeName(en.node->output_dtype(o)));
  }
  return Status::OK();
}

bool Executor::ProcessResourceOp(RunState* rs, int n, std::vector<int>* ready) const {
  const ExecNode& en = nodes_[n];
  // Whichever of Compute's return and the op's done comes second continues
  // the step: inline if done came first, else from done (later, on the thread
  // that made the op possible: an enqueue, a close, the step's abort).
  struct Call {
    std::atomic<int> phase{0};
    Status status;
    ResourceOpContext ctx;
  };
  auto* call = new Call;
  call->ctx.inputs = rs->slots.data() + en.input_start;
  call->ctx.outputs = rs->outs.data() + en.output_start;
  call->ctx.rendezvous = rs->rendezvous;
  en.resource_op->Compute(&call->ctx, [this, rs, n, call](const Status& st) {
    call->status = st;
    if (call->phase.exchange(1) == 0) return;  // inside Compute: the caller continues
    Status s = call->status;
    delete call;
    const ExecNode& e = nodes_[n];
    if (s.ok()) s = CheckOutputs(rs, e);
    std::vector<int> more;
    NodeDone(rs, n, s, &more);
    // Continue on this step's pool, never on the thread of whoever woke us
    // (another step, or another session's).
    for (int m : more) {
      if (params_.pool)
        params_.pool->Schedule([this, rs, m] { RunFrom(rs, m); });
      else
        RunFrom(rs, m);
    }
  });
  if (call->phase.exchange(1) == 0) return false;  // waiting: done continues the step
  Status s = call->status;
  delete call;
  if (s.ok()) s = CheckOutputs(rs, en);
  NodeDone(rs, n, s, ready);
  return true;
}

Status Executor::RunIntrinsic(RunState* rs, const ExecNode& en, loom_kernel_context* ctx) const {
  loom_tensor* in = ctx->inputs;
  loom_tensor* out = ctx->outputs;
  Variable** out_refs = rs->out_refs.data() + en.output_start;
  Variable** in_refs = rs->slot_refs.data() + en.input_start;
  switch (en.intrinsic) {
    case kConst:
      out[0].t = en.const_value;
      return Status::OK();
    case kPlaceholder: {
      DataType dt = en.node->output_dtype(0);
      PartialShape shape;
      (void)en.node->attrs().GetShape("shape", &shape);
      return InvalidArgument("You must feed a value for placeholder tensor '", en.node->name(),
                             "' with dtype ", DataTypeName(dt), " and shape ", shape.ToString());
    }
    case kPlaceholderWithDefault:
    case kIdentity:
      out[0].t = in[0].t;
      return Status::OK();
    case kNoOp:
      return Status::OK();
    case kVariable: {
      std::lock_guard<std::mutex> l(en.variable->mu);
      out[0].t = en.variable->value;
      out_refs[0] = en.variable;
      return Status::OK();
    }
    case kIsVariableInitialized: {
      Variable* v = in_refs[0];
      if (!v) return InvalidArgument("input is not a variable");
      RETURN_IF_ERROR(Tensor::Allocate(LOOM_DTYPE_BOOL, TensorShape{}, &out[0].t));
      *out[0].t.data_as<uint8_t>() = v->initialized() ? 1 : 0;
      return Status::OK();
    }
    case kAssign: {
      Variable* v = in_refs[0];
      if (!v) return InvalidArgument("input 'ref' is not a variable");
      const Tensor& value = in[1].t;
      bool validate = true;
      (void)en.node->attrs().GetBool("validate_shape", &validate);
      Tensor moved;
      const Tensor* src = &value;
      Device* var_dev = en.device->memory_is_host ? nullptr : en.device;
      Device* val_dev = value.on_host() ? nullptr : value.buffer()->device;
      if (var_dev != val_dev) {
        RETURN_IF_ERROR(CopyTensor(value, var_dev, &moved));
        src = &moved;
      }
      const Tensor& value_here = *src;
      std::lock_guard<std::mutex> l(v->mu);
      if (validate) {
        const PartialShape& want = v->value.valid() ? PartialShape(v->value.shape()) : v->shape;
        if (!want.IsCompatibleWith(value_here.shape()))
          return InvalidArgument("Assign requires shapes of both tensors to match. lhs shape= ",
                                 want.ToString(), " rhs shape= ", value_here.shape().ToString());
      }
      // value_here is in the variable's memory now: update in place when the
      // shape is unchanged, adopt the buffer when nobody else holds it, else copy.
      if (v->value.valid() && v->value.shape() == value_here.shape() &&
          v->value.dtype() == value_here.dtype()) {
        if (value_here.data() != v->value.data())
          RETURN_IF_ERROR(en.device->CopyDeviceToDevice(v->value.data(), value_here.data(),
                                                        value_here.byte_size()));
      } else if (value_here.buffer().use_count() == 1) {
        v->value = value_here;
      } else {
        Tensor fresh;
        RETURN_IF_ERROR(CopyTensor(value_here, var_dev, &fresh));
        v->value = fresh;
      }
      out[0].t = v->value;
      out_refs[0] = v;
      return Status::OK();
    }
    case kCountUpTo: {
      // tf.train.limit_epochs' counter: old value out, +1 in place, OUT_OF_RANGE at the limit.
      Variable* v = in_refs[0];
      if (!v) return InvalidArgument("input 'ref' is not a variable");
      int64_t limit = 0;
      (void)en.node->attrs().GetInt("limit", &limit);
      std::lock_guard<std::mutex> l(v->mu);
      Tensor& value = v->value;
      if (!value.valid())
        return FailedPrecondition("Attempting to use uninitialized value ", v->name, " (input 0 of ",
                                  en.node->DebugString(), ")");
      if (!value.on_host() || value.num_elements() != 1)
        return InvalidArgument("CountUpTo needs a scalar variable in host memory, got ", value.shape().ToString());
      const bool is64 = value.dtype() == LOOM_DTYPE_INT64;
      const int64_t before = is64 ? *value.data_as<int64_t>() : *value.data_as<int32_t>();
      if (before >= limit) return OutOfRange("Reached limit of ", limit);
      RETURN_IF_ERROR(Tensor::Allocate(value.dtype(), TensorShape{}, &out[0].t));
      if (is64) {
        *out[0].t.data_as<int64_t>() = before;
        *value.data_as<int64_t>() = before + 1;
      } else {
        *out[0].t.data_as<int32_t>() = static_cast<int32_t>(before);
        *value.data_as<int32_t>() = static_cast<int32_t>(before + 1);
      }
      return Status::OK();
    }
    case kSend: {
      const std::string& key = en.rendezvous_key;
      if (Variable* v = in_refs[0]) {
        // A variable's value is sent as it is now, not as later in-place
        // updates leave it by the time the receiver reads.
        Tensor snapshot;
        {
          std::lock_guard<std::mutex> l(v->mu);
          const Tensor& t = v->value.valid() ? v->value : in[0].t;
          RETURN_IF_ERROR(CopyTensor(t, t.on_host() ? nullptr : t.buffer()->device, &snapshot));
        }
        return rs->rendezvous->Send(key, snapshot);
      }
      return rs->rendezvous->Send(key, in[0].t);
    }
    default:
      return Internal("not an intrinsic: ", en.node->type());
  }
}

void Executor::NodeDone(RunState* rs, int n, const Status& s, std::vector<int>* ready) const {
  const ExecNode& en = nodes_[n];
  if (!s.ok()) {
    bool first = false;
    {
      std::lock_guard<std::mutex> l(rs->mu);
      if (rs->status.ok()) {
        // Errors from the core already name the op; kernel errors get the prefix.
        rs->status = s.message().rfind(en.error_prefix, 0) == 0 ? s : s.WithPrefix(en.error_prefix);
        first = true;
      }
    }
    rs->failed.store(true, std::memory_order_relaxed);
    if (first) rs->rendezvous->StartAbort(rs->status);
  }
  loom_tensor* outs = rs->outs.data() + en.output_start;
  Variable** out_refs = rs->out_refs.data() + en.output_start;
  for (int o = 0; o < en.num_outputs; ++o)
    for (int pos : en.fetch_index[o]) rs->fetches[pos] = outs[o].t;
  for (int i = 0; i < en.num_inputs; ++i) {
    rs->slots[en.input_start + i].t = Tensor();
  }
  // Ref outputs of ops that update a variable carry the variable along.
  for (int o = 0; o < en.num_outputs; ++o)
    if (!out_refs[o] && en.node->output_is_ref(o) && en.num_inputs > 0)
      out_refs[o] = rs->slot_refs[en.input_start];
  for (const OutEdge& e : en.out_edges) {
    if (e.dst_slot >= 0) {
      if (e.last_use) {
        rs->slots[e.dst_slot].t = std::move(outs[e.output].t);
      } else {
        rs->slots[e.dst_slot].t = outs[e.output].t;
      }
      rs->slot_refs[e.dst_slot] = out_refs[e.output];
      if (slot_device_[e.dst_slot] || slot_needs_host_[e.dst_slot]) {
        Status cs = PlaceInput(&rs->slots[e.dst_slot].t, e.dst_slot);
        if (!cs.ok()) {
          std::lock_guard<std::mutex> l(rs->mu);
          if (rs->status.ok())
            rs->status = cs.WithPrefix(StrCat("copying output ", e.output, " of ", en.node->DebugString(),
                                              " from ", en.device->name, ": "));
          rs->failed.store(true, std::memory_order_relaxed);
        }
      }
    }
    if (rs->pending[e.dst_node].fetch_sub(1, std::memory_order_acq_rel) == 1) ready->push_back(e.dst_node);
  }
  for (int o = 0; o < en.num_outputs; ++o) outs[o].t = Tensor();
  rs->outstanding.fetch_sub(1, std::memory_order_acq_rel);
}

}  // namespace loom
