"""Every op of the API against numpy."""
import numpy as np
import pytest

import loom as tf
from conftest import run

rng = np.random.RandomState(0)
A = rng.randn(3, 4).astype(np.float32)
B = rng.randn(3, 4).astype(np.float32)
P = (np.abs(rng.randn(3, 4)) + 0.5).astype(np.float32)
I = rng.randint(-5, 6, size=(3, 4)).astype(np.int32)
J = rng.randint(1, 6, size=(3, 4)).astype(np.int32)

BINARY = [
    (tf.add, np.add), (tf.subtract, np.subtract), (tf.multiply, np.multiply),
    (tf.maximum, np.maximum), (tf.minimum, np.minimum), (tf.squared_difference,
                                                         lambda a, b: (a - b) ** 2),
    (tf.realdiv, np.divide), (tf.div, np.divide), (tf.truediv, np.true_divide),
]


@pytest.mark.parametrize("fn,ref", BINARY, ids=lambda f: getattr(f, "__name__", "ref"))
def test_binary_float(fn, ref):
    np.testing.assert_allclose(run(fn(A, B)), ref(A, B), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("fn,ref", BINARY[:6], ids=lambda f: getattr(f, "__name__", "ref"))
def test_binary_broadcasts(fn, ref):
    row = B[0]
    np.testing.assert_allclose(run(fn(A, row)), ref(A, row), rtol=1e-6, atol=1e-6)
    col = B[:, :1]
    np.testing.assert_allclose(run(fn(col, A)), ref(col, A), rtol=1e-6, atol=1e-6)


def test_pow():
    np.testing.assert_allclose(run(tf.pow(P, B)), np.power(P, B), rtol=1e-5)


def test_int_arithmetic():
    np.testing.assert_array_equal(run(tf.add(I, J)), I + J)
    np.testing.assert_array_equal(run(tf.multiply(I, J)), I * J)
    np.testing.assert_array_equal(run(tf.floordiv(I, J)), I // J)
    np.testing.assert_array_equal(run(tf.floormod(I, J)), I % J)
    # Python 3 division of integers gives float64, as TensorFlow's truediv
    r = run(tf.divide(I, J))
    assert r.dtype == np.float64
    np.testing.assert_allclose(r, I / J)


UNARY = [
    (tf.negative, np.negative, A), (tf.abs, np.abs, A), (tf.exp, np.exp, A),
    (tf.log, np.log, P), (tf.log1p, np.log1p, P), (tf.sqrt, np.sqrt, P),
    (tf.rsqrt, lambda x: 1 / np.sqrt(x), P), (tf.square, np.square, A),
    (tf.reciprocal, np.reciprocal, P), (tf.sign, np.sign, A), (tf.floor, np.floor, A * 3),
    (tf.ceil, np.ceil, A * 3), (tf.round, np.round, A * 3), (tf.sin, np.sin, A),
    (tf.cos, np.cos, A), (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), A), (tf.tanh, np.tanh, A),
    (tf.nn.relu, lambda x: np.maximum(x, 0), A), (tf.nn.sigmoid, lambda x: 1 / (1 + np.exp(-x)), A),
    (tf.nn.tanh, np.tanh, A), (tf.nn.softplus, lambda x: np.log1p(np.exp(x)), A),
    (tf.tan, np.tan, A), (tf.math.asin, np.arcsin, np.clip(A, -0.95, 0.95)),
    (tf.math.acos, np.arccos, np.clip(A, -0.95, 0.95)), (tf.atan, np.arctan, A * 3),
    (tf.sinh, np.sinh, A * 3), (tf.math.cosh, np.cosh, A * 3), (tf.math.expm1, np.expm1, A),
    (tf.math.erf, lambda x: np.vectorize(__import__("math").erf)(x), A * 2),
    (tf.nn.relu6, lambda x: np.clip(x, 0, 6), A * 8),
    (tf.nn.elu, lambda x: np.where(x < 0, np.expm1(x), x), A * 3),
    (tf.nn.selu, lambda x: 1.0507009873554805 * np.where(x < 0, 1.6732632423543772 * np.expm1(x), x),
     A * 3),
    (tf.nn.softsign, lambda x: x / (1 + np.abs(x)), A * 3),
    (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), A * 3),
]


def test_is_nan_is_inf_is_finite():
    x = np.array([0.0, np.nan, np.inf, -np.inf, -2.5], np.float32)
    np.testing.assert_array_equal(run(tf.math.is_nan(x)), np.isnan(x))
    np.testing.assert_array_equal(run(tf.is_inf(x)), np.isinf(x))
    np.testing.assert_array_equal(run(tf.math.is_finite(x)), np.isfinite(x))


def test_leaky_relu_takes_alpha():
    np.testing.assert_allclose(run(tf.nn.leaky_relu(A, alpha=0.05)), np.where(A > 0, A, 0.05 * A),
                               rtol=1e-6)


@pytest.mark.parametrize("fn,ref,x", UNARY, ids=[u[0].__name__ for u in UNARY])
def test_unary(fn, ref, x):
    np.testing.assert_allclose(run(fn(x)), ref(x), rtol=1e-5, atol=1e-6)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_and_log_softmax():
    np.testing.assert_allclose(run(tf.nn.softmax(A)), _softmax(A), rtol=1e-5)
    np.testing.assert_allclose(run(tf.nn.log_softmax(A)), np.log(_softmax(A)), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(run(tf.nn.softmax(A, axis=0)), _softmax(A, 0), rtol=1e-5)


def test_matmul_variants():
    C = rng.randn(4, 5).astype(np.float32)
    np.testing.assert_allclose(run(tf.matmul(A, C)), A @ C, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run(tf.matmul(A, A, transpose_b=True)), A @ A.T, rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(run(tf.matmul(A, A, transpose_a=True)), A.T @ A, rtol=1e-5,
                               atol=1e-5)
    X = rng.randn(2, 3, 4).astype(np.float32)
    Y = rng.randn(2, 4, 5).astype(np.float32)
    np.testing.assert_allclose(run(tf.matmul(X, Y)), X @ Y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(run(tf.constant(A) @ C), A @ C, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn,ref", [(tf.reduce_sum, np.sum), (tf.reduce_mean, np.mean),
                                    (tf.reduce_max, np.max), (tf.reduce_min, np.min),
                                    (tf.reduce_prod, np.prod)],
                         ids=["sum", "mean", "max", "min", "prod"])
def test_reductions(fn, ref):
    np.testing.assert_allclose(run(fn(A)), ref(A), rtol=1e-5)
    np.testing.assert_allclose(run(fn(A, axis=1)), ref(A, axis=1), rtol=1e-5)
    np.testing.assert_allclose(run(fn(A, 0, keepdims=True)), ref(A, 0, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(run(fn(A, reduction_indices=[0, 1])), ref(A), rtol=1e-5)
    np.testing.assert_allclose(run(fn(A, 1, keep_dims=True)), ref(A, 1, keepdims=True),
                               rtol=1e-5)


def test_argmax_argmin():
    r = run(tf.argmax(A, 1))
    assert r.dtype == np.int64
    np.testing.assert_array_equal(r, np.argmax(A, 1))
    np.testing.assert_array_equal(run(tf.argmin(A, 0)), np.argmin(A, 0))
    np.testing.assert_array_equal(run(tf.argmax(A, axis=1, output_type=tf.int32)),
                                  np.argmax(A, 1))


@pytest.mark.parametrize("fn,ref", [(tf.equal, np.equal), (tf.not_equal, np.not_equal),
                                    (tf.less, np.less), (tf.less_equal, np.less_equal),
                                    (tf.greater, np.greater),
                                    (tf.greater_equal, np.greater_equal)],
                         ids=["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(fn, ref):
    r = run(fn(I, J))
    assert r.dtype == np.bool_
    np.testing.assert_array_equal(r, ref(I, J))


def test_logical():
    a = A > 0
    b = B > 0
    np.testing.assert_array_equal(run(tf.logical_and(a, b)), a & b)
    np.testing.assert_array_equal(run(tf.logical_or(a, b)), a | b)
    np.testing.assert_array_equal(run(tf.logical_not(a)), ~a)


@pytest.mark.parametrize("dst", [tf.float32, tf.float64, tf.int32, tf.int64, tf.bool, tf.uint8,
                                 tf.int8, tf.int16])
def test_cast(dst):
    src = np.array([[0.0, 1.7, -2.2], [3.9, 0.2, 100.0]], np.float32)
    want = src.astype(dst.as_numpy_dtype)
    if dst == tf.uint8:
        src = np.abs(src)
        want = src.astype(np.uint8)
    r = run(tf.cast(src, dst))
    assert r.dtype == dst.as_numpy_dtype
    np.testing.assert_array_equal(r, want)


def test_reshape_transpose_expand_squeeze():
    np.testing.assert_array_equal(run(tf.reshape(A, [4, 3])), A.reshape(4, 3))
    np.testing.assert_array_equal(run(tf.reshape(A, [-1])), A.reshape(-1))
    np.testing.assert_array_equal(run(tf.transpose(A)), A.T)
    X = rng.randn(2, 3, 4).astype(np.float32)
    np.testing.assert_array_equal(run(tf.transpose(X, [1, 0, 2])), X.transpose(1, 0, 2))
    assert run(tf.expand_dims(A, 0)).shape == (1, 3, 4)
    assert run(tf.expand_dims(A, -1)).shape == (3, 4, 1)
    Z = np.zeros((1, 3, 1, 4), np.float32)
    assert run(tf.squeeze(Z)).shape == (3, 4)
    assert run(tf.squeeze(Z, [2])).shape == (1, 3, 4)


def test_concat_split_stack_unstack():
    np.testing.assert_array_equal(run(tf.concat([A, B], 0)), np.concatenate([A, B], 0))
    np.testing.assert_array_equal(run(tf.concat([A, B], 1)), np.concatenate([A, B], 1))
    parts = run(tf.split(A, 2, axis=1))
    np.testing.assert_array_equal(parts[0], A[:, :2])
    np.testing.assert_array_equal(parts[1], A[:, 2:])
    parts = run(tf.split(A, [1, 3], 1))
    np.testing.assert_array_equal(parts[1], A[:, 1:])
    np.testing.assert_array_equal(run(tf.stack([A, B])), np.stack([A, B]))
    np.testing.assert_array_equal(run(tf.stack([A, B], axis=1)), np.stack([A, B], 1))
    rows = run(tf.unstack(A))
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[2], A[2])


def test_tile_fill_zeros_ones():
    np.testing.assert_array_equal(run(tf.tile(A, [2, 3])), np.tile(A, [2, 3]))
    np.testing.assert_array_equal(run(tf.fill([2, 3], 7.0)), np.full((2, 3), 7.0, np.float32))
    z = run(tf.zeros([2, 3]))
    assert z.dtype == np.float32 and z.shape == (2, 3) and not z.any()
    np.testing.assert_array_equal(run(tf.ones([2, 2], tf.int32)), np.ones((2, 2), np.int32))
    big = run(tf.zeros([100, 50]))  # large: built with Fill
    assert big.shape == (100, 50) and not big.any()
    np.testing.assert_array_equal(run(tf.zeros_like(A)), np.zeros_like(A))
    np.testing.assert_array_equal(run(tf.ones_like(I)), np.ones_like(I))


def test_one_hot():
    idx = np.array([0, 2, 1, 3], np.int32)
    np.testing.assert_array_equal(run(tf.one_hot(idx, 4)), np.eye(4, dtype=np.float32)[idx])
    r = run(tf.one_hot(idx, 4, on_value=5.0, off_value=-1.0))
    np.testing.assert_array_equal(r, np.where(np.eye(4)[idx] > 0, 5.0, -1.0))


def test_shape_size_rank():
    np.testing.assert_array_equal(run(tf.shape(A)), [3, 4])
    assert run(tf.size(A)) == 12
    assert run(tf.rank(A)) == 2


def test_slicing():
    X = rng.randn(4, 5, 6).astype(np.float32)
    t = tf.constant(X)
    for key in [1, -1, np.s_[1:3], np.s_[:, 2], np.s_[..., 1], np.s_[::2, 1:4, -2:],
                np.s_[:, None, 1], np.s_[::-1]]:
        np.testing.assert_array_equal(run(t[key]), X[key], err_msg=str(key))
    np.testing.assert_array_equal(run(tf.slice(X, [1, 0, 2], [2, 3, 2])), X[1:3, 0:3, 2:4])


def test_operators():
    a, b = tf.constant(A), tf.constant(B)
    np.testing.assert_allclose(run(a + b), A + B, rtol=1e-6)
    np.testing.assert_allclose(run(a - b), A - B, rtol=1e-6)
    np.testing.assert_allclose(run(a * b), A * B, rtol=1e-6)
    np.testing.assert_allclose(run(a / b), A / B, rtol=1e-6)
    np.testing.assert_allclose(run(2.0 * a + 1), 2 * A + 1, rtol=1e-6)
    np.testing.assert_allclose(run(1 - a), 1 - A, rtol=1e-6)
    np.testing.assert_allclose(run(-a), -A)
    np.testing.assert_allclose(run(abs(a)), np.abs(A))
    np.testing.assert_allclose(run(tf.constant(P) ** 2), P ** 2, rtol=1e-6)
    np.testing.assert_array_equal(run(a < b), A < B)
    np.testing.assert_array_equal(run(a >= b), A >= B)
    i, j = tf.constant(I), tf.constant(J)
    np.testing.assert_array_equal(run(i // j), I // J)
    np.testing.assert_array_equal(run(i % j), I % J)
    np.testing.assert_array_equal(run(~(a > 0)), ~(A > 0))
    np.testing.assert_array_equal(run((a > 0) & (b > 0)), (A > 0) & (B > 0))
    # numpy on the left defers to the Tensor
    np.testing.assert_allclose(run(A + b), A + B, rtol=1e-6)


def test_add_n_bias_add_l2_loss():
    np.testing.assert_allclose(run(tf.add_n([A, B, A])), A + B + A, rtol=1e-6)
    bias = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(run(tf.nn.bias_add(A, bias)), A + bias, rtol=1e-6)
    np.testing.assert_allclose(run(tf.nn.l2_loss(A)), np.sum(A ** 2) / 2, rtol=1e-5)


def test_where_gather_range():
    cond = A > 0
    np.testing.assert_array_equal(run(tf.where(cond, A, B)), np.where(cond, A, B))
    np.testing.assert_array_equal(run(tf.gather(A, [2, 0])), A[[2, 0]])
    np.testing.assert_array_equal(run(tf.gather(A, [3, 1], axis=1)), A[:, [3, 1]])
    np.testing.assert_array_equal(run(tf.range(5)), np.arange(5))
    np.testing.assert_array_equal(run(tf.range(2, 11, 3)), np.arange(2, 11, 3))


def test_cross_entropies():
    labels = _softmax(B)
    want = -np.sum(labels * np.log(_softmax(A)), axis=1)
    r = run(tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=A))
    np.testing.assert_allclose(r, want, rtol=1e-5)
    r = run(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=A))
    np.testing.assert_allclose(r, want, rtol=1e-5)
    sparse = np.array([1, 0, 3], np.int64)
    want = -np.log(_softmax(A))[np.arange(3), sparse]
    r = run(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=sparse, logits=A))
    np.testing.assert_allclose(r, want, rtol=1e-5)
    np.testing.assert_allclose(
        run(tf.losses.sparse_softmax_cross_entropy(labels=sparse, logits=A)), want.mean(),
        rtol=1e-5)
    onehot = np.eye(4, dtype=np.float32)[sparse]
    np.testing.assert_allclose(run(tf.losses.softmax_cross_entropy(onehot, A)), want.mean(),
                               rtol=1e-5)


def test_dropout_keeps_scaled_values():
    x = np.ones((200, 50), np.float32)
    tf.set_random_seed(3)
    r = run(tf.nn.dropout(x, keep_prob=0.5))
    assert set(np.unique(r)) <= {0.0, 2.0}
    assert 0.4 < (r > 0).mean() < 0.6
    np.testing.assert_array_equal(run(tf.nn.dropout(x, keep_prob=1.0)), x)


def test_random_ops_statistics_and_seeds():
    tf.set_random_seed(7)
    n = tf.random_normal([20000], mean=2.0, stddev=3.0)
    t = tf.truncated_normal([20000], stddev=1.0)
    u = tf.random_uniform([20000], minval=-1.0, maxval=3.0)
    with tf.Session() as s:
        a, b, c = s.run([n, t, u])
    with tf.Session() as s:
        a2 = s.run(n)
    # 20000 samples: the mean's standard error is 3/141 ~ 0.02
    assert abs(a.mean() - 2.0) < 0.1 and abs(a.std() - 3.0) < 0.1
    assert np.abs(b).max() <= 2.0 and abs(b.mean()) < 0.05
    assert c.min() >= -1.0 and c.max() < 3.0 and abs(c.mean() - 1.0) < 0.05
    np.testing.assert_array_equal(a, a2)  # same seeds, fresh session: same numbers


def test_constant_dtypes_and_shapes():
    assert tf.constant(1.0).dtype == tf.float32
    assert tf.constant(1).dtype == tf.int32
    assert tf.constant(2**40).dtype == tf.int64
    assert tf.constant(True).dtype == tf.bool
    assert tf.constant(np.float64(1)).dtype == tf.float64
    assert tf.constant([[1, 2]], dtype="float").dtype == tf.float32
    np.testing.assert_array_equal(run(tf.constant(3.0, shape=[2, 2])), np.full((2, 2), 3.0))
    with pytest.raises(TypeError):
        tf.constant(1.5, dtype=tf.int32)
    assert tf.constant(A).shape.as_list() == [3, 4]


def test_identity_stop_gradient_cumsum():
    np.testing.assert_array_equal(run(tf.identity(A)), A)
    np.testing.assert_array_equal(run(tf.stop_gradient(A)), A)
    np.testing.assert_allclose(run(tf.cumsum(A, axis=1)), np.cumsum(A, axis=1), rtol=1e-5)


def test_float64_and_int64_paths():
    a = A.astype(np.float64)
    np.testing.assert_allclose(run(tf.matmul(a, a.T)), a @ a.T, rtol=1e-12)
    np.testing.assert_allclose(run(tf.reduce_sum(a * 2)), (a * 2).sum(), rtol=1e-12)
    i = I.astype(np.int64)
    np.testing.assert_array_equal(run(tf.add(i, i)), i + i)


def test_pad_segments_stitch_permutation():
    np.testing.assert_array_equal(run(tf.pad(A, [[1, 0], [0, 2]])), np.pad(A, [[1, 0], [0, 2]]))
    ids = np.array([0, 2, 0], np.int32)
    want = np.zeros((3, 4), np.float32)
    np.add.at(want, ids, A)
    np.testing.assert_allclose(run(tf.unsorted_segment_sum(A, ids, 3)), want, rtol=1e-6)
    r = run(tf.dynamic_stitch([[0, 2], [1]], [[1.0, 3.0], [2.0]]))
    np.testing.assert_array_equal(r, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(run(tf.invert_permutation([2, 0, 1])), [1, 2, 0])
    np.testing.assert_array_equal(run(tf.nn.embedding_lookup(A, [1, 1, 0])), A[[1, 1, 0]])


def test_clipping_and_norms():
    np.testing.assert_allclose(run(tf.clip_by_value(A, -0.5, 0.5)), np.clip(A, -0.5, 0.5))
    n = np.sqrt((A ** 2).sum())
    np.testing.assert_allclose(run(tf.norm(A)), n, rtol=1e-5)
    np.testing.assert_allclose(run(tf.global_norm([A, B])),
                               np.sqrt((A ** 2).sum() + (B ** 2).sum()), rtol=1e-5)
    np.testing.assert_allclose(run(tf.clip_by_norm(A, 1.0)), A / n, rtol=1e-5)
    clipped, gn = run(tf.clip_by_global_norm([A, B], 1.0))
    total = np.sqrt((A ** 2).sum() + (B ** 2).sum())
    np.testing.assert_allclose(clipped[0], A / total, rtol=1e-5)
