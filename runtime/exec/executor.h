// Executor: runs one placed, pruned set of nodes as a dataflow graph.
// Prepared once (topology, pending counts, kernels) and run many times, from
// several threads at once; each run keeps its own state.
#ifndef LOOM_RUNTIME_EXEC_EXECUTOR_H_
#define LOOM_RUNTIME_EXEC_EXECUTOR_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "runtime/exec/intrinsic.h"
#include "runtime/exec/rendezvous.h"
#include "runtime/exec/resource_op.h"
#include "runtime/exec/thread_pool.h"
#include "runtime/exec/variables.h"
#include "runtime/plugin/registry.h"

namespace loom {

// Where a placed node's input must be: kHost (host memory), kDevice (the
// memory of the node's device; host memory on a host-memory device) or kAny.
enum class MemoryType { kAny, kHost, kDevice };
// The memory of each input of node n on device d with kernel `kernel`
// (nullptr: one of the core's intrinsics), and whether each output is in host
// memory. Kernels name host-memory arguments (shapes, axes) in host_memory_args.
void InputOutputMemory(const Node* n, const Device* d, const KernelDef* kernel, std::vector<MemoryType>* inputs,
                       std::vector<uint8_t>* outputs_on_host);

// Checks feed values against the fed outputs' dtypes and inferred shapes;
// INVALID_ARGUMENT naming the tensor and what it expected.
Status ValidateFeeds(const std::vector<Output>& feeds, const Tensor* values);

struct ExecutorParams {
  std::vector<Node*> nodes;        // the nodes to run (any order)
  std::vector<Device*> devices;    // placement of each node (same order)
  std::vector<Output> feeds;       // outputs whose values are fed
  std::vector<Output> fetches;     // outputs to return
  ThreadPool* pool = nullptr;
  int inter_op_threads = 1;
  int intra_op_threads = 1;
  ResourceMgr* resources = nullptr;
  // A step running longer is aborted with DEADLINE_EXCEEDED (0: no limit).
  int64_t operation_timeout_ms = 0;
};

// A step split over devices (runtime/partition): one executor per partition,
// run together with a shared rendezvous.
struct PartitionedParams {
  std::vector<std::unique_ptr<Graph>> graphs;   // the partition graphs (owned)
  std::vector<ExecutorParams> parts;            // one per partition, nodes of graphs
  std::vector<std::vector<int>> feed_index;     // per part: the step's feed for each of its feeds
  std::vector<std::vector<int>> fetch_index;    // per part: the step's fetch for each of its fetches
  std::vector<Output> feeds, fetches;           // the step's signature (the session's graph)
  ThreadPool* pool = nullptr;
};

// A prepared step: a local Executor, or a step over a cluster's tasks
// (runtime/dist/master.h). Run may be called from several threads at once.
struct RunOptions {
  int64_t timeout_ms = 0;  // the step must finish within this (0: no bound of its own)
};

class Runnable {
 public:
  virtual ~Runnable() = default;
  // feed_values[num_feeds] match the step's feeds; fetch_values[num_fetches]
  // receives its fetches.
  virtual Status Run(const Tensor* feed_values, int num_feeds, Tensor* fetch_values, int num_fetches) = 0;
  // With per-run options. A step that cannot block (no op of it waits on
  // another process) may ignore the timeout, as the local Executor does.
  virtual Status RunWithOptions(const RunOptions& options, const Tensor* feed_values, int num_feeds,
                                Tensor* fetch_values, int num_fetches) {
    (void)options;
    return Run(feed_values, num_feeds, fetch_values, num_fetches);
  }
};

class Executor : public Runnable {
 public:
  static Status Create(ExecutorParams params, std::unique_ptr<Executor>* out);
  static Status CreatePartitioned(PartitionedParams params, std::unique_ptr<Executor>* out);
  ~Executor() override;

  // feed_values match params.feeds; fetch_values receives params.fetches.
  Status Run(const std::vector<Tensor>& feed_values, std::vector<Tensor>* fetch_values);
  Status Run(const Tensor* feed_values, int num_feeds, Tensor* fetch_values, int num_fetches) override;
  // One partition of a step that spans processes (runtime/dist/worker.h):
  // runs with the step's id and its rendezvous, which it aborts on failure.
  Status RunStep(const Tensor* feed_values, Tensor* fetch_values, Rendezvous* rendezvous, uint64_t step_id) const;

  const ExecutorParams& params() const { return params_; }
  // Partitioned: the partitions' executors (empty for a one-device step).
  const std::vector<std::unique_ptr<Executor>>& partitions() const { return parts_; }

 private:
  struct RunState;
  struct OutEdge {
    int output;     // source output index
    int dst_node;   // -1: control edge
    int dst_slot;   // global input slot
    bool last_use;  // last edge reading this output: may move
  };
  struct ExecNode {
    Node* node = nullptr;
    Device* device = nullptr;
    Intrinsic intrinsic = kNotIntrinsic;
    const KernelDef* kernel = nullptr;
    void* kernel_state = nullptr;
    int input_start = 0, num_inputs = 0;
    int output_start = 0, num_outputs = 0;
    int initial_pending = 0;
    std::vector<OutEdge> out_edges;   // data edges first, then control (dst_slot -1)
    std::vector<std::vector<int>> fetch_index;  // per output: fetch positions
    Tensor const_value;               // kConst: the value (host memory)
    std::vector<uint8_t> output_on_host;  // kernels' host-memory outputs
    Variable* variable = nullptr;     // kVariable
    std::shared_ptr<ResourceOp> resource_op;  // kResourceOp
    int recv_slot = -1;               // kRecv: the consumer slot whose memory it delivers to
    // kSend, kRecv: built once here rather than from the attrs on every step.
    std::string rendezvous_key;
    std::string error_prefix;         // "MatMul op 'x' on /device:CPU:0: "
  };

  explicit Executor(ExecutorParams p) : params_(std::move(p)) {}
  Status Prepare();
  // Prepare's phases (executor.cc).
  struct StepIndex;
  void LayOutSlots();
  Status ConnectEdges(const StepIndex& ix);
  void OrderOutEdges();
  Status ConnectFetches(const StepIndex& ix);
  Status CheckAcyclic();
  Status PrepareNode(ExecNode* en);
  void PlaceMemory();
  Status Start(RunState* rs, const Tensor* feed_values, Tensor* fetch_values, uint64_t step_id) const;
  Status Finish(RunState* rs, Tensor* fetch_values) const;
  Status RunPartitions(const Tensor* feed_values, Tensor* fetch_values) const;
  void RunFrom(RunState* rs, int first) const;
  // Runs node n; returns true if it completed synchronously.
  bool Process(RunState* rs, int n, std::vector<int>* ready) const;
  void NodeDone(RunState* rs, int n, const Status& s, std::vector<int>* ready) const;
  Status RunIntrinsic(RunState* rs, const ExecNode& en, loom_kernel_context* ctx) const;
  Status CheckInputs(RunState* rs, const ExecNode& en) const;
  Status CheckOutputs(RunState* rs, const ExecNode& en) const;
  // Starts a kResourceOp node; returns true if it completed synchronously.
  bool ProcessResourceOp(RunState* rs, int n, std::vector<int>* ready) const;
  // Waits for a step's nodes; once the operation timeout has passed since
  // `start` (the step's, shared by its partitions), aborts the step.
  void WaitForStep(RunState* rs, std::chrono::steady_clock::time_point start) const;

  ExecutorParams params_;
  std::vector<ExecNode> nodes_;
  std::vector<int> roots_;
  int num_slots_ = 0, num_outputs_ = 0;
  std::vector<std::vector<int>> feed_slots_;       // per feed: input slots it fills
  std::vector<std::vector<int>> feed_fetches_;     // per feed: fetch positions it answers
  std::vector<bool> fetch_is_ref_;
  // Where each input slot's tensor must live: nullptr = anywhere (or host when
  // slot_needs_host_), else in that device's memory. Edges that arrive
  // elsewhere are copied by the devices' copy functions.
  std::vector<Device*> slot_device_;
  std::vector<uint8_t> slot_needs_host_;
  Status PlaceInput(Tensor* t, int slot) const;

  // Partitioned steps.
  std::vector<std::unique_ptr<Graph>> graphs_;
  std::vector<std::unique_ptr<Executor>> parts_;
  std::vector<std::vector<int>> part_feeds_, part_fetches_;
  std::vector<int> fetch_from_feed_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_EXECUTOR_H_
