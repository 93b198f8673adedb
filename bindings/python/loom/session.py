"""Sessions (tf.Session, tf.InteractiveSession).

Session.run keeps one prepared loom_callable per (fetches, feed keys)
signature. The hot path is: a dict lookup keyed by (fetches, tuple of feed
keys), then Callable.run on the feed dict itself (its values in key order go
to C and are wrapped zero-copy), then, for a structured fetch, rebuilding the
structure from the flat results.
"""
import threading

from . import errors
from .framework import (Operation, Tensor, _default_graph_stack, _default_session_stack,
                        get_default_graph)
from ._lib import _C


class ConfigProto(object):
    """The fields of TensorFlow's ConfigProto that a local session uses."""

    def __init__(self, inter_op_parallelism_threads=0, intra_op_parallelism_threads=0,
                 allow_soft_placement=False, log_device_placement=False, device_count=None,
                 gpu_options=None, operation_timeout_in_ms=0, **unused):
        self.inter_op_parallelism_threads = inter_op_parallelism_threads
        self.intra_op_parallelism_threads = intra_op_parallelism_threads
        self.allow_soft_placement = allow_soft_placement
        self.log_device_placement = log_device_placement
        self.device_count = device_count or {}
        self.gpu_options = gpu_options
        # A bound on every step over a cluster (DEADLINE_EXCEEDED past it); 0: none.
        self.operation_timeout_in_ms = operation_timeout_in_ms


class GPUOptions(object):
    def __init__(self, **kw):
        self.__dict__.update(kw)


class RunOptions(object):
    FULL_TRACE = 3
    NO_TRACE = 0

    def __init__(self, **kw):
        self.__dict__.update(kw)


class RunMetadata(object):
    def __init__(self):
        self.step_stats = None


class _FetchPlan(object):
    """How one fetch structure maps onto a flat list of fetched tensors."""

    def __init__(self, graph, fetches):
        self.graph = graph
        self.tensors = []       # unique fetched tensors
        self.targets = []       # unique target ops
        self._tindex = {}
        self._opindex = set()
        self.builder = self._plan(fetches)

    def _tensor_slot(self, t):
        i = self._tindex.get(t)
        if i is None:
            i = len(self.tensors)
            self._tindex[t] = i
            self.tensors.append(t)
        return i

    def _resolve(self, f):
        if hasattr(f, "_as_graph_element"):
            f = f._as_graph_element()
        if isinstance(f, str):
            f = self.graph.as_graph_element(f)
        if isinstance(f, Tensor):
            if f.graph is not self.graph:
                raise ValueError("Fetch argument %r cannot be interpreted as a Tensor. (Tensor %s "
                                 "is not an element of this graph.)" % (f, f.name))
            return f
        if isinstance(f, Operation):
            if f.graph is not self.graph:
                raise ValueError("Fetch argument %r cannot be interpreted as an Operation. "
                                 "(Operation %s is not an element of this graph.)" % (f, f.name))
            return f
        if f is None:
            raise TypeError("Fetch argument None has invalid type <class 'NoneType'>")
        raise TypeError("Fetch argument %r has invalid type %r, must be a string or Tensor. "
                        "(Can not convert a %s into a Tensor or Operation.)"
                        % (f, type(f), type(f).__name__))

    def _plan(self, f):
        if isinstance(f, (list, tuple)) and not hasattr(f, "_as_graph_element"):
            subs = [self._plan(x) for x in f]
            if isinstance(f, list):
                return lambda r: [s(r) for s in subs]
            if hasattr(f, "_fields"):  # namedtuple
                cls = type(f)
                return lambda r: cls(*[s(r) for s in subs])
            return lambda r: tuple(s(r) for s in subs)
        if isinstance(f, dict):
            keys = list(f.keys())
            subs = [self._plan(f[k]) for k in keys]
            cls = type(f)
            return lambda r: cls((k, s(r)) for k, s in zip(keys, subs))
        el = self._resolve(f)
        if isinstance(el, Operation):
            if el._ptr not in self._opindex:
                self._opindex.add(el._ptr)
                self.targets.append(el)
            return lambda r: None
        i = self._tensor_slot(el)
        return lambda r: r[i]


def _structure_key(f):
    """A hashable key for a fetch structure (lists and dicts are not)."""
    if isinstance(f, (list, tuple)) and not hasattr(f, "_as_graph_element"):
        return (type(f), tuple(_structure_key(x) for x in f))
    if isinstance(f, dict):
        return (type(f), tuple((k, _structure_key(v)) for k, v in f.items()))
    return f


class BaseSession(object):
    def __init__(self, target="", graph=None, config=None):
        # target: "" runs in this process; a server's target ("zmq://host:port",
        # or TensorFlow's "grpc://host:port") makes this session the master of
        # that server's cluster (loom.train.Server).
        if target and not isinstance(target, str):
            raise TypeError("Session target must be a string, got %r" % (type(target).__name__,))
        self._target = target or ""
        self._graph = graph if graph is not None else get_default_graph()
        inter = intra = 0
        soft = log_placement = False
        timeout_ms = 0
        if config is not None:
            inter = int(getattr(config, "inter_op_parallelism_threads", 0) or 0)
            intra = int(getattr(config, "intra_op_parallelism_threads", 0) or 0)
            soft = bool(getattr(config, "allow_soft_placement", False))
            log_placement = bool(getattr(config, "log_device_placement", False))
            timeout_ms = int(getattr(config, "operation_timeout_in_ms", 0) or 0)
        self._c = _C.Session(self._graph._c, inter, intra, None, soft, log_placement,
                             self._target or None, max(timeout_ms, 0), None)
        self._cache = {}
        self._lock = threading.Lock()
        self._closed = False
        self._default_ctx = []

    @property
    def graph(self):
        return self._graph

    @property
    def graph_def(self):
        return self._graph.as_graph_def()

    @property
    def sess_str(self):
        return self._target

    def as_default(self):
        return _default_session_stack.get_controller(self)

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs fetches (a Tensor, Operation, name, or any nesting of lists,
        tuples, dicts and namedtuples of them) and returns values of the same
        structure; feed_dict maps Tensors (or names) to values."""
        try:
            entry = self._cache[(fetches, tuple(feed_dict) if feed_dict else ())]
        except (KeyError, TypeError):
            entry = self._entry(fetches, feed_dict)
        timeout = getattr(options, "timeout_in_ms", 0) if options is not None else 0
        try:
            if timeout and timeout > 0:
                out = entry[0].run_with_timeout(feed_dict, int(timeout))
            else:
                out = entry[0].run(feed_dict)
        except errors.OpError as e:
            raise e._resolve_op(self._graph) from None
        rebuild = entry[1]
        return out if rebuild is None else rebuild(out)

    def _entry(self, fetches, feed_dict):
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        keys = tuple(feed_dict) if feed_dict else ()
        try:
            key = (fetches, keys)
            hash(key)
        except TypeError:
            key = (_structure_key(fetches), keys)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._prepare(fetches, keys)
            with self._lock:
                self._cache[key] = entry
        return entry

    def _feed_tensor(self, k):
        if hasattr(k, "_as_graph_element"):
            k = k._as_graph_element()
        if isinstance(k, str):
            k = self._graph.as_graph_element(k, allow_operation=False)
        if not isinstance(k, Tensor):
            raise TypeError("The key %r of feed_dict cannot be interpreted as a Tensor." % (k,))
        if k.graph is not self._graph:
            raise ValueError("Tensor %s, fed in feed_dict, is not an element of this graph."
                             % k.name)
        return k

    def _prepare(self, fetches, feed_keys):
        plan = _FetchPlan(self._graph, fetches)
        feeds = [self._feed_tensor(k) for k in feed_keys]
        shapes = []
        for f in feeds:
            s = f.shape
            shapes.append(None if s.ndims is None else [d.value for d in s])
        single = isinstance(fetches, Tensor) or (
            not isinstance(fetches, (list, tuple, dict)) and len(plan.tensors) == 1
            and not plan.targets)
        try:
            callable_ = self._c.make_callable(
                [f._out for f in feeds], [f.dtype.as_datatype_enum for f in feeds], shapes,
                [f.name for f in feeds], [t._out for t in plan.tensors],
                [op._ptr for op in plan.targets], single)
        except errors.OpError as e:
            raise e._resolve_op(self._graph) from None
        if single:
            return (callable_, None)
        return (callable_, plan.builder)

    def make_callable(self, fetches, feed_list=None, accept_options=False):
        """tf.Session.make_callable: a function of the feed values in order."""
        feed_list = list(feed_list or ())
        entry = self._prepare(fetches, tuple(feed_list))
        c, rebuild = entry
        self._cache[("make_callable", id(c))] = entry

        def run(*args, **kw):
            options = kw.get("options")
            timeout = getattr(options, "timeout_in_ms", 0) if options is not None else 0
            out = c.run_with_timeout(args, int(timeout)) if timeout and timeout > 0 else c.run(args)
            return out if rebuild is None else rebuild(out)
        return run

    def partial_run_setup(self, *a, **k):
        raise NotImplementedError("partial_run is not supported")

    def list_devices(self):
        return [_Device(n, t) for n, t in _C.devices()]

    def close(self):
        if self._closed:
            return
        self._closed = True
        with self._lock:
            entries = list(self._cache.values())
            self._cache.clear()
        for c, _ in entries:
            c.close()
        self._c.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __enter__(self):
        ctx_g = _default_graph_stack.get_controller(self._graph)
        ctx_s = self.as_default()
        ctx_g.__enter__()
        ctx_s.__enter__()
        self._default_ctx.append((ctx_g, ctx_s))
        return self

    def __exit__(self, exc_type, exc, tb):
        ctx_g, ctx_s = self._default_ctx.pop()
        ctx_s.__exit__(exc_type, exc, tb)
        ctx_g.__exit__(exc_type, exc, tb)
        self.close()


class _Device(object):
    def __init__(self, name, device_type):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = 0

    def __repr__(self):
        return "_DeviceAttributes(%s, %s)" % (self.name, self.device_type)


class Session(BaseSession):
    """tf.Session(target='', graph=None, config=None)."""


class InteractiveSession(BaseSession):
    """A session that installs itself as the default (for shells)."""

    def __init__(self, target="", graph=None, config=None):
        super(InteractiveSession, self).__init__(target, graph, config)
        self._ctx_s = self.as_default()
        self._ctx_s.__enter__()
        self._ctx_g = _default_graph_stack.get_controller(self._graph)
        self._ctx_g.__enter__()

    def close(self):
        if not self._closed:
            try:
                self._ctx_g.__exit__(None, None, None)
                self._ctx_s.__exit__(None, None, None)
            except Exception:  # noqa: BLE001
                pass
        super(InteractiveSession, self).close()
