"""Trains an MLP 784-256-128-10 (ReLU, Adam) on Fashion-MNIST and prints the
test accuracy.

    python -m loom.examples.fashion_mnist --epochs 5 --batch-size 100

The data come from Debian's dataset-fashion-mnist (or $LOOM_DATA_DIR).
"""
import argparse
import sys
import time

import numpy as np

import loom as tf
from loom.datasets import fashion_mnist


def build_model(learning_rate, make_train_op=True):
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    h = x
    for i, units in enumerate((256, 128)):
        with tf.variable_scope("dense%d" % i):
            w = tf.get_variable("kernel", [h.shape[1].value, units])
            b = tf.get_variable("bias", [units], initializer=tf.zeros_initializer())
            h = tf.nn.relu(tf.matmul(h, w) + b)
    with tf.variable_scope("logits"):
        w = tf.get_variable("kernel", [128, 10])
        b = tf.get_variable("bias", [10], initializer=tf.zeros_initializer())
        logits = tf.matmul(h, w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss) if make_train_op else None
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.int32))
    return x, y, loss, train_op, correct


class Progress(object):
    """A one-line progress bar with steps/s and a running loss."""

    def __init__(self, total, prefix, stream=None, width=30):
        # sys.stderr when the bar is made, not when this module was imported
        # (a caller may have redirected it since, as pytest's capsys does).
        self.total, self.prefix, self.width = total, prefix, width
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, step, loss, force=False):
        now = time.perf_counter()
        if not force and now - self.last < 0.1 and step < self.total:
            return
        self.last = now
        rate = step / max(now - self.start, 1e-9)
        filled = int(self.width * step / max(self.total, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write("\r%s [%s] %d/%d  %.0f steps/s  loss %.4f" % (
            self.prefix, bar, step, self.total, rate, loss))
        self.stream.flush()

    def done(self):
        self.stream.write("\n")
        self.stream.flush()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)

    (xtr, ytr), (xte, yte) = fashion_mnist.load_flat(args.data_dir)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    print("Fashion-MNIST: %d training, %d test images" % (len(xtr), len(xte)))

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(args.seed)
        x, y, loss, train_op, correct = build_model(args.learning_rate)
        init = tf.global_variables_initializer()
    rng = np.random.RandomState(args.seed)
    bs = args.batch_size
    steps = len(xtr) // bs
    with tf.Session(graph=graph) as sess:
        sess.run(init)
        for epoch in range(args.epochs):
            order = rng.permutation(len(xtr))
            xs, ys = xtr[order], ytr[order]
            bar = Progress(steps, "epoch %d/%d" % (epoch + 1, args.epochs))
            avg = None
            t0 = time.perf_counter()
            for i in range(steps):
                feed = {x: xs[i * bs:(i + 1) * bs], y: ys[i * bs:(i + 1) * bs]}
                l, _ = sess.run((loss, train_op), feed)
                avg = l if avg is None else 0.98 * avg + 0.02 * l
                bar.update(i + 1, avg)
            bar.update(steps, avg, force=True)
            bar.done()
            dt = time.perf_counter() - t0
            acc = evaluate(sess, x, y, correct, xte, yte)
            print("epoch %d: loss %.4f, %.0f steps/s, test accuracy %.4f"
                  % (epoch + 1, avg, steps / dt, acc))
        acc = evaluate(sess, x, y, correct, xte, yte)
    print("test accuracy: %.4f" % acc)
    return acc


def evaluate(sess, x, y, correct, xte, yte, bs=1000):
    n = 0
    for i in range(0, len(xte), bs):
        n += int(sess.run(correct, {x: xte[i:i + bs], y: yte[i:i + bs]}))
    return n / float(len(xte))


if __name__ == "__main__":
    main()
