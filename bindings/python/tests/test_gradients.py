"""Gradients (built by the core's gradient functions) against central
differences, and a Python gradient function registered through the C ABI."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import loom as tf

rng = np.random.RandomState(1)


def numeric_grad(f, x, eps=1e-6):
    """Central differences of sum(f(x)) in float64."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        xp = x.copy()
        xp[i] += eps
        xm = x.copy()
        xm[i] -= eps
        g[i] = (np.sum(f(xp)) - np.sum(f(xm))) / (2 * eps)
    return g


def check(build, *xs, rtol=1e-5, atol=1e-6, eps=1e-6):
    """build(*placeholders) -> y; compares d(sum y)/dx with central
    differences, all in float64 so the tolerance can be tight."""
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float64, x.shape) for x in xs]
        y = build(*phs)
        grads = tf.gradients(y, phs)
        with tf.Session(graph=g) as s:
            def f_at(i):
                def f(v):
                    feed = {p: x for p, x in zip(phs, xs)}
                    feed[phs[i]] = v
                    return s.run(y, feed)
                return f
            got = s.run(grads, {p: x for p, x in zip(phs, xs)})
            for i, x in enumerate(xs):
                want = numeric_grad(f_at(i), x, eps)
                np.testing.assert_allclose(got[i], want, rtol=rtol, atol=atol,
                                           err_msg="input %d" % i)


X = rng.randn(3, 4)
Y = rng.randn(3, 4)
POS = np.abs(rng.randn(3, 4)) + 0.5

CASES = {
    "add": (lambda a, b: a + b, X, Y),
    "sub": (lambda a, b: a - b, X, Y),
    "mul": (lambda a, b: a * b, X, Y),
    "div": (lambda a, b: a / b, X, POS),
    "broadcast_add": (lambda a, b: a + b, X, Y[0]),
    "broadcast_mul": (lambda a, b: a * b, X, Y[:, :1]),
    "maximum": (tf.maximum, X, Y),
    "minimum": (tf.minimum, X, Y),
    "pow": (tf.pow, POS, Y),
    "squared_difference": (tf.squared_difference, X, Y),
    "neg": (tf.negative, X),
    "abs": (tf.abs, X),
    "exp": (tf.exp, X),
    "log": (tf.log, POS),
    "log1p": (tf.log1p, POS),
    "sqrt": (tf.sqrt, POS),
    "rsqrt": (tf.rsqrt, POS),
    "square": (tf.square, X),
    "reciprocal": (tf.reciprocal, POS),
    "sin": (tf.sin, X),
    "cos": (tf.cos, X),
    "sigmoid": (tf.sigmoid, X),
    "tanh": (tf.tanh, X),
    "relu": (tf.nn.relu, X),
    "softplus": (tf.nn.softplus, X),
    "tan": (tf.tan, X * 0.5),
    "asin": (tf.asin, X * 0.3),
    "acos": (tf.acos, X * 0.3),
    "atan": (tf.atan, X),
    "sinh": (tf.sinh, X),
    "cosh": (tf.cosh, X),
    "erf": (tf.math.erf, X),
    "expm1": (tf.math.expm1, X),
    "atan2": (tf.atan2, X, POS),
    "relu6": (tf.nn.relu6, X * 4),
    "elu": (tf.nn.elu, X),
    "selu": (tf.nn.selu, X),
    "softsign": (tf.nn.softsign, X),
    "leaky_relu": (lambda a: tf.nn.leaky_relu(a, alpha=0.3), X),
    "softmax": (lambda a: tf.nn.softmax(a) * np.arange(4.0), X),
    "log_softmax": (lambda a: tf.nn.log_softmax(a) * np.arange(4.0), X),
    "matmul": (lambda a, b: tf.matmul(a, b, transpose_b=True), X, Y),
    "matmul_ta": (lambda a, b: tf.matmul(a, b, transpose_a=True), X, Y),
    "reduce_sum": (lambda a: tf.reduce_sum(a, 1) ** 2, X),
    "reduce_mean": (lambda a: tf.reduce_mean(a, 0) ** 2, X),
    "reduce_max": (lambda a: tf.reduce_max(a, 1), X),
    "reduce_prod": (lambda a: tf.reduce_prod(a, 1), POS),
    "reshape": (lambda a: tf.reshape(a, [4, 3]) * np.arange(12.0).reshape(4, 3), X),
    "transpose": (lambda a: tf.transpose(a) * np.arange(12.0).reshape(4, 3), X),
    "concat": (lambda a, b: tf.concat([a, b], 1) * np.arange(24.0).reshape(3, 8), X, Y),
    "stack": (lambda a, b: tf.stack([a, b]) * np.arange(24.0).reshape(2, 3, 4), X, Y),
    "slice": (lambda a: a[1:, ::2] * 3.0, X),
    "tile": (lambda a: tf.tile(a, [2, 1]) * np.arange(24.0).reshape(6, 4), X),
    "expand_squeeze": (lambda a: tf.squeeze(tf.expand_dims(a, 0)) ** 2, X),
    "bias_add": (lambda a, b: tf.nn.bias_add(a, b) ** 2, X, Y[0]),
    "l2_loss": (tf.nn.l2_loss, X),
    "softmax_xent": (lambda a: tf.nn.softmax_cross_entropy_with_logits(
        labels=np.eye(4)[[0, 2, 3]], logits=a), X),
    "sparse_softmax_xent": (lambda a: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=np.array([1, 0, 3]), logits=a), X),
    "where": (lambda a, b: tf.where(X > 0, a, b) * 2.0, X, Y),
    "gather": (lambda a: tf.gather(a, [2, 0, 2]) * np.arange(12.0).reshape(3, 4), X),
    "add_n": (lambda a, b: tf.add_n([a, b, a]) ** 2, X, Y),
    "split": (lambda a: tf.split(a, 2, axis=1)[1] ** 2, X),
    "cast": (lambda a: tf.cast(tf.cast(a, tf.float32), tf.float64) * 2.0, X),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_numeric(name):
    build, *xs = CASES[name]
    # cast goes through float32: a wide step keeps its rounding out of the
    # difference quotient (the function is linear, so the step costs nothing)
    if name == "cast":
        check(build, *xs, rtol=1e-4, atol=1e-4, eps=1e-2)
    else:
        check(build, *xs)


def test_unconnected_gradient_is_none():
    x = tf.placeholder(tf.float32, [2])
    z = tf.placeholder(tf.float32, [2])
    y = x * 2.0
    gx, gz = tf.gradients(y, [x, z])
    assert gz is None
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(gx, {x: [1, 2]}), [2, 2])


def test_grad_ys_and_variables():
    w = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    y = tf.matmul(w, w)
    (g,) = tf.gradients(y, w, grad_ys=tf.constant([[1.0, 0.0], [0.0, 0.0]]))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        W = np.array([[1.0, 2.0], [3.0, 4.0]])
        dy = np.array([[1.0, 0.0], [0.0, 0.0]])
        np.testing.assert_allclose(s.run(g), dy @ W.T + W.T @ dy)


def test_stop_gradient_blocks():
    x = tf.placeholder(tf.float32, [3])
    y = x * tf.stop_gradient(x)
    (g,) = tf.gradients(y, x)
    with tf.Session() as s:
        np.testing.assert_allclose(s.run(g, {x: [1, 2, 3]}), [1, 2, 3])


def test_gradient_op_names_are_scoped():
    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(tf.square(x))
    (g,) = tf.gradients(y, x)
    assert g.op.name.startswith("gradients")


REGISTER_SCRIPT = textwrap.dedent("""
    import numpy as np
    import loom as tf

    # A straight-through estimator: Floor's gradient becomes the identity,
    # scaled so the test can tell it ran.
    calls = []

    @tf.RegisterGradient("Floor")
    def _floor_grad(op, grad):
        calls.append(op.name)
        assert op.type == "Floor"
        return [grad * 3.0]

    x = tf.placeholder(tf.float32, [3])
    y = tf.reduce_sum(tf.floor(x) * tf.constant([1.0, 2.0, 4.0]))
    (g,) = tf.gradients(y, x)
    with tf.Session() as s:
        r = s.run(g, {x: [0.5, 1.5, 2.5]})
    np.testing.assert_allclose(r, [3.0, 6.0, 12.0])
    assert calls == ["Floor"], calls

    # Errors inside the Python function reach the caller as themselves.
    @tf.RegisterGradient("Ceil")
    def _bad(op, grad):
        raise KeyError("boom from python")
    try:
        tf.gradients(tf.ceil(x), x)
    except KeyError as e:
        assert "boom" in str(e)
    else:
        raise AssertionError("expected KeyError")
    print("OK")
""")


def test_register_gradient_python_function():
    # In a subprocess: a registration replaces the op type's gradient for the
    # whole process, which must not leak into other tests.
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = here + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", REGISTER_SCRIPT], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("OK")


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_gradient_with_zeros_is_the_product_of_the_others(axis):
    x0 = np.array([[2.0, 0.0, 3.0, 0.5],     # one zero in the row
                   [1.5, 2.0, -1.0, 4.0],    # none
                   [0.0, 0.0, 2.0, 1.0]],    # two
                  np.float32)
    x = tf.constant(x0)
    (g,) = tf.gradients(tf.reduce_prod(x, axis=axis), [x])
    with tf.Session() as s:
        got = s.run(g)
    want = np.zeros_like(x0)
    for idx in np.ndindex(*x0.shape):
        if axis is None:
            group = [j for j in np.ndindex(*x0.shape) if j != idx]
        elif axis == 0:
            group = [(r, idx[1]) for r in range(x0.shape[0]) if r != idx[0]]
        else:
            group = [(idx[0], c) for c in range(x0.shape[1]) if c != idx[1]]
        want[idx] = np.prod([x0[j] for j in group])
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_gradient_override_map_uses_the_registered_gradient():
    # The straight-through estimator: Round passes its gradient through.
    @tf.RegisterGradient("LoomTestStraightThrough")
    def _straight_through(op, grad):
        return [grad]

    g = tf.Graph()
    with g.as_default():
        x = tf.constant([0.2, 1.7, -2.4])
        with g.gradient_override_map({"Round": "LoomTestStraightThrough"}):
            r = tf.round(x * 3.0)
        plain = tf.round(x * 3.0)
        (gr,) = tf.gradients(tf.reduce_sum(r * r), [x])
        (gp,) = tf.gradients(tf.reduce_sum(plain), [x])
        assert r.op.get_attr("_gradient_op_type") in (b"LoomTestStraightThrough",
                                                      "LoomTestStraightThrough")
        with tf.Session(graph=g) as s:
            rv, grv = s.run((r, gr))
    # d/dx sum(round(3x)^2) with round's gradient taken as 1: 2 * round(3x) * 3.
    np.testing.assert_allclose(grv, 2 * rv * 3, rtol=1e-6)
    # Outside the context Round keeps its own gradient (none: TensorFlow's too).
    assert gp is None


def test_gradient_override_map_names_a_missing_gradient():
    g = tf.Graph()
    with g.as_default():
        x = tf.constant([1.0, 2.0])
        with g.gradient_override_map({"Square": "LoomTestNoSuchGradient"}):
            y = tf.square(x)
        with pytest.raises(tf.errors.NotFoundError, match="LoomTestNoSuchGradient"):
            tf.gradients(y, [x])


def test_scalar_placeholder_without_shape_trains_one_sample_at_a_time():
    # A TensorFlow-1.x linear regression fed one scalar sample per step: the
    # placeholders have no shape, so Sum's gradient computes
    # (axes + rank) % rank with rank 0 over zero axes, which must divide by
    # nothing (it failed with "Integer division by zero" in Sum_grad/FloorMod).
    xs = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)
    ys = np.array([2.1, 3.9, 6.2, 7.8, 10.1], np.float32)
    x = tf.placeholder("float")
    y = tf.placeholder("float")
    W = tf.Variable(0.5)
    b = tf.Variable(0.1)
    loss = tf.reduce_sum(tf.pow(x * W + b - y, 2))
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    # The same SGD by hand: d/dW (xW + b - y)^2 = 2(xW + b - y)x, d/db = 2(xW + b - y).
    w_ref, b_ref = np.float64(0.5), np.float64(0.1)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for _ in range(20):
            for xv, yv in zip(xs, ys):
                s.run(train, {x: xv, y: yv})
                r = xv * w_ref + b_ref - yv
                w_ref, b_ref = w_ref - 0.01 * 2 * r * xv, b_ref - 0.01 * 2 * r
        got_w, got_b = s.run([W, b])
    # float32 SGD over 100 steps against float64: a few float32 ulps of drift.
    np.testing.assert_allclose([got_w, got_b], [w_ref, b_ref], rtol=1e-4, atol=1e-5)
    assert abs(got_w - 2.0) < 0.2  # and it learned the slope of the data
