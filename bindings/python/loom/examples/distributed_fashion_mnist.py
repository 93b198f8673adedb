"""Trains the Fashion-MNIST MLP over a cluster: parameter servers hold the
variables, workers compute gradients and apply them asynchronously
(between-graph replication, as TensorFlow 1.x's distributed tutorial).

    HOSTS="--ps_hosts=127.0.0.1:2222 --worker_hosts=127.0.0.1:2223,127.0.0.1:2224"
    python -m loom.examples.distributed_fashion_mnist $HOSTS --job_name=ps --task_index=0 &
    python -m loom.examples.distributed_fashion_mnist $HOSTS --job_name=worker --task_index=1 &
    python -m loom.examples.distributed_fashion_mnist $HOSTS --job_name=worker --task_index=0

Each worker trains on its own shard of the training set for --epochs; the
chief (worker 0) initialises the variables, waits for the other workers to
finish, prints the global step (the sum of every worker's steps) and the test
accuracy, and stops the ps.
"""
import argparse
import time

import numpy as np

import loom as tf
from loom.datasets import fashion_mnist
from loom.examples.fashion_mnist import build_model, evaluate


def wait_until(fn, what, timeout=120.0):
    """Retries fn until it stops raising FailedPrecondition/Unavailable."""
    deadline = time.time() + timeout
    while True:
        try:
            return fn()
        except (tf.errors.FailedPreconditionError, tf.errors.UnavailableError):
            if time.time() > deadline:
                raise RuntimeError("timed out waiting for " + what)
            time.sleep(0.2)


def serve_until_chief_is_done(server, num_workers):
    """Serves until the chief has counted every worker and itself on the ps's
    `workers_done` variable (the variable the workers' graphs share by name)."""
    g = tf.Graph()
    with g.as_default(), tf.device("/job:ps/task:0"):
        done = tf.Variable(0, dtype=tf.int32, trainable=False, name="workers_done")
    with tf.Session(server.target, graph=g) as sess:
        while True:
            try:
                if sess.run(done) > num_workers:
                    break
            except tf.errors.FailedPreconditionError:
                pass  # not initialised yet
            time.sleep(0.5)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ps_hosts", required=True)
    p.add_argument("--worker_hosts", required=True)
    p.add_argument("--job_name", required=True, choices=["ps", "worker"])
    p.add_argument("--task_index", type=int, default=0)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)

    cluster = tf.train.ClusterSpec({"ps": args.ps_hosts.split(","), "worker": args.worker_hosts.split(",")})
    server = tf.train.Server(cluster, job_name=args.job_name, task_index=args.task_index)
    if args.job_name == "ps":
        print("ps %d serving at %s" % (args.task_index, server.target), flush=True)
        serve_until_chief_is_done(server, cluster.num_tasks("worker"))
        return None

    num_workers = cluster.num_tasks("worker")
    chief = args.task_index == 0
    (xtr, ytr), (xte, yte) = fashion_mnist.load_flat(args.data_dir)
    shard = slice(args.task_index, None, num_workers)
    xtr, ytr = xtr[shard], ytr[shard]

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(args.seed)
        with tf.device(tf.train.replica_device_setter(
                worker_device="/job:worker/task:%d" % args.task_index, cluster=cluster)):
            global_step = tf.train.get_or_create_global_step()
            x, y, loss, _, correct = build_model(args.learning_rate)
            train_op = tf.train.AdamOptimizer(args.learning_rate).minimize(loss, global_step=global_step)
            # Each worker counts its finished training on the ps; the chief
            # waits for all of them before evaluating.
            done = tf.Variable(0, dtype=tf.int32, trainable=False, name="workers_done")
            mark_done = tf.assign_add(done, 1)
        init = tf.global_variables_initializer()

    rng = np.random.RandomState(args.seed + args.task_index)
    bs = args.batch_size
    steps = len(xtr) // bs
    with tf.Session(server.target, graph=graph) as sess:
        if chief:
            sess.run(init)
        else:
            wait_until(lambda: sess.run(global_step), "the chief to initialise the variables")
        t0 = time.perf_counter()
        for epoch in range(args.epochs):
            order = rng.permutation(len(xtr))
            total = 0.0
            for i in range(steps):
                idx = order[i * bs:(i + 1) * bs]
                l, _ = sess.run((loss, train_op), {x: xtr[idx], y: ytr[idx]})
                total += l
            print("worker %d epoch %d: loss %.4f, %.0f steps/s" % (
                args.task_index, epoch + 1, total / steps,
                (epoch + 1) * steps / (time.perf_counter() - t0)), flush=True)
        sess.run(mark_done)
        if not chief:
            return None
        while sess.run(done) < num_workers:
            time.sleep(0.2)
        gs = int(sess.run(global_step))
        acc = evaluate(sess, x, y, correct, xte, yte)
        sess.run(mark_done)  # the ps may stop now
    print("global step: %d (%d workers x %d epochs x %d steps)" % (gs, num_workers, args.epochs, steps))
    print("test accuracy: %.4f" % acc)
    return acc


if __name__ == "__main__":
    main()
