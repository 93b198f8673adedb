// Queues and conditional accumulators: resources that steps share by name,
// like variables (one ResourceMgr per session, or per server so that every
// client of a cluster names the same one), with TensorFlow 1.x's semantics
// (core/kernels/queue_base.cc, fifo_queue.cc, random_shuffle_queue_op.cc,
// padding_fifo_queue.cc, conditional_accumulator_base.cc).
//
// Waiting never holds a thread: an enqueue into a full queue, a dequeue from
// an empty one or a take_grad short of gradients is an *attempt* kept in the
// resource with its callback, completed by whichever later operation makes it
// possible (or by Close, or by Cancel when its step aborts). Callbacks never
// run under the resource's lock.
#ifndef LOOM_RUNTIME_EXEC_QUEUE_H_
#define LOOM_RUNTIME_EXEC_QUEUE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "runtime/core/tensor.h"
#include "runtime/exec/variables.h"

namespace loom {

class QueueBase : public ResourceBase {
 public:
  using Tuple = std::vector<Tensor>;  // one element: a tensor per component
  using EnqueueDone = std::function<void(const Status&)>;
  // The dequeued elements, batched (DequeueMany/UpTo) or one element's tuple.
  using DequeueDone = std::function<void(const Status&, Tuple)>;

  QueueBase(std::string name, std::vector<DataType> types, std::vector<PartialShape> shapes, int64_t capacity);

  const std::string& name() const { return name_; }
  const std::vector<DataType>& types() const { return types_; }
  const std::vector<PartialShape>& shapes() const { return shapes_; }
  int64_t capacity() const { return capacity_; }
  // INVALID_ARGUMENT unless an op declaring these attrs may share this queue.
  Status MatchesAttrs(const char* kind, const std::vector<DataType>& types, const std::vector<PartialShape>& shapes,
                      int64_t capacity) const;

  // Enqueues one element (many = false) or the slices along dimension 0 of
  // `components` (many = true). Returns 0 if done calls back before return,
  // else the attempt's id for Cancel.
  uint64_t TryEnqueue(const Tuple& components, bool many, EnqueueDone done);
  // Dequeues one element (n < 0), or n elements batched along a new first
  // dimension; allow_fewer (DequeueUpTo): a closed queue returns what it has.
  uint64_t TryDequeue(int64_t n, bool allow_fewer, DequeueDone done);
  void Close(bool cancel_pending_enqueues);
  // Fails the attempt with `s` if it is still waiting (a step's abort);
  // elements a partial DequeueMany had taken go back to the front.
  void Cancel(uint64_t id, const Status& s);
  int64_t Size();
  bool IsClosed();

 protected:
  // Storage policy (called with mu_ held).
  virtual int64_t SizeLocked() const = 0;
  virtual void PushLocked(Tuple t) = 0;
  virtual Tuple PopLocked() = 0;
  virtual void PushFrontLocked(Tuple t) = 0;  // undoing a partial DequeueMany
  // Elements a dequeue must leave in an open queue (RandomShuffleQueue).
  virtual int64_t MinAfterDequeueLocked() const { return 0; }
  // Stacks elements into one tuple of batched components.
  virtual Status Batch(std::vector<Tuple>* elements, int64_t n, Tuple* out) const;
  std::string Describe() const;  // "FIFOQueue 'name'"

  const std::string name_;
  const std::vector<DataType> types_;
  const std::vector<PartialShape> shapes_;
  const int64_t capacity_;
  std::mutex mu_;

 private:
  struct Enqueue {
    uint64_t id;
    std::vector<Tuple> elements;
    size_t next = 0;
    EnqueueDone done;
  };
  struct Dequeue {
    uint64_t id;
    int64_t n;  // < 0: one element, not batched
    bool allow_fewer;
    std::vector<Tuple> taken;
    DequeueDone done;
  };
  Status CheckElement(const Tuple& components, bool many, std::vector<Tuple>* elements) const;
  // Completes every attempt that can progress; the callbacks to run (after
  // unlocking) are appended to *run.
  void FlushLocked(std::vector<std::function<void()>>* run);
  void FinishDequeueLocked(Dequeue* d, Status s, std::vector<std::function<void()>>* run);

  bool closed_ = false;
  uint64_t next_id_ = 1;
  std::list<Enqueue> enqueues_;
  std::list<Dequeue> dequeues_;
};

class FIFOQueue : public QueueBase {
 public:
  using QueueBase::QueueBase;
  const char* kind() const override { return "FIFOQueue"; }

 protected:
  int64_t SizeLocked() const override { return static_cast<int64_t>(q_.size()); }
  void PushLocked(Tuple t) override { q_.push_back(std::move(t)); }
  Tuple PopLocked() override;
  void PushFrontLocked(Tuple t) override { q_.push_front(std::move(t)); }

 private:
  std::deque<Tuple> q_;
};

// Dequeue batches pad each component to the largest shape of the batch with zeros.
class PaddingFIFOQueue : public FIFOQueue {
 public:
  using FIFOQueue::FIFOQueue;
  const char* kind() const override { return "PaddingFIFOQueue"; }

 protected:
  Status Batch(std::vector<Tuple>* elements, int64_t n, Tuple* out) const override;
};

// Dequeues a uniformly random element, keeping min_after_dequeue elements in
// an open queue. seed, seed2 both 0: seeded at random; else reproducible.
class RandomShuffleQueue : public QueueBase {
 public:
  RandomShuffleQueue(std::string name, std::vector<DataType> types, std::vector<PartialShape> shapes, int64_t capacity,
                     int64_t min_after_dequeue, int64_t seed, int64_t seed2);
  const char* kind() const override { return "RandomShuffleQueue"; }

 protected:
  int64_t SizeLocked() const override { return static_cast<int64_t>(q_.size()); }
  void PushLocked(Tuple t) override { q_.push_back(std::move(t)); }
  Tuple PopLocked() override;
  void PushFrontLocked(Tuple t) override { q_.push_back(std::move(t)); }
  int64_t MinAfterDequeueLocked() const override { return min_after_dequeue_; }

 private:
  const int64_t min_after_dequeue_;
  std::mt19937_64 rng_;
  std::vector<Tuple> q_;
};

// Sums gradients whose local_step is not behind its global step; TakeGrad(n)
// waits for n of them, returns their mean (or sum), resets and advances the
// global step by one. Float and double.
class ConditionalAccumulator : public ResourceBase {
 public:
  using TakeDone = std::function<void(const Status&, Tensor)>;
  ConditionalAccumulator(std::string name, DataType dtype, PartialShape shape, bool mean)
      : name_(std::move(name)), dtype_(dtype), shape_(std::move(shape)), mean_(mean) {}
  const char* kind() const override { return "ConditionalAccumulator"; }
  Status MatchesAttrs(DataType dtype, const PartialShape& shape, bool mean) const;

  // A stale gradient (local_step behind the global step) is dropped: OK.
  Status ApplyGrad(int64_t local_step, const Tensor& grad);
  uint64_t TryTakeGrad(int64_t num_required, TakeDone done);
  void Cancel(uint64_t id, const Status& s);
  Status SetGlobalStep(int64_t step);
  int64_t NumAccumulated();
  int64_t global_step();

 private:
  struct Take {
    uint64_t id;
    int64_t n;
    TakeDone done;
  };
  void FlushLocked(std::vector<std::function<void()>>* run);

  const std::string name_;
  const DataType dtype_;
  const PartialShape shape_;
  const bool mean_;
  std::mutex mu_;
  int64_t global_step_ = 0;
  int64_t counter_ = 0;
  Tensor sum_;
  uint64_t next_id_ = 1;
  std::list<Take> takes_;
};

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_QUEUE_H_
