#include "runtime/exec/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <memory>

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

void WaitForCounter(std::atomic<int>& count, ThreadPool* pool) { (void)WaitForCounterFor(count, pool, 0); }

bool WaitForCounterFor(std::atomic<int>& count, ThreadPool* pool, int64_t timeout_ms) {
  int spins = 0, sleeps = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (count.load(std::memory_order_acquire) > 0) {
    if (pool && pool->RunOne()) continue;
    if (++spins < kSpinIterations) {
      LOOM_CPU_RELAX();
      continue;
    }
    // A step waiting long (a dequeue from an empty queue, a slow peer) polls
    // less often: every 50 us for the first ~20 ms, then every 500 us, so
    // idle waiters (queue runners blocked on a full queue) do not keep cores
    // busy, while the added latency stays under ~2.5% of the time waited.
    std::this_thread::sleep_for(std::chrono::microseconds(++sleeps < 400 ? 50 : 500));
    if (timeout_ms > 0 && std::chrono::steady_clock::now() >= deadline) return false;
  }
  return true;
}

// Guided self-scheduling: the caller and up to (threads - 1) helpers claim
// ranges from a shared cursor, each claim about 1/(2 * threads) of what is
// left (never less than ~kMinCostPerChunk cycles of work). The first claims
// are big (few, large GEMM calls in the kernels), the last ones small, so a
// thread that starts late or is preempted by other load on the machine
// leaves its share to whoever is running instead of holding up the join.
//
// Helpers hold the shared state by shared_ptr: a helper that only starts
// after the caller has run every range out finds the state closed and
// returns without touching `fn`, so the caller waits only for helpers that
// are actually working on its ranges, never for unrelated queued tasks.
namespace {
struct ParallelForState {
  std::atomic<int64_t> next{0};
  std::atomic<int> running{0};
  std::atomic<bool> closed{false};
  int64_t n = 0, min_units = 1, divisor = 2;
  const std::function<void(int64_t, int64_t)>* fn = nullptr;

  // Claims and runs ranges until none is left.
  void Drain() {
    int64_t b = next.load(std::memory_order_relaxed);
    for (;;) {
      if (b >= n) return;
      const int64_t want = std::max(min_units, (n - b + divisor - 1) / divisor);
      const int64_t e = std::min(n, b + want);
      if (next.compare_exchange_weak(b, e, std::memory_order_relaxed)) {
        (*fn)(b, e);
        b = next.load(std::memory_order_relaxed);
      }
    }
  }
};
}  // namespace

void ThreadPool::ParallelFor(int64_t n, int64_t cost_per_unit, int max_parallelism,
                             const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  constexpr int64_t kMinCostPerChunk = 20000;  // cycles; below this, threading costs more
  const int64_t cost = std::max<int64_t>(1, cost_per_unit);
  // Units per claim that make up kMinCostPerChunk; total work in chunks of that size.
  const int64_t min_units = std::max<int64_t>(1, kMinCostPerChunk / cost);
  const int64_t min_chunks = (n + min_units - 1) / min_units;
  const int64_t threads = std::min<int64_t>(
      std::min<int64_t>(max_parallelism, num_workers() + 1), std::min(n, min_chunks));
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  auto st = std::make_shared<ParallelForState>();
  st->n = n;
  st->min_units = min_units;
  st->divisor = 2 * threads;
  st->fn = &fn;
  for (int64_t h = 1; h < threads; ++h) {
    Schedule([st] {
      if (st->closed.load()) return;
      st->running.fetch_add(1);
      if (!st->closed.load()) st->Drain();
      st->running.fetch_sub(1, std::memory_order_release);
    });
  }
  st->Drain();
  // Every range is claimed; helpers that start from now on see `closed` and
  // leave. Wait for those already inside Drain (seq_cst pairs the store with
  // the helpers' increment-then-check).
  st->closed.store(true);
  int spins = 0;
  while (st->running.load(std::memory_order_acquire) > 0) {
    if (++spins < kSpinIterations) {
      LOOM_CPU_RELAX();
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace loom
