// Rendezvous: where a Send meets its Recv, keyed by
// "src_device;incarnation;dst_device;edge_name;frame:iter" and scoped to one
// step. Send never blocks; RecvAsync calls back when the tensor arrives (or at
// once if it is there); StartAbort is sticky: it fails every pending and future
// receive with the first root-cause error.
#ifndef LOOM_RUNTIME_EXEC_RENDEZVOUS_H_
#define LOOM_RUNTIME_EXEC_RENDEZVOUS_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/core/tensor.h"

namespace loom {

class Rendezvous {
 public:
  using DoneCallback = std::function<void(const Status&, const Tensor&)>;
  virtual ~Rendezvous() = default;

  static std::string CreateKey(const std::string& src_device, uint64_t incarnation,
                               const std::string& dst_device, const std::string& name);

  // ALREADY_EXISTS if the key was sent before in this step; the abort status
  // if aborted.
  Status Send(const std::string& key, const Tensor& value);
  // done may run inside this call or later on the sending thread (or, for a
  // tensor of another task, on a transport thread: runtime/dist).
  virtual void RecvAsync(const std::string& key, DoneCallback done);
  // Blocking receive (tests and tools).
  Status Recv(const std::string& key, Tensor* value);
  virtual void StartAbort(const Status& s);
  // Runs cb(abort status) once when the step aborts (how a queue op waiting in
  // this step is woken by a failure, a cancellation or a deadline). false, and
  // cb is not kept, if the step has already aborted. Callbacks stay registered
  // until the abort or the rendezvous' end: one that finds nothing left to
  // cancel must do nothing.
  bool AddAbortCallback(std::function<void(const Status&)> cb);
  Status abort_status() const;
  // Cheap check (no lock) for executors that stop starting ops once a step failed.
  bool aborted() const { return aborted_.load(std::memory_order_relaxed); }

 private:
  struct Item {
    bool has_value = false;
    Tensor value;
    DoneCallback waiter;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Item> table_;
  std::vector<std::function<void(const Status&)>> abort_callbacks_;
  Status abort_;
  std::atomic<bool> aborted_{false};
};

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_RENDEZVOUS_H_
