"""Distributed runtime figures: a remote Session.run's overhead over a local
one, and tensors moved between two server processes by Send/Recv (a ps
variable reduced on a worker: one RecvTensor pull of its bytes per step),
next to raw ZeroMQ moving the same bytes (bench/transport_bench, same run).

    PYTHONPATH=bindings/python LOOM_LIBRARY_DIR=build/lib python3 bench/dist_bench.py

Never run as a test; figures go in bench/README.md.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import numpy as np

import loom as tf

LIB = os.environ["LOOM_LIBRARY_DIR"]
BIN = os.path.join(os.path.dirname(LIB), "bin")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def serve(spec, job, task):
    p = subprocess.Popen([os.path.join(BIN, "loom"), "serve", "--cluster", spec, "--job", job, "--task", str(task),
                          "--threads", "1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline().decode()
    assert line.startswith("serving"), line
    return p, line.split()[1]


def timed(fn, min_time=1.0, min_reps=5):
    fn()
    best = float("inf")
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while n < min_reps or time.perf_counter() - t0 < min_time / 3:
            fn()
            n += 1
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def main():
    ps_port, w_port = free_ports(2)
    spec = json.dumps({"ps": ["127.0.0.1:%d" % ps_port], "worker": ["127.0.0.1:%d" % w_port]})
    ps, _ = serve(spec, "ps", 0)
    worker, target = serve(spec, "worker", 0)
    try:
        g = tf.Graph()
        with g.as_default():
            x = tf.placeholder(tf.float32, [4])
            y = x + 1.0  # no device: the target's task, or this process
        xv = np.ones(4, np.float32)
        with tf.Session(graph=g) as local:
            t_local = timed(lambda: local.run(y, {x: xv}))
        with tf.Session(target, graph=g) as remote:
            t_remote = timed(lambda: remote.run(y, {x: xv}))
        print("1-op step (feed 16 B, fetch 16 B): local %.1f us, remote %.1f us, overhead %.1f us"
              % (t_local * 1e6, t_remote * 1e6, (t_remote - t_local) * 1e6))

        print("%10s %12s %10s" % ("bytes", "ms/step", "GB/s"))
        rows = []
        for size in (4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20):
            g = tf.Graph()
            with g.as_default():
                with tf.device("/job:ps/task:0"):
                    v = tf.Variable(np.zeros(size // 4, np.float32), name="v%d" % size)
                with tf.device("/job:worker/task:0"):
                    s = tf.reduce_sum(v)
                init = tf.global_variables_initializer()
            with tf.Session(target, graph=g) as sess:
                sess.run(init)
                # The same step with the reduction on the ps: no tensor crosses.
                with g.as_default(), tf.device("/job:ps/task:0"):
                    s_local = tf.reduce_sum(v)
                t = timed(lambda: sess.run(s))
                t0 = timed(lambda: sess.run(s_local))
            moved = max(t - t0, 1e-9)
            rows.append((size, moved))
            print("%10d %12.3f %10.2f" % (size, moved * 1e3, size / moved / 1e9))
    finally:
        for p in (ps, worker):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)

    raw = os.path.join(BIN, "transport_bench")
    if os.path.exists(raw):
        out = subprocess.run([raw, "--benchmark_filter=RawZeroCopy|RawLatency64", "--benchmark_min_time=0.3"],
                             capture_output=True, text=True).stdout
        print("raw ZeroMQ in the same run (bench/transport_bench):")
        for line in out.splitlines():
            if re.match(r"^(RawZeroCopy|RawLatency64)", line):
                print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
