"""Session.run: fetch structures, feeds, default sessions, zero-copy paths."""
import collections
import gc

import numpy as np
import pytest

import loom as tf
from loom import _C


def test_fetch_structures_round_trip():
    a = tf.constant(1.0)
    b = tf.constant([2, 3])
    c = tf.constant([[4.0]])
    noop = tf.no_op()
    Pair = collections.namedtuple("Pair", "x y")
    with tf.Session() as s:
        assert s.run(a) == 1.0
        r = s.run([a, b])
        assert isinstance(r, list) and r[0] == 1.0 and list(r[1]) == [2, 3]
        r = s.run((a, [b, {"c": c, "op": noop}]))
        assert isinstance(r, tuple) and isinstance(r[1], list) and isinstance(r[1][1], dict)
        assert r[1][1]["op"] is None and r[1][1]["c"][0][0] == 4.0
        r = s.run({"a": a, "nest": (a, b)})
        assert set(r) == {"a", "nest"} and r["nest"][0] == 1.0
        r = s.run(Pair(a, c))
        assert isinstance(r, Pair) and r.x == 1.0 and r.y.shape == (1, 1)
        assert s.run(noop) is None
        r = s.run([a, a, b])  # duplicates fetched once, returned twice
        assert r[0] == r[1] == 1.0
        assert s.run("Const:0") == 1.0  # by name
        assert s.run([]) == []


def test_feeds_by_tensor_and_name_and_cache_by_signature():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = x * 2.0
    with tf.Session() as s:
        for i in range(3):
            v = np.full((i + 1, 2), float(i), np.float32)
            np.testing.assert_array_equal(s.run(y, {x: v}), v * 2)
        np.testing.assert_array_equal(s.run(y, {"x:0": [[1, 2]]}), [[2, 4]])
        # Python lists and float64 arrays are converted to the placeholder dtype
        np.testing.assert_array_equal(s.run(y, {x: np.ones((1, 2))}), [[2, 2]])
        assert len(s._cache) == 2


def test_feed_value_zero_copy_and_lifetime():
    x = tf.placeholder(tf.float32, [3])
    y = tf.identity(x)
    v = np.arange(3, dtype=np.float32)
    rc = __import__("sys").getrefcount(v)
    with tf.Session() as s:
        for _ in range(10):
            r = s.run(y, {x: v})
        np.testing.assert_array_equal(r, v)
        del r
    gc.collect()
    # every reference the tensors took on the array has been given back
    assert __import__("sys").getrefcount(v) == rc


def test_results_own_their_memory():
    x = tf.placeholder(tf.float32, [1000])
    y = x + 1.0
    with tf.Session() as s:
        r = s.run(y, {x: np.zeros(1000, np.float32)})
    del s
    gc.collect()
    assert r.sum() == 1000.0  # still valid after the session went away
    assert r.base is not None  # zero-copy: a capsule owns the loom_tensor


def test_roundtrip_zero_copy():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    b = _C.roundtrip(a)
    assert b.dtype == a.dtype and b.shape == a.shape
    b[0, 0] = 42.0
    assert a[0, 0] == 42.0  # same buffer
    for dt in (np.float32, np.int32, np.int64, np.bool_, np.uint8, np.int8, np.int16):
        c = np.ones((2, 0, 3), dt) if dt == np.int8 else np.ones((2, 3), dt)
        np.testing.assert_array_equal(_C.roundtrip(c), c)
    s = _C.roundtrip(np.float32(3.5))
    assert s.shape == () and s == 3.5


def test_fetched_variable_is_a_snapshot():
    v = tf.Variable([1.0, 2.0])
    inc = v.assign_add([1.0, 1.0])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        before = s.run(v)
        s.run(inc)
        after = s.run(v)
    np.testing.assert_array_equal(before, [1.0, 2.0])  # not updated in place later
    np.testing.assert_array_equal(after, [2.0, 3.0])


def test_eval_and_run_under_default_session():
    a = tf.constant([1, 2])
    v = tf.Variable(5)
    with tf.Session():
        np.testing.assert_array_equal(a.eval(), [1, 2])
        tf.global_variables_initializer().run()
        assert v.eval() == 5
        v.assign(7).op.run()
        assert v.eval() == 7
    with pytest.raises(ValueError, match="No default session"):
        a.eval()
    s = tf.Session()
    np.testing.assert_array_equal(a.eval(session=s), [1, 2])
    with s.as_default():
        np.testing.assert_array_equal(a.eval(), [1, 2])
    s.close()


def test_interactive_session():
    s = tf.InteractiveSession()
    try:
        x = tf.constant(3.0)
        assert (x * x).eval() == 9.0
        assert tf.get_default_session() is s
    finally:
        s.close()
    assert tf.get_default_session() is None


def test_closed_session_raises():
    a = tf.constant(1)
    s = tf.Session()
    s.run(a)
    s.close()
    with pytest.raises(RuntimeError, match="closed"):
        s.run(a)


def test_feed_shape_checked():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    with tf.Session() as s:
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(3,\)"):
            s.run(x, {x: [1.0, 2.0, 3.0]})


def test_invalid_fetch_types():
    with tf.Session() as s:
        with pytest.raises(TypeError):
            s.run(None)
        with pytest.raises(TypeError):
            s.run(np.zeros(3))


def test_make_callable():
    x = tf.placeholder(tf.float32, [])
    y = x * 3.0
    with tf.Session() as s:
        f = s.make_callable(y, [x])
        assert f(2.0) == 6.0
        g = s.make_callable([y, y + 1], [x])
        assert g(1.0) == [3.0, 4.0]


def test_session_with_explicit_graph_and_config():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(2.0) * 3.0
    cfg = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    with tf.Session(graph=g, config=cfg) as s:
        assert s.run(c) == 6.0
        assert tf.get_default_graph() is g
        assert any(d.device_type == "CPU" for d in s.list_devices())


def test_concurrent_runs_from_threads():
    # Callable.run releases the GIL; several Python threads share one session.
    import threading
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * 2.0)
    errors_seen = []
    with tf.Session() as s:
        def work(k):
            try:
                for i in range(50):
                    v = np.full(100, float(k + i), np.float32)
                    r = s.run(y, {x: v})
                    if r != 200.0 * (k + i):
                        errors_seen.append((k, i, r))
            except Exception as e:  # noqa: BLE001
                errors_seen.append(e)
        ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert errors_seen == []


def test_results_never_alias_fed_arrays():
    x = tf.placeholder(tf.float32, [3])
    y = tf.identity(x)
    v = np.arange(3, dtype=np.float32)
    with tf.Session() as s:
        r = s.run(y, {x: v})
        r2, r3 = s.run([y, tf.reshape(x, [3])], {x: v})
    v[0] = 99.0
    assert r[0] == 0.0 and r2[0] == 0.0 and r3[0] == 0.0


@pytest.mark.skipif(not any(t == "OPENCL" for _, t in tf.list_devices()),
                    reason="no OPENCL device (pocl-opencl-icd not installed)")
def test_a_model_split_over_cpu_and_opencl_trains_like_one_on_the_cpu():
    # Variables and their updates on OPENCL:0, the loss on the CPU: the step
    # runs as two partitions joined by Send/Recv pairs.
    r = np.random.RandomState(3)
    X = r.randn(32, 5).astype(np.float32)
    Y = (X @ r.randn(5, 1)).astype(np.float32)

    def train(device):
        g = tf.Graph()
        with g.as_default():
            tf.set_random_seed(2)
            x = tf.placeholder(tf.float32, [None, 5])
            y = tf.placeholder(tf.float32, [None, 1])
            with tf.device(device):
                w = tf.Variable(tf.random_normal([5, 1], seed=1))
                pred = tf.matmul(x, w)
            with tf.device("/device:CPU:0"):
                loss = tf.reduce_mean(tf.square(pred - y))
            with tf.device(device):
                step = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
            # Soft placement: the initializer's random op has no OpenCL kernel.
            config = tf.ConfigProto(allow_soft_placement=True)
            with tf.Session(graph=g, config=config) as s:
                s.run(tf.global_variables_initializer())
                losses = [s.run((loss, step), {x: X, y: Y})[0] for _ in range(30)]
                return losses, s.run(w)

    cpu_losses, cpu_w = train("/device:CPU:0")
    ocl_losses, ocl_w = train("/device:OPENCL:0")
    assert cpu_losses[-1] < 0.05 * cpu_losses[0]
    np.testing.assert_allclose(ocl_losses, cpu_losses, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ocl_w, cpu_w, rtol=1e-4, atol=1e-6)


def test_log_device_placement_prints_each_ops_device(capfd):
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [2], name="x")
        y = tf.multiply(x, 2.0, name="double")
        config = tf.ConfigProto(log_device_placement=True)
        with tf.Session(graph=g, config=config) as s:
            np.testing.assert_array_equal(s.run(y, {x: [1, 2]}), [2, 4])
    err = capfd.readouterr().err
    assert "double: (Mul): /job:localhost/replica:0/task:0/device:CPU:0" in err, err
