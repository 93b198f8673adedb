// WorkerService: what a server does for masters and its peer workers. It
// registers partitions of masters' steps (a GraphDef each), runs them per step
// with the step's rendezvous, answers other tasks' RecvTensor pulls from that
// rendezvous, and ends steps (abort or cleanup). Variables live in one
// ResourceMgr per server, keyed by name, so every client that names a
// variable on this task shares it (between-graph replication).
//
// Requests arrive on transport threads and are never blocked on: steps run on
// threads of their own, pulls are answered from rendezvous callbacks.
#ifndef LOOM_RUNTIME_DIST_WORKER_H_
#define LOOM_RUNTIME_DIST_WORKER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "runtime/dist/cluster.h"
#include "runtime/dist/transport.h"
#include "runtime/exec/executor.h"

namespace loom {

class RemoteRendezvous;

struct WorkerOptions {
  std::string job;
  int task = 0;
  ClusterSpec cluster;
  int threads = 0;                          // 0: number of cores
  std::chrono::seconds step_idle_limit{600};   // a step no master ended is dropped after this
  std::chrono::seconds master_idle_limit{3600}; // graphs of a silent master are dropped after this
};

class WorkerService {
 public:
  // endpoint: this server's endpoint, for pulling tensors from other tasks.
  WorkerService(WorkerOptions options, Endpoint* endpoint);
  ~WorkerService();  // waits for running steps

  const std::string& task_name() const { return task_name_; }
  uint64_t incarnation() const { return incarnation_; }
  // One request (any method); answers it now or later.
  void Handle(loom_transport_request* request, const std::string& peer, WireMessage msg);
  // Drops steps and masters idle past their limits (the server's timer).
  void CollectGarbage();
  // Counts, for tests and `loom serve` logs.
  int num_graphs() const;
  int num_steps() const;

  // Pulls `key` of step `step_id` from the task that sent it (RemoteRendezvous).
  void PullTensor(const std::string& task, uint64_t step_id, const std::string& key, int64_t deadline_ms,
                  std::function<void(const Status&, const Tensor&)> done);

 private:
  struct RegisteredGraph;
  struct StepEntry {
    std::shared_ptr<RemoteRendezvous> rendezvous;
    std::chrono::steady_clock::time_point last_used;
    int running = 0;  // partitions of the step running here: never collected while > 0
  };

  void GetStatus(loom_transport_request* request);
  void RegisterGraph(loom_transport_request* request, const WireMessage& msg);
  void RunGraph(loom_transport_request* request, const WireMessage& msg);
  void CleanupGraph(loom_transport_request* request, const WireMessage& msg);
  void RecvTensor(loom_transport_request* request, const WireMessage& msg);
  void EndStep(loom_transport_request* request, const WireMessage& msg);
  Status RegisterGraphImpl(const std::string& header, std::string* handle);
  // The step's rendezvous (made on first use); `run` counts a partition
  // starting (+1) or ending (-1) here.
  std::shared_ptr<RemoteRendezvous> Step(uint64_t step_id, int run = 0);
  // Runs fn on a thread of the step threads; the destructor waits for it.
  void Detach(std::function<void()> fn);
  class StepThreads;
  void Touch(const std::string& master);

  const WorkerOptions options_;
  const std::string task_name_;
  const uint64_t incarnation_;
  Endpoint* endpoint_;
  std::unique_ptr<ThreadPool> pool_;
  int threads_ = 1;
  ResourceMgr resources_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<RegisteredGraph>> graphs_;
  std::map<std::string, std::chrono::steady_clock::time_point> masters_;
  std::unordered_map<uint64_t, StepEntry> steps_;
  std::unordered_map<uint64_t, Status> ended_;   // recently ended steps: late pulls fail, never wait
  std::deque<uint64_t> ended_order_;
  uint64_t next_graph_ = 1;
  std::unordered_map<std::string, loom_transport_peer*> peers_;
  int running_ = 0;
  std::condition_variable idle_;
  std::unique_ptr<StepThreads> step_threads_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_DIST_WORKER_H_
