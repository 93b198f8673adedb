#include "runtime/dist/master.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <random>
#include <set>

#include "proto/worker.pb.h"
#include "runtime/dist/server.h"
#include "runtime/dist/wire.h"
#include "runtime/graph/graphdef.h"
#include "runtime/partition/partition.h"
#include "runtime/placement/device_name.h"

namespace loom {

namespace {

uint64_t RandomId() {
  static std::mutex mu;
  static std::mt19937_64 gen(std::random_device{}() ^
                             static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::lock_guard<std::mutex> l(mu);
  uint64_t x = gen();
  return x ? x : 1;
}

constexpr int64_t kStatusDeadlineMs = 10000;  // GetStatus, RegisterGraph, CleanupGraph

std::string OutputName(const Output& o) { return StrCat(o.node->name(), ":", o.index); }

}  // namespace

struct Master::Task {
  std::string name;      // "/job:ps/replica:0/task:0"
  std::string address;   // "host:port"
  loom_transport_peer* peer = nullptr;
  uint64_t incarnation = 0;  // 0: ask again (never asked, or it failed)
  Status status;             // why it is unavailable
  std::vector<std::unique_ptr<Device>> devices;
};

// One step over the cluster: a partition per (task, device), each registered
// on its task for the task's current incarnation.
class Master::RemoteStep : public Runnable {
 public:
  struct Part {
    Task* task = nullptr;
    std::string graph_def;
    std::vector<std::string> feeds, fetches;
    std::vector<int> feed_index, fetch_index;  // into the step's feeds / fetches
    std::string handle;                        // registered graph ("": not yet)
    uint64_t incarnation = 0;                  // the task incarnation it was registered with
  };
  RemoteStep(Master* m, std::vector<Part> parts, size_t num_feeds, size_t num_fetches,
             std::vector<int> fetch_from_feed)
      : master_(m), parts_(std::move(parts)), num_feeds_(num_feeds), num_fetches_(num_fetches),
        fetch_from_feed_(std::move(fetch_from_feed)) {}

  Status Run(const Tensor* feed_values, int num_feeds, Tensor* fetch_values, int num_fetches) override;

 private:
  Status Register();
  void EndStep(const std::set<Task*>& tasks, uint64_t step_id, const Status& s);

  Master* master_;
  std::mutex mu_;  // guards parts_' handles
  std::vector<Part> parts_;
  size_t num_feeds_, num_fetches_;
  std::vector<int> fetch_from_feed_;
};

Status Master::Create(MasterOptions options, std::unique_ptr<Master>* out) {
  std::string scheme, address;
  RETURN_IF_ERROR(ParseTarget(options.target, &scheme, &address));
  std::unique_ptr<Master> m(new Master());
  m->options_ = std::move(options);
  AddClusterKeys(&m->options_.transport, /*server=*/false);
  char id[32];
  std::snprintf(id, sizeof(id), "master-%016llx", static_cast<unsigned long long>(RandomId()));
  m->id_ = id;
  RETURN_IF_ERROR(Endpoint::Create(scheme, m->options_.transport, nullptr, &m->endpoint_)
                      .WithPrefix(StrCat("session target ", m->options_.target, ": ")));
  *out = std::move(m);
  return Status::OK();
}

Master::~Master() {
  pb::CleanupGraphRequest req;
  req.set_master(id_);
  const std::string header = EncodeHeader(req);
  std::vector<std::future<void>> waits;
  for (auto& t : tasks_) {
    if (!t->peer || !t->incarnation) continue;
    auto done = std::make_shared<std::promise<void>>();
    waits.push_back(done->get_future());
    endpoint_->Call(t->peer, kCleanupGraph, header, {}, 2000,
                    [done](const Status&, WireMessage) { done->set_value(); });
  }
  for (auto& w : waits) w.wait();
  endpoint_.reset();
}

Status Master::CallSync(Task* t, uint32_t method, const std::string& header, const std::vector<Tensor>& payloads,
                        int64_t deadline_ms, WireMessage* response) {
  if (!t->peer) RETURN_IF_ERROR(endpoint_->Peer(t->address, &t->peer));
  std::promise<std::pair<Status, WireMessage>> p;
  auto f = p.get_future();
  endpoint_->Call(t->peer, method, header, payloads, deadline_ms, [&p](const Status& s, WireMessage m) {
    p.set_value(std::make_pair(s, std::move(m)));
  });
  auto r = f.get();
  if (!r.first.ok())
    return r.first.WithPrefix(StrCat(WireMethodName(method), " on ", t->name.empty() ? t->address : t->name, " (",
                                     t->address, "): "));
  if (response) *response = std::move(r.second);
  return Status::OK();
}

Master::Task* Master::FindTask(const std::string& name) {
  for (auto& t : tasks_)
    if (t->name == name) return t.get();
  return nullptr;
}

Status Master::Refresh(Task* t) {
  WireMessage resp;
  Status s = CallSync(t, kGetStatus, EncodeHeader(pb::GetStatusRequest()), {}, kStatusDeadlineMs, &resp);
  pb::GetStatusResponse st;
  if (s.ok()) s = DecodeHeader(resp.header, &st, "GetStatus response");
  if (s.ok() && !t->name.empty() && st.task() != t->name)
    s = FailedPrecondition("the server at ", t->address, " is ", st.task(), ", but the cluster spec says ", t->name);
  if (!s.ok()) {
    t->status = s;
    t->incarnation = 0;
    return s;
  }
  t->name = st.task();
  t->incarnation = st.incarnation();
  t->status = Status::OK();
  for (const auto& d : st.devices()) {
    bool have = false;
    for (const auto& mine : t->devices) have |= mine->name == d.name();
    if (have) continue;
    auto dev = std::make_unique<Device>();
    dev->name = d.name();
    dev->type = d.type();
    dev->ordinal = d.ordinal();
    dev->priority = d.priority();
    dev->memory_is_host = d.memory_is_host();
    t->devices.push_back(std::move(dev));
  }
  std::stable_sort(t->devices.begin(), t->devices.end(),
                   [](const std::unique_ptr<Device>& a, const std::unique_ptr<Device>& b) {
                     return a->priority > b->priority;
                   });
  return Status::OK();
}

Status Master::Devices(std::vector<Device*>* out, std::string* default_task,
                       std::vector<std::pair<std::string, Status>>* unavailable) {
  std::lock_guard<std::mutex> l(mu_);
  if (!devices_known_) {
    // The target tells the cluster; every task is then asked for its devices.
    std::string scheme, address;
    RETURN_IF_ERROR(ParseTarget(options_.target, &scheme, &address));
    Task target;
    target.address = address;
    WireMessage resp;
    RETURN_IF_ERROR(CallSync(&target, kGetStatus, EncodeHeader(pb::GetStatusRequest()), {}, kStatusDeadlineMs, &resp)
                        .WithPrefix(StrCat("session target ", options_.target, ": ")));
    pb::GetStatusResponse st;
    RETURN_IF_ERROR(DecodeHeader(resp.header, &st, "GetStatus response"));
    default_task_ = st.task();
    for (const auto& job : st.cluster().job())
      for (int i = 0; i < job.tasks_size(); ++i) {
        if (job.tasks(i).empty()) continue;
        auto t = std::make_unique<Task>();
        t->name = TaskName(job.name(), i);
        t->address = t->name == default_task_ ? address : job.tasks(i);
        tasks_.push_back(std::move(t));
      }
    if (!FindTask(default_task_)) {
      auto t = std::make_unique<Task>();
      t->name = default_task_;
      t->address = address;
      tasks_.push_back(std::move(t));
    }
    // The target's task first: ops with no device go there.
    std::stable_partition(tasks_.begin(), tasks_.end(),
                          [&](const std::unique_ptr<Task>& t) { return t->name == default_task_; });
    devices_known_ = true;
  }
  out->clear();
  unavailable->clear();
  for (auto& t : tasks_) {
    if (!t->incarnation) (void)Refresh(t.get());
    if (!t->incarnation) {
      unavailable->emplace_back(t->name, t->status);
      continue;
    }
    for (auto& d : t->devices) out->push_back(d.get());
  }
  *default_task = default_task_;
  return Status::OK();
}

void Master::MarkFailed(Task* t, const Status& s) {
  std::lock_guard<std::mutex> l(mu_);
  t->incarnation = 0;
  t->status = s;
}

Status Master::Prepare(const std::vector<Node*>& nodes, const std::vector<Device*>& devices,
                       const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                       std::unique_ptr<Runnable>* out) {
  PartitionedParams pp;
  RETURN_IF_ERROR(PartitionByDevice(nodes, devices, feeds, fetches, &pp));
  std::vector<RemoteStep::Part> parts(pp.parts.size());
  for (size_t p = 0; p < pp.parts.size(); ++p) {
    RemoteStep::Part& part = parts[p];
    const Device* d = pp.parts[p].devices.front();
    {
      std::lock_guard<std::mutex> l(mu_);
      part.task = FindTask(d->name.substr(0, d->name.find("/device:")));
    }
    if (!part.task) return Internal("partition on ", d->name, " belongs to no task of the cluster");
    RETURN_IF_ERROR(ExportGraphDef(*pp.graphs[p], GraphDefFormat::kBinary, &part.graph_def));
    for (const Output& o : pp.parts[p].feeds) part.feeds.push_back(OutputName(o));
    for (const Output& o : pp.parts[p].fetches) part.fetches.push_back(OutputName(o));
    part.feed_index = pp.feed_index[p];
    part.fetch_index = pp.fetch_index[p];
  }
  std::vector<int> fetch_from_feed(fetches.size(), -1);
  for (size_t f = 0; f < fetches.size(); ++f)
    for (size_t i = 0; i < feeds.size(); ++i)
      if (fetches[f] == feeds[i]) fetch_from_feed[f] = static_cast<int>(i);
  out->reset(new RemoteStep(this, std::move(parts), feeds.size(), fetches.size(), std::move(fetch_from_feed)));
  return Status::OK();
}

Status Master::RemoteStep::Register() {
  std::lock_guard<std::mutex> l(mu_);
  for (Part& part : parts_) {
    Task* t = part.task;
    uint64_t incarnation;
    {
      std::lock_guard<std::mutex> ml(master_->mu_);
      if (!t->incarnation) RETURN_IF_ERROR(master_->Refresh(t));
      incarnation = t->incarnation;
    }
    if (!part.handle.empty() && part.incarnation == incarnation) continue;
    pb::RegisterGraphRequest req;
    req.set_master(master_->id_);
    req.set_incarnation(incarnation);
    req.set_graph_def(part.graph_def);
    for (const auto& f : part.feeds) req.add_feeds(f);
    for (const auto& f : part.fetches) req.add_fetches(f);
    WireMessage resp;
    Status s = master_->CallSync(t, kRegisterGraph, EncodeHeader(req), {}, kStatusDeadlineMs, &resp);
    pb::RegisterGraphResponse r;
    if (s.ok()) s = DecodeHeader(resp.header, &r, "RegisterGraph response");
    if (!s.ok()) {
      if (s.code() == LOOM_CODE_UNAVAILABLE || s.code() == LOOM_CODE_ABORTED) master_->MarkFailed(t, s);
      return s;
    }
    part.handle = r.graph_handle();
    part.incarnation = incarnation;
  }
  return Status::OK();
}

void Master::RemoteStep::EndStep(const std::set<Task*>& tasks, uint64_t step_id, const Status& s) {
  pb::EndStepRequest req;
  req.set_step_id(step_id);
  req.set_code(static_cast<int>(s.code()));
  req.set_message(s.message());
  const std::string header = EncodeHeader(req);
  for (Task* t : tasks)
    if (t->peer) master_->endpoint_->Call(t->peer, kEndStep, header, {}, 5000, [](const Status&, WireMessage) {});
}

Status Master::RemoteStep::Run(const Tensor* feed_values, int num_feeds, Tensor* fetch_values, int num_fetches) {
  if (num_feeds != static_cast<int>(num_feeds_) || num_fetches != static_cast<int>(num_fetches_))
    return InvalidArgument("remote step: expected ", num_feeds_, " feeds and ", num_fetches_, " fetches, got ",
                           num_feeds, " and ", num_fetches);
  RETURN_IF_ERROR(Register());
  const uint64_t step_id = RandomId();
  const int64_t timeout = master_->options_.operation_timeout_ms;
  std::set<Task*> tasks;

  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    int pending = 0;
    Status root;
    std::vector<WireMessage> responses;
    std::vector<loom_code> codes;
  };
  auto sh = std::make_shared<Shared>();
  sh->responses.resize(parts_.size());
  sh->codes.assign(parts_.size(), LOOM_CODE_OK);
  std::vector<std::pair<std::string, std::vector<Tensor>>> requests(parts_.size());
  {
    std::lock_guard<std::mutex> l(mu_);
    for (size_t p = 0; p < parts_.size(); ++p) {
      const Part& part = parts_[p];
      tasks.insert(part.task);
      pb::RunGraphRequest req;
      req.set_graph_handle(part.handle);
      req.set_step_id(step_id);
      req.set_incarnation(part.incarnation);
      req.set_timeout_ms(timeout);
      for (size_t i = 0; i < part.feed_index.size(); ++i)
        RETURN_IF_ERROR(EncodeTensor(feed_values[part.feed_index[i]], part.feeds[i], req.add_feeds(),
                                     &requests[p].second));
      requests[p].first = EncodeHeader(req);
    }
  }
  sh->pending = static_cast<int>(parts_.size());
  for (size_t p = 0; p < parts_.size(); ++p) {
    Task* t = parts_[p].task;
    master_->endpoint_->Call(
        t->peer, kRunGraph, std::move(requests[p].first), requests[p].second, timeout,
        [this, sh, p, t, step_id, timeout, &tasks](const Status& s, WireMessage m) {
          Status err;
          if (!s.ok()) {
            err = s.code() == LOOM_CODE_DEADLINE_EXCEEDED
                      ? DeadlineExceeded("step ", step_id, " did not finish within the operation timeout of ",
                                         timeout, " ms (waiting for ", t->name, ": ", s.message(), ")")
                      : s.WithPrefix(StrCat(t->name, " (", t->address, "): "));
          }
          bool first = false;
          {
            std::lock_guard<std::mutex> l(sh->mu);
            sh->responses[p] = std::move(m);
            sh->codes[p] = s.code();
            if (!err.ok() && sh->root.ok()) {
              sh->root = err;
              first = true;
            }
          }
          // The first failure stops the step everywhere.
          if (first) EndStep(tasks, step_id, err);
          std::lock_guard<std::mutex> l(sh->mu);
          if (--sh->pending == 0) sh->cv.notify_all();
        });
  }
  {
    std::unique_lock<std::mutex> l(sh->mu);
    sh->cv.wait(l, [&] { return sh->pending == 0; });
  }
  // Every task frees the step's rendezvous.
  EndStep(tasks, step_id, Status::OK());
  if (!sh->root.ok()) {
    // Tasks that were lost, restarted or forgot the graph are asked again
    // (GetStatus) before the next step; a new incarnation re-registers.
    for (size_t p = 0; p < parts_.size(); ++p) {
      loom_code c = sh->codes[p];
      if (c == LOOM_CODE_UNAVAILABLE || c == LOOM_CODE_ABORTED || c == LOOM_CODE_NOT_FOUND)
        master_->MarkFailed(parts_[p].task, sh->root);
    }
    return sh->root;
  }
  for (size_t p = 0; p < parts_.size(); ++p) {
    pb::RunGraphResponse resp;
    RETURN_IF_ERROR(DecodeHeader(sh->responses[p].header, &resp, "RunGraph response"));
    if (resp.fetches_size() != static_cast<int>(parts_[p].fetch_index.size()))
      return Internal("RunGraph on ", parts_[p].task->name, " returned ", resp.fetches_size(), " fetches, expected ",
                      parts_[p].fetch_index.size());
    for (int i = 0; i < resp.fetches_size(); ++i)
      RETURN_IF_ERROR(DecodeTensor(resp.fetches(i), sh->responses[p].payloads,
                                   StrCat("fetch '", parts_[p].fetches[i], "' from ", parts_[p].task->name),
                                   &fetch_values[parts_[p].fetch_index[i]]));
  }
  for (size_t f = 0; f < fetch_from_feed_.size(); ++f)
    if (fetch_from_feed_[f] >= 0) fetch_values[f] = feed_values[fetch_from_feed_[f]];
  return Status::OK();
}

}  // namespace loom
