#include "runtime/exec/thread_pool.h"

#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#define LOOM_CPU_RELAX() _mm_pause()
#else
#define LOOM_CPU_RELAX() std::this_thread::yield()
#endif

namespace loom {

namespace {
constexpr int kSpinIterations = 20000;  // ~50-100 us of pause instructions
}

ThreadPool::ThreadPool(int num_workers) {
  for (int i = 0; i < num_workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::Schedule(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back(std::move(fn));
    queued_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_one();
}

bool ThreadPool::RunOne() {
  if (queued_.load(std::memory_order_acquire) == 0) return false;
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (queue_.empty()) return false;
    fn = std::move(queue_.front());
    queue_.pop_front();
    queued_.fetch_sub(1, std::memory_order_relaxed);
  }
  fn();
  return true;
}

void ThreadPool::WorkerLoop() {
  for (;;) {
    for (int spin = 0; spin < kSpinIterations; ++spin) {
      if (queued_.load(std::memory_order_acquire) > 0) break;
      LOOM_CPU_RELAX();
    }
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_
      fn = std::move(queue_.front());
      queue_.pop_front();
      queued_.fetch_sub(1, std::memory_order_relaxed);
    }
    fn();
  }
}

void WaitForCounter(std::atomic<int>& count, ThreadPool* pool) {
  int spins = 0;
  while (count.load(std::memory_order_acquire) > 0) {
    if (pool && pool->RunOne()) continue;
    if (++spins < kSpinIterations) {
      LOOM_CPU_RELAX();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

void ThreadPool::ParallelFor(int64_t n, int64_t cost_per_unit, int max_parallelism,
                             const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  constexpr int64_t kMinCostPerChunk = 20000;  // cycles; below this, threading costs more
  int64_t total = n * (cost_per_unit > 0 ? cost_per_unit : 1);
  int64_t chunks = std::min<int64_t>(max_parallelism, num_workers() + 1);
  chunks = std::min<int64_t>(chunks, std::max<int64_t>(1, total / kMinCostPerChunk));
  chunks = std::min<int64_t>(chunks, n);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  int64_t per = (n + chunks - 1) / chunks;
  std::atomic<int> pending{0};
  for (int64_t c = 1; c < chunks; ++c) {
    int64_t b = c * per, e = std::min(n, b + per);
    if (b >= e) break;
    pending.fetch_add(1, std::memory_order_relaxed);
    Schedule([&fn, &pending, b, e] {
      fn(b, e);
      pending.fetch_sub(1, std::memory_order_acq_rel);
    });
  }
  fn(0, std::min(n, per));
  WaitForCounter(pending, this);
}

}  // namespace loom
