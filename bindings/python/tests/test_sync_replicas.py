"""Synchronous training with a backup worker across processes: 1 ps and 3
workers (`loom serve` on 127.0.0.1), three clients (sync_worker.py) with
SyncReplicasOptimizer(replicas_to_aggregate=2, total_num_replicas=3). Every
process is stopped by PID; each wait is bounded."""
import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from test_distributed import Serve, free_ports, needs_cli

HERE = os.path.dirname(os.path.abspath(__file__))


class Client(object):
    def __init__(self, spec, task, to_aggregate, last_step, ckpt_dir=None):
        args = [sys.executable, os.path.join(HERE, "sync_worker.py"), json.dumps(spec), str(task),
                str(to_aggregate), str(last_step)] + ([ckpt_dir] if ckpt_dir else [])
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE) + os.pathsep +
                   os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     env=env)
        self.lines = []
        self._buf = b""

    def read(self, timeout):
        """Reads what is available within timeout; returns the new lines."""
        new = []
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if r:
            data = os.read(self.proc.stdout.fileno(), 65536)
            self._buf += data
            *done, self._buf = self._buf.split(b"\n")
            new = [d.decode(errors="replace") for d in done]
            self.lines.extend(new)
        return new

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.read(0.05):
                if pred(line):
                    return line
            if self.proc.poll() is not None and not self.read(0):
                break
        return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@needs_cli
def test_sync_with_a_backup_finishes_with_one_worker_stopped_for_good():
    ports = free_ports(4)
    spec = {"ps": ["127.0.0.1:%d" % ports[0]],
            "worker": ["127.0.0.1:%d" % p for p in ports[1:]]}
    text = json.dumps(spec)
    servers, clients = [], []
    last_step = 40
    try:
        servers.append(Serve(text, "ps", 0))
        for i in range(3):
            servers.append(Serve(text, "worker", i))
        clients = [Client(spec, i, 2, last_step) for i in range(3)]
        # Worker 2 trains a few synchronous steps, then stops for good
        # (client and server), as a machine that hangs would.
        assert clients[2].wait_for(lambda l: l.startswith("step ") and int(l.split()[2]) >= 3,
                                   60), clients[2].lines
        clients[2].proc.send_signal(signal.SIGSTOP)
        servers[3].proc.send_signal(signal.SIGSTOP)
        stopped_at = max(int(l.split()[2]) for l in clients[2].lines if l.startswith("step "))
        assert stopped_at < last_step
        chief_done = clients[0].wait_for(lambda l: l.startswith("done"), 90)
        assert chief_done, clients[0].lines[-20:]
        other_done = clients[1].wait_for(lambda l: l.startswith("done"), 30)
        assert other_done, clients[1].lines[-20:]
    finally:
        for c in clients:
            c.kill()
        for s in servers:
            if s.proc.poll() is None:
                s.proc.send_signal(signal.SIGCONT)
            s.kill(signal.SIGKILL)
    _, gs, updates, w, b = chief_done.split()
    # The global step advanced exactly once per aggregated update, to the end.
    assert int(gs) == int(updates) >= last_step
    # Sync steps kept coming after worker 2 stopped.
    steps = [int(l.split()[2]) for l in clients[1].lines if l.startswith("step ")]
    assert max(steps) >= last_step - 1 and max(steps) > stopped_at
    # Each worker saw every global step at most once per step it ran: local
    # steps come from the tokens, so they never run ahead of the global step.
    for c in clients[:2]:
        for line in c.lines:
            if line.startswith("step "):
                local, glob = map(int, line.split()[1:])
                assert local <= glob
    # y = 3x - 1, learnt by the averaged updates.
    assert abs(float(w) - 3.0) < 1.0 and abs(float(b) + 1.0) < 0.3


@needs_cli
def test_the_distributed_example_trains_and_stops_every_process_it_started():
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE) + os.pathsep +
               os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "loom.examples.fashion_mnist_dist", "--ps", "1",
                             "--workers", "3", "--sync", "--backup", "1", "--epochs", "1",
                             "--limit", "3000", "--log-every", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    assert "sync, 2 of 3 workers (1 backup)" in text
    line = [l for l in text.splitlines() if l.startswith("chief: global step")][-1]
    gs, acc = int(line.split()[3].rstrip(",")), float(line.split()[6].rstrip(","))
    assert gs == 15  # 1 epoch of 3000 images in batches of 100, 2 batches per update
    assert 0.3 < acc <= 1.0
    # The launcher's ports are free again: every process it started is gone.
    cluster = [l for l in text.splitlines() if l.startswith("cluster:")][0]
    spec = json.loads(cluster.split("; ", 1)[1])
    import socket
    for addr in spec["ps"] + spec["worker"]:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine, a listener is not
        s.bind(("127.0.0.1", int(addr.split(":")[1])))
        s.close()


@needs_cli
def test_chief_recovers_from_a_ps_restart_through_its_checkpoint(tmp_path):
    ports = free_ports(3)
    spec = {"ps": ["127.0.0.1:%d" % ports[0]],
            "worker": ["127.0.0.1:%d" % p for p in ports[1:]]}
    text = json.dumps(spec)
    servers, clients = [], []
    last_step = 60
    try:
        servers.append(Serve(text, "ps", 0))
        for i in range(2):
            servers.append(Serve(text, "worker", i))
        clients = [Client(spec, 0, 0, last_step, str(tmp_path)), Client(spec, 1, 0, last_step)]
        assert clients[0].wait_for(lambda l: l.startswith("step ") and int(l.split()[2]) >= 15, 60), \
            clients[0].lines
        servers[0].kill(signal.SIGKILL)
        killed_at = max(int(l.split()[2]) for l in clients[0].lines if l.startswith("step "))
        time.sleep(0.5)
        servers[0].start()  # the same address, fresh variables
        chief_done = clients[0].wait_for(lambda l: l.startswith("done"), 120)
        assert chief_done, clients[0].lines[-20:]
        other_done = clients[1].wait_for(lambda l: l.startswith("done"), 60)
        assert other_done, clients[1].lines[-20:]
    finally:
        for c in clients:
            c.kill()
        for s in servers:
            s.kill(signal.SIGKILL)
    steps = [int(l.split()[2]) for l in clients[0].lines if l.startswith("step ")]
    after = steps[steps.index(killed_at) + 1:] if killed_at in steps else steps
    assert int(chief_done.split()[1]) >= last_step
    # Restored from the last checkpoint (every 5 steps): at most 5 steps lost.
    assert after and after[0] >= (killed_at // 5) * 5 - 5 and after[0] <= killed_at + 5, steps
