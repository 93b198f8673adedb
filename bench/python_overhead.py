#!/usr/bin/env python3
"""Python Session.run overhead: one feed, one fetch (y = x + 1 on a scalar).

Prints the median per-call time of
  - loom: Session.run(y, {x: v}) through the loom package,
  - loom: the prepared Callable alone (the C extension, no Python wrapper),
  - TensorFlow 1.x-style sess.run, if tensorflow is installed (skipped
    cleanly otherwise), and the ratio,
and the MLP 784-256-128-10 training throughput from Python (steps/s, batch
100, Adam) next to the same steps through the bare Callable, so the Python
share of a training step is visible.

    PYTHONPATH=bindings/python LOOM_LIBRARY_DIR=<build>/lib python3 bench/python_overhead.py
"""
import argparse
import statistics
import time

import numpy as np


def median_us(fn, calls, rounds):
    fn()  # warm: prepares and caches the signature
    per = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        per.append((time.perf_counter() - t0) / calls * 1e6)
    return statistics.median(per)


def bench_loom(calls, rounds):
    import loom as tf
    g = tf.Graph()
    with g.as_default():
        x = tf.placeholder(tf.float32, [], name="x")
        y = x + 1.0
    v = np.float32(1.0)
    arr = np.ones((), np.float32)
    sess = tf.Session(graph=g)
    feed = {x: arr}
    run_us = median_us(lambda: sess.run(y, feed), calls, rounds)
    new_dict_us = median_us(lambda: sess.run(y, {x: arr}), calls, rounds)
    scalar_us = median_us(lambda: sess.run(y, {x: v}), calls, rounds)
    callable_ = sess._cache[(y, (x,))][0]
    raw_us = median_us(lambda: callable_.run(feed), calls, rounds)
    sess.close()
    return run_us, new_dict_us, scalar_us, raw_us


def bench_tf(calls, rounds):
    try:
        import tensorflow as real_tf  # noqa: F401
    except ImportError:
        return None
    tf1 = real_tf.compat.v1
    tf1.disable_eager_execution()
    g = tf1.Graph()
    with g.as_default():
        x = tf1.placeholder(tf1.float32, [], name="x")
        y = x + 1.0
    sess = tf1.Session(graph=g)
    arr = np.ones((), np.float32)
    feed = {x: arr}
    us = median_us(lambda: sess.run(y, feed), calls, rounds)
    sess.close()
    return us


def bench_mlp(steps):
    import loom as tf
    rng = np.random.RandomState(0)
    xs = rng.rand(steps, 100, 784).astype(np.float32)
    ys = rng.randint(0, 10, size=(steps, 100)).astype(np.int64)
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 784])
        y = tf.placeholder(tf.int64, [None])
        h = tf.layers.dense(x, 256, activation=tf.nn.relu)
        h = tf.layers.dense(h, 128, activation=tf.nn.relu)
        logits = tf.layers.dense(h, 10)
        loss = tf.losses.sparse_softmax_cross_entropy(labels=y, logits=logits)
        train = tf.train.AdamOptimizer(1e-3).minimize(loss)
        init = tf.global_variables_initializer()
    sess = tf.Session(graph=g)
    sess.run(init)
    sess.run([loss, train], {x: xs[0], y: ys[0]})
    c = None
    for key, entry in sess._cache.items():
        if isinstance(key[0], tuple) and len(key[1]) == 2:
            c = entry[0]
    # Alternate the two ways, best of three each: the machine may be busy.
    py = raw = 0.0
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(steps):
            sess.run([loss, train], {x: xs[i], y: ys[i]})
        py = max(py, steps / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for i in range(steps):
            c.run((xs[i], ys[i]))
        raw = max(raw, steps / (time.perf_counter() - t0))
    sess.close()
    return py, raw


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--mlp-steps", type=int, default=200)
    a = p.parse_args()
    run_us, new_dict_us, scalar_us, raw_us = bench_loom(a.calls, a.rounds)
    print("loom  Session.run(y, feed)           median %7.2f us/call" % run_us)
    print("loom  Session.run(y, {x: arr})       median %7.2f us/call" % new_dict_us)
    print("loom  Session.run(y, {x: np scalar}) median %7.2f us/call" % scalar_us)
    print("loom  Callable.run (C extension)     median %7.2f us/call" % raw_us)
    print("      Python wrapper share                  %7.2f us/call" % (run_us - raw_us))
    tf_us = bench_tf(a.calls, a.rounds)
    if tf_us is None:
        print("tensorflow: not installed, skipped (pip install tensorflow-cpu to compare)")
    else:
        print("tf    Session.run(y, feed)           median %7.2f us/call  (loom is %.1fx faster)"
              % (tf_us, tf_us / run_us))
    if a.mlp_steps:
        py, raw = bench_mlp(a.mlp_steps)
        print("MLP 784-256-128-10, batch 100, Adam: %.1f steps/s from Session.run, "
              "%.1f steps/s from the bare Callable (Python share %.1f%%)"
              % (py, raw, 100.0 * (raw - py) / raw))


if __name__ == "__main__":
    main()
