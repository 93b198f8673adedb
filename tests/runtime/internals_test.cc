// Internals that the C API does not expose directly: device names, the
// rendezvous, the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "runtime/core/tensor.h"
#include "runtime/exec/rendezvous.h"
#include "runtime/exec/thread_pool.h"
#include "runtime/placement/device_name.h"

namespace loom {
namespace {

TEST(DeviceName, ParsesFullAndPartialForms) {
  DeviceName d;
  ASSERT_TRUE(ParseDeviceName("/job:worker/replica:0/task:3/device:GPU:1", &d).ok());
  EXPECT_EQ(d.job, "worker");
  EXPECT_EQ(d.task, 3);
  EXPECT_EQ(d.type, "GPU");
  EXPECT_EQ(d.id, 1);
  ASSERT_TRUE(ParseDeviceName("/cpu:0", &d).ok());
  EXPECT_EQ(d.type, "CPU");
  ASSERT_TRUE(ParseDeviceName("CPU:2", &d).ok());
  EXPECT_EQ(d.id, 2);
  ASSERT_TRUE(ParseDeviceName("/job:ps", &d).ok());
  EXPECT_TRUE(d.has_job);
  EXPECT_FALSE(d.has_type);
  ASSERT_TRUE(ParseDeviceName("/device:OPENCL:*", &d).ok());
  EXPECT_TRUE(d.has_type);
  EXPECT_FALSE(d.has_id);
}

TEST(DeviceName, RejectsMalformedNames) {
  DeviceName d;
  for (const char* bad : {"/job:", "/task:x", "/device:CPU:one", "//", "/colour:red", "CPU:-1"}) {
    Status s = ParseDeviceName(bad, &d);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find(bad), std::string::npos) << s.message();
  }
}

TEST(DeviceName, PartialMatchesSpecific) {
  DeviceName partial, full;
  ASSERT_TRUE(ParseDeviceName("/device:CPU:*", &partial).ok());
  ASSERT_TRUE(ParseDeviceName("/job:localhost/device:CPU:0", &full).ok());
  EXPECT_TRUE(partial.Matches(full));
  EXPECT_FALSE(full.Matches(partial));
}

TEST(Rendezvous, SendBeforeRecvDelivers) {
  Rendezvous r;
  Tensor t;
  ASSERT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{1}, &t).ok());
  *t.data_as<float>() = 3.5f;
  ASSERT_TRUE(r.Send("k", t).ok());
  Tensor got;
  ASSERT_TRUE(r.Recv("k", &got).ok());
  EXPECT_EQ(*got.data_as<float>(), 3.5f);
}

TEST(Rendezvous, RecvBeforeSendCallsBackOnSend) {
  Rendezvous r;
  float seen = 0;
  r.RecvAsync("k", [&](const Status& s, const Tensor& t) {
    ASSERT_TRUE(s.ok());
    seen = *t.data_as<float>();
  });
  EXPECT_EQ(seen, 0);
  Tensor t;
  ASSERT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{1}, &t).ok());
  *t.data_as<float>() = 2.0f;
  ASSERT_TRUE(r.Send("k", t).ok());
  EXPECT_EQ(seen, 2.0f);
}

TEST(Rendezvous, AbortIsStickyAndFailsPendingAndFutureReceives) {
  Rendezvous r;
  Status pending_status;
  r.RecvAsync("a", [&](const Status& s, const Tensor&) { pending_status = s; });
  r.StartAbort(Unavailable("worker 3 died"));
  r.StartAbort(Cancelled("a later, secondary error"));
  EXPECT_EQ(pending_status.code(), LOOM_CODE_UNAVAILABLE);
  Tensor t;
  Status later = r.Recv("b", &t);
  EXPECT_EQ(later.code(), LOOM_CODE_UNAVAILABLE);
  EXPECT_EQ(later.message(), "worker 3 died");
  EXPECT_EQ(r.Send("c", t).code(), LOOM_CODE_UNAVAILABLE);
}

TEST(Rendezvous, DuplicateSendIsAnError) {
  Rendezvous r;
  Tensor t;
  ASSERT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{}, &t).ok());
  ASSERT_TRUE(r.Send("k", t).ok());
  EXPECT_EQ(r.Send("k", t).code(), LOOM_CODE_ALREADY_EXISTS);
}

TEST(Rendezvous, KeysFollowTheDocumentedLayout) {
  EXPECT_EQ(Rendezvous::CreateKey("/job:a/task:0/device:CPU:0", 7, "/job:b/task:1/device:CPU:0", "x:0"),
            "/job:a/task:0/device:CPU:0;7;/job:b/task:1/device:CPU:0;x:0;0:0");
}

TEST(HostBuffers, LargeBuffersAreRecycledForTheSameRoundedSize) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled, so misuse stays visible";
#endif
  // A training step allocates the same large sizes every step; a released
  // buffer of >= 128 KiB serves the next request of its page-rounded size.
  void* first = nullptr;
  {
    std::shared_ptr<Buffer> b = AllocateHostBuffer(size_t{1} << 20);
    ASSERT_NE(b, nullptr);
    first = b->data;
    std::memset(b->data, 1, b->size);
  }
  std::shared_ptr<Buffer> again = AllocateHostBuffer((size_t{1} << 20) - 100);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->data, first);
  EXPECT_EQ(again->size, (size_t{1} << 20) - 100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(again->data) % 64, 0u);
  std::shared_ptr<Buffer> other = AllocateHostBuffer(size_t{3} << 20);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other->data, first);  // `first` is in use by `again`
  std::memset(other->data, 2, other->size);
}

TEST(ThreadPool, ParallelForCoversTheRangeExactlyOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(10000);
  pool.ParallelFor(10000, 100000, 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) hits[i]++;
  });
  for (auto& h : hits) ASSERT_EQ(h.load(), 1);
}

TEST(ThreadPool, ParallelForCoversTheRangeWithUnevenWorkOnEveryThreadCount) {
  // Cheap units (many small claims) and costly ones (a claim per unit), on
  // pools smaller and larger than the requested parallelism.
  for (int workers : {0, 1, 3}) {
    ThreadPool pool(workers);
    for (int64_t cost : {int64_t{1}, int64_t{5000}, int64_t{1} << 30}) {
      for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{100003}}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<int64_t> calls{0};
        pool.ParallelFor(n, cost, 4, [&](int64_t b, int64_t e) {
          ASSERT_LT(b, e);
          calls++;
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
          if ((b & 3) == 0) std::this_thread::yield();  // uneven speeds
        });
        for (auto& h : hits) ASSERT_EQ(h.load(), 1) << "workers " << workers << " n " << n;
        EXPECT_LE(calls.load(), n);
      }
    }
  }
}

TEST(ThreadPool, ParallelForDoesNotWaitForUnrelatedQueuedTasks) {
  // The only worker is busy and another task waits in the queue ahead of
  // ParallelFor's helper: the caller runs every range itself and returns
  // without running (or waiting for) the unrelated tasks, which only finish
  // once `release` is set after ParallelFor has returned.
  ThreadPool pool(1);
  std::atomic<bool> release{false};
  std::atomic<int> blocked{2};
  std::atomic<bool> started{false};
  auto blocker = [&] {
    started = true;
    while (!release.load()) std::this_thread::yield();
    blocked--;
  };
  pool.Schedule(blocker);
  while (!started.load()) std::this_thread::yield();
  pool.Schedule(blocker);
  int64_t total = 0;  // only the caller runs ranges: no atomics needed
  pool.ParallelFor(1000, 1000000, 2, [&](int64_t b, int64_t e) { total += e - b; });
  EXPECT_EQ(total, 1000);
  release = true;
  WaitForCounter(blocked, nullptr);
}

TEST(ThreadPool, NestedParallelForFromAPoolTaskDoesNotDeadlock) {
  ThreadPool pool(1);
  std::atomic<int> total{0};
  std::atomic<int> done{1};
  pool.Schedule([&] {
    pool.ParallelFor(100, 1000000, 2, [&](int64_t b, int64_t e) { total += static_cast<int>(e - b); });
    done--;
  });
  WaitForCounter(done, &pool);
  EXPECT_EQ(total.load(), 100);
}

}  // namespace
}  // namespace loom
