"""Trains the Fashion-MNIST MLP with parameter servers on this machine:
starts --ps parameter-server tasks and --workers worker tasks (each a
process), one training client per worker, and stops every process it started.

    python -m loom.examples.fashion_mnist_dist --ps 1 --workers 3            # async SGD
    python -m loom.examples.fashion_mnist_dist --ps 1 --workers 3 --sync     # sync, 3 of 3
    python -m loom.examples.fashion_mnist_dist --ps 1 --workers 3 --sync --backup 1
    python -m loom.examples.fashion_mnist_dist ... --straggler-delay-ms 200  # the last worker is slow

Asynchronous: every worker applies its own gradients as they come (the
global step is the sum of the workers' steps). Synchronous: each global step
applies the average of (workers - backup) workers' gradients
(tf.train.SyncReplicasOptimizer); with backups, the slowest workers'
gradients are dropped, so a straggler does not hold the others up.

Each worker prints its progress; the chief (worker 0) prints the test
accuracy (and, with --target-accuracy, the time at which it was reached).
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np


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


# ---------------------------------------------------------------- tasks


def serve(spec, job, task):
    """A server process: runs until SIGTERM."""
    import loom as tf
    server = tf.train.Server(tf.train.ClusterSpec(spec), job_name=job, task_index=task)
    print("%s %d serving at %s" % (job, task, server.target), flush=True)
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    while True:
        time.sleep(3600)


def train(args, spec, task):
    """The training client of worker `task`."""
    import loom as tf
    from loom.datasets import fashion_mnist
    from loom.examples.fashion_mnist import build_model, evaluate

    num_workers = len(spec["worker"])
    chief = task == 0
    (xtr, ytr), (xte, yte) = fashion_mnist.load_flat(args.data_dir)
    if args.limit:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]
    xtr, ytr = xtr[task::num_workers], ytr[task::num_workers]
    bs = args.batch_size
    steps_per_epoch = len(xtr) // bs
    if args.sync:
        # One global step per aggregated update of (workers - backup) batches.
        last_step = args.epochs * (len(xtr) * num_workers // bs) // (num_workers - args.backup)
    else:
        last_step = args.epochs * steps_per_epoch * num_workers
    straggler = args.straggler_delay_ms > 0 and task == num_workers - 1 and num_workers > 1

    cluster = tf.train.ClusterSpec(spec)
    tf.set_random_seed(args.seed)
    with tf.device(tf.train.replica_device_setter(
            worker_device="/job:worker/task:%d" % task, cluster=cluster,
            ps_strategy=tf.train.GreedyLoadBalancingStrategy(len(spec["ps"])))):
        global_step = tf.train.get_or_create_global_step()
        x, y, loss, _, correct = build_model(args.learning_rate, make_train_op=False)
        opt = tf.train.AdamOptimizer(args.learning_rate)
        hooks = [tf.train.StopAtStepHook(last_step=last_step)]
        if args.sync:
            opt = tf.train.SyncReplicasOptimizer(opt, replicas_to_aggregate=num_workers - args.backup,
                                                 total_num_replicas=num_workers)
            hooks.append(opt.make_session_run_hook(chief))
        train_op = opt.minimize(loss, global_step=global_step)

    target = "zmq://" + spec["worker"][task]
    config = tf.ConfigProto(inter_op_parallelism_threads=1, intra_op_parallelism_threads=1)
    rng = np.random.RandomState(args.seed + task)
    who = "worker %d%s" % (task, " (straggler)" if straggler else "")
    t0 = time.time()
    reached = None
    n = 0
    gs = 0
    with tf.train.MonitoredTrainingSession(master=target, is_chief=chief, hooks=hooks,
                                           checkpoint_dir=args.checkpoint_dir if chief else None,
                                           config=config, stop_grace_period_secs=5) as sess:
        order, pos = rng.permutation(len(xtr)), 0
        while not sess.should_stop():
            if pos + bs > len(order):
                order, pos = rng.permutation(len(xtr)), 0
            idx = order[pos:pos + bs]
            pos += bs
            if straggler:
                time.sleep(args.straggler_delay_ms / 1000.0)
            l, _, gs = sess.run([loss, train_op, global_step], {x: xtr[idx], y: ytr[idx]})
            n += 1
            gs = int(gs)
            if n % args.log_every == 0:
                el = time.time() - t0
                print("%s: step %d, global step %d/%d, loss %.4f, %.0f examples/s" % (
                    who, n, gs, last_step, l, n * bs / el), flush=True)
            if chief and args.eval_every and n % args.eval_every == 0:
                acc = evaluate(sess, x, y, correct, xte, yte)
                print("chief: global step %d, %.1f s, test accuracy %.4f" % (
                    gs, time.time() - t0, acc), flush=True)
                if args.target_accuracy and reached is None and acc >= args.target_accuracy:
                    reached = time.time() - t0
                    print("chief: reached %.2f test accuracy at %.1f s (global step %d)" % (
                        args.target_accuracy, reached, gs), flush=True)
        el = time.time() - t0
        print("%s: done, %d steps in %.1f s (%.0f examples/s)" % (who, n, el, n * bs / el), flush=True)
        if chief:
            gs = int(sess.run(global_step))
            acc = evaluate(sess, x, y, correct, xte, yte)
            print("chief: global step %d, test accuracy %.4f, %.1f s" % (gs, acc, el), flush=True)
            if args.target_accuracy and reached is None and acc >= args.target_accuracy:
                reached = el
            if args.target_accuracy:
                print("chief: time to %.2f test accuracy: %s" % (
                    args.target_accuracy, "%.1f s" % reached if reached else "not reached"),
                    flush=True)
    return 0


# ---------------------------------------------------------------- launcher


def launch(args, argv):
    ports = free_ports(args.ps + args.workers)
    spec = {"ps": ["127.0.0.1:%d" % p for p in ports[:args.ps]],
            "worker": ["127.0.0.1:%d" % p for p in ports[args.ps:]]}
    text = json.dumps(spec)
    me = [sys.executable, "-m", "loom.examples.fashion_mnist_dist"]
    env = dict(os.environ)
    env.setdefault("PYTHONPATH", os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    procs = []  # (name, Popen): every one is stopped by PID below, whatever happens

    def stop_all(*unused):
        for _, p in reversed(procs):
            if p.poll() is None:
                try:
                    p.send_signal(signal.SIGCONT)
                    p.terminate()
                except OSError:
                    pass
        deadline = time.time() + 10
        for _, p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def on_signal(signum, frame):
        stop_all()
        sys.exit(128 + signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        for job, n in (("ps", args.ps), ("worker", args.workers)):
            for i in range(n):
                p = subprocess.Popen(me + ["--serve", text, "--job", job, "--task", str(i)], env=env,
                                     stdout=subprocess.PIPE)
                procs.append(("%s %d" % (job, i), p))
                line = p.stdout.readline()  # "serving at ..." once it listens
                if not line:
                    raise RuntimeError("the %s %d server did not start" % (job, i))
        mode = ("sync, %d of %d workers (%d backup)" % (args.workers - args.backup, args.workers,
                                                       args.backup) if args.sync else "async")
        print("cluster: %d ps, %d workers, %s; %s" % (args.ps, args.workers, mode, text), flush=True)
        clients = []
        for i in range(args.workers):
            p = subprocess.Popen(me + ["--train", text, "--task", str(i)] + argv, env=env)
            procs.append(("client %d" % i, p))
            clients.append(p)
        rc = clients[0].wait()  # the chief decides when training is over
        for p in clients[1:]:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                print("a worker did not finish within 60 s of the chief; stopping it", flush=True)
        return rc
    finally:
        stop_all()
        for s, h in old.items():
            signal.signal(s, h)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ps", type=int, default=1)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sync", action="store_true")
    p.add_argument("--backup", type=int, default=0, help="backup workers (with --sync)")
    p.add_argument("--straggler-delay-ms", type=float, default=0,
                   help="slow the last worker down by this much per step")
    p.add_argument("--epochs", type=float, default=2)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images")
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=0, help="chief: test accuracy every N steps")
    p.add_argument("--target-accuracy", type=float, default=0.0)
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--data-dir", default=None)
    # Internal: the processes the launcher starts.
    p.add_argument("--serve", help=argparse.SUPPRESS)
    p.add_argument("--train", help=argparse.SUPPRESS)
    p.add_argument("--job", help=argparse.SUPPRESS)
    p.add_argument("--task", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve:
        return serve(json.loads(args.serve), args.job, args.task)
    if args.train:
        return train(args, json.loads(args.train), args.task)
    if args.ps < 1 or args.workers < 1:
        p.error("--ps and --workers must be at least 1")
    if args.backup and not args.sync:
        p.error("--backup needs --sync")
    if args.sync and not 0 <= args.backup < args.workers:
        p.error("--backup must be less than --workers")
    args.epochs = float(args.epochs)
    return launch(args, argv)


if __name__ == "__main__":
    sys.exit(main())
