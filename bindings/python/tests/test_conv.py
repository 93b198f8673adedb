"""tf.nn.conv2d / max_pool / avg_pool / fused_batch_norm and the tf.layers
conv2d / max_pooling2d / average_pooling2d / batch_normalization / dropout,
against numpy references (float32 results to 1e-4: sums of <= 75 products)."""
import numpy as np
import pytest

import loom as tf

from conftest import run


def conv_ref(x, w, stride=1, padding="SAME", dilation=1):
    n, h, wd, c = x.shape
    kh, kw, _, oc = w.shape
    ekh, ekw = (kh - 1) * dilation + 1, (kw - 1) * dilation + 1
    if padding == "SAME":
        oh, ow = -(-h // stride), -(-wd // stride)
        ph = max(0, (oh - 1) * stride + ekh - h)
        pw = max(0, (ow - 1) * stride + ekw - wd)
        x = np.pad(x, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)])
    else:
        oh, ow = (h - ekh) // stride + 1, (wd - ekw) // stride + 1
    out = np.zeros((n, oh, ow, oc))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + ekh:dilation, j * stride:j * stride + ekw:dilation, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def pool_ref(x, k, s, padding, op):
    n, h, w, c = x.shape
    if padding == "SAME":
        oh, ow = -(-h // s), -(-w // s)
        pt = max(0, (oh - 1) * s + k - h) // 2
        pl = max(0, (ow - 1) * s + k - w) // 2
    else:
        oh, ow, pt, pl = (h - k) // s + 1, (w - k) // s + 1, 0, 0
    out = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            y0, x0 = max(i * s - pt, 0), max(j * s - pl, 0)
            win = x[:, y0:i * s - pt + k, x0:j * s - pl + k, :]
            out[:, i, j, :] = op(win, axis=(1, 2))
    return out


@pytest.mark.parametrize("stride,padding,dilation", [(1, "SAME", 1), (2, "SAME", 1),
                                                     (2, "VALID", 1), (1, "SAME", 2)])
def test_nn_conv2d_matches_numpy(stride, padding, dilation):
    r = np.random.RandomState(0)
    x = r.randn(2, 9, 7, 3).astype(np.float32)
    w = r.randn(3, 3, 3, 4).astype(np.float32)
    y = run(tf.nn.conv2d(x, w, strides=stride, padding=padding, dilations=dilation))
    np.testing.assert_allclose(y, conv_ref(x, w, stride, padding, dilation), rtol=1e-4, atol=1e-4)


def test_nn_conv2d_explicit_padding_and_tf1_list_strides():
    r = np.random.RandomState(1)
    x = r.randn(1, 5, 5, 2).astype(np.float32)
    w = r.randn(2, 2, 2, 3).astype(np.float32)
    y = run(tf.nn.conv2d(x, w, strides=[1, 1, 1, 1],
                         padding=[[0, 0], [1, 0], [0, 1], [0, 0]]))
    xp = np.pad(x, [(0, 0), (1, 0), (0, 1), (0, 0)])
    np.testing.assert_allclose(y, conv_ref(xp, w, 1, "VALID"), rtol=1e-4, atol=1e-4)


def test_conv2d_gradients_match_numpy_adjoints():
    r = np.random.RandomState(2)
    x = tf.constant(r.randn(2, 6, 6, 2).astype(np.float32))
    w = tf.constant(r.randn(3, 3, 2, 3).astype(np.float32))
    y = tf.nn.conv2d(x, w, strides=2, padding="SAME")
    gy = r.randn(2, 3, 3, 3).astype(np.float32)
    dx, dw = tf.gradients(y, [x, w], grad_ys=tf.constant(gy))
    dxv, dwv, xv, wv = run([dx, dw, x, w])
    # <conv(x, w), gy> is linear in x and in w: its gradients are the adjoints,
    # checked through the identity <conv(e_i, w), gy> = dx[i] on random directions.
    for _ in range(3):
        d = r.randn(*xv.shape)
        np.testing.assert_allclose(np.sum(conv_ref(d, wv, 2) * gy), np.sum(d * dxv), rtol=1e-3)
        e = r.randn(*wv.shape)
        np.testing.assert_allclose(np.sum(conv_ref(xv, e, 2) * gy), np.sum(e * dwv), rtol=1e-3)


@pytest.mark.parametrize("k,s,padding", [(2, 2, "VALID"), (3, 2, "SAME"), (2, 1, "SAME")])
def test_max_and_avg_pool_match_numpy(k, s, padding):
    x = np.random.RandomState(3).randn(2, 7, 6, 3).astype(np.float32)
    mx, av = run([tf.nn.max_pool(x, ksize=[1, k, k, 1], strides=[1, s, s, 1], padding=padding),
                  tf.nn.avg_pool(x, ksize=k, strides=s, padding=padding)])
    np.testing.assert_allclose(mx, pool_ref(x, k, s, padding, np.max), rtol=0, atol=0)
    np.testing.assert_allclose(av, pool_ref(x, k, s, padding, np.mean), rtol=1e-5, atol=1e-6)


def test_layers_conv2d_creates_kernel_and_bias_and_matches_nn():
    x = tf.placeholder(tf.float32, [None, 8, 8, 3])
    y = tf.layers.conv2d(x, filters=5, kernel_size=3, padding="same", activation=tf.nn.relu,
                         name="c1")
    assert y.shape.as_list() == [None, 8, 8, 5]
    names = sorted(v.name for v in tf.trainable_variables())
    assert names == ["c1/bias:0", "c1/kernel:0"]
    kernel = [v for v in tf.trainable_variables() if "kernel" in v.name][0]
    assert kernel.shape.as_list() == [3, 3, 3, 5]
    xv = np.random.RandomState(4).randn(2, 8, 8, 3).astype(np.float32)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        yv, kv = s.run([y, kernel], {x: xv})
    np.testing.assert_allclose(yv, np.maximum(conv_ref(xv, kv), 0), rtol=1e-4, atol=1e-4)


def test_layers_pooling_shapes():
    x = tf.placeholder(tf.float32, [None, 28, 28, 32])
    assert tf.layers.max_pooling2d(x, 2, 2).shape.as_list() == [None, 14, 14, 32]
    assert tf.layers.average_pooling2d(x, [3, 3], 2, padding="same").shape.as_list() == \
        [None, 14, 14, 32]
    with pytest.raises(NotImplementedError, match="channels_last"):
        tf.layers.max_pooling2d(x, 2, 2, data_format="channels_first")


def test_dropout_training_tensor_switches_between_identity_and_dropout():
    training = tf.placeholder_with_default(False, [])
    x = tf.ones([1000])
    y = tf.layers.dropout(x, rate=0.4, training=training, seed=1)
    with tf.Session() as s:
        np.testing.assert_array_equal(s.run(y), np.ones(1000, np.float32))
        yt = s.run(y, {training: True})
    kept = yt != 0
    assert 0.5 < kept.mean() < 0.7
    np.testing.assert_allclose(yt[kept], 1 / 0.6, rtol=1e-6)


def test_batch_normalization_training_and_inference():
    r = np.random.RandomState(5)
    xv = (r.randn(8, 3, 3, 4) * 2 + 1).astype(np.float32)
    x = tf.constant(xv)
    training = tf.placeholder_with_default(False, [])
    y = tf.layers.batch_normalization(x, training=training, momentum=0.5, name="bn")
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    mean, var = xv.mean(axis=(0, 1, 2)), xv.var(axis=(0, 1, 2))
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        # Inference with fresh moving averages (0, 1): y = x / sqrt(1 + eps).
        np.testing.assert_allclose(s.run(y), xv / np.sqrt(1 + 1e-3), rtol=1e-5)
        yt, _ = s.run([y, updates], {training: True})
        np.testing.assert_allclose(yt, (xv - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-4)
        mm = [v for v in tf.global_variables() if v.name == "bn/moving_mean:0"][0]
        mv = [v for v in tf.global_variables() if v.name == "bn/moving_variance:0"][0]
        n = xv.size // 4
        np.testing.assert_allclose(s.run(mm), 0.5 * mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(s.run(mv), 0.5 + 0.5 * var * n / (n - 1), rtol=1e-5)
    assert sorted(v.name for v in tf.trainable_variables()) == ["bn/beta:0", "bn/gamma:0"]


def test_small_cnn_trains():
    r = np.random.RandomState(6)
    # Two classes: a bright top half or a bright bottom half, plus noise.
    labels = r.randint(0, 2, 64)
    images = r.rand(64, 8, 8, 1).astype(np.float32) * 0.3
    for i, lab in enumerate(labels):
        images[i, (0 if lab == 0 else 4):(4 if lab == 0 else 8), :, 0] += 0.7
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, 8, 8, 1])
    y = tf.placeholder(tf.int32, [None])
    h = tf.layers.conv2d(x, 4, 3, padding="same", activation=tf.nn.relu)
    h = tf.layers.max_pooling2d(h, 2, 2)
    logits = tf.layers.dense(tf.layers.flatten(h), 2)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        first = s.run(loss, {x: images, y: labels})
        for _ in range(30):
            s.run(train, {x: images, y: labels})
        last = s.run(loss, {x: images, y: labels})
    assert last < 0.2 < first


def test_depthwise_conv2d_matches_numpy_and_has_gradients():
    r = np.random.RandomState(7)
    x = r.randn(2, 6, 5, 3).astype(np.float32)
    w = r.randn(3, 3, 3, 2).astype(np.float32)  # multiplier 2
    xt, wt = tf.constant(x), tf.constant(w)
    y = tf.nn.depthwise_conv2d(xt, wt, strides=[1, 1, 1, 1], padding="SAME")
    assert y.shape.as_list() == [2, 6, 5, 6]
    dx, dw = tf.gradients(tf.reduce_sum(y), [xt, wt])
    yv, dxv, dwv = run([y, dx, dw])
    want = np.concatenate([conv_ref(x[..., c:c + 1], w[:, :, c:c + 1, :]) for c in range(3)],
                          axis=3)
    np.testing.assert_allclose(yv, want, rtol=1e-4, atol=1e-4)
    assert dxv.shape == x.shape and dwv.shape == w.shape
    # d sum(y) / d w[ky, kx, c, m] = sum of the input window values that tap sees.
    np.testing.assert_allclose(dwv[1, 1, :, 0], x.sum(axis=(0, 1, 2)), rtol=1e-4)
