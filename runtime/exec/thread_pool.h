// ThreadPool: the session's worker threads, shared by inter-op scheduling and
// intra-op ParallelFor so the two never oversubscribe the machine. Waking a
// sleeping thread on another core costs ~50 us here, so idle workers spin
// briefly before sleeping, and a thread that waits for work it handed out runs
// queued tasks itself (no deadlock when a pool task calls ParallelFor).
#ifndef LOOM_RUNTIME_EXEC_THREAD_POOL_H_
#define LOOM_RUNTIME_EXEC_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace loom {

class ThreadPool {
 public:
  // num_workers may be 0: every task then runs in the thread that waits.
  explicit ThreadPool(int num_workers);
  ~ThreadPool();
  int num_workers() const { return static_cast<int>(threads_.size()); }

  void Schedule(std::function<void()> fn);
  // Runs one queued task in the calling thread; false if none was queued.
  bool RunOne();
  // Runs fn(begin, end) over disjoint ranges covering [0, n), on the calling
  // thread and up to max_parallelism - 1 pool threads. Ranges are claimed
  // dynamically (large first, smaller towards the end; none below ~20000
  // cycles of cost_per_unit), so how many calls fn gets and which thread runs
  // which range vary from run to run. Returns when every range has run.
  void ParallelFor(int64_t n, int64_t cost_per_unit, int max_parallelism,
                   const std::function<void(int64_t, int64_t)>& fn);

 private:
  void WorkerLoop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::atomic<int> queued_{0};
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// Blocks until `count` reaches zero, running pool tasks meanwhile.
void WaitForCounter(std::atomic<int>& count, ThreadPool* pool);
// The same for at most timeout_ms (0: no limit); false if it timed out.
bool WaitForCounterFor(std::atomic<int>& count, ThreadPool* pool, int64_t timeout_ms);

}  // namespace loom

#endif  // LOOM_RUNTIME_EXEC_THREAD_POOL_H_
