// Session: runs a graph. Prunes it to what the fetches and targets need, places
// the nodes on devices, and caches the prepared executor per (feeds, fetches,
// targets) signature. Owns the variables and the worker threads.
#ifndef LOOM_RUNTIME_SESSION_SESSION_H_
#define LOOM_RUNTIME_SESSION_SESSION_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "runtime/exec/executor.h"
#include "runtime/dist/transport.h"

namespace loom {

struct SessionOptions {
  int inter_op_threads = 0;  // 0: number of cores
  int intra_op_threads = 0;  // 0: number of cores
  std::string default_device;
  bool allow_soft_placement = false;
  bool log_device_placement = false;  // print each op's device when a step is prepared
  // A server of a cluster ("zmq://host:port", "grpc://host:port"): the session
  // is then the cluster's master (runtime/dist/master.h). Empty: in process.
  std::string target;
  int64_t operation_timeout_ms = 0;  // bound on every step over a cluster (0: none)
  TransportOptions transport;         // keys for a secure cluster
};

class Master;

class Session {
 public:
  Session(Graph* graph, SessionOptions options);
  ~Session();

  Status Run(const std::vector<Output>& feeds, const std::vector<Tensor>& feed_values,
             const std::vector<Output>& fetches, const std::vector<Node*>& targets,
             std::vector<Tensor>* fetch_values);
  // The prepared step for a signature (cached); thread-safe.
  Status GetExecutor(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                     const std::vector<Node*>& targets, std::shared_ptr<Runnable>* out);
  // Checks feed values against the fed outputs' dtypes and inferred shapes.
  static Status ValidateFeeds(const std::vector<Output>& feeds, const Tensor* values);
  // The graph and the variables, for checkpoints (runtime/io/saver.h).
  Graph* graph() const { return graph_; }
  ResourceMgr* resources() { return &resources_; }

 private:
  Status Prepare(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                 const std::vector<Node*>& targets, std::unique_ptr<Runnable>* out);
  // The nodes the fetches and targets need, stopping at fed outputs, by id.
  Status Prune(const std::vector<Output>& feeds, const std::vector<Output>& fetches,
               const std::vector<Node*>& targets, std::vector<Node*>* nodes);
  Status PrepareRemote(const std::vector<Node*>& nodes, const std::vector<Output>& feeds,
                       const std::vector<Output>& fetches, std::unique_ptr<Runnable>* out);
  void LogPlacement(const std::vector<Node*>& nodes, const std::vector<Device*>& devices) const;

  Graph* graph_;
  SessionOptions options_;
  ResourceMgr resources_;
  std::unique_ptr<ThreadPool> pool_;
  int inter_op_ = 1, intra_op_ = 1;
  std::shared_mutex cache_mu_;
  std::unordered_map<std::string, std::shared_ptr<Runnable>> cache_;
  std::mutex master_mu_;
  std::unique_ptr<Master> master_;  // made on the first remote step
};

}  // namespace loom

#endif  // LOOM_RUNTIME_SESSION_SESSION_H_
