"""Clusters from Python: ClusterSpec, Server, sessions on a server's target,
ps/worker processes (`loom serve`), failures. Servers listen on 127.0.0.1 at
ports chosen free at run time; every process a test starts is stopped by PID.
"""
import os
import select
import signal
import socket
import subprocess
import threading
import time

import numpy as np
import pytest

import loom as tf

BUILD_LIB = os.environ.get("LOOM_LIBRARY_DIR", "")
LOOM_BIN = os.path.join(os.path.dirname(BUILD_LIB), "bin", "loom") if BUILD_LIB else ""
HAVE_ZMQ = bool(BUILD_LIB) and os.path.exists(os.path.join(BUILD_LIB, "loom", "plugins",
                                                           "libloom_transport_zmq.so"))
needs_zmq = pytest.mark.skipif(not HAVE_ZMQ, reason="the ZeroMQ transport plugin is not built "
                               "(libzmq3-dev missing?) or LOOM_LIBRARY_DIR is unset")
needs_cli = pytest.mark.skipif(not (HAVE_ZMQ and os.path.exists(LOOM_BIN)),
                               reason="build/bin/loom or the ZeroMQ transport is missing")


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Serve(object):
    """A `loom serve` process for one task; stopped by PID."""

    def __init__(self, cluster, job, task):
        self.args = [LOOM_BIN, "serve", "--cluster", cluster, "--job", job, "--task", str(task),
                     "--heartbeat-ms", "200", "--heartbeat-timeout-ms", "1000"]
        self.start()

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        line = b""
        while time.time() < deadline and not line.endswith(b"\n"):
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                c = os.read(self.proc.stdout.fileno(), 1)
                if not c:
                    break
                line += c
        if not line.startswith(b"serving "):
            self.kill()
            raise RuntimeError("loom serve did not start: %r %r" % (line, self.proc.stderr.read()))
        self.target = line.split()[1].decode()

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def cluster():
    ps_port, w0, w1 = free_ports(3)
    spec = {"ps": ["127.0.0.1:%d" % ps_port],
            "worker": ["127.0.0.1:%d" % w0, "127.0.0.1:%d" % w1]}
    import json
    text = json.dumps(spec)
    procs = {}
    try:
        procs["ps"] = Serve(text, "ps", 0)
        procs["w0"] = Serve(text, "worker", 0)
        procs["w1"] = Serve(text, "worker", 1)
        yield spec, procs
    finally:
        for p in procs.values():
            p.kill(signal.SIGTERM)


def test_cluster_spec_is_tensorflows():
    c = tf.train.ClusterSpec({"ps": ["h:1"], "worker": ["h:2", "h:3"]})
    assert c.jobs == ["ps", "worker"]
    assert c.num_tasks("worker") == 2
    assert c.task_address("worker", 1) == "h:3"
    assert c.job_tasks("ps") == ["h:1"]
    assert c.as_dict() == {"ps": ["h:1"], "worker": ["h:2", "h:3"]}
    sparse = tf.train.ClusterSpec({"worker": {1: "h:5"}})
    assert sparse.job_tasks("worker") == [None, "h:5"]
    assert sparse.as_dict() == {"worker": {1: "h:5"}}
    assert tf.train.ClusterSpec(c) == c
    with pytest.raises(ValueError):
        c.num_tasks("chief")
    with pytest.raises(TypeError):
        tf.train.ClusterSpec(["h:1"])


@needs_zmq
def test_local_server_session_matches_the_local_session():
    server = tf.train.Server.create_local_server()
    assert server.target.startswith("zmq://127.0.0.1:")
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        w = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
        y = tf.nn.relu(tf.matmul(x, w) - 4.0)
        init = tf.global_variables_initializer()
    xv = np.random.RandomState(0).randn(5, 3).astype(np.float32)
    with tf.Session(graph=g) as local:
        local.run(init)
        want = local.run(y, {x: xv})
    with tf.Session(server.target, graph=g) as remote:
        remote.run(init)
        got = remote.run(y, {x: xv})
        assert remote.sess_str == server.target
    np.testing.assert_array_equal(got, want)
    server.stop()


@needs_cli
def test_two_workers_train_a_model_on_the_ps_between_graph(cluster):
    """Asynchronous SGD: each worker's client has its own graph; variables and
    the global step live on the ps and are shared. y = 3x + 2."""
    spec, procs = cluster
    steps = {0: 60, 1: 40}
    results = {}
    errors = []
    init_done = threading.Event()

    def worker(i):
        try:
            g = tf.Graph()
            with g.as_default():
                with tf.device("/job:ps/task:0"):
                    w = tf.Variable(0.0, name="w")
                    b = tf.Variable(0.0, name="b")
                    step = tf.Variable(0, dtype=tf.int64, name="global_step", trainable=False)
                with tf.device("/job:worker/task:%d" % i):
                    x = tf.placeholder(tf.float32, [None])
                    y = tf.placeholder(tf.float32, [None])
                    loss = tf.reduce_mean(tf.square(w * x + b - y))
                    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
                init = tf.global_variables_initializer()
            rng = np.random.RandomState(i)
            with tf.Session(procs["w%d" % i].target, graph=g) as sess:
                if i == 0:
                    sess.run(init)
                    init_done.set()
                else:
                    assert init_done.wait(60)
                for _ in range(steps[i]):
                    xv = rng.uniform(-1, 1, 32).astype(np.float32)
                    sess.run(train, {x: xv, y: 3 * xv + 2})
                results[i] = sess.run([w, b, step])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
            init_done.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    # Both clients read the one variable set of the ps.
    final_w, final_b, final_step = results[1] if results[1][2] >= results[0][2] else results[0]
    assert max(results[0][2], results[1][2]) == steps[0] + steps[1]
    assert abs(final_w - 3) < 0.3 and abs(final_b - 2) < 0.1, (final_w, final_b)


@needs_cli
def test_a_killed_ps_fails_the_step_by_name_and_the_session_recovers(cluster):
    spec, procs = cluster
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:ps/task:0"):
            v = tf.Variable([1.0, 2.0], name="v")
        with tf.device("/job:worker/task:0"):
            y = v * 10.0
        init = tf.global_variables_initializer()
    with tf.Session(procs["w0"].target, graph=g) as sess:
        sess.run(init)
        np.testing.assert_array_equal(sess.run(y), [10.0, 20.0])
        procs["ps"].kill(signal.SIGKILL)
        t0 = time.time()
        with pytest.raises(tf.errors.UnavailableError) as e:
            sess.run(y)
        assert "/job:ps/replica:0/task:0" in str(e.value)
        assert time.time() - t0 < 2 * 3.0 + 5  # within 2x the heartbeat timeout (+ connect slack)
        procs["ps"].start()  # same address, a new incarnation with fresh variables
        with pytest.raises(tf.errors.FailedPreconditionError) as e:
            sess.run(y)
        assert "v" in str(e.value)
        sess.run(init)
        np.testing.assert_array_equal(sess.run(y), [10.0, 20.0])


@needs_cli
def test_a_step_past_its_operation_timeout_is_deadline_exceeded(cluster):
    spec, procs = cluster
    g = tf.Graph()
    with g.as_default():
        with tf.device("/job:ps/task:0"):
            a = tf.constant([1.0, 2.0])
        with tf.device("/job:worker/task:1"):
            b = a + 1.0
    config = tf.ConfigProto(operation_timeout_in_ms=700)
    with tf.Session(procs["w0"].target, graph=g, config=config) as sess:
        np.testing.assert_array_equal(sess.run(b), [2.0, 3.0])
        procs["ps"].proc.send_signal(signal.SIGSTOP)  # alive but silent: its Send never arrives
        try:
            with pytest.raises(tf.errors.DeadlineExceededError):
                sess.run(b)
        finally:
            procs["ps"].proc.send_signal(signal.SIGCONT)
