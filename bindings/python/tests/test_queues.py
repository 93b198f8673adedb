"""Queues, accumulators and queue-fed input pipelines (TensorFlow 1.x
semantics). Every blocking case is bounded: waits use threads joined with a
timeout, and steps that must block carry operation_timeout_in_ms."""
import threading
import time

import numpy as np
import pytest

import loom as tf

from test_distributed import needs_zmq


def run_in_thread(fn):
    """Starts fn in a thread; returns (thread, result dict with 'value' or 'error')."""
    out = {}

    def body():
        try:
            out["value"] = fn()
        except Exception as e:  # noqa: BLE001 - checked by the test
            out["error"] = e
    t = threading.Thread(target=body, daemon=True)
    t.start()
    return t, out


def test_fifo_queue_is_first_in_first_out():
    q = tf.FIFOQueue(10, [tf.float32, tf.int32], shapes=[[2], []])
    enq = q.enqueue_many([[[1, 2], [3, 4], [5, 6]], [7, 8, 9]])
    one = q.dequeue()
    two = q.dequeue_many(2)
    with tf.Session() as s:
        s.run(enq)
        assert s.run(q.size()) == 3
        a, b = s.run(one)
        np.testing.assert_array_equal(a, [1, 2])
        assert b == 7
        a, b = s.run(two)
        np.testing.assert_array_equal(a, [[3, 4], [5, 6]])
        np.testing.assert_array_equal(b, [8, 9])
        assert s.run(q.size()) == 0
    assert two[0].shape.as_list() == [2, 2]


def test_close_then_dequeue_of_empty_queue_is_out_of_range():
    q = tf.FIFOQueue(5, tf.float32, shapes=[[]])
    enq = q.enqueue([1.5])
    with tf.Session() as s:
        s.run(enq)
        s.run(q.close())
        assert s.run(q.is_closed())
        assert s.run(q.dequeue()) == 1.5  # what is in a closed queue still comes out
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient"):
            s.run(q.dequeue())
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            s.run(enq)


def test_dequeue_many_across_a_close():
    q = tf.FIFOQueue(10, tf.int32, shapes=[[]])
    enq = q.enqueue_many([[1, 2, 3]])
    many = q.dequeue_many(5)
    up_to = q.dequeue_up_to(5)
    with tf.Session() as s:
        s.run(enq)
        t, out = run_in_thread(lambda: s.run(many))
        time.sleep(0.2)
        assert t.is_alive()  # 3 of 5: waits
        s.run(q.close())
        t.join(10)
        assert not t.is_alive()
        assert isinstance(out.get("error"), tf.errors.OutOfRangeError)
        # The failed dequeue_many put its 3 elements back; dequeue_up_to takes them.
        np.testing.assert_array_equal(s.run(up_to), [1, 2, 3])
        with pytest.raises(tf.errors.OutOfRangeError):
            s.run(up_to)


@needs_zmq
def test_blocking_dequeue_is_woken_by_another_sessions_enqueue():
    server = tf.train.Server.create_local_server()
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        q1 = tf.FIFOQueue(4, tf.float32, shapes=[[2]], shared_name="shared_q")
        deq = q1.dequeue()
    with g2.as_default():
        q2 = tf.FIFOQueue(4, tf.float32, shapes=[[2]], shared_name="shared_q")
        enq = q2.enqueue([[3.0, 4.0]])
    s1 = tf.Session(server.target, graph=g1)
    s2 = tf.Session(server.target, graph=g2)
    try:
        t, out = run_in_thread(lambda: s1.run(deq))
        time.sleep(0.3)
        assert t.is_alive()
        s2.run(enq)
        t.join(10)
        assert not t.is_alive()
        np.testing.assert_array_equal(out["value"], [3.0, 4.0])
    finally:
        s1.close()
        s2.close()


def test_dequeue_past_the_operation_timeout_is_deadline_exceeded_and_queue_still_works():
    q = tf.FIFOQueue(3, tf.float32, shapes=[[]])
    deq = q.dequeue()
    enq = q.enqueue([2.0])
    config = tf.ConfigProto(operation_timeout_in_ms=300)
    with tf.Session(config=config) as s:
        start = time.time()
        with pytest.raises(tf.errors.DeadlineExceededError):
            s.run(deq)
        assert time.time() - start < 5
        s.run(enq)  # the timed-out dequeue left no waiter behind to steal it
        assert s.run(q.size()) == 1
        assert s.run(deq) == 2.0


@needs_zmq
def test_dequeue_on_a_server_past_the_operation_timeout_is_deadline_exceeded():
    server = tf.train.Server.create_local_server()
    q = tf.FIFOQueue(3, tf.float32, shapes=[[]], shared_name="timeout_q")
    deq = q.dequeue()
    enq = q.enqueue([5.0])
    config = tf.ConfigProto(operation_timeout_in_ms=400)
    with tf.Session(server.target, config=config) as s:
        with pytest.raises(tf.errors.DeadlineExceededError):
            s.run(deq)
        s.run(enq)
        assert s.run(deq) == 5.0


def test_more_blocked_dequeues_than_pool_threads_still_complete():
    n = 8  # with 1 inter-op thread: waiting dequeues hold no thread
    q = tf.FIFOQueue(100, tf.int32, shapes=[[]])
    deq = q.dequeue()
    enq = q.enqueue_many([tf.range(n)])
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    with tf.Session(config=config) as s:
        waiters = [run_in_thread(lambda: s.run(deq)) for _ in range(n)]
        time.sleep(0.3)
        assert all(t.is_alive() for t, _ in waiters)
        s.run(enq)
        for t, _ in waiters:
            t.join(10)
        assert sorted(int(o["value"]) for _, o in waiters) == list(range(n))


def test_close_with_cancel_pending_enqueues_fails_the_waiting_enqueue():
    q = tf.FIFOQueue(1, tf.float32, shapes=[[]])
    enq = q.enqueue([1.0])
    with tf.Session() as s:
        s.run(enq)
        t, out = run_in_thread(lambda: s.run(enq))  # full: waits
        time.sleep(0.2)
        assert t.is_alive()
        s.run(q.close(cancel_pending_enqueues=True))
        t.join(10)
        assert isinstance(out.get("error"), tf.errors.CancelledError)
        assert s.run(q.size()) == 1


def test_seeded_random_shuffle_queue_is_reproducible_and_a_permutation():
    def order(seed):
        g = tf.Graph()
        with g.as_default():
            q = tf.RandomShuffleQueue(20, 0, tf.int32, shapes=[[]], seed=seed)
            enq = q.enqueue_many([tf.range(20)])
            deq = q.dequeue_many(20)
            with tf.Session(graph=g) as s:
                s.run(enq)
                return list(s.run(deq))
    a, b, c = order(7), order(7), order(8)
    assert a == b
    assert sorted(a) == list(range(20))
    assert a != list(range(20)) and a != c


def test_random_shuffle_queue_keeps_min_after_dequeue():
    q = tf.RandomShuffleQueue(10, 3, tf.int32, shapes=[[]], seed=1)
    enq = q.enqueue_many([[1, 2, 3, 4]])
    deq = q.dequeue()
    config = tf.ConfigProto(operation_timeout_in_ms=300)
    with tf.Session(config=config) as s:
        s.run(enq)
        first = int(s.run(deq))  # 4 > 3
        with pytest.raises(tf.errors.DeadlineExceededError):
            s.run(deq)  # 3 left: waits for more
        assert s.run(q.size()) == 3
        s.run(q.close())
        rest = [int(s.run(deq)) for _ in range(3)]  # closed: drains
        assert sorted([first] + rest) == [1, 2, 3, 4]


def test_padding_fifo_queue_pads_batches_with_zeros():
    q = tf.PaddingFIFOQueue(5, [tf.int32], shapes=[[None]])
    x = tf.placeholder(tf.int32, [None])
    enq = q.enqueue([x])
    deq = q.dequeue_many(2)
    with tf.Session() as s:
        s.run(enq, {x: [1, 2, 3]})
        s.run(enq, {x: [4]})
        np.testing.assert_array_equal(s.run(deq), [[1, 2, 3], [4, 0, 0]])


def test_queue_errors_name_the_queue_and_expectation():
    q = tf.FIFOQueue(5, tf.float32, shapes=[[2]], name="myq")
    x = tf.placeholder(tf.float32)
    enq = q.enqueue([x])
    with tf.Session() as s:
        with pytest.raises(tf.errors.InvalidArgumentError, match="FIFOQueue 'myq'.*Expected \\[2\\]"):
            s.run(enq, {x: [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError):
        tf.PaddingFIFOQueue(5, [tf.int32, tf.int32], shapes=[[None]])


def test_accumulator_averages_and_drops_stale_gradients():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[2])
    g = tf.placeholder(tf.float32, [2])
    step = tf.placeholder(tf.int64, [])
    apply = acc.apply_grad(g, local_step=step)
    take = acc.take_grad(2)
    set_step = acc.set_global_step(5)
    with tf.Session() as s:
        s.run(apply, {g: [1, 2], step: 0})
        s.run(apply, {g: [3, 6], step: 0})
        s.run(apply, {g: [5, 1], step: 0})
        assert s.run(acc.num_accumulated()) == 3
        np.testing.assert_allclose(s.run(take), [3, 3])  # all 3 accumulated: their mean
        # The take advanced the accumulator to global step 1: step 0 is stale.
        s.run(apply, {g: [100, 100], step: 0})
        assert s.run(acc.num_accumulated()) == 0
        s.run(apply, {g: [2, 4], step: 1})
        s.run(set_step)
        s.run(apply, {g: [100, 100], step: 4})  # behind 5: dropped
        s.run(apply, {g: [4, 0], step: 5})
        np.testing.assert_allclose(s.run(take), [3, 2])


def test_take_grad_waits_for_num_required_gradients():
    acc = tf.ConditionalAccumulator(tf.float32, shape=[], reduction_type="SUM")
    g = tf.placeholder(tf.float32, [])
    apply = acc.apply_grad(g, local_step=0)
    take = acc.take_grad(3)
    with tf.Session() as s:
        t, out = run_in_thread(lambda: s.run(take))
        for v in (1.0, 2.0):
            s.run(apply, {g: v})
        time.sleep(0.2)
        assert t.is_alive()
        s.run(apply, {g: 4.0})
        t.join(10)
        assert out["value"] == 7.0


def test_batch_with_four_queue_runner_threads_sees_every_element_once_per_epoch():
    n, epochs = 50, 2
    data = np.arange(n, dtype=np.int32)
    (x,) = tf.train.slice_input_producer([tf.constant(data)], num_epochs=epochs, shuffle=False,
                                         capacity=16)
    batch = tf.train.batch([x], batch_size=7, num_threads=4, capacity=16,
                           allow_smaller_final_batch=True)
    seen = []
    with tf.Session() as s:
        s.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(s, coord=coord)
        try:
            while True:
                seen.extend(int(v) for v in s.run(batch[0]))
        except tf.errors.OutOfRangeError:
            pass
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    counts = np.bincount(seen, minlength=n)
    assert counts.tolist() == [epochs] * n


def test_shuffle_batch_and_limit_epochs():
    v = tf.train.limit_epochs(tf.constant([1, 2, 3]), num_epochs=2)
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        assert s.run(v).tolist() == [1, 2, 3]
        assert s.run(v).tolist() == [1, 2, 3]
        with pytest.raises(tf.errors.OutOfRangeError):
            s.run(v)
    tf.reset_default_graph()
    q = tf.train.range_input_producer(30, num_epochs=1, shuffle=False)
    b = tf.train.shuffle_batch([q.dequeue()], batch_size=30, capacity=40, min_after_dequeue=5,
                               seed=3, allow_smaller_final_batch=True)
    with tf.Session() as s:
        s.run(tf.local_variables_initializer())
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(s, coord=coord)
        got = s.run(b[0]).tolist()
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
    assert sorted(got) == list(range(30)) and got != list(range(30))


def test_queue_graphs_round_trip_through_graphdef():
    q = tf.FIFOQueue(4, tf.float32, shapes=[[2]], name="q")
    q.enqueue([[1.0, 2.0]], name="enq")
    q.dequeue(name="deq")
    gd = tf.get_default_graph().as_graph_def()
    types = {n.name: n.op for n in gd.node}
    assert types["q"] == "FIFOQueueV2" and types["deq"] == "QueueDequeueV2"  # TensorFlow's names
    g = tf.Graph()
    with g.as_default():
        tf.import_graph_def(gd, name="")
        with tf.Session(graph=g) as s:
            s.run(g.get_operation_by_name("enq"))
            np.testing.assert_array_equal(s.run(g.get_tensor_by_name("deq:0")), [1.0, 2.0])
