#!/usr/bin/env python3
"""Loom's CPU plugin side by side with OpenBLAS, TensorFlow and PyTorch on one
machine, in one invocation, with the same thread count for everyone:

  - MatMul 1024x1024x1024 float32, GFLOP/s: Loom vs OpenBLAS's cblas_sgemm
    (the system libopenblas, 2 threads);
  - Conv2D forward, backprop-input and backprop-filter for the two layers of
    the Fashion-MNIST CNN (5x5x1x32 on 28x28 and 5x5x32x64 on 14x14, batch
    100, SAME), GFLOP/s: Loom vs TensorFlow (tf.compat.v1 graph) vs PyTorch;
  - training throughput of the CNN (conv 5x5x32 + ReLU, max-pool 2, conv
    5x5x64 + ReLU, max-pool 2, dense 1024 + ReLU, dropout 0.4, dense 10;
    batch 100, plain SGD), images/s, and the peak resident memory of the
    process that trained.

Every measurement runs in its own child process (so peak RSS is that
framework's alone), and reports the best of several timed rounds: on a
shared machine the best round is the one least disturbed by other load.
A peer that is not installed is skipped with a note. Timings are not tests.

    PYTHONPATH=bindings/python LOOM_LIBRARY_DIR=<build>/lib \\
        python3 bench/compare.py [--threads 2] [--peer-python /path/to/venv/bin/python]

--peer-python runs the TensorFlow and PyTorch children under another
interpreter (a virtualenv with `pip install tensorflow-cpu torch`); by
default they run under this one.
"""
import argparse
import ctypes
import ctypes.util
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

BATCH = 100
# (name, input NHWC, filter HWIO); SAME padding, stride 1.
LAYERS = [("conv1 5x5x1x32 @28x28", (BATCH, 28, 28, 1), (5, 5, 1, 32)),
          ("conv2 5x5x32x64 @14x14", (BATCH, 14, 14, 32), (5, 5, 32, 64))]
PASSES = ["forward", "backprop input", "backprop filter"]


def conv_flops(x, w):
    return 2.0 * x[0] * x[1] * x[2] * w[0] * w[1] * w[2] * w[3]


def best_rate(fn, work, rounds=5, min_time=0.3, warmup=2):
    """Best work/second over `rounds` rounds of >= min_time seconds each."""
    for _ in range(warmup):
        fn()
    best = 0.0
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            el = time.perf_counter() - t0
            if el >= min_time:
                break
        best = max(best, work * n / el)
    return best


def cpu_ms_per_step(step, steps=10):
    """Process CPU time (all threads, user + sys) per call: unlike wall time it
    hardly depends on what else the machine runs, though it counts spinning."""
    step()
    t0 = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - t0) / steps * 1e3


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rand(shape, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, shape).astype(np.float32)


# ---------------------------------------------------------------- Loom


def loom_session(tf, graph, threads):
    cfg = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    return tf.Session(graph=graph, config=cfg)


def loom_ops(threads):
    import loom as tf
    out = {}
    g = tf.Graph()
    with g.as_default():
        a, b = tf.Variable(rand((1024, 1024), 1)), tf.Variable(rand((1024, 1024), 2))
        mm = tf.matmul(a, b)
        convs = []
        for _, xs, ws in LAYERS:
            x, w, dy = tf.Variable(rand(xs, 3)), tf.Variable(rand(ws, 4)), tf.Variable(
                rand(xs[:3] + (ws[3],), 5))
            convs.append([tf.nn.conv2d(x, w, strides=1, padding="SAME"),
                          tf.nn.conv2d_backprop_input(list(xs), w, dy, strides=1, padding="SAME"),
                          tf.nn.conv2d_backprop_filter(x, list(ws), dy, strides=1,
                                                       padding="SAME")])
        init = tf.global_variables_initializer()
    sess = loom_session(tf, g, threads)
    sess.run(init)
    out["matmul"] = best_rate(lambda: sess.run(mm.op), 2.0 * 1024 ** 3) / 1e9
    for (name, xs, ws), ops in zip(LAYERS, convs):
        for p, op in zip(PASSES, ops):
            out["%s %s" % (name, p)] = best_rate(lambda: sess.run(op.op), conv_flops(xs, ws)) / 1e9
    return out


def loom_train(threads, steps):
    import loom as tf
    g = tf.Graph()
    with g.as_default():
        tf.set_random_seed(1)
        x = tf.placeholder(tf.float32, [None, 28, 28, 1])
        y = tf.placeholder(tf.int32, [None])
        h = tf.layers.conv2d(x, 32, 5, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.conv2d(h, 64, 5, padding="same", activation=tf.nn.relu)
        h = tf.layers.max_pooling2d(h, 2, 2)
        h = tf.layers.dense(tf.layers.flatten(h), 1024, activation=tf.nn.relu)
        h = tf.layers.dropout(h, rate=0.4, training=True)
        logits = tf.layers.dense(h, 10)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        train = tf.train.GradientDescentOptimizer(0.001).minimize(loss)
        init = tf.global_variables_initializer()
    sess = loom_session(tf, g, threads)
    sess.run(init)
    xs, ys = rand((BATCH, 28, 28, 1)), np.random.RandomState(0).randint(0, 10, BATCH).astype(np.int32)
    feed = {x: xs, y: ys}
    step = lambda: sess.run(train, feed)  # noqa: E731
    return best_rate(step, BATCH, rounds=3, min_time=steps * 0.05), cpu_ms_per_step(step)


# ---------------------------------------------------------------- OpenBLAS


def openblas_matmul(threads):
    path = ctypes.util.find_library("openblas")
    if not path:
        return None
    lib = ctypes.CDLL(path)
    lib.openblas_set_num_threads(threads)
    a, b = rand((1024, 1024), 1), rand((1024, 1024), 2)
    c = np.empty((1024, 1024), np.float32)
    fp = ctypes.POINTER(ctypes.c_float)
    args = [101, 111, 111, 1024, 1024, 1024, ctypes.c_float(1.0), a.ctypes.data_as(fp), 1024,
            b.ctypes.data_as(fp), 1024, ctypes.c_float(0.0), c.ctypes.data_as(fp), 1024]
    return {"matmul": best_rate(lambda: lib.cblas_sgemm(*args), 2.0 * 1024 ** 3) / 1e9,
            "library": path}


# ---------------------------------------------------------------- TensorFlow


def tf_session(tf1, graph, threads):
    cfg = tf1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    return tf1.Session(graph=graph, config=cfg)


def tf_ops(threads):
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    out = {}
    g = tf1.Graph()
    with g.as_default():
        # Variables, not constants: Grappler would fold ops on constants away.
        a, b = tf1.Variable(rand((1024, 1024), 1)), tf1.Variable(rand((1024, 1024), 2))
        mm = tf.matmul(a, b)
        convs = []
        for _, xs, ws in LAYERS:
            x, w, dy = tf1.Variable(rand(xs, 3)), tf1.Variable(rand(ws, 4)), tf1.Variable(
                rand(xs[:3] + (ws[3],), 5))
            convs.append([tf.nn.conv2d(x, w, strides=1, padding="SAME"),
                          tf1.nn.conv2d_backprop_input(list(xs), w, dy, [1, 1, 1, 1], "SAME"),
                          tf1.nn.conv2d_backprop_filter(x, list(ws), dy, [1, 1, 1, 1], "SAME")])
        init = tf1.global_variables_initializer()
    sess = tf_session(tf1, g, threads)
    sess.run(init)
    out["matmul"] = best_rate(lambda: sess.run(mm.op), 2.0 * 1024 ** 3) / 1e9
    for (name, xs, ws), ops in zip(LAYERS, convs):
        for p, op in zip(PASSES, ops):
            out["%s %s" % (name, p)] = best_rate(lambda: sess.run(op.op), conv_flops(xs, ws)) / 1e9
    out["version"] = tf.__version__
    return out


def tf_train(threads, steps):
    import tensorflow as tf
    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    g = tf1.Graph()
    with g.as_default():
        tf1.set_random_seed(1)
        x = tf1.placeholder(tf.float32, [None, 28, 28, 1])
        y = tf1.placeholder(tf.int32, [None])

        def var(name, shape):
            init = tf1.glorot_uniform_initializer() if len(shape) > 1 else tf1.zeros_initializer()
            return tf1.get_variable(name, shape, initializer=init)

        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, var("k1", [5, 5, 1, 32]), 1, "SAME"),
                                      var("b1", [32])))
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
        h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, var("k2", [5, 5, 32, 64]), 1, "SAME"),
                                      var("b2", [64])))
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
        h = tf.reshape(h, [-1, 7 * 7 * 64])
        h = tf.nn.relu(tf.matmul(h, var("w3", [3136, 1024])) + var("b3", [1024]))
        h = tf.nn.dropout(h, rate=0.4)
        logits = tf.matmul(h, var("w4", [1024, 10])) + var("b4", [10])
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y,
                                                                             logits=logits))
        train = tf1.train.GradientDescentOptimizer(0.001).minimize(loss)
        init = tf1.global_variables_initializer()
    sess = tf_session(tf1, g, threads)
    sess.run(init)
    xs, ys = rand((BATCH, 28, 28, 1)), np.random.RandomState(0).randint(0, 10, BATCH).astype(np.int32)
    feed = {x: xs, y: ys}
    step = lambda: sess.run(train, feed)  # noqa: E731
    return best_rate(step, BATCH, rounds=3, min_time=steps * 0.05), cpu_ms_per_step(step)


# ---------------------------------------------------------------- PyTorch


def torch_ops(threads):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    out = {}
    a, b = torch.from_numpy(rand((1024, 1024), 1)), torch.from_numpy(rand((1024, 1024), 2))
    with torch.no_grad():
        out["matmul"] = best_rate(lambda: torch.mm(a, b), 2.0 * 1024 ** 3) / 1e9
        for name, xs, ws in LAYERS:
            x = torch.from_numpy(rand(xs, 3)).permute(0, 3, 1, 2).contiguous()
            w = torch.from_numpy(rand(ws, 4)).permute(3, 2, 0, 1).contiguous()
            dy = torch.from_numpy(rand(xs[:3] + (ws[3],), 5)).permute(0, 3, 1, 2).contiguous()
            fns = [lambda: F.conv2d(x, w, padding=2),
                   lambda: torch.nn.grad.conv2d_input(x.shape, w, dy, padding=2),
                   lambda: torch.nn.grad.conv2d_weight(x, w.shape, dy, padding=2)]
            for p, fn in zip(PASSES, fns):
                out["%s %s" % (name, p)] = best_rate(fn, conv_flops(xs, ws)) / 1e9
    out["version"] = torch.__version__
    return out


def torch_train(threads, steps):
    import torch
    from torch import nn
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.4),
                          nn.Linear(1024, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    xs = torch.from_numpy(rand((BATCH, 28, 28, 1))).permute(0, 3, 1, 2).contiguous()
    ys = torch.from_numpy(np.random.RandomState(0).randint(0, 10, BATCH).astype(np.int64))

    def step():
        opt.zero_grad()
        loss_fn(model(xs), ys).backward()
        opt.step()
    return best_rate(step, BATCH, rounds=3, min_time=steps * 0.05), cpu_ms_per_step(step)


# ---------------------------------------------------------------- driver

CHILDREN = {
    ("loom", "ops"): loom_ops, ("loom", "train"): loom_train,
    ("openblas", "ops"): openblas_matmul,
    ("tensorflow", "ops"): tf_ops, ("tensorflow", "train"): tf_train,
    ("pytorch", "ops"): torch_ops, ("pytorch", "train"): torch_train,
}
MODULES = {"tensorflow": "tensorflow", "pytorch": "torch"}


def child_main(args):
    fn = CHILDREN[(args.child, args.task)]
    if args.task == "train":
        rate, cpu = fn(args.threads, args.steps)
        r = {"images_per_s": rate, "cpu_ms_per_step": cpu}
    else:
        r = fn(args.threads)
    if r is not None:
        r["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(r))


def run_child(python, peer, task, args):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads), TF_CPP_MIN_LOG_LEVEL="2")
    cmd = [python, os.path.abspath(__file__), "--child", peer, "--task", task,
           "--threads", str(args.threads), "--steps", str(args.steps)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.stderr.write("%s %s failed:\n%s\n" % (peer, task, p.stderr[-2000:]))
    return None


def installed(python, module):
    p = subprocess.run([python, "-c", "import " + module], capture_output=True)
    return p.returncode == 0


def fmt(v, digits=1):
    return "—" if v is None else ("%.*f" % (digits, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20, help="training steps per timed round")
    ap.add_argument("--peer-python", default=sys.executable,
                    help="interpreter with tensorflow / torch installed")
    ap.add_argument("--peers", default="loom,openblas,tensorflow,pytorch")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every measurement this many times (interleaved); keep the best")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--task", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child_main(args)

    peers = args.peers.split(",")
    ops, train = {}, {}
    present = []
    for peer in peers:
        python = args.peer_python if peer in MODULES else sys.executable
        if peer in MODULES and not installed(python, MODULES[peer]):
            print("skipping %s: `import %s` fails under %s (pip install %s)"
                  % (peer, MODULES[peer], python,
                     "tensorflow-cpu" if peer == "tensorflow" else "torch"))
            continue
        present.append((peer, python))

    def keep_best(store, peer, r):
        old = store.get(peer)
        if not r or not old:
            store[peer] = r or old
            return
        for key, v in r.items():
            if isinstance(v, float) and key in old:
                lower = key in ("cpu_ms_per_step", "peak_rss_mb")
                old[key] = min(old[key], v) if lower else max(old[key], v)

    for _ in range(args.repeat):
        for peer, python in present:
            keep_best(ops, peer, run_child(python, peer, "ops", args))
            if peer != "openblas":
                keep_best(train, peer, run_child(python, peer, "train", args))

    cols = [p for p in peers if p in ops]
    print("\n%d threads, %s\n" % (args.threads, os.uname().machine))
    print("| GFLOP/s | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    rows = ["matmul"] + ["%s %s" % (n, p) for n, _, _ in LAYERS for p in PASSES]
    for r in rows:
        label = "MatMul 1024 float32" if r == "matmul" else "Conv2D " + r
        vals = [(ops[c] or {}).get(r) for c in cols]
        print("| %s | %s |" % (label, " | ".join(fmt(v) for v in vals)))
    tcols = [p for p in cols if p in train]
    print("\n| CNN training, batch %d | %s |" % (BATCH, " | ".join(tcols)))
    print("|---|" + "---:|" * len(tcols))
    print("| images/s | %s |" % " | ".join(fmt((train[c] or {}).get("images_per_s"))
                                          for c in tcols))
    print("| CPU ms per step (all threads) | %s |" % " | ".join(
        fmt((train[c] or {}).get("cpu_ms_per_step"), 0) for c in tcols))
    print("| peak RSS (MB) | %s |" % " | ".join(fmt((train[c] or {}).get("peak_rss_mb"), 0)
                                               for c in tcols))
    if "loom" in train and train["loom"]:
        for c in tcols:
            if c != "loom" and train[c]:
                print("\nLoom / %s training throughput: %.2fx" %
                      (c, train["loom"]["images_per_s"] / train[c]["images_per_s"]))
    if ops.get("loom") and ops.get("openblas"):
        print("Loom MatMul / OpenBLAS: %.0f%%" % (100 * ops["loom"]["matmul"] /
                                                 ops["openblas"]["matmul"]))
    for c in cols:
        if ops[c] and "version" in ops[c]:
            print("%s %s" % (c, ops[c]["version"]))


if __name__ == "__main__":
    main()
