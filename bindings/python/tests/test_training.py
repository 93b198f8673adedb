"""Training converges; TensorFlow talk programs run with only the import
changed; the Fashion-MNIST example runs."""
import os

import numpy as np
import pytest

import loom as tf

HAVE_FASHION = os.path.exists(os.path.join(
    os.environ.get("LOOM_DATA_DIR", "/usr/share/datasets/fashion-mnist"),
    "train-images-idx3-ubyte.gz"))


def _linear_regression(opt, steps=300):
    rng = np.random.RandomState(0)
    X = rng.randn(64, 3).astype(np.float32)
    true_w = np.array([[2.0], [-1.0], [0.5]], np.float32)
    Y = X @ true_w + 0.3
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    w = tf.Variable(tf.zeros([3, 1]))
    b = tf.Variable(0.0)
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    gs = tf.train.get_or_create_global_step()
    train = opt.minimize(loss, global_step=gs)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        first = s.run(loss, {x: X, y: Y})
        for _ in range(steps):
            s.run(train, {x: X, y: Y})
        last, W, B, step = s.run([loss, w, b, gs], {x: X, y: Y})
    return first, last, W, B, step


@pytest.mark.parametrize("make", [
    lambda: tf.train.GradientDescentOptimizer(0.1),
    lambda: tf.train.MomentumOptimizer(0.05, 0.9),
    lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
    lambda: tf.train.AdamOptimizer(0.05),
    lambda: tf.train.AdagradOptimizer(0.5),
    lambda: tf.train.RMSPropOptimizer(0.01),
], ids=["sgd", "momentum", "nesterov", "adam", "adagrad", "rmsprop"])
def test_optimizers_converge(make):
    first, last, W, B, step = _linear_regression(make())
    assert last < 1e-3 * first, (first, last)
    np.testing.assert_allclose(W.ravel(), [2.0, -1.0, 0.5], atol=0.05)
    np.testing.assert_allclose(B, 0.3, atol=0.05)
    assert step == 300


def test_sgd_step_matches_hand_computation():
    w = tf.Variable([1.0, 2.0])
    loss = tf.reduce_sum(w * w)  # gradient 2w
    step = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(step)
        np.testing.assert_allclose(s.run(w), [0.5, 1.0])  # w - 0.25 * 2w


def test_adam_first_step_matches_formula():
    w = tf.Variable([1.0, -2.0])
    loss = tf.reduce_sum(w * w)
    opt = tf.train.AdamOptimizer(0.1)
    step = opt.minimize(loss)
    assert opt.get_slot(w, "m") is not None and opt.get_slot(w, "v") is not None
    assert opt.get_slot(w, "m").name == "Variable/Adam:0"
    assert opt.get_slot(w, "v").name == "Variable/Adam_1:0"
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(step)
        # first Adam step moves each weight by lr * sign(g) (bias-corrected m/sqrt(v))
        np.testing.assert_allclose(s.run(w), [0.9, -1.9], rtol=1e-4)


def test_compute_and_apply_gradients():
    w = tf.Variable([3.0])
    loss = tf.reduce_sum(tf.square(w))
    opt = tf.train.GradientDescentOptimizer(0.5)
    gv = opt.compute_gradients(loss)
    assert len(gv) == 1 and gv[0][1] is w
    clipped = [(tf.minimum(g, 1.0), v) for g, v in gv]
    step = opt.apply_gradients(clipped)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        s.run(step)
        np.testing.assert_allclose(s.run(w), [2.5])


def test_mlp_learns_xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    Y = np.array([0, 1, 1, 0], np.int32)
    tf.set_random_seed(1)
    x = tf.placeholder(tf.float32, [None, 2])
    y = tf.placeholder(tf.int32, [None])
    h = tf.layers.dense(x, 16, activation=tf.nn.relu)
    logits = tf.layers.dense(h, 2)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        for _ in range(300):
            s.run(train, {x: X, y: Y})
        pred = s.run(tf.argmax(logits, 1), {x: X})
    np.testing.assert_array_equal(pred, Y)


def test_talk_program_matmul():
    # From TensorFlow's talks; only the import differs.
    with tf.Session():
        x = tf.constant([[5, 6], [7, 8]])
        z = tf.matmul(x, x) + tf.matmul(x, [[1, 0], [0, 1]])
        result = z.eval()
    np.testing.assert_array_equal(result, [[72, 84], [98, 114]])
    assert result.dtype == np.int32


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
def test_talk_program_mnist_softmax():
    from loom.datasets import fashion_mnist
    (xtr, ytr), (xte, yte) = fashion_mnist.load_flat()
    onehot = np.eye(10, dtype=np.float32)
    # The MNIST softmax tutorial, unchanged but for the import (and a smaller
    # learning rate, which Fashion-MNIST needs with TensorFlow too).
    x = tf.placeholder("float", shape=[None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    y_ = tf.placeholder(tf.float32, [None, 10])
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y))
    train_step = tf.train.GradientDescentOptimizer(0.001).minimize(cross_entropy)
    init = tf.initialize_all_variables()
    sess = tf.Session()
    sess.run(init)
    rng = np.random.RandomState(0)
    for i in range(300):
        idx = rng.randint(0, len(xtr), 100)
        batch_xs, batch_ys = xtr[idx], onehot[ytr[idx]]
        sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, "float"))
    acc = sess.run(accuracy, feed_dict={x: xte, y_: onehot[yte]})
    sess.close()
    assert acc > 0.70, acc


def test_fashion_mnist_missing_files_name_the_package(tmp_path):
    from loom.datasets import fashion_mnist
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        fashion_mnist.load(str(tmp_path))


def test_fashion_mnist_reader_on_small_files(tmp_path):
    import gzip
    import struct
    from loom.datasets import fashion_mnist
    imgs = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    lbls = np.array([3, 9], np.uint8)
    for split, n in (("train", 2), ("t10k", 2)):
        with gzip.open(tmp_path / ("%s-images-idx3-ubyte.gz" % split), "wb") as f:
            f.write(struct.pack(">HBBIII", 0, 8, 3, n, 28, 28) + imgs.tobytes())
        with gzip.open(tmp_path / ("%s-labels-idx1-ubyte.gz" % split), "wb") as f:
            f.write(struct.pack(">HBBI", 0, 8, 1, n) + lbls.tobytes())
    (xtr, ytr), (xte, yte) = fashion_mnist.load(str(tmp_path))
    np.testing.assert_array_equal(xtr, imgs)
    np.testing.assert_array_equal(yte, lbls)


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_example_trains(capsys):
    from loom.examples import fashion_mnist as example
    acc = example.main(["--epochs", "1", "--limit", "6000", "--batch-size", "100"])
    out = capsys.readouterr()
    assert "test accuracy" in out.out and "steps/s" in out.err
    assert acc > 0.70, acc


def _cnn_losses(xtr, ytr, steps, seed=1):
    """Trains the main job's CNN (loom.examples.fashion_mnist_cnn) on one
    thread, batch 100, and returns the training loss of every step."""
    from loom.examples.fashion_mnist_cnn import build_model
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        x, y, training, loss, train_op, correct = build_model(1e-3)
        init = tf.global_variables_initializer()
    config = tf.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    losses = []
    with tf.Session(graph=graph, config=config) as sess:
        sess.run(init)
        for i in range(steps):
            j = (i * 100) % len(xtr)
            l, _ = sess.run((loss, train_op),
                            {x: xtr[j:j + 100], y: ytr[j:j + 100], training: True})
            losses.append(float(l))
    return losses


@pytest.mark.skipif(not HAVE_FASHION, reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_cnn_learns_on_a_subset_deterministically():
    from loom.datasets import fashion_mnist
    (xtr, ytr), _ = fashion_mnist.load_flat()
    xtr, ytr = xtr[:1000], ytr[:1000].astype(np.int64)
    losses = _cnn_losses(xtr, ytr, 40)
    assert losses[0] > 1.9, losses[:3]             # chance level is ln 10 = 2.30
    assert np.mean(losses[-10:]) < 0.9, losses[-10:]
    # Same seed, one thread: the same losses, bit for bit.
    assert _cnn_losses(xtr, ytr, 3) == losses[:3]
