"""Graphs, operations and tensors: TensorFlow 1.x's ops.py over loom.h.

A Graph owns a loom._C.Graph (a loom_graph). Python chooses op names (name
scopes, unique names "MatMul", "MatMul_1", "dense/MatMul"), devices and
control dependencies, and the core validates every op against its schema and
infers its shapes as it is added; errors found there raise at once with the
core's message.
"""
import contextlib
import threading
import weakref

import numpy as np

from . import dtypes as _dtypes
from . import errors
from ._lib import _C

_C.set_error_factory(errors._factory)

# Graph address (loom_graph*) -> Graph, for gradient functions called from C.
_GRAPHS = weakref.WeakValueDictionary()


class GraphKeys(object):
    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MODEL_VARIABLES = "model_variables"
    GLOBAL_STEP = "global_step"
    TRAIN_OP = "train_op"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    SUMMARIES = "summaries"
    UPDATE_OPS = "update_ops"
    INIT_OP = "init_op"
    VARIABLES = GLOBAL_VARIABLES


# ---------------------------------------------------------------- shapes


class Dimension(object):
    """One dimension of a TensorShape; value None when unknown."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = None if value is None else int(value)

    @property
    def value(self):
        return self._value

    def __int__(self):
        if self._value is None:
            raise ValueError("Cannot convert an unknown Dimension to an int")
        return self._value

    __index__ = __int__

    def __eq__(self, other):
        other = other.value if isinstance(other, Dimension) else other
        if self._value is None or other is None:
            return None
        return self._value == other

    def __ne__(self, other):
        r = self.__eq__(other)
        return None if r is None else not r

    def __hash__(self):
        return hash(self._value)

    def __repr__(self):
        return "Dimension(%s)" % self._value

    def __str__(self):
        return "?" if self._value is None else str(self._value)

    def is_compatible_with(self, other):
        other = other.value if isinstance(other, Dimension) else other
        return self._value is None or other is None or self._value == other


def dimension_value(d):
    return d.value if isinstance(d, Dimension) else d


class TensorShape(object):
    """A possibly partial shape: unknown rank (dims None) or a list of
    dimensions, each known or unknown."""

    def __init__(self, dims):
        if dims is None:
            self._dims = None
        elif isinstance(dims, TensorShape):
            self._dims = dims._dims
        elif isinstance(dims, (int, np.integer)):
            self._dims = [Dimension(dims)]
        else:
            self._dims = [Dimension(dimension_value(d)) for d in dims]

    @property
    def dims(self):
        return self._dims

    @property
    def ndims(self):
        return None if self._dims is None else len(self._dims)

    rank = ndims

    def as_list(self):
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return [d.value for d in self._dims]

    def _as_list_or_none(self):
        return None if self._dims is None else [d.value for d in self._dims]

    def is_fully_defined(self):
        return self._dims is not None and all(d.value is not None for d in self._dims)

    def num_elements(self):
        if not self.is_fully_defined():
            return None
        n = 1
        for d in self._dims:
            n *= d.value
        return n

    def is_compatible_with(self, other):
        other = as_shape(other)
        if self._dims is None or other._dims is None:
            return True
        if len(self._dims) != len(other._dims):
            return False
        return all(a.is_compatible_with(b) for a, b in zip(self._dims, other._dims))

    def merge_with(self, other):
        other = as_shape(other)
        if self._dims is None:
            return other
        if other._dims is None:
            return self
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are not compatible" % (self, other))
        return TensorShape([a.value if a.value is not None else b.value
                            for a, b in zip(self._dims, other._dims)])

    def assert_is_compatible_with(self, other):
        if not self.is_compatible_with(other):
            raise ValueError("Shapes %s and %s are incompatible" % (self, other))

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of Shape with unknown rank.")
        return len(self._dims)

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        if self._dims is None:
            return Dimension(None) if not isinstance(key, slice) else TensorShape(None)
        if isinstance(key, slice):
            return TensorShape(self._dims[key])
        return self._dims[key]

    def __eq__(self, other):
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._as_list_or_none() == other._as_list_or_none()

    def __ne__(self, other):
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self):
        return hash(tuple(self._as_list_or_none() or ()))

    def __repr__(self):
        return "TensorShape(%s)" % (self._dims and [d.value for d in self._dims])

    def __str__(self):
        if self._dims is None:
            return "<unknown>"
        if len(self._dims) == 1:
            return "(%s,)" % self._dims[0]
        return "(%s)" % ", ".join(str(d) for d in self._dims)


def as_shape(shape):
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)


def unknown_shape(ndims=None):
    return TensorShape(None if ndims is None else [None] * ndims)


# ---------------------------------------------------------------- tensors


class Tensor(object):
    """One output of an Operation (tf.Tensor). Hashable by identity."""

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "_out", "__weakref__")

    # numpy defers binary operators to Tensor's reflected ones.
    __array_priority__ = 100

    def __init__(self, op, value_index, dtype):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = None
        self._out = (op._ptr, value_index)

    @property
    def op(self):
        return self._op

    @property
    def graph(self):
        return self._op._graph

    @property
    def value_index(self):
        return self._value_index

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return "%s:%d" % (self._op.name, self._value_index)

    @property
    def device(self):
        return self._op.device

    @property
    def shape(self):
        if self._shape is None:
            self._shape = TensorShape(
                self._op._graph._c.output_shape(self._op._ptr, self._value_index))
        return self._shape

    def get_shape(self):
        return self.shape

    def set_shape(self, shape):
        """Refines the static shape known to Python (the core's is unchanged)."""
        self._shape = self.shape.merge_with(as_shape(shape))

    def consumers(self):
        g = self._op._graph
        out = []
        for op in g.get_operations():
            for t in op.inputs:
                if t is self:
                    out.append(op)
                    break
        return out

    def eval(self, feed_dict=None, session=None):
        return _eval_using_default_session(self, feed_dict, self.graph, session)

    def _as_output(self):
        return self._out

    def __repr__(self):
        return "<tf.Tensor '%s' shape=%s dtype=%s>" % (self.name, self.shape, self._dtype.name)

    __str__ = __repr__

    def __bool__(self):
        raise TypeError("Using a `tf.Tensor` as a Python `bool` is not allowed. Use "
                        "`if t is not None:` instead of `if t:` to test if a tensor is defined, "
                        "and use TensorFlow ops such as tf.cond to execute subgraphs "
                        "conditioned on the value of a tensor.")

    __nonzero__ = __bool__

    def __iter__(self):
        shape = self.shape
        if shape.ndims is None or shape.ndims == 0:
            raise TypeError("Tensor objects are only iterable when eager execution is enabled "
                            "or the first dimension is known.")
        n = shape[0].value
        if n is None:
            raise TypeError("Cannot iterate over a tensor with unknown first dimension.")
        for i in range(n):
            yield self[i]

    def __len__(self):
        raise TypeError("len is not well defined for symbolic Tensors. (%s) Please call "
                        "`x.shape` rather than `len(x)` for shape information." % self.name)

    # Operators are attached by math_ops (as TensorFlow does).


# ---------------------------------------------------------------- operations


class Operation(object):
    """A node of the graph (tf.Operation)."""

    __slots__ = ("_graph", "_ptr", "_name", "_type", "_device", "_outputs", "__weakref__")

    def __init__(self, graph, ptr):
        name, type_, device, nout, dts, _, _ = _C.op_info(ptr)
        self._graph = graph
        self._ptr = ptr
        self._name = name
        self._type = type_
        self._device = device
        self._outputs = tuple(Tensor(self, i, _dtypes.as_dtype(dt) if dt in _dtypes._BY_ENUM
                                     else _dtypes.DType(dt, _C.dtype_name(dt), None))
                              for i, dt in enumerate(dts))

    @property
    def name(self):
        return self._name

    @property
    def type(self):
        return self._type

    @property
    def device(self):
        return self._device

    @property
    def graph(self):
        return self._graph

    @property
    def outputs(self):
        return list(self._outputs)

    def values(self):
        return self._outputs

    @property
    def inputs(self):
        return [self._graph._tensor_from(o) for o in _C.op_inputs(self._ptr)]

    @property
    def control_inputs(self):
        return [self._graph._op_from_ptr(p) for p in _C.op_control_inputs(self._ptr)]

    @property
    def node_def(self):
        return errors._NodeDef(self)

    def get_attr(self, name):
        last = None
        for kind in ("type", "int", "float", "bool", "shape", "list(int)", "string", "tensor"):
            try:
                v = _C.op_attr(self._ptr, name, kind)
            except errors.InvalidArgumentError as e:
                last = e
                continue
            if kind == "type":
                return _dtypes.as_dtype(v)
            return v
        raise ValueError("Operation '%s' has no attr named '%s'%s" % (
            self._name, name, (": %s" % last.message) if last else ""))

    def run(self, feed_dict=None, session=None):
        _run_using_default_session(self, feed_dict, self._graph, session)

    def __repr__(self):
        return "<tf.Operation '%s' type=%s>" % (self._name, self._type)

    __str__ = __repr__


# ---------------------------------------------------------------- graphs


class _Scope(object):
    """A context whose __enter__ returns a value (for name scopes)."""


class Graph(object):
    """A dataflow graph (tf.Graph)."""

    def __init__(self):
        self._c = _C.Graph()
        self._ops = {}              # op pointer -> Operation
        self._names_in_use = {}
        self._name_stack = ""
        self._device_stack = []
        self._control_stack = []    # lists of Operations; None entry clears
        self._collections = {}
        self._seed = None
        self._last_id = 0
        self._in_gradient_fn = 0
        self._finalized = False
        self._lock = threading.RLock()
        self._attr_scope = {}
        self._gradient_override_map = {}
        self._variable_store = None
        self._vs_key = threading.local()
        _GRAPHS[self._c.address()] = self

    # ---- identity

    def _op_from_ptr(self, ptr):
        op = self._ops.get(ptr)
        if op is None:
            op = Operation(self, ptr)
            self._ops[ptr] = op
        return op

    def _tensor_from(self, out):
        if out is None:
            return None
        return self._op_from_ptr(out[0])._outputs[out[1]]

    def _op_by_name_or_none(self, name):
        ptr = self._c.op_by_name(name)
        return None if ptr is None else self._op_from_ptr(ptr)

    # ---- default graph

    def as_default(self):
        return _default_graph_stack.get_controller(self)

    @property
    def seed(self):
        return self._seed

    @seed.setter
    def seed(self, seed):
        self._seed = seed

    @property
    def finalized(self):
        return self._finalized

    def finalize(self):
        self._finalized = True

    @property
    def version(self):
        return self._c.num_ops()

    # ---- names

    def get_name_scope(self):
        return self._name_stack

    def unique_name(self, name, mark_as_used=True):
        """TensorFlow's Graph.unique_name: "name", then "name_1", ...; also
        skips names the core gave to ops (gradient ops)."""
        if self._name_stack:
            name = self._name_stack + "/" + name
        name_key = name.lower()
        i = self._names_in_use.get(name_key, 0)
        if i == 0 and self._c.op_by_name(name) is not None:
            i = 1
        if mark_as_used:
            self._names_in_use[name_key] = i + 1
        if i > 0:
            base = name
            while True:
                cand = "%s_%d" % (base, i)
                if cand.lower() not in self._names_in_use and self._c.op_by_name(cand) is None:
                    break
                i += 1
            if mark_as_used:
                self._names_in_use[cand.lower()] = 1
            name = cand
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        old = self._name_stack
        if name is None or name == "":
            new = ""
        elif name.endswith("/"):
            new = name[:-1]  # an absolute scope, re-entered as is
        else:
            new = self.unique_name(name)
        self._name_stack = new
        try:
            yield (new + "/") if new else ""
        finally:
            self._name_stack = old

    # ---- devices and control dependencies

    @contextlib.contextmanager
    def device(self, device_name_or_function):
        self._device_stack.append(device_name_or_function)
        try:
            yield
        finally:
            self._device_stack.pop()

    def _current_device(self, op_type=None, attrs=()):
        dev = ""
        for d in self._device_stack:
            if d is None:
                dev = ""
            elif callable(d):
                dev = d(_PendingOp(op_type, dev, attrs)) or ""
            else:
                dev = _merge_device(dev, d)
        return dev

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        if control_inputs is None:
            self._control_stack.append(None)
        else:
            ops = []
            for c in control_inputs:
                if hasattr(c, "_as_graph_element_for_control"):
                    c = c._as_graph_element_for_control()
                if isinstance(c, Tensor):
                    c = c.op
                if not isinstance(c, Operation):
                    raise TypeError("Control input must be Operation or Tensor: %r" % (c,))
                ops.append(c)
            self._control_stack.append(ops)
        try:
            yield
        finally:
            self._control_stack.pop()

    def _current_control_inputs(self):
        ops = []
        for entry in self._control_stack:
            if entry is None:
                ops = []
            else:
                ops.extend(entry)
        return ops

    @contextlib.contextmanager
    def _gradient_function_scope(self):
        """While a gradient function runs, the core names the ops (it prefixes
        them itself) and outer control dependencies do not apply."""
        self._in_gradient_fn += 1
        self._control_stack.append(None)
        try:
            yield
        finally:
            self._control_stack.pop()
            self._in_gradient_fn -= 1

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map):
        """Ops of the mapped types created in this context take their gradient
        from the function registered (tf.RegisterGradient) under the mapped
        name; the op records it in its "_gradient_op_type" attr."""
        if not isinstance(op_type_map, dict):
            raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        for k, v in op_type_map.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("op_type_map must be a dictionary mapping strings to strings")
        saved = self._gradient_override_map
        self._gradient_override_map = dict(saved, **op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    # ---- building

    def create_op(self, op_type, inputs, attrs=(), name=None, exact_name=False):
        """Adds an op. inputs: Tensors, or lists of Tensors for list inputs.
        attrs: (name, kind, value) tuples (see _C.Graph.add_op)."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        if name and name.endswith("/"):
            name = name[:-1]  # TensorFlow: a name ending in "/" is used as is
            exact_name = True
        if self._in_gradient_fn:
            c_name = None
        elif exact_name:
            c_name = name
            self._names_in_use[name.lower()] = max(self._names_in_use.get(name.lower(), 0), 1)
        else:
            c_name = self.unique_name(name or op_type)
        c_inputs = []
        input_ops = set()
        for t in inputs:
            if isinstance(t, list):
                c_inputs.append([x._out for x in t])
                for x in t:
                    input_ops.add(x._op._ptr)
            else:
                c_inputs.append(t._out)
                input_ops.add(t._op._ptr)
        controls = []
        seen = set()
        for c in self._current_control_inputs():
            if c._ptr not in input_ops and c._ptr not in seen:
                seen.add(c._ptr)
                controls.append(c._ptr)
        device = self._current_device(op_type, attrs)
        override = self._gradient_override_map.get(op_type)
        if override is not None:
            attrs = tuple(attrs) + (attr_string("_gradient_op_type", override),)
        try:
            ptr = self._c.add_op(op_type, c_name, c_inputs, controls, device or None, attrs)
        except errors.OpError as e:
            raise errors._build_error(e) from None
        self._last_id += 1
        return self._op_from_ptr(ptr)

    # ---- queries

    def get_operations(self):
        n = self._c.num_ops()
        return [self._op_from_ptr(self._c.op_at(i)) for i in range(n)]

    def get_operation_by_name(self, name):
        op = self._op_by_name_or_none(name)
        if op is None:
            raise KeyError("The name %r refers to an Operation not in the graph." % name)
        return op

    def get_tensor_by_name(self, name):
        if ":" not in name:
            raise ValueError("The name %r looks like an (invalid) Operation name, not a Tensor. "
                             "Tensor names must be of the form \"<op_name>:<output_index>\"."
                             % name)
        op_name, idx = name.rsplit(":", 1)
        op = self.get_operation_by_name(op_name)
        idx = int(idx)
        if idx >= len(op._outputs):
            raise KeyError("The name %r refers to a Tensor which does not exist. The operation, "
                           "%r, exists but only has %d outputs." % (name, op_name, len(op._outputs)))
        return op._outputs[idx]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        if hasattr(obj, "_as_graph_element"):
            obj = obj._as_graph_element()
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError("Tensor %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError("Operation %s is not an element of this graph." % obj)
            return obj
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                return self.get_tensor_by_name(obj)
            if allow_operation:
                return self.get_operation_by_name(obj)
        raise TypeError("Can not convert a %s into a %s." % (
            type(obj).__name__, "Tensor or Operation" if allow_tensor and allow_operation
            else ("Tensor" if allow_tensor else "Operation")))

    # ---- collections

    def add_to_collection(self, name, value):
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value):
        for n in ([names] if isinstance(names, str) else set(names)):
            self.add_to_collection(n, value)

    def get_collection(self, name, scope=None):
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        import re
        pat = re.compile(scope)
        return [i for i in items if hasattr(i, "name") and pat.match(i.name)]

    def get_collection_ref(self, name):
        return self._collections.setdefault(name, [])

    def clear_collection(self, name):
        self._collections.pop(name, None)

    def get_all_collection_keys(self):
        return list(self._collections)

    def __repr__(self):
        return "<loom.Graph %d ops>" % self._c.num_ops()


class _PendingOp(object):
    """What a device function sees of an op being created."""

    def __init__(self, op_type, device, attrs=()):
        self.type = op_type
        self.device = device
        # (name, kind, value) tuples, as given to create_op: device functions
        # that balance by size read "shape" and "dtype" from them.
        self.attrs = {a[0]: a[2] for a in attrs}


def _merge_device(outer, inner):
    """Merges a device spec into the enclosing one, field by field, as
    TensorFlow's device scopes do ("/job:ps" inside "/device:CPU:0"...)."""
    if not inner:
        return outer or ""
    o = _parse_device(outer) if outer else {}
    o.update(_parse_device(inner))
    parts = []
    for k in ("job", "replica", "task"):
        if k in o:
            parts.append("/%s:%s" % (k, o[k]))
    if "device" in o:
        parts.append("/device:%s" % o["device"])
    return "".join(parts)


def _parse_device(spec):
    out = {}
    spec = spec.strip()
    if spec and not spec.startswith("/"):
        spec = "/device:" + spec
    for part in spec.split("/"):
        if not part:
            continue
        if ":" in part:
            k, v = part.split(":", 1)
            k = k.lower()
            if k in ("job", "replica", "task"):
                out[k] = v
            elif k == "device":
                out["device"] = v
            else:  # "cpu:0", "gpu:1"
                out["device"] = "%s:%s" % (k.upper(), v)
    return out


# ---------------------------------------------------------------- default graph


class _DefaultStack(threading.local):
    def __init__(self):
        super(_DefaultStack, self).__init__()
        self.stack = []

    @contextlib.contextmanager
    def get_controller(self, obj):
        self.stack.append(obj)
        try:
            yield obj
        finally:
            if self.stack and self.stack[-1] is obj:
                self.stack.pop()
            elif obj in self.stack:
                self.stack.remove(obj)


class _DefaultGraphStack(_DefaultStack):
    _global = None
    _global_lock = threading.Lock()

    def get_default(self):
        if self.stack:
            return self.stack[-1]
        return self._global_default()

    @classmethod
    def _global_default(cls):
        if cls._global is None:
            with cls._global_lock:
                if cls._global is None:
                    cls._global = Graph()
        return cls._global

    @classmethod
    def reset_global(cls):
        cls._global = None


_default_graph_stack = _DefaultGraphStack()


def get_default_graph():
    return _default_graph_stack.get_default()


def reset_default_graph():
    if _default_graph_stack.stack:
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs.")
    _DefaultGraphStack.reset_global()


class _DefaultSessionStack(_DefaultStack):
    def get_default(self):
        return self.stack[-1] if self.stack else None


_default_session_stack = _DefaultSessionStack()


def get_default_session():
    return _default_session_stack.get_default()


def _eval_using_default_session(tensors, feed_dict, graph, session=None):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is "
                             "registered. Use `with sess.as_default()` or pass an explicit "
                             "session to `eval(session=sess)`")
        if session.graph is not graph:
            raise ValueError("Cannot use the default session to evaluate tensor: the tensor's "
                             "graph is different from the session's graph. Pass an explicit "
                             "session to `eval(session=sess)`.")
    elif session.graph is not graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph "
                         "is different from the session's graph.")
    return session.run(tensors, feed_dict)


def _run_using_default_session(operation, feed_dict, graph, session=None):
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot execute operation using `run()`: No default session is "
                             "registered. Use `with sess.as_default():` or pass an explicit "
                             "session to `run(session=sess)`")
    session.run(operation, feed_dict)


# ---------------------------------------------------------------- module-level scopes


def _graph_from(values):
    for v in values or ():
        if isinstance(v, (list, tuple)):
            g = _graph_from(v)
            if g is not None:
                return g
        g = getattr(v, "graph", None)
        if isinstance(g, Graph):
            return g
    return None


@contextlib.contextmanager
def name_scope(name, default_name=None, values=None):
    """tf.name_scope(name, default_name=None, values=None)."""
    n = name if name is not None else default_name
    g = _graph_from(values) or get_default_graph()
    if n is None and name is None and default_name is None:
        with g.name_scope(None) as s:
            yield s
        return
    if isinstance(n, Graph):
        raise TypeError("name_scope takes a name, not a Graph")
    ctx = g.as_default() if g is not get_default_graph() else contextlib.nullcontext()
    with ctx, g.name_scope(n) as s:
        yield s


def device(device_name_or_function):
    return get_default_graph().device(device_name_or_function)


def control_dependencies(control_inputs):
    return get_default_graph().control_dependencies(control_inputs)


def get_collection(key, scope=None):
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def add_to_collection(name, value):
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def set_random_seed(seed):
    get_default_graph().seed = seed


DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def get_seed(op_seed):
    """TensorFlow's random_seed.get_seed: (graph seed, op seed)."""
    g = get_default_graph()
    global_seed = g.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = g._last_id
        seeds = (int(global_seed), int(op_seed))
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, int(op_seed))
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        seeds = (0, _MAXINT32)
    return seeds


# ---------------------------------------------------------------- conversion

# (priority, registration order, base type, fn), lowest priority first. The
# modules that make tensors register how: array_ops (lists holding Tensors are
# stacked at 99; anything else becomes a Const at 200), variables (a Variable
# gives its value, or its ref with as_ref). So this module imports none of them.
_tensor_conversion_funcs = []


def register_tensor_conversion_function(base_type, conversion_func, priority=100):
    """TensorFlow's: conversion_func(value, dtype=None, name=None, as_ref=False)
    returns a Tensor for values of base_type (a type or tuple of types), or
    NotImplemented to let the next function try; lower priorities try first."""
    _tensor_conversion_funcs.append(
        (priority, len(_tensor_conversion_funcs), base_type, conversion_func))
    _tensor_conversion_funcs.sort(key=lambda e: e[:2])


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, as_ref=False):
    """Tensors pass through (dtype checked); other values go to the
    registered conversion functions (register_tensor_conversion_function), the
    lowest priority first; with preferred_dtype (and no dtype) each is tried
    with that dtype first."""
    if isinstance(value, Tensor):
        if dtype is not None and _dtypes.as_dtype(dtype) != value.dtype:
            raise ValueError("Tensor conversion requested dtype %s for Tensor with dtype %s: %r"
                             % (_dtypes.as_dtype(dtype).name, value.dtype.name, value))
        return value
    if isinstance(value, Operation):
        raise TypeError("Can't convert Operation '%s' to Tensor (target dtype=%s, name=%s, "
                        "as_ref=%s)" % (value.name, dtype, name, as_ref))
    for _, _, base_type, fn in _tensor_conversion_funcs:
        if not isinstance(value, base_type):
            continue
        if dtype is None and preferred_dtype is not None:
            try:
                ret = fn(value, dtype=preferred_dtype, name=name, as_ref=as_ref)
            except (TypeError, ValueError):
                ret = NotImplemented
            if ret is not NotImplemented:
                return ret
        ret = fn(value, dtype=dtype, name=name, as_ref=as_ref)
        if ret is not NotImplemented:
            return ret
    raise TypeError("Cannot convert %r of type %s to a Tensor: no conversion function is "
                    "registered for it" % (value, type(value).__name__))


def convert_n_to_tensor(values, dtype=None, name=None):
    return [convert_to_tensor(v, dtype=dtype, name=name) for v in values]


def is_tensor(x):
    return isinstance(x, Tensor)


# ---------------------------------------------------------------- attrs helpers


def attr_type(name, dtype):
    return (name, "type", _dtypes.as_dtype(dtype).as_datatype_enum)


def attr_int(name, v):
    return (name, "int", int(v))


def attr_bool(name, v):
    return (name, "bool", bool(v))


def attr_float(name, v):
    return (name, "float", float(v))


def attr_shape(name, shape):
    shape = as_shape(shape) if shape is not None else TensorShape(None)
    return (name, "shape", shape._as_list_or_none())


def attr_ints(name, values):
    return (name, "list(int)", [int(v) for v in values])


def attr_string(name, v):
    return (name, "string", v)


def attr_tensor(name, array):
    return (name, "tensor", array)


def make_op(op_type, inputs, attrs=(), name=None):
    """Creates an op in the graph of its inputs (or the default graph)."""
    g = None
    for t in inputs:
        for x in (t if isinstance(t, list) else (t,)):
            if g is None:
                g = x._op._graph
            elif x._op._graph is not g:
                raise ValueError("Tensor(\"%s\") must be from the same graph as the other "
                                 "inputs of %s." % (x.name, op_type))
    if g is None:
        g = get_default_graph()
    return g.create_op(op_type, inputs, attrs, name)


def make_op1(op_type, inputs, attrs=(), name=None):
    return make_op(op_type, inputs, attrs, name)._outputs[0]
