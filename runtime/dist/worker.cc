#include "runtime/dist/worker.h"

#include <random>
#include <thread>

#include "proto/worker.pb.h"
#include "runtime/dist/wire.h"
#include "runtime/graph/graphdef.h"
#include "runtime/placement/device_name.h"

namespace loom {

namespace {

uint64_t NewIncarnation() {
  std::random_device rd;
  uint64_t x = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
               static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  return x ? x : 1;
}

// "/job:ps/replica:0/task:0/device:CPU:0" -> "/job:ps/replica:0/task:0".
std::string TaskOf(const std::string& device) {
  size_t d = device.find("/device:");
  return d == std::string::npos ? std::string() : device.substr(0, d);
}

Status ParseOutputName(const std::string& s, Graph* g, Output* out) {
  size_t colon = s.rfind(':');
  std::string name = colon == std::string::npos ? s : s.substr(0, colon);
  int index = colon == std::string::npos ? 0 : std::atoi(s.c_str() + colon + 1);
  Node* n = g->FindNode(name);
  if (!n) return InvalidArgument("the graph has no op '", name, "'");
  if (index < 0 || index >= n->num_outputs())
    return InvalidArgument("'", s, "': ", n->DebugString(), " has ", n->num_outputs(), " outputs");
  *out = Output{n, index};
  return Status::OK();
}

}  // namespace

// A step's rendezvous on this task: keys whose Send ran here are met locally;
// keys sent by another task are pulled from it (RecvTensor). An abort also
// completes the pulls still waiting, with the abort's status.
class RemoteRendezvous : public Rendezvous, public std::enable_shared_from_this<RemoteRendezvous> {
 public:
  RemoteRendezvous(WorkerService* worker, uint64_t step_id) : worker_(worker), step_id_(step_id) {}

  void RecvAsync(const std::string& key, DoneCallback done) override {
    const std::string src_task = TaskOf(key.substr(0, key.find(';')));
    if (src_task.empty() || src_task == worker_->task_name()) {
      Rendezvous::RecvAsync(key, std::move(done));
      return;
    }
    auto pull = std::make_shared<Pull>();
    pull->done = std::move(done);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (aborted()) {
        Status s = abort_status();
        pull->done(s, Tensor());
        return;
      }
      pulls_.push_back(pull);
    }
    // The pull may complete after the step ended (a cancelled transport call):
    // it keeps the rendezvous alive until then.
    worker_->PullTensor(src_task, step_id_, key, deadline_ms_,
                        [self = shared_from_this(), pull](const Status& s, const Tensor& t) {
                          self->Finish(pull, s, t);
                        });
  }
  // The local half, for answering another task's pull.
  void LocalRecvAsync(const std::string& key, DoneCallback done) { Rendezvous::RecvAsync(key, std::move(done)); }

  void StartAbort(const Status& s) override {
    Rendezvous::StartAbort(s);
    std::vector<std::shared_ptr<Pull>> waiting;
    {
      std::lock_guard<std::mutex> l(mu_);
      waiting.swap(pulls_);
    }
    Status root = abort_status();
    for (auto& p : waiting) Finish(p, root, Tensor());
  }
  void set_deadline_ms(int64_t ms) { deadline_ms_ = ms; }

 private:
  struct Pull {
    std::atomic<bool> finished{false};
    DoneCallback done;
  };
  void Finish(const std::shared_ptr<Pull>& p, const Status& s, const Tensor& t) {
    if (p->finished.exchange(true)) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 0; i < pulls_.size(); ++i)
        if (pulls_[i] == p) {
          pulls_.erase(pulls_.begin() + static_cast<long>(i));
          break;
        }
    }
    p->done(s, t);
  }
  WorkerService* worker_;
  const uint64_t step_id_;
  std::atomic<int64_t> deadline_ms_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<Pull>> pulls_;
};

// Threads for steps and registrations. A partition blocks its thread until
// its step ends, and may wait for another partition of the same step queued
// here: so a task never waits in the queue behind a blocked one — a thread is
// added whenever tasks outnumber idle threads — and idle threads are reused
// (thread creation per step cost ~30-50 us).
class WorkerService::StepThreads {
 public:
  ~StepThreads() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
  }
  void Schedule(std::function<void()> fn) {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(fn));
    if (static_cast<int>(queue_.size()) > idle_)
      threads_.emplace_back([this] { Loop(); });
    else
      cv_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      ++idle_;
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      --idle_;
      if (queue_.empty()) return;  // stopping
      std::function<void()> fn = std::move(queue_.front());
      queue_.pop_front();
      l.unlock();
      fn();
      l.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  int idle_ = 0;
  bool stop_ = false;
};

struct WorkerService::RegisteredGraph {
  std::string master;
  std::unique_ptr<Graph> graph;
  std::unique_ptr<Executor> executor;
  std::vector<std::string> feed_names;
};

WorkerService::WorkerService(WorkerOptions options, Endpoint* endpoint)
    : options_(std::move(options)),
      task_name_(TaskName(options_.job, options_.task)),
      incarnation_(NewIncarnation()),
      endpoint_(endpoint) {
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads_ = options_.threads > 0 ? options_.threads : cores;
  pool_ = std::make_unique<ThreadPool>(threads_ - 1);
  step_threads_ = std::make_unique<StepThreads>();
}

WorkerService::~WorkerService() {
  // Running steps end: abort them, then wait for their threads.
  std::vector<std::shared_ptr<RemoteRendezvous>> live;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& s : steps_) live.push_back(s.second.rendezvous);
  }
  for (auto& r : live) r->StartAbort(Cancelled("the server at ", task_name_, " is shutting down"));
  std::unique_lock<std::mutex> l(mu_);
  idle_.wait(l, [&] { return running_ == 0; });
  l.unlock();
  step_threads_.reset();
  graphs_.clear();
  pool_.reset();
}

void WorkerService::Detach(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++running_;
  }
  step_threads_->Schedule([this, fn = std::move(fn)] {
    fn();
    std::lock_guard<std::mutex> l(mu_);
    if (--running_ == 0) idle_.notify_all();
  });
}

void WorkerService::Touch(const std::string& master) {
  std::lock_guard<std::mutex> l(mu_);
  masters_[master] = std::chrono::steady_clock::now();
}

int WorkerService::num_graphs() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(graphs_.size());
}
int WorkerService::num_steps() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(steps_.size());
}

void WorkerService::Handle(loom_transport_request* request, const std::string& peer, WireMessage msg) {
  switch (msg.method) {
    case kGetStatus: return GetStatus(request);
    case kRegisterGraph: return RegisterGraph(request, msg);
    case kRunGraph: return RunGraph(request, msg);
    case kCleanupGraph: return CleanupGraph(request, msg);
    case kRecvTensor: return RecvTensor(request, msg);
    case kEndStep: return EndStep(request, msg);
    default:
      endpoint_->Respond(request,
                         InvalidArgument("unknown method ", msg.method, " from '", peer, "' (this is ", task_name_,
                                         ")"),
                         "", {});
  }
}

void WorkerService::GetStatus(loom_transport_request* request) {
  pb::GetStatusResponse resp;
  resp.set_task(task_name_);
  resp.set_incarnation(incarnation_);
  for (Device* d : Registry::Get()->devices()) {
    pb::DeviceAttributes* a = resp.add_devices();
    a->set_name(task_name_ + d->name);
    a->set_type(d->type);
    a->set_ordinal(d->ordinal);
    a->set_priority(d->priority);
    a->set_memory_is_host(d->memory_is_host);
  }
  for (const auto& job : options_.cluster.jobs) {
    pb::JobDef* j = resp.mutable_cluster()->add_job();
    j->set_name(job.first);
    for (const auto& t : job.second) j->add_tasks(t);
  }
  endpoint_->Respond(request, Status::OK(), EncodeHeader(resp), {});
}

Status WorkerService::RegisterGraphImpl(const std::string& header, std::string* handle) {
  pb::RegisterGraphRequest req;
  RETURN_IF_ERROR(DecodeHeader(header, &req, "RegisterGraph"));
  if (req.incarnation() && req.incarnation() != incarnation_)
    return Aborted(task_name_, " restarted (incarnation ", incarnation_, ", the master expected ", req.incarnation(),
                   ")");
  auto rg = std::make_shared<RegisteredGraph>();
  rg->master = req.master();
  rg->graph = std::make_unique<Graph>();
  ImportOptions io;
  std::vector<Node*> added;
  RETURN_IF_ERROR(ImportGraphDef(req.graph_def().data(), req.graph_def().size(), io, rg->graph.get(), &added)
                      .WithPrefix("RegisterGraph: "));
  ExecutorParams p;
  for (const auto& f : req.feeds()) {
    Output o;
    RETURN_IF_ERROR(ParseOutputName(f, rg->graph.get(), &o).WithPrefix("RegisterGraph: feed: "));
    p.feeds.push_back(o);
    rg->feed_names.push_back(f);
  }
  for (const auto& f : req.fetches()) {
    Output o;
    RETURN_IF_ERROR(ParseOutputName(f, rg->graph.get(), &o).WithPrefix("RegisterGraph: fetch: "));
    p.fetches.push_back(o);
  }
  Registry* reg = Registry::Get();
  for (Node* n : added) {
    bool fed = false;
    for (const Output& o : p.feeds) fed |= o.node == n;
    if (fed) continue;  // a feed's stub: its consumers get the fed value
    DeviceName dn;
    RETURN_IF_ERROR(ParseDeviceName(n->requested_device(), &dn).WithPrefix(n->DebugString() + ": "));
    if ((dn.has_job && TaskName(dn.job, dn.task) != task_name_) || !dn.has_type)
      return InvalidArgument("RegisterGraph: ", n->DebugString(), " is placed on '", n->requested_device(),
                             "', not on a device of this task (", task_name_, ")");
    Device* d = reg->FindDevice(dn.type, dn.has_id ? dn.id : 0);
    if (!d) return NotFound("RegisterGraph: ", n->DebugString(), " is placed on ", n->requested_device(), " but ",
                            task_name_, " has no such device");
    p.nodes.push_back(n);
    p.devices.push_back(d);
  }
  p.pool = pool_.get();
  p.inter_op_threads = threads_;
  p.intra_op_threads = threads_;
  p.resources = &resources_;
  RETURN_IF_ERROR(Executor::Create(std::move(p), &rg->executor).WithPrefix(StrCat("RegisterGraph on ", task_name_, ": ")));
  std::lock_guard<std::mutex> l(mu_);
  *handle = StrCat(req.master(), "/", next_graph_++);
  masters_[req.master()] = std::chrono::steady_clock::now();
  graphs_[*handle] = std::move(rg);
  return Status::OK();
}

void WorkerService::RegisterGraph(loom_transport_request* request, const WireMessage& msg) {
  // Import and kernel creation take a while: off the transport's thread.
  Detach([this, request, header = msg.header] {
    std::string handle;
    Status s = RegisterGraphImpl(header, &handle);
    pb::RegisterGraphResponse resp;
    resp.set_graph_handle(handle);
    endpoint_->Respond(request, s, EncodeHeader(resp), {});
  });
}

std::shared_ptr<RemoteRendezvous> WorkerService::Step(uint64_t step_id, int run) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = steps_.find(step_id);
  if (it != steps_.end()) {
    it->second.last_used = std::chrono::steady_clock::now();
    it->second.running += run;
    return it->second.rendezvous;
  }
  if (run < 0) return nullptr;  // ended and cleaned up meanwhile
  auto r = std::make_shared<RemoteRendezvous>(this, step_id);
  auto ended = ended_.find(step_id);
  if (ended != ended_.end())
    r->StartAbort(ended->second.ok() ? Aborted("step ", step_id, " already ended on ", task_name_) : ended->second);
  steps_[step_id] = StepEntry{r, std::chrono::steady_clock::now(), run};
  return r;
}

void WorkerService::RunGraph(loom_transport_request* request, const WireMessage& msg) {
  auto req = std::make_shared<pb::RunGraphRequest>();
  Status s = DecodeHeader(msg.header, req.get(), "RunGraph");
  std::shared_ptr<RegisteredGraph> rg;
  if (s.ok() && req->incarnation() && req->incarnation() != incarnation_)
    s = Aborted(task_name_, " restarted (incarnation ", incarnation_, ", the master expected ", req->incarnation(), ")");
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = graphs_.find(req->graph_handle());
    if (it == graphs_.end())
      s = NotFound("RunGraph: graph '", req->graph_handle(), "' is not registered on ", task_name_);
    else
      rg = it->second;
  }
  std::vector<Tensor> feeds;
  if (s.ok() && req->feeds_size() != static_cast<int>(rg->feed_names.size()))
    s = InvalidArgument("RunGraph: ", req->feeds_size(), " feeds for a graph registered with ",
                        rg->feed_names.size());
  for (int i = 0; s.ok() && i < req->feeds_size(); ++i) {
    if (req->feeds(i).name() != rg->feed_names[i])
      s = InvalidArgument("RunGraph: feed ", i, " is '", req->feeds(i).name(), "', expected '", rg->feed_names[i], "'");
    Tensor t;
    if (s.ok()) s = DecodeTensor(req->feeds(i), msg.payloads, StrCat("RunGraph feed '", rg->feed_names[i], "'"), &t);
    feeds.push_back(std::move(t));
  }
  if (s.ok()) s = ValidateFeeds(rg->executor->params().feeds, feeds.data());
  if (!s.ok()) {
    endpoint_->Respond(request, s, "", {});
    return;
  }
  Touch(rg->master);
  std::shared_ptr<RemoteRendezvous> rendezvous = Step(req->step_id(), +1);
  rendezvous->set_deadline_ms(req->timeout_ms());
  Detach([this, request, req, rg, rendezvous, feeds = std::move(feeds)]() mutable {
    std::vector<Tensor> fetches(rg->executor->params().fetches.size());
    Status st = rg->executor->RunStep(feeds.data(), fetches.data(), rendezvous.get(), req->step_id());
    (void)Step(req->step_id(), -1);
    pb::RunGraphResponse resp;
    std::vector<Tensor> payloads;
    for (size_t i = 0; st.ok() && i < fetches.size(); ++i) {
      const Output& o = rg->executor->params().fetches[i];
      st = EncodeTensor(fetches[i], StrCat(o.node->name(), ":", o.index), resp.add_fetches(), &payloads);
    }
    endpoint_->Respond(request, st, EncodeHeader(resp), payloads);
  });
}

void WorkerService::CleanupGraph(loom_transport_request* request, const WireMessage& msg) {
  pb::CleanupGraphRequest req;
  Status s = DecodeHeader(msg.header, &req, "CleanupGraph");
  if (s.ok()) {
    std::vector<std::shared_ptr<RegisteredGraph>> dropped;  // destroyed outside the lock
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = graphs_.begin(); it != graphs_.end();) {
      bool drop = (!req.graph_handle().empty() && it->first == req.graph_handle()) ||
                  (!req.master().empty() && it->second->master == req.master());
      if (drop) {
        dropped.push_back(it->second);
        it = graphs_.erase(it);
      } else {
        ++it;
      }
    }
    if (!req.master().empty()) masters_.erase(req.master());
  }
  endpoint_->Respond(request, s, EncodeHeader(pb::CleanupGraphResponse()), {});
}

void WorkerService::RecvTensor(loom_transport_request* request, const WireMessage& msg) {
  pb::RecvTensorRequest req;
  Status s = DecodeHeader(msg.header, &req, "RecvTensor");
  if (s.ok() && req.incarnation() && req.incarnation() != incarnation_)
    s = Aborted(task_name_, " restarted (incarnation ", incarnation_, ", the puller expected ", req.incarnation(), ")");
  if (s.ok() && TaskOf(req.key().substr(0, req.key().find(';'))) != task_name_)
    s = InvalidArgument("RecvTensor: key '", req.key(), "' was not sent by ", task_name_);
  if (!s.ok()) {
    endpoint_->Respond(request, s, "", {});
    return;
  }
  std::string key = req.key();
  Step(req.step_id())->LocalRecvAsync(key, [this, request, key](const Status& st, const Tensor& t) {
    if (!st.ok()) {
      endpoint_->Respond(request, st, "", {});
      return;
    }
    pb::RecvTensorResponse resp;
    std::vector<Tensor> payloads;
    Status es = EncodeTensor(t, key, resp.mutable_tensor(), &payloads);
    endpoint_->Respond(request, es, EncodeHeader(resp), payloads);
  });
}

void WorkerService::EndStep(loom_transport_request* request, const WireMessage& msg) {
  pb::EndStepRequest req;
  Status s = DecodeHeader(msg.header, &req, "EndStep");
  if (s.ok()) {
    Status end = req.code() == 0 ? Status::OK()
                                 : Status(static_cast<loom_code>(req.code() > 0 && req.code() <= 16 ? req.code() : 2),
                                          req.message());
    std::shared_ptr<RemoteRendezvous> r = Step(req.step_id());
    if (!end.ok()) r->StartAbort(end);
    std::lock_guard<std::mutex> l(mu_);
    if (end.ok()) steps_.erase(req.step_id());
    if (ended_.emplace(req.step_id(), end).second) {
      ended_order_.push_back(req.step_id());
      if (ended_order_.size() > 4096) {
        ended_.erase(ended_order_.front());
        ended_order_.pop_front();
      }
    }
  }
  endpoint_->Respond(request, s, EncodeHeader(pb::EndStepResponse()), {});
}

void WorkerService::PullTensor(const std::string& task, uint64_t step_id, const std::string& key, int64_t deadline_ms,
                               std::function<void(const Status&, const Tensor&)> done) {
  DeviceName dn;
  std::string address;
  Status s = ParseDeviceName(task, &dn);
  if (s.ok()) s = options_.cluster.Address(dn.job, dn.task, &address);
  loom_transport_peer* peer = nullptr;
  if (s.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = peers_.find(address);
    if (it != peers_.end()) peer = it->second;
  }
  if (s.ok() && !peer) {
    s = endpoint_->Peer(address, &peer);
    std::lock_guard<std::mutex> l(mu_);
    if (s.ok()) peers_[address] = peer;
  }
  if (!s.ok()) {
    done(s.WithPrefix(StrCat("pulling '", key, "' from ", task, ": ")), Tensor());
    return;
  }
  pb::RecvTensorRequest req;
  req.set_step_id(step_id);
  req.set_key(key);
  endpoint_->Call(peer, kRecvTensor, EncodeHeader(req), {}, deadline_ms,
                  [task, address, key, done = std::move(done)](const Status& st, WireMessage resp) {
                    if (!st.ok()) {
                      done(st.WithPrefix(StrCat("RecvTensor from ", task, " (", address, "): ")), Tensor());
                      return;
                    }
                    pb::RecvTensorResponse r;
                    Tensor t;
                    Status ds = DecodeHeader(resp.header, &r, "RecvTensor response");
                    if (ds.ok()) ds = DecodeTensor(r.tensor(), resp.payloads, StrCat("RecvTensor '", key, "' from ", task), &t);
                    done(ds, t);
                  });
}

void WorkerService::CollectGarbage() {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<RemoteRendezvous>> stale;
  std::vector<std::shared_ptr<RegisteredGraph>> dropped;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = steps_.begin(); it != steps_.end();) {
      if (it->second.running == 0 && now - it->second.last_used > options_.step_idle_limit) {
        stale.push_back(it->second.rendezvous);
        it = steps_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto m = masters_.begin(); m != masters_.end();) {
      if (now - m->second <= options_.master_idle_limit) {
        ++m;
        continue;
      }
      for (auto g = graphs_.begin(); g != graphs_.end();) {
        if (g->second->master == m->first) {
          dropped.push_back(g->second);
          g = graphs_.erase(g);
        } else {
          ++g;
        }
      }
      m = masters_.erase(m);
    }
  }
  for (auto& r : stale) r->StartAbort(Aborted("step dropped by ", task_name_, ": no master ended it"));
}

}  // namespace loom
