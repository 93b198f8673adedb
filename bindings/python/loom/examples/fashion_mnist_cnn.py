"""Trains the CNN of TensorFlow's layers tutorial on Fashion-MNIST and prints
the test accuracy after every epoch.

    python -m loom.examples.fashion_mnist_cnn --epochs 10

conv 5x5x32 SAME + ReLU -> max-pool 2x2 -> conv 5x5x64 SAME + ReLU ->
max-pool 2x2 -> dense 1024 + ReLU -> dropout 0.4 (training only) -> dense 10,
batch 100, Adam (learning rate 1e-3, times 0.8 after every epoch, so the
last epochs settle instead of wandering). The Fashion-MNIST benchmark table
credits this model with 0.916 test accuracy. The data come from Debian's dataset-fashion-mnist (or
$LOOM_DATA_DIR).
"""
import argparse
import time

import numpy as np

import loom as tf
from loom.datasets import fashion_mnist
from loom.examples.fashion_mnist import Progress, evaluate


def build_model(learning_rate, decay_steps=None, decay_rate=1.0):
    """The model, its loss, training op and count of correct predictions. With
    decay_steps, the learning rate is multiplied by decay_rate every
    decay_steps training steps (tf.train.exponential_decay, staircase)."""
    x = tf.placeholder(tf.float32, [None, 784], name="x")
    y = tf.placeholder(tf.int64, [None], name="y")
    training = tf.placeholder_with_default(False, [], name="training")
    h = tf.reshape(x, [-1, 28, 28, 1])
    h = tf.layers.conv2d(h, filters=32, kernel_size=5, padding="same", activation=tf.nn.relu,
                         name="conv1")
    h = tf.layers.max_pooling2d(h, pool_size=2, strides=2, name="pool1")
    h = tf.layers.conv2d(h, filters=64, kernel_size=5, padding="same", activation=tf.nn.relu,
                         name="conv2")
    h = tf.layers.max_pooling2d(h, pool_size=2, strides=2, name="pool2")
    h = tf.layers.dense(tf.layers.flatten(h), 1024, activation=tf.nn.relu, name="dense")
    h = tf.layers.dropout(h, rate=0.4, training=training)
    logits = tf.layers.dense(h, 10, name="logits")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    global_step = tf.train.get_or_create_global_step()
    if decay_steps:
        learning_rate = tf.train.exponential_decay(learning_rate, global_step, decay_steps,
                                                   decay_rate, staircase=True)
    train_op = tf.train.AdamOptimizer(learning_rate).minimize(loss, global_step=global_step)
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, 1), y), tf.int32))
    return x, y, training, loss, train_op, correct


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--lr-decay", type=float, default=0.8,
                   help="learning-rate factor applied after every epoch (1: constant)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
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
        x, y, training, loss, train_op, correct = build_model(
            args.learning_rate, len(xtr) // args.batch_size, args.lr_decay)
        init = tf.global_variables_initializer()
    rng = np.random.RandomState(args.seed)
    bs = args.batch_size
    steps = len(xtr) // bs
    config = tf.ConfigProto(intra_op_parallelism_threads=args.threads)
    start = time.perf_counter()
    acc = 0.0
    with tf.Session(graph=graph, config=config) as sess:
        sess.run(init)
        for epoch in range(args.epochs):
            order = rng.permutation(len(xtr))
            xs, ys = xtr[order], ytr[order]
            bar = Progress(steps, "epoch %d/%d" % (epoch + 1, args.epochs))
            avg = None
            t0 = time.perf_counter()
            for i in range(steps):
                feed = {x: xs[i * bs:(i + 1) * bs], y: ys[i * bs:(i + 1) * bs], training: True}
                l, _ = sess.run((loss, train_op), feed)
                avg = l if avg is None else 0.98 * avg + 0.02 * l
                bar.update(i + 1, avg)
            bar.update(steps, avg, force=True)
            bar.done()
            dt = time.perf_counter() - t0
            acc = evaluate(sess, x, y, correct, xte, yte)
            print("epoch %d: loss %.4f, %.0f images/s, test accuracy %.4f"
                  % (epoch + 1, avg, steps * bs / dt, acc), flush=True)
    print("test accuracy: %.4f (%d epochs, %.0f s)" % (acc, args.epochs,
                                                      time.perf_counter() - start))
    return acc


if __name__ == "__main__":
    main()
