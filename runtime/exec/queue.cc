#include "runtime/exec/queue.h"

#include <cstring>
#include <limits>

#include "runtime/core/logging.h"

namespace loom {

namespace {

void RunAll(std::vector<std::function<void()>>* run) {
  for (auto& fn : *run) fn();
}

std::string TypesString(const std::vector<DataType>& types) {
  std::string s = "[";
  for (size_t i = 0; i < types.size(); ++i) s += StrCat(i ? ", " : "", DataTypeName(types[i]));
  return s + "]";
}

std::string ShapesString(const std::vector<PartialShape>& shapes) {
  std::string s = "[";
  for (size_t i = 0; i < shapes.size(); ++i) s += StrCat(i ? ", " : "", shapes[i].ToString());
  return s + "]";
}

// Element `i` of t along dimension 0, copied.
Tensor Slice(const Tensor& t, int64_t i) {
  std::vector<int64_t> dims(t.shape().dims().begin() + 1, t.shape().dims().end());
  Tensor out;
  Status s = Tensor::Allocate(t.dtype(), TensorShape(dims), &out);
  if (!s.ok()) return Tensor();
  const size_t bytes = out.byte_size();
  if (bytes) std::memcpy(out.data(), static_cast<const char*>(t.data()) + bytes * static_cast<size_t>(i), bytes);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- QueueBase

QueueBase::QueueBase(std::string name, std::vector<DataType> types, std::vector<PartialShape> shapes, int64_t capacity)
    : name_(std::move(name)),
      types_(std::move(types)),
      shapes_(std::move(shapes)),
      capacity_(capacity < 0 ? std::numeric_limits<int64_t>::max() : capacity) {}

std::string QueueBase::Describe() const { return StrCat(kind(), " '", name_, "'"); }

Status QueueBase::MatchesAttrs(const char* kind, const std::vector<DataType>& types,
                               const std::vector<PartialShape>& shapes, int64_t capacity) const {
  if (std::string(kind) != this->kind())
    return InvalidArgument("Shared queue '", name_, "' is a ", this->kind(), ", but this op declares a ", kind);
  if (types != types_)
    return InvalidArgument("Shared queue '", name_, "' has component types ", TypesString(types_),
                           " but requested component types were ", TypesString(types));
  if (shapes.size() != shapes_.size())
    return InvalidArgument("Shared queue '", name_, "' has component shapes ", ShapesString(shapes_),
                           " but requested component shapes were ", ShapesString(shapes));
  for (size_t i = 0; i < shapes.size(); ++i)
    if (shapes[i].ToString() != shapes_[i].ToString())
      return InvalidArgument("Shared queue '", name_, "' has component shapes ", ShapesString(shapes_),
                             " but requested component shapes were ", ShapesString(shapes));
  const int64_t cap = capacity < 0 ? std::numeric_limits<int64_t>::max() : capacity;
  if (cap != capacity_)
    return InvalidArgument("Shared queue '", name_, "' has capacity ", capacity_, " but requested capacity was ",
                           capacity);
  return Status::OK();
}

Status QueueBase::CheckElement(const Tuple& components, bool many, std::vector<Tuple>* elements) const {
  if (components.size() != types_.size())
    return InvalidArgument(Describe(), " expects ", types_.size(), " components, got ", components.size());
  int64_t count = 1;
  for (size_t c = 0; c < components.size(); ++c) {
    const Tensor& t = components[c];
    if (t.dtype() != types_[c])
      return InvalidArgument(Describe(), ": component ", c, " has dtype ", DataTypeName(t.dtype()), ", expected ",
                             DataTypeName(types_[c]));
    PartialShape elem(t.shape());
    if (many) {
      if (t.rank() == 0)
        return InvalidArgument(Describe(), ": EnqueueMany needs components of rank >= 1, component ", c,
                               " is a scalar");
      if (c == 0) count = t.shape().dim(0);
      if (t.shape().dim(0) != count)
        return InvalidArgument(Describe(),
                               ": EnqueueMany needs the same first dimension in every component; "
                               "component 0 has ",
                               count, ", component ", c, " has ", t.shape().dim(0));
      elem = PartialShape(std::vector<int64_t>(t.shape().dims().begin() + 1, t.shape().dims().end()));
    }
    if (!shapes_.empty() && !shapes_[c].IsCompatibleWith(elem))
      return InvalidArgument(Describe(), ": shape mismatch in tuple component ", c, ". Expected ",
                             shapes_[c].ToString(), ", got ", elem.ToString());
  }
  elements->clear();
  if (!many) {
    Tuple e;
    for (const Tensor& t : components) e.push_back(t.DeepCopy());  // the producer may reuse its buffer
    elements->push_back(std::move(e));
    return Status::OK();
  }
  for (int64_t i = 0; i < count; ++i) {
    Tuple e;
    for (const Tensor& t : components) e.push_back(Slice(t, i));
    elements->push_back(std::move(e));
  }
  return Status::OK();
}

uint64_t QueueBase::TryEnqueue(const Tuple& components, bool many, EnqueueDone done) {
  std::vector<Tuple> elements;
  Status s = CheckElement(components, many, &elements);
  if (!s.ok()) {
    done(s);
    return 0;
  }
  std::vector<std::function<void()>> run;
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) {
      run.push_back([done, s = Cancelled(Describe(), " is closed.")] { done(s); });
      id = 0;
    } else {
      id = next_id_++;
      enqueues_.push_back(Enqueue{id, std::move(elements), 0, std::move(done)});
      FlushLocked(&run);
      bool waiting = false;
      for (const Enqueue& e : enqueues_) waiting |= e.id == id;
      if (!waiting) id = 0;
    }
  }
  RunAll(&run);
  return id;
}

uint64_t QueueBase::TryDequeue(int64_t n, bool allow_fewer, DequeueDone done) {
  if (n == 0) {
    // An empty batch: needs every component's element shape.
    Tuple out;
    for (size_t c = 0; c < types_.size(); ++c) {
      if (shapes_.empty() || !shapes_[c].fully_defined()) {
        done(InvalidArgument(Describe(), ": dequeuing 0 elements needs fully defined component shapes"), {});
        return 0;
      }
      std::vector<int64_t> dims{0};
      dims.insert(dims.end(), shapes_[c].dims().begin(), shapes_[c].dims().end());
      Tensor t;
      (void)Tensor::Allocate(types_[c], TensorShape(dims), &t);
      out.push_back(t);
    }
    done(Status::OK(), std::move(out));
    return 0;
  }
  std::vector<std::function<void()>> run;
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(mu_);
    id = next_id_++;
    dequeues_.push_back(Dequeue{id, n, allow_fewer, {}, std::move(done)});
    FlushLocked(&run);
    bool waiting = false;
    for (const Dequeue& d : dequeues_) waiting |= d.id == id;
    if (!waiting) id = 0;
  }
  RunAll(&run);
  return id;
}

void QueueBase::FinishDequeueLocked(Dequeue* d, Status s, std::vector<std::function<void()>>* run) {
  Tuple out;
  if (s.ok()) {
    if (d->n < 0) {
      out = std::move(d->taken.front());
    } else {
      s = Batch(&d->taken, static_cast<int64_t>(d->taken.size()), &out);
    }
  }
  if (!s.ok()) {
    // Nothing is lost: what this attempt took goes back, in order.
    for (auto it = d->taken.rbegin(); it != d->taken.rend(); ++it) PushFrontLocked(std::move(*it));
    out.clear();
  }
  run->push_back([done = std::move(d->done), s, out = std::move(out)]() mutable { done(s, std::move(out)); });
}

void QueueBase::FlushLocked(std::vector<std::function<void()>>* run) {
  bool progress = true;
  while (progress) {
    progress = false;
    while (!enqueues_.empty()) {
      Enqueue& e = enqueues_.front();
      while (e.next < e.elements.size() && SizeLocked() < capacity_) {
        PushLocked(std::move(e.elements[e.next++]));
        progress = true;
      }
      if (e.next < e.elements.size()) break;
      run->push_back([done = std::move(e.done)] { done(Status::OK()); });
      enqueues_.pop_front();
      progress = true;
    }
    while (!dequeues_.empty()) {
      Dequeue& d = dequeues_.front();
      const int64_t want = d.n < 0 ? 1 : d.n;
      const int64_t keep = closed_ ? 0 : MinAfterDequeueLocked();
      while (static_cast<int64_t>(d.taken.size()) < want && SizeLocked() > keep) {
        d.taken.push_back(PopLocked());
        progress = true;
      }
      if (static_cast<int64_t>(d.taken.size()) == want) {
        FinishDequeueLocked(&d, Status::OK(), run);
      } else if (closed_ && enqueues_.empty()) {
        // Nothing more can arrive.
        if (d.allow_fewer && !d.taken.empty()) {
          FinishDequeueLocked(&d, Status::OK(), run);
        } else {
          const int64_t have = static_cast<int64_t>(d.taken.size()) + SizeLocked();
          FinishDequeueLocked(&d,
                              OutOfRange(Describe(), " is closed and has insufficient elements (requested ", want,
                                         ", current size ", have, ")"),
                              run);
        }
      } else {
        break;
      }
      dequeues_.pop_front();
      progress = true;
    }
  }
}

void QueueBase::Close(bool cancel_pending_enqueues) {
  std::vector<std::function<void()>> run;
  {
    std::lock_guard<std::mutex> l(mu_);
    closed_ = true;
    if (cancel_pending_enqueues) {
      for (Enqueue& e : enqueues_)
        run.push_back([done = std::move(e.done),
                       s = Cancelled("Enqueue operation was cancelled: ", Describe(), " is closed.")] { done(s); });
      enqueues_.clear();
    }
    FlushLocked(&run);
  }
  RunAll(&run);
}

void QueueBase::Cancel(uint64_t id, const Status& s) {
  std::vector<std::function<void()>> run;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = enqueues_.begin(); it != enqueues_.end(); ++it)
      if (it->id == id) {
        run.push_back([done = std::move(it->done), s] { done(s); });
        enqueues_.erase(it);
        break;
      }
    for (auto it = dequeues_.begin(); it != dequeues_.end(); ++it)
      if (it->id == id) {
        FinishDequeueLocked(&*it, s, &run);
        dequeues_.erase(it);
        break;
      }
    if (!run.empty()) FlushLocked(&run);  // returned elements may serve others
  }
  RunAll(&run);
}

int64_t QueueBase::Size() {
  std::lock_guard<std::mutex> l(mu_);
  return SizeLocked();
}

bool QueueBase::IsClosed() {
  std::lock_guard<std::mutex> l(mu_);
  return closed_;
}

Status QueueBase::Batch(std::vector<Tuple>* elements, int64_t n, Tuple* out) const {
  out->clear();
  for (size_t c = 0; c < types_.size(); ++c) {
    const TensorShape& first = (*elements)[0][c].shape();
    for (int64_t i = 1; i < n; ++i)
      if ((*elements)[static_cast<size_t>(i)][c].shape() != first)
        return InvalidArgument(Describe(), ": cannot batch component ", c, ": element 0 has shape ", first.ToString(),
                               ", element ", i, " has ", (*elements)[static_cast<size_t>(i)][c].shape().ToString(),
                               " (give the queue shapes, or use a PaddingFIFOQueue)");
    std::vector<int64_t> dims{n};
    dims.insert(dims.end(), first.dims().begin(), first.dims().end());
    Tensor t;
    RETURN_IF_ERROR(Tensor::Allocate(types_[c], TensorShape(dims), &t));
    const size_t bytes = (*elements)[0][c].byte_size();
    for (int64_t i = 0; i < n; ++i)
      if (bytes)
        std::memcpy(static_cast<char*>(t.data()) + bytes * static_cast<size_t>(i),
                    (*elements)[static_cast<size_t>(i)][c].data(), bytes);
    out->push_back(std::move(t));
  }
  return Status::OK();
}

QueueBase::Tuple FIFOQueue::PopLocked() {
  Tuple t = std::move(q_.front());
  q_.pop_front();
  return t;
}

// ---------------------------------------------------------------- PaddingFIFOQueue

Status PaddingFIFOQueue::Batch(std::vector<Tuple>* elements, int64_t n, Tuple* out) const {
  out->clear();
  for (size_t c = 0; c < types_.size(); ++c) {
    const int rank = (*elements)[0][c].rank();
    std::vector<int64_t> pad(static_cast<size_t>(rank), 0);
    for (int64_t i = 0; i < n; ++i) {
      const Tensor& e = (*elements)[static_cast<size_t>(i)][c];
      if (e.rank() != rank)
        return InvalidArgument(Describe(), ": component ", c, " has rank ", rank, " in element 0 and ", e.rank(),
                               " in element ", i);
      for (int d = 0; d < rank; ++d)
        pad[static_cast<size_t>(d)] = std::max(pad[static_cast<size_t>(d)], e.shape().dim(d));
    }
    std::vector<int64_t> dims{n};
    dims.insert(dims.end(), pad.begin(), pad.end());
    Tensor t;
    RETURN_IF_ERROR(Tensor::Allocate(types_[c], TensorShape(dims), &t, /*zero=*/true));
    const size_t esize = DataTypeSize(types_[c]);
    const int64_t padded_elems = TensorShape(pad).num_elements();
    for (int64_t i = 0; i < n; ++i) {
      const Tensor& e = (*elements)[static_cast<size_t>(i)][c];
      if (e.num_elements() == 0) continue;
      char* dst = static_cast<char*>(t.data()) + static_cast<size_t>(i * padded_elems) * esize;
      const char* src = static_cast<const char*>(e.data());
      if (rank == 0) {
        std::memcpy(dst, src, esize);
        continue;
      }
      // Copy row by row (the last dimension is contiguous in both).
      const int64_t row = e.shape().dim(rank - 1);
      const int64_t rows = e.num_elements() / row;
      std::vector<int64_t> idx(static_cast<size_t>(rank - 1), 0);
      for (int64_t r = 0; r < rows; ++r) {
        int64_t off = 0;
        for (int d = 0; d < rank - 1; ++d) off = off * pad[static_cast<size_t>(d)] + idx[static_cast<size_t>(d)];
        off *= pad[static_cast<size_t>(rank - 1)];
        std::memcpy(dst + static_cast<size_t>(off) * esize, src + static_cast<size_t>(r * row) * esize,
                    static_cast<size_t>(row) * esize);
        for (int d = rank - 2; d >= 0; --d) {
          if (++idx[static_cast<size_t>(d)] < e.shape().dim(d)) break;
          idx[static_cast<size_t>(d)] = 0;
        }
      }
    }
    out->push_back(std::move(t));
  }
  return Status::OK();
}

// ---------------------------------------------------------------- RandomShuffleQueue

RandomShuffleQueue::RandomShuffleQueue(std::string name, std::vector<DataType> types, std::vector<PartialShape> shapes,
                                       int64_t capacity, int64_t min_after_dequeue, int64_t seed, int64_t seed2)
    : QueueBase(std::move(name), std::move(types), std::move(shapes), capacity), min_after_dequeue_(min_after_dequeue) {
  if (seed == 0 && seed2 == 0) {
    std::random_device rd;
    rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd());
  } else {
    std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(static_cast<uint64_t>(seed) >> 32),
                      static_cast<uint32_t>(seed2), static_cast<uint32_t>(static_cast<uint64_t>(seed2) >> 32)};
    rng_.seed(seq);
  }
}

QueueBase::Tuple RandomShuffleQueue::PopLocked() {
  std::uniform_int_distribution<size_t> pick(0, q_.size() - 1);
  size_t i = pick(rng_);
  std::swap(q_[i], q_.back());
  Tuple t = std::move(q_.back());
  q_.pop_back();
  return t;
}

// ---------------------------------------------------------------- ConditionalAccumulator

Status ConditionalAccumulator::MatchesAttrs(DataType dtype, const PartialShape& shape, bool mean) const {
  if (dtype != dtype_ || shape.ToString() != shape_.ToString() || mean != mean_)
    return InvalidArgument("Shared accumulator '", name_, "' has dtype ", DataTypeName(dtype_), ", shape ",
                           shape_.ToString(), " and reduction ", mean_ ? "MEAN" : "SUM", "; this op declares ",
                           DataTypeName(dtype), ", ", shape.ToString(), " and ", mean ? "MEAN" : "SUM");
  return Status::OK();
}

Status ConditionalAccumulator::ApplyGrad(int64_t local_step, const Tensor& grad) {
  if (grad.dtype() != dtype_)
    return InvalidArgument("accumulator '", name_, "' of dtype ", DataTypeName(dtype_), " got a gradient of dtype ",
                           DataTypeName(grad.dtype()));
  if (!shape_.IsCompatibleWith(grad.shape()))
    return InvalidArgument("Shape mismatch: accumulator '", name_, "' expects gradients of shape ", shape_.ToString(),
                           ", got ", grad.shape().ToString());
  std::vector<std::function<void()>> run;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (local_step < global_step_) {
      LogMessage(LOOM_LOG_DEBUG, "accumulator",
                 StrCat("accumulator '", name_, "' dropped a stale gradient (local step ", local_step, ", global step ",
                        global_step_, ")"));
      return Status::OK();
    }
    if (counter_ == 0) {
      sum_ = grad.DeepCopy();
    } else {
      if (sum_.shape() != grad.shape())
        return InvalidArgument("Shape mismatch: accumulator '", name_, "' has accumulated gradients of shape ",
                               sum_.shape().ToString(), ", got ", grad.shape().ToString());
      const int64_t n = grad.num_elements();
      if (dtype_ == LOOM_DTYPE_FLOAT) {
        float* s = sum_.data_as<float>();
        const float* g = grad.data_as<float>();
        for (int64_t i = 0; i < n; ++i) s[i] += g[i];
      } else {
        double* s = sum_.data_as<double>();
        const double* g = grad.data_as<double>();
        for (int64_t i = 0; i < n; ++i) s[i] += g[i];
      }
    }
    ++counter_;
    FlushLocked(&run);
  }
  RunAll(&run);
  return Status::OK();
}

void ConditionalAccumulator::FlushLocked(std::vector<std::function<void()>>* run) {
  if (takes_.empty() || counter_ < takes_.front().n) return;
  Take t = std::move(takes_.front());
  takes_.pop_front();
  Tensor out = sum_;
  if (mean_ && counter_ > 1) {
    const int64_t n = out.num_elements();
    if (dtype_ == LOOM_DTYPE_FLOAT) {
      float* s = out.data_as<float>();
      const float k = static_cast<float>(counter_);
      for (int64_t i = 0; i < n; ++i) s[i] /= k;
    } else {
      double* s = out.data_as<double>();
      const double k = static_cast<double>(counter_);
      for (int64_t i = 0; i < n; ++i) s[i] /= k;
    }
  }
  sum_ = Tensor();
  counter_ = 0;
  ++global_step_;
  run->push_back([done = std::move(t.done), out] { done(Status::OK(), out); });
}

uint64_t ConditionalAccumulator::TryTakeGrad(int64_t num_required, TakeDone done) {
  if (num_required <= 0) {
    done(InvalidArgument("Argument num_required must be positive, but was ", num_required), Tensor());
    return 0;
  }
  std::vector<std::function<void()>> run;
  uint64_t id;
  {
    std::lock_guard<std::mutex> l(mu_);
    id = next_id_++;
    takes_.push_back(Take{id, num_required, std::move(done)});
    FlushLocked(&run);
    if (!run.empty() && takes_.empty()) id = 0;
    bool waiting = false;
    for (const Take& t : takes_) waiting |= t.id == id;
    if (!waiting) id = 0;
  }
  RunAll(&run);
  return id;
}

void ConditionalAccumulator::Cancel(uint64_t id, const Status& s) {
  TakeDone done;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = takes_.begin(); it != takes_.end(); ++it)
      if (it->id == id) {
        done = std::move(it->done);
        takes_.erase(it);
        break;
      }
  }
  if (done) done(s, Tensor());
}

Status ConditionalAccumulator::SetGlobalStep(int64_t step) {
  std::lock_guard<std::mutex> l(mu_);
  if (step < global_step_)
    LogMessage(LOOM_LOG_WARNING, "accumulator",
               StrCat("accumulator '", name_, "': global step set back from ", global_step_, " to ", step));
  global_step_ = step;
  return Status::OK();
}

int64_t ConditionalAccumulator::NumAccumulated() {
  std::lock_guard<std::mutex> l(mu_);
  return counter_;
}

int64_t ConditionalAccumulator::global_step() {
  std::lock_guard<std::mutex> l(mu_);
  return global_step_;
}

}  // namespace loom
