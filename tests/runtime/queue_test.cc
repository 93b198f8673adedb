// Queues and conditional accumulators (runtime/exec/queue.h) as resources:
// waiting attempts complete from later operations, Close and Cancel, with
// TensorFlow's semantics; and the step's abort reaching them through the
// rendezvous.
#include "runtime/exec/queue.h"

#include <gtest/gtest.h>

#include "runtime/exec/rendezvous.h"

namespace loom {
namespace {

Tensor Scalar(float v) {
  Tensor t;
  EXPECT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{}, &t).ok());
  *t.data_as<float>() = v;
  return t;
}

Tensor Vector(std::vector<float> v) {
  Tensor t;
  EXPECT_TRUE(Tensor::Allocate(LOOM_DTYPE_FLOAT, TensorShape{static_cast<int64_t>(v.size())}, &t).ok());
  for (size_t i = 0; i < v.size(); ++i) t.data_as<float>()[i] = v[i];
  return t;
}

std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.num_elements());
}

struct Result {
  bool called = false;
  Status status;
  QueueBase::Tuple tuple;
};

QueueBase::DequeueDone Into(Result* r) {
  return [r](const Status& s, QueueBase::Tuple t) {
    r->called = true;
    r->status = s;
    r->tuple = std::move(t);
  };
}

TEST(FIFOQueue, WaitingDequeueCompletesOnEnqueueInOrder) {
  FIFOQueue q("q", {LOOM_DTYPE_FLOAT}, {PartialShape{}}, 10);
  Result first, second;
  EXPECT_NE(q.TryDequeue(-1, false, Into(&first)), 0u);
  EXPECT_NE(q.TryDequeue(-1, false, Into(&second)), 0u);
  EXPECT_FALSE(first.called);
  bool enqueued = false;
  EXPECT_EQ(q.TryEnqueue({Vector({1, 2})}, /*many=*/true, [&](const Status& s) { enqueued = s.ok(); }), 0u);
  EXPECT_TRUE(enqueued);
  ASSERT_TRUE(first.called && second.called);
  EXPECT_EQ(Values(first.tuple[0]), std::vector<float>{1});
  EXPECT_EQ(Values(second.tuple[0]), std::vector<float>{2});
  EXPECT_EQ(q.Size(), 0);
}

TEST(FIFOQueue, FullQueueEnqueueWaitsForADequeue) {
  FIFOQueue q("q", {LOOM_DTYPE_FLOAT}, {}, 1);
  int done = 0;
  q.TryEnqueue({Scalar(1)}, false, [&](const Status& s) { done += s.ok(); });
  uint64_t id = q.TryEnqueue({Scalar(2)}, false, [&](const Status& s) { done += s.ok(); });
  EXPECT_NE(id, 0u);
  EXPECT_EQ(done, 1);
  Result r;
  q.TryDequeue(-1, false, Into(&r));
  EXPECT_EQ(done, 2);
  EXPECT_EQ(Values(r.tuple[0]), std::vector<float>{1});
  EXPECT_EQ(q.Size(), 1);
}

TEST(FIFOQueue, CancelledDequeueManyReturnsWhatItTookToTheFront) {
  FIFOQueue q("q", {LOOM_DTYPE_FLOAT}, {PartialShape{}}, 10);
  q.TryEnqueue({Vector({1, 2})}, true, [](const Status&) {});
  Result r;
  uint64_t id = q.TryDequeue(3, false, Into(&r));
  ASSERT_NE(id, 0u);
  EXPECT_EQ(q.Size(), 0);  // taken by the waiting attempt
  q.Cancel(id, DeadlineExceeded("deadline"));
  ASSERT_TRUE(r.called);
  EXPECT_EQ(r.status.code(), LOOM_CODE_DEADLINE_EXCEEDED);
  EXPECT_EQ(q.Size(), 2);
  q.Cancel(id, Cancelled("again"));  // already finished: nothing happens
  Result all;
  q.TryDequeue(2, false, Into(&all));
  EXPECT_EQ(Values(all.tuple[0]), (std::vector<float>{1, 2}));
}

TEST(FIFOQueue, CloseFailsShortDequeuesAndCancelsPendingEnqueues) {
  FIFOQueue q("q", {LOOM_DTYPE_FLOAT}, {PartialShape{}}, 1);
  q.TryEnqueue({Scalar(1)}, false, [](const Status&) {});
  Status pending;
  q.TryEnqueue({Scalar(2)}, false, [&](const Status& s) { pending = s; });
  q.Close(/*cancel_pending_enqueues=*/true);
  EXPECT_EQ(pending.code(), LOOM_CODE_CANCELLED);
  Result many, up_to, empty;
  q.TryDequeue(2, false, Into(&many));
  EXPECT_EQ(many.status.code(), LOOM_CODE_OUT_OF_RANGE);
  EXPECT_NE(many.status.message().find("FIFOQueue 'q' is closed and has insufficient elements (requested 2, "
                                       "current size 1)"),
            std::string::npos)
      << many.status.message();
  q.TryDequeue(2, true, Into(&up_to));
  ASSERT_TRUE(up_to.status.ok());
  EXPECT_EQ(Values(up_to.tuple[0]), std::vector<float>{1});
  q.TryDequeue(-1, false, Into(&empty));
  EXPECT_EQ(empty.status.code(), LOOM_CODE_OUT_OF_RANGE);
  Status late;
  q.TryEnqueue({Scalar(3)}, false, [&](const Status& s) { late = s; });
  EXPECT_EQ(late.code(), LOOM_CODE_CANCELLED);
}

TEST(FIFOQueue, RejectsComponentsOfTheWrongShape) {
  FIFOQueue q("q", {LOOM_DTYPE_FLOAT}, {PartialShape{2}}, 10);
  Status s;
  q.TryEnqueue({Vector({1, 2, 3})}, false, [&](const Status& st) { s = st; });
  EXPECT_EQ(s.code(), LOOM_CODE_INVALID_ARGUMENT);
  EXPECT_NE(s.message().find("Expected [2], got [3]"), std::string::npos) << s.message();
}

TEST(RandomShuffleQueue, SameSeedSameOrderAndKeepsMinAfterDequeue) {
  auto order = [](int64_t seed) {
    RandomShuffleQueue q("r", {LOOM_DTYPE_FLOAT}, {PartialShape{}}, 100, 0, seed, 0);
    std::vector<float> v(20);
    for (int i = 0; i < 20; ++i) v[i] = static_cast<float>(i);
    q.TryEnqueue({Vector(v)}, true, [](const Status&) {});
    Result r;
    q.TryDequeue(20, false, Into(&r));
    return Values(r.tuple[0]);
  };
  EXPECT_EQ(order(5), order(5));
  EXPECT_NE(order(5), order(6));
  RandomShuffleQueue q("r", {LOOM_DTYPE_FLOAT}, {PartialShape{}}, 10, 2, 1, 1);
  q.TryEnqueue({Vector({1, 2, 3})}, true, [](const Status&) {});
  Result a, b;
  q.TryDequeue(-1, false, Into(&a));
  EXPECT_TRUE(a.called);
  q.TryDequeue(-1, false, Into(&b));
  EXPECT_FALSE(b.called);  // 2 left = min_after_dequeue
  q.Close(false);
  EXPECT_TRUE(b.called && b.status.ok());
}

TEST(PaddingFIFOQueue, PadsBatchesToTheLargestElement) {
  PaddingFIFOQueue q("p", {LOOM_DTYPE_FLOAT}, {PartialShape{-1}}, 10);
  q.TryEnqueue({Vector({1, 2, 3})}, false, [](const Status&) {});
  q.TryEnqueue({Vector({4})}, false, [](const Status&) {});
  Result r;
  q.TryDequeue(2, false, Into(&r));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.tuple[0].shape(), (TensorShape{2, 3}));
  EXPECT_EQ(Values(r.tuple[0]), (std::vector<float>{1, 2, 3, 4, 0, 0}));
}

TEST(ConditionalAccumulator, AveragesFreshGradientsAndDropsStaleOnes) {
  ConditionalAccumulator acc("a", LOOM_DTYPE_FLOAT, PartialShape{2}, /*mean=*/true);
  Tensor got;
  Status st;
  uint64_t id = acc.TryTakeGrad(2, [&](const Status& s, Tensor t) {
    st = s;
    got = t;
  });
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(acc.ApplyGrad(0, Vector({1, 2})).ok());
  EXPECT_FALSE(got.valid());
  EXPECT_TRUE(acc.ApplyGrad(0, Vector({3, 8})).ok());
  ASSERT_TRUE(got.valid());
  EXPECT_EQ(Values(got), (std::vector<float>{2, 5}));
  EXPECT_EQ(acc.global_step(), 1);
  EXPECT_TRUE(acc.ApplyGrad(0, Vector({100, 100})).ok());  // stale: dropped
  EXPECT_EQ(acc.NumAccumulated(), 0);
  EXPECT_TRUE(acc.ApplyGrad(1, Vector({4, 4})).ok());
  EXPECT_EQ(acc.NumAccumulated(), 1);
  EXPECT_EQ(acc.ApplyGrad(1, Vector({1, 2, 3})).code(), LOOM_CODE_INVALID_ARGUMENT);
  Status bad;
  acc.TryTakeGrad(0, [&](const Status& s, Tensor) { bad = s; });
  EXPECT_EQ(bad.code(), LOOM_CODE_INVALID_ARGUMENT);
}

TEST(ConditionalAccumulator, StepAbortWakesAWaitingTakeThroughTheRendezvous) {
  auto acc = std::make_shared<ConditionalAccumulator>("a", LOOM_DTYPE_FLOAT, PartialShape{}, true);
  Rendezvous rv;
  Status st;
  uint64_t id = acc->TryTakeGrad(1, [&](const Status& s, Tensor) { st = s; });
  ASSERT_TRUE(rv.AddAbortCallback([acc, id](const Status& s) { acc->Cancel(id, s); }));
  rv.StartAbort(DeadlineExceeded("step timed out"));
  EXPECT_EQ(st.code(), LOOM_CODE_DEADLINE_EXCEEDED);
  EXPECT_FALSE(rv.AddAbortCallback([](const Status&) {}));  // aborted: not kept
  // The accumulator is still usable.
  Tensor got;
  acc->TryTakeGrad(1, [&](const Status&, Tensor t) { got = t; });
  EXPECT_TRUE(acc->ApplyGrad(0, Scalar(3)).ok());
  EXPECT_EQ(Values(got), std::vector<float>{3});
}

}  // namespace
}  // namespace loom
