"""Clusters: tf.train.ClusterSpec and tf.train.Server, as in TensorFlow 1.x.

A server is one task of a cluster (a job name and a task index); it runs the
partitions of steps that sessions place on its devices. A session whose target
is a server's (``tf.Session(server.target)``) places ops over every task of
the cluster ("/job:ps/task:0", "/job:worker/task:1/device:CPU:0"); ops that
name no job run on the target's task. Variables on a server are shared by all
sessions that name them (between-graph replication).
"""
import json as _json

from . import _lib

_C = _lib._C


class ClusterSpec(object):
    """The jobs of a cluster and the addresses of their tasks.

    ``ClusterSpec({"ps": ["h:2222"], "worker": ["h:2223", "h:2224"]})``; a job
    may also map task indices to addresses (``{"worker": {1: "h:2224"}}``).
    """

    def __init__(self, cluster):
        if isinstance(cluster, ClusterSpec):
            self._spec = {j: dict(t) for j, t in cluster._spec.items()}
            return
        if not isinstance(cluster, dict):
            raise TypeError("ClusterSpec: expected a dict of job names to lists or dicts of "
                            "addresses, or a ClusterSpec; got %r" % (type(cluster).__name__,))
        self._spec = {}
        for job, tasks in cluster.items():
            if not isinstance(job, str) or not job:
                raise TypeError("ClusterSpec: job names must be non-empty strings, got %r" % (job,))
            if isinstance(tasks, (list, tuple)):
                self._spec[job] = {i: str(a) for i, a in enumerate(tasks)}
            elif isinstance(tasks, dict):
                d = {}
                for i, a in tasks.items():
                    if not isinstance(i, int) or i < 0:
                        raise TypeError("ClusterSpec: task indices of job %r must be non-negative ints, "
                                        "got %r" % (job, i))
                    d[i] = str(a)
                self._spec[job] = d
            else:
                raise TypeError("ClusterSpec: job %r must map to a list or a dict of addresses" % (job,))

    def __bool__(self):
        return bool(self._spec)

    __nonzero__ = __bool__

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._spec == other._spec

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "ClusterSpec(%r)" % (self.as_dict(),)

    @property
    def jobs(self):
        return sorted(self._spec)

    def as_dict(self):
        """job -> list of addresses (dense jobs) or {index: address} (sparse ones)."""
        out = {}
        for job, tasks in self._spec.items():
            idx = sorted(tasks)
            out[job] = [tasks[i] for i in idx] if idx == list(range(len(idx))) else dict(tasks)
        return out

    def _job(self, job_name):
        try:
            return self._spec[job_name]
        except KeyError:
            raise ValueError("No such job in cluster: %r" % (job_name,))

    def num_tasks(self, job_name):
        return len(self._job(job_name))

    def task_indices(self, job_name):
        return sorted(self._job(job_name))

    def task_address(self, job_name, task_index):
        tasks = self._job(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError("No task with index %r in job %r" % (task_index, job_name))

    def job_tasks(self, job_name):
        """Addresses of the job's tasks by index; None where a sparse job has none."""
        tasks = self._job(job_name)
        if not tasks:
            return []
        return [tasks.get(i) for i in range(max(tasks) + 1)]

    def _to_json(self):
        return _json.dumps({job: {str(i): a for i, a in tasks.items()} for job, tasks in self._spec.items()})


class Server(object):
    """An in-process server: one task of a cluster (tf.train.Server)."""

    def __init__(self, server_or_cluster_def, job_name=None, task_index=None, protocol=None,
                 config=None, start=True, transport_options=None, insecure=False):
        cluster = ClusterSpec(server_or_cluster_def)
        if job_name is None:
            if len(cluster.jobs) != 1:
                raise ValueError("Must specify an explicit `job_name` for a cluster with several jobs %r"
                                 % (cluster.jobs,))
            job_name = cluster.jobs[0]
        if task_index is None:
            indices = cluster.task_indices(job_name)
            if len(indices) != 1:
                raise ValueError("Must specify an explicit `task_index` for job %r with %d tasks"
                                 % (job_name, len(indices)))
            task_index = indices[0]
        threads = 0
        if config is not None:
            threads = int(getattr(config, "inter_op_parallelism_threads", 0) or 0)
        self._cluster = cluster
        self._job_name = job_name
        self._task_index = int(task_index)
        self._c = _C.Server(cluster._to_json(), job_name, self._task_index,
                            None if protocol in (None, "grpc") else protocol,
                            dict(transport_options or {}), bool(insecure), threads)
        if start:
            self.start()

    @staticmethod
    def create_local_server(config=None, start=True):
        """A single-task server on a free port of this machine (job "localhost")."""
        return Server({"localhost": ["localhost:0"]}, job_name="localhost", task_index=0,
                      config=config, start=start)

    def start(self):
        self._c.start()

    def stop(self):
        """Stops serving (Loom extension; TensorFlow servers live until the process ends)."""
        self._c.stop()

    def join(self):
        self._c.join()

    @property
    def target(self):
        """The session target of this server ("zmq://127.0.0.1:2222")."""
        return self._c.target

    @property
    def server_def(self):
        return {"cluster": self._cluster.as_dict(), "job_name": self._job_name,
                "task_index": self._task_index}


def keygen(scheme="zmq"):
    """A fresh (public, secret) key pair for a secure cluster (CURVE, Z85 text)."""
    return _C.transport_keygen(scheme)


# Ops that hold state and go to the parameter servers (TensorFlow's list).
STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable",
                   "MutableHashTableV2", "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2",
                   "MutableDenseHashTable", "MutableDenseHashTableV2", "VarHandleOp",
                   "BoostedTreesEnsembleResource", "BoostedTreesQuantileStreamResource",
                   "ResourceConditionalAccumulator", "DecisionTreeResource", "TreeEnsembleVariable")


class _RoundRobinStrategy(object):
    def __init__(self, num_tasks):
        self._num_tasks = num_tasks
        self._next = 0

    def __call__(self, unused_op):
        task = self._next
        self._next = (self._next + 1) % self._num_tasks
        return task


def byte_size_load_fn(op):
    """The bytes of a variable op's value (tf.contrib.training.byte_size_load_fn);
    0 when its shape is unknown."""
    from . import dtypes as _dtypes
    shape = op.attrs.get("shape")
    dtype = op.attrs.get("dtype")
    if shape is None or dtype is None or any(d is None or d < 0 for d in shape):
        return 0
    n = 1
    for d in shape:
        n *= int(d)
    return n * _dtypes.as_dtype(dtype).size


class GreedyLoadBalancingStrategy(object):
    """Puts each variable on the ps task with the least load so far, load
    being load_fn(op) (default: bytes), so big and small variables spread
    evenly where round-robin could stack the big ones on one task."""

    def __init__(self, num_tasks, load_fn=None):
        self._num_tasks = num_tasks
        self._load_fn = load_fn or byte_size_load_fn
        self._loads = [0] * num_tasks

    def __call__(self, op):
        task = min(range(self._num_tasks), key=lambda t: (self._loads[t], t))
        self._loads[task] += self._load_fn(op)
        return task


def replica_device_setter(ps_tasks=0, ps_device="/job:ps", worker_device="/job:worker",
                          merge_devices=True, cluster=None, ps_ops=None, ps_strategy=None):
    """A device function for `tf.device`: variables round-robin over the ps
    tasks, every other op on `worker_device` (tf.train.replica_device_setter).
    A device the op already names wins over both (merge_devices)."""
    from .framework import _merge_device
    if cluster is not None:
        spec = cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)
        ps_tasks = spec.num_tasks("ps") if "ps" in spec.jobs else 0
    if ps_tasks == 0:
        return None
    ps_ops = tuple(ps_ops) if ps_ops is not None else STANDARD_PS_OPS
    strategy = ps_strategy or _RoundRobinStrategy(ps_tasks)

    def place(op):
        current = op.device or ""
        if op.type in ps_ops:
            base = ps_device
            if ps_device and "/task:" not in ps_device:
                base = "%s/task:%d" % (ps_device, strategy(op))
        else:
            base = worker_device or ""
        return _merge_device(base, current) if merge_devices else (current or base)

    return place
