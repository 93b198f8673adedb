// Master: a client session's view of a cluster (TensorFlow's MasterSession,
// run in the client's process). It learns the cluster and each task's devices
// from the target server (GetStatus), lets the session place a step over them,
// partitions the step by (task, device), registers each partition on its task,
// and runs steps: one RunGraph per partition with a fresh step id, the first
// failure aborting the step on every task and returned as the root cause.
#ifndef LOOM_RUNTIME_DIST_MASTER_H_
#define LOOM_RUNTIME_DIST_MASTER_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/dist/cluster.h"
#include "runtime/dist/transport.h"
#include "runtime/exec/executor.h"

namespace loom {

struct MasterOptions {
  std::string target;              // "zmq://host:port" of any server of the cluster
  int64_t operation_timeout_ms = 0; // bound on every step (0: none)
  TransportOptions transport;       // keys, heartbeats (loom_transport.h options)
};

class Master {
 public:
  static Status Create(MasterOptions options, std::unique_ptr<Master>* out);
  ~Master();  // drops this master's graphs on every task it used

  // The devices of every reachable task (fresh ones after a task failed),
  // named "/job:J/replica:0/task:T/device:TYPE:N", the target's task first;
  // default_task is the target's ("/job:worker/replica:0/task:0"). A task that
  // does not answer is left out; *unavailable gets its error by task name.
  Status Devices(std::vector<Device*>* out, std::string* default_task,
                 std::vector<std::pair<std::string, Status>>* unavailable);
  // Partitions a pruned, placed step (devices from Devices()) and prepares
  // it to run on the tasks; registration happens on the first run.
  Status Prepare(const std::vector<Node*>& nodes, const std::vector<Device*>& devices,
                 const std::vector<Output>& feeds, const std::vector<Output>& fetches,
                 std::unique_ptr<Runnable>* out);

  struct Task;
  class RemoteStep;

 private:
  Master() = default;
  Status Refresh(Task* t);
  // Calls a task and waits (deadline_ms 0: none).
  Status CallSync(Task* t, uint32_t method, const std::string& header, const std::vector<Tensor>& payloads,
                  int64_t deadline_ms, WireMessage* response);
  Task* FindTask(const std::string& name);
  void MarkFailed(Task* t, const Status& s);

  MasterOptions options_;
  std::string id_;                   // unique per master: workers group its graphs by it
  std::unique_ptr<Endpoint> endpoint_;
  std::string default_task_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::unique_ptr<Device>> devices_;
  bool devices_known_ = false;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_DIST_MASTER_H_
