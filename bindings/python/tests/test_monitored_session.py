"""MonitoredTrainingSession, hooks, checkpoints of variables on a server, and
ps placement strategies."""
import os

import numpy as np
import pytest

import loom as tf

from test_distributed import needs_zmq


def _model():
    x = tf.placeholder(tf.float32, [None, 1])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([1, 1]), name="w")
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
    gs = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=gs)
    return x, y, w, gs, train


def test_monitored_training_session_stops_at_step_and_checkpoints(tmp_path):
    x, y, w, gs, train = _model()
    xv = np.ones((4, 1), np.float32)
    logged = []
    hook = tf.train.LoggingTensorHook({"step": gs}, every_n_iter=2,
                                      formatter=lambda v: logged.append(int(v["step"])))
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), save_checkpoint_steps=3,
                                           hooks=[tf.train.StopAtStepHook(last_step=7), hook]) as s:
        n = 0
        while not s.should_stop():
            s.run(train, {x: xv, y: 2 * xv})
            n += 1
    assert n == 7
    # A variable fetched with the op that updates it reads as updated here
    # (TensorFlow leaves that order open).
    assert logged == [1, 3, 5, 7]
    ckpt = tf.train.latest_checkpoint(str(tmp_path))
    assert ckpt.endswith("model.ckpt-7")
    assert int(tf.train.load_variable(ckpt, "global_step")) == 7
    # A new session restores it instead of initializing.
    tf.reset_default_graph()
    x, y, w, gs, train = _model()
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path),
                                           hooks=[tf.train.StopAtStepHook(num_steps=2)]) as s:
        assert s.run(gs) == 7
        np.testing.assert_allclose(s.run(w), [[2.0]], rtol=1e-3)
        while not s.should_stop():
            s.run(train, {x: xv, y: 2 * xv})
        assert s.run(gs) == 9


def test_hooks_are_called_in_order():
    _, _, _, gs, _ = _model()
    inc = tf.assign_add(gs, 1)
    calls = []

    class Hook(tf.train.SessionRunHook):
        def begin(self):
            calls.append("begin")

        def after_create_session(self, session, coord):
            calls.append("create")

        def before_run(self, ctx):
            calls.append("before")
            return tf.train.SessionRunArgs(gs)

        def after_run(self, ctx, values):
            calls.append(("after", int(values.results)))
            if values.results >= 2:
                ctx.request_stop()

        def end(self, session):
            calls.append("end")

    with tf.train.MonitoredSession(hooks=[Hook()]) as s:
        while not s.should_stop():
            s.run(inc)
    # (gs is read with the op that increments it: it reads as updated.)
    assert calls == ["begin", "create", "before", ("after", 1), "before", ("after", 2), "end"]


def test_report_uninitialized_variables_names_them():
    a = tf.Variable(1.0, name="a")
    tf.Variable(2.0, name="b")
    report = tf.report_uninitialized_variables()
    from loom.monitored_session import _uninitialized_names
    with tf.Session() as s:
        assert _uninitialized_names(s, report) == ["a", "b"]
        s.run(a.initializer)
        assert _uninitialized_names(s, report) == ["b"]


@needs_zmq
def test_checkpoint_of_variables_on_a_server_round_trips(tmp_path):
    server = tf.train.Server.create_local_server()
    with tf.device("/job:localhost/task:0"):
        v = tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3), name="v")
        step = tf.Variable(5, dtype=tf.int64, name="step")
    saver = tf.train.Saver()
    path = str(tmp_path / "model.ckpt")
    with tf.Session(server.target) as s:
        s.run(tf.global_variables_initializer())
        saved = saver.save(s, path, global_step=step)
        s.run(tf.assign(v, tf.zeros([2, 3])))
        saver.restore(s, saved)
        np.testing.assert_array_equal(s.run(v), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(tf.train.load_variable(saved, "v"), np.arange(6).reshape(2, 3))
    assert int(tf.train.load_variable(saved, "step")) == 5
    assert os.path.basename(saved) == "model.ckpt-5"


def test_greedy_strategy_balances_ps_tasks_by_bytes():
    strategy = tf.train.GreedyLoadBalancingStrategy(2, tf.train.byte_size_load_fn)
    with tf.device(tf.train.replica_device_setter(ps_tasks=2, ps_strategy=strategy)):
        big = tf.Variable(tf.zeros([1000]), name="big")
        small = [tf.Variable(tf.zeros([10]), name="s%d" % i) for i in range(3)]
    assert big.device == "/job:ps/task:0"
    assert [v.device for v in small] == ["/job:ps/task:1"] * 3
    tf.reset_default_graph()
    with tf.device(tf.train.replica_device_setter(ps_tasks=2)):
        vs = [tf.Variable(tf.zeros([n]), name="r%d" % n) for n in (1000, 10, 10, 10)]
    assert [v.device for v in vs] == ["/job:ps/task:%d" % i for i in (0, 1, 0, 1)]


def test_queue_ops_colocate_with_their_queue():
    with tf.device("/job:ps/task:0"):
        q = tf.FIFOQueue(3, tf.float32, shapes=[[]])
    with tf.device("/job:worker/task:0"):
        deq = q.dequeue()
    assert q.queue_ref.op.device == "/job:ps/task:0"
    # The placer keeps the handle's consumer with the queue, as it keeps an
    # Assign with its variable; the request on the op itself stays as written.
    assert deq.op.device == "/job:worker/task:0"
    with pytest.raises(Exception):
        tf.Session().run(q.queue_ref)
