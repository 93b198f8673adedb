"""Variables as TensorFlow 1.x ref variables: a VariableV2 op holding the value,
an Assign initializer, and an Identity "read" snapshot that other ops consume.
Also variable scopes, get_variable and the initializers."""
import contextlib
import math
import threading

from . import array_ops
from . import dtypes as _dtypes
from . import random_ops
from .framework import (GraphKeys, Operation, Tensor, TensorShape, as_shape, attr_bool,
                        attr_shape, attr_string, attr_type, convert_to_tensor,
                        get_default_graph, make_op, make_op1, name_scope,
                        register_tensor_conversion_function)


class Variable(object):
    """tf.Variable (a TensorFlow 1.x RefVariable)."""

    __array_priority__ = 100

    def __init__(self, initial_value=None, trainable=True, collections=None, validate_shape=True,
                 caching_device=None, name=None, variable_def=None, dtype=None,
                 expected_shape=None, import_scope=None, constraint=None, use_resource=None,
                 synchronization=None, aggregation=None, _absolute_name=False):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        g = get_default_graph()
        self._trainable = trainable
        self._constraint = constraint
        init_from_fn = callable(initial_value)
        scope_name = (name + "/") if _absolute_name else (name or "Variable")
        with g.control_dependencies(None), g.name_scope(scope_name) as scope:
            op_name = scope[:-1]
            if init_from_fn:
                with g.name_scope("Initializer"):
                    iv = initial_value()
                iv = convert_to_tensor(iv, dtype=dtype, name="initial_value")
            else:
                iv = convert_to_tensor(initial_value, dtype=dtype, name="initial_value")
            shape = iv.shape
            if validate_shape and not shape.is_fully_defined():
                raise ValueError("initial_value must have a shape specified: %s" % iv)
            if not validate_shape:
                shape = TensorShape(None)
            self._initial_value = iv
            vop = g.create_op("VariableV2", [],
                              [attr_shape("shape", shape), attr_type("dtype", iv.dtype),
                               attr_string("container", ""), attr_string("shared_name", "")],
                              name=op_name, exact_name=True)
            self._variable = vop._outputs[0]
            self._variable.set_shape(shape)
            with g.device(vop.device or None):
                self._initializer_op = make_op(
                    "Assign", [self._variable, iv],
                    [attr_type("T", iv.dtype), attr_bool("validate_shape", validate_shape),
                     attr_bool("use_locking", True)], name="Assign")
                self._snapshot = make_op1("Identity", [self._variable],
                                          [attr_type("T", iv.dtype)], name="read")
            self._snapshot.set_shape(shape)
        g.add_to_collections(collections, self)
        self._graph = g
        self._save_slice_info = None

    # ---- identity

    @property
    def name(self):
        return self._variable.name

    @property
    def op(self):
        return self._variable.op

    @property
    def graph(self):
        return self._graph

    @property
    def dtype(self):
        return self._variable.dtype

    @property
    def device(self):
        return self._variable.device

    @property
    def shape(self):
        return self._variable.shape

    def get_shape(self):
        return self.shape

    @property
    def trainable(self):
        return self._trainable

    @property
    def initializer(self):
        return self._initializer_op

    @property
    def initial_value(self):
        return self._initial_value

    @property
    def constraint(self):
        return self._constraint

    def value(self):
        return self._snapshot

    def read_value(self):
        return make_op1("Identity", [self._variable], [attr_type("T", self.dtype)], name="read")

    def _ref(self):
        return self._variable

    def _as_tensor(self):
        return self._snapshot

    def _as_graph_element(self):
        return self._snapshot

    def _as_graph_element_for_control(self):
        return self._snapshot.op

    def eval(self, session=None):
        return self._snapshot.eval(session=session)

    def initialized_value(self):
        with self._graph.control_dependencies([self._initializer_op]):
            return array_ops.identity(self._variable)

    # ---- updates

    def assign(self, value, use_locking=False, name=None, read_value=True):
        value = convert_to_tensor(value, dtype=self.dtype)
        return make_op1("Assign", [self._variable, value],
                        [attr_type("T", self.dtype), attr_bool("validate_shape", True),
                         attr_bool("use_locking", use_locking)], name=name or "Assign")

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        delta = convert_to_tensor(delta, dtype=self.dtype)
        return make_op1("AssignAdd", [self._variable, delta],
                        [attr_type("T", self.dtype), attr_bool("use_locking", use_locking)],
                        name=name or "AssignAdd")

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        delta = convert_to_tensor(delta, dtype=self.dtype)
        return make_op1("AssignSub", [self._variable, delta],
                        [attr_type("T", self.dtype), attr_bool("use_locking", use_locking)],
                        name=name or "AssignSub")

    def load(self, value, session=None):
        from .framework import get_default_session
        session = session or get_default_session()
        if session is None:
            raise ValueError("Either session argument should be provided or default session "
                             "should be established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    def __repr__(self):
        return "<tf.Variable '%s' shape=%s dtype=%s>" % (self.name, self.shape, self.dtype.name)

    def __getitem__(self, key):
        return array_ops._slice_helper(self._snapshot, key)

    def __iter__(self):
        return iter(self._snapshot)

    def __bool__(self):
        return self._snapshot.__bool__()


def _install_variable_operators():
    names = ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
             "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
             "__rpow__", "__matmul__", "__rmatmul__", "__lt__", "__le__", "__gt__", "__ge__",
             "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__neg__", "__abs__",
             "__invert__"]
    for n in names:
        f = getattr(Tensor, n)

        def make(f):
            def op(self, *args):
                return f(self._snapshot, *args)
            return op
        setattr(Variable, n, make(f))


_install_variable_operators()
VariableV1 = Variable
RefVariable = Variable


def _variable_conversion(v, dtype=None, name=None, as_ref=False):
    t = v._variable if as_ref else v._snapshot
    if dtype is not None and _dtypes.as_dtype(dtype) != t.dtype:
        raise ValueError("Incompatible type conversion requested to type '%s' for variable of "
                         "type '%s'" % (_dtypes.as_dtype(dtype).name, t.dtype.name))
    return t


register_tensor_conversion_function(Variable, _variable_conversion)


# ---------------------------------------------------------------- collections, init


def global_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def group(*inputs, **kwargs):
    """tf.group: a NoOp that runs after all inputs."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError("Unknown keyword arguments: %s" % ", ".join(kwargs))
    ops = []

    def collect(x):
        if isinstance(x, (list, tuple)):
            for y in x:
                collect(y)
        elif isinstance(x, dict):
            for y in x.values():
                collect(y)
        elif isinstance(x, Operation):
            ops.append(x)
        elif isinstance(x, Tensor):
            ops.append(x.op)
        elif isinstance(x, Variable):
            ops.append(x._snapshot.op)
        elif x is not None:
            raise TypeError("group() expects Operations or Tensors, got %r" % (x,))
    collect(inputs)
    g = ops[0].graph if ops else get_default_graph()
    with g.control_dependencies(ops):
        return g.create_op("NoOp", [], [], name=name or "NoOp")


def no_op(name=None):
    return get_default_graph().create_op("NoOp", [], [], name=name or "NoOp")


def variables_initializer(var_list, name="init"):
    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


initialize_variables = variables_initializer


def global_variables_initializer():
    return variables_initializer(global_variables(), name="init")


def initialize_all_variables():
    return global_variables_initializer()


def local_variables_initializer():
    return variables_initializer(local_variables(), name="init_1")


initialize_local_variables = local_variables_initializer


def is_variable_initialized(variable):
    return make_op1("IsVariableInitialized", [variable._variable],
                    [attr_type("dtype", variable.dtype)], name="IsVariableInitialized")


def assign(ref, value, validate_shape=None, use_locking=None, name=None):
    if isinstance(ref, Variable):
        ref = ref._variable
    value = convert_to_tensor(value, dtype=ref.dtype)
    return make_op1("Assign", [ref, value],
                    [attr_type("T", ref.dtype),
                     attr_bool("validate_shape", True if validate_shape is None else validate_shape),
                     attr_bool("use_locking", True if use_locking is None else use_locking)],
                    name=name or "Assign")


def assign_add(ref, value, use_locking=None, name=None):
    if isinstance(ref, Variable):
        ref = ref._variable
    value = convert_to_tensor(value, dtype=ref.dtype)
    return make_op1("AssignAdd", [ref, value],
                    [attr_type("T", ref.dtype), attr_bool("use_locking", bool(use_locking))],
                    name=name or "AssignAdd")


def assign_sub(ref, value, use_locking=None, name=None):
    if isinstance(ref, Variable):
        ref = ref._variable
    value = convert_to_tensor(value, dtype=ref.dtype)
    return make_op1("AssignSub", [ref, value],
                    [attr_type("T", ref.dtype), attr_bool("use_locking", bool(use_locking))],
                    name=name or "AssignSub")


# ---------------------------------------------------------------- initializers


class Initializer(object):
    def __call__(self, shape, dtype=None, partition_info=None):
        raise NotImplementedError

    def get_config(self):
        return {}


class Zeros(Initializer):
    def __init__(self, dtype=_dtypes.float32):
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.zeros(shape, dtype or self.dtype)


class Ones(Initializer):
    def __init__(self, dtype=_dtypes.float32):
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return array_ops.ones(shape, dtype or self.dtype)


class Constant(Initializer):
    def __init__(self, value=0, dtype=_dtypes.float32, verify_shape=False):
        self.value = value
        self.dtype = _dtypes.as_dtype(dtype)
        self.verify_shape = verify_shape

    def __call__(self, shape, dtype=None, partition_info=None, verify_shape=None):
        return array_ops.constant(self.value, dtype=dtype or self.dtype, shape=shape,
                                  verify_shape=self.verify_shape if verify_shape is None
                                  else verify_shape)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_normal(shape, self.mean, self.stddev, dtype or self.dtype,
                                       seed=self.seed)


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=_dtypes.float32):
        self.mean, self.stddev, self.seed = mean, stddev, seed
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.truncated_normal(shape, self.mean, self.stddev, dtype or self.dtype,
                                          seed=self.seed)


class RandomUniform(Initializer):
    def __init__(self, minval=0, maxval=None, seed=None, dtype=_dtypes.float32):
        self.minval, self.maxval, self.seed = minval, maxval, seed
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        return random_ops.random_uniform(shape, self.minval, self.maxval, dtype or self.dtype,
                                        seed=self.seed)


def _compute_fans(shape):
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 dtype=_dtypes.float32):
        if scale <= 0.:
            raise ValueError("`scale` must be positive float.")
        if mode not in {"fan_in", "fan_out", "fan_avg"}:
            raise ValueError("Invalid `mode` argument:", mode)
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError("Invalid `distribution` argument:", distribution)
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed
        self.dtype = _dtypes.as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = _dtypes.as_dtype(dtype or self.dtype)
        shape = [int(d) for d in as_shape(shape).as_list()]
        fan_in, fan_out = _compute_fans(shape)
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1., fan_in)
        elif self.mode == "fan_out":
            scale /= max(1., fan_out)
        else:
            scale /= max(1., (fan_in + fan_out) / 2.)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / .87962566103423978
            return random_ops.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_ops.random_normal(shape, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_ops.random_uniform(shape, -limit, limit, dtype, seed=self.seed)


def glorot_uniform_initializer(seed=None, dtype=_dtypes.float32):
    return VarianceScaling(1.0, "fan_avg", "uniform", seed, dtype)


def glorot_normal_initializer(seed=None, dtype=_dtypes.float32):
    return VarianceScaling(1.0, "fan_avg", "truncated_normal", seed, dtype)


def he_normal(seed=None):
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None):
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None):
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None):
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
random_uniform_initializer = RandomUniform
variance_scaling_initializer = VarianceScaling


# ---------------------------------------------------------------- variable scopes


class _ReuseMode(object):
    def __repr__(self):
        return "tf.AUTO_REUSE"


AUTO_REUSE = _ReuseMode()


class VariableScope(object):
    """tf.VariableScope: a name prefix for get_variable plus defaults."""

    def __init__(self, reuse, name="", initializer=None, regularizer=None, dtype=None,
                 original_name_scope=""):
        self._reuse = reuse
        self._name = name
        self._initializer = initializer
        self._regularizer = regularizer
        self._dtype = dtype
        self._original_name_scope = original_name_scope

    @property
    def name(self):
        return self._name

    @property
    def reuse(self):
        return self._reuse

    @property
    def initializer(self):
        return self._initializer

    @property
    def regularizer(self):
        return self._regularizer

    @property
    def dtype(self):
        return self._dtype

    @property
    def original_name_scope(self):
        return self._original_name_scope

    def reuse_variables(self):
        self._reuse = True

    def set_initializer(self, initializer):
        self._initializer = initializer

    def set_dtype(self, dtype):
        self._dtype = dtype

    def set_regularizer(self, regularizer):
        self._regularizer = regularizer

    def get_variable(self, name, *args, **kwargs):
        return get_variable(name, *args, **kwargs)

    def __repr__(self):
        return "<VariableScope %r reuse=%r>" % (self._name, self._reuse)


class _VarStore(object):
    def __init__(self):
        self.vars = {}
        self.scope_counts = {}
        self.local = threading.local()

    def stack(self):
        s = getattr(self.local, "stack", None)
        if s is None:
            s = self.local.stack = [VariableScope(False)]
        return s


def _store(g=None):
    g = g or get_default_graph()
    if g._variable_store is None:
        g._variable_store = _VarStore()
    return g._variable_store


def get_variable_scope():
    return _store().stack()[-1]


@contextlib.contextmanager
def variable_scope(name_or_scope, default_name=None, values=None, initializer=None,
                   regularizer=None, caching_device=None, partitioner=None, custom_getter=None,
                   reuse=None, dtype=None, use_resource=None, constraint=None,
                   auxiliary_name_scope=True):
    """tf.variable_scope: prefixes get_variable names and opens a name scope of
    the same name (made unique, as TensorFlow does: "foo", "foo_1")."""
    if name_or_scope is None and default_name is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    g = get_default_graph()
    for v in values or ():
        gg = getattr(v, "graph", None)
        if gg is not None:
            g = gg
            break
    store = _store(g)
    stack = store.stack()
    old = stack[-1]
    if reuse is False or reuse is None:
        reuse = old.reuse if old.reuse is not False else (reuse or False)
    if isinstance(name_or_scope, VariableScope):
        full = name_or_scope.name
        ns = name_or_scope.original_name_scope
        if initializer is None:
            initializer = name_or_scope.initializer
        if dtype is None:
            dtype = name_or_scope.dtype
        if name_or_scope.reuse is True or name_or_scope.reuse is AUTO_REUSE:
            reuse = name_or_scope.reuse
    else:
        if name_or_scope is not None:
            base = name_or_scope
        else:
            prefix = (old.name + "/") if old.name else ""
            base = default_name
            i = store.scope_counts.get(prefix + base, 0)
            if i > 0:
                base = "%s_%d" % (default_name, i)
            store.scope_counts[prefix + default_name] = i + 1
        full = (old.name + "/" + base) if old.name else base
        ns = base
    new = VariableScope(reuse, full, initializer if initializer is not None else old.initializer,
                        regularizer if regularizer is not None else old.regularizer,
                        dtype if dtype is not None else old.dtype)
    ctx = g.as_default() if g is not get_default_graph() else contextlib.nullcontext()
    with ctx:
        if auxiliary_name_scope:
            with g.name_scope(ns) as scope:
                new._original_name_scope = scope
                stack.append(new)
                try:
                    yield new
                finally:
                    stack.pop()
        else:
            new._original_name_scope = ns if isinstance(ns, str) else ""
            stack.append(new)
            try:
                yield new
            finally:
                stack.pop()


def variable_op_scope(values, name_or_scope, default_name=None, **kw):
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kw)


def get_variable(name, shape=None, dtype=None, initializer=None, regularizer=None,
                 trainable=None, collections=None, caching_device=None, partitioner=None,
                 validate_shape=True, use_resource=None, custom_getter=None, constraint=None,
                 synchronization=None, aggregation=None):
    """tf.get_variable: creates "<scope>/<name>" or, under reuse, returns it."""
    scope = get_variable_scope()
    store = _store()
    full = (scope.name + "/" + name) if scope.name else name
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype)
    if full in store.vars:
        if scope.reuse is False:
            raise ValueError("Variable %s already exists, disallowed. Did you mean to set "
                             "reuse=True or reuse=tf.AUTO_REUSE in VarScope?" % full)
        v = store.vars[full]
        if shape is not None and not as_shape(shape).is_compatible_with(v.shape):
            raise ValueError("Trying to share variable %s, but specified shape %s and found "
                             "shape %s." % (full, as_shape(shape), v.shape))
        if dtype is not None and dtype != v.dtype:
            raise ValueError("Trying to share variable %s, but specified dtype %s and found "
                             "dtype %s." % (full, dtype.name, v.dtype.name))
        return v
    if scope.reuse is True:
        raise ValueError("Variable %s does not exist, or was not created with "
                         "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
                         "VarScope?" % full)
    dtype = dtype or scope.dtype or _dtypes.float32
    dtype = _dtypes.as_dtype(dtype)
    if initializer is None:
        initializer = scope.initializer
    if initializer is None:
        initializer = glorot_uniform_initializer() if dtype.is_floating else Zeros()
    if isinstance(initializer, type) and issubclass(initializer, Initializer):
        initializer = initializer(dtype=dtype)
    if trainable is None:
        trainable = True
    if callable(initializer) and not isinstance(initializer, (Tensor, Variable)):
        if shape is None or not as_shape(shape).is_fully_defined():
            raise ValueError("Shape of a new variable (%s) must be fully defined, but instead "
                             "was %s." % (full, as_shape(shape) if shape is not None else None))
        shp = as_shape(shape).as_list()

        def init_val():
            return initializer(shp, dtype=dtype)
        v = Variable(init_val, trainable=trainable, collections=collections,
                     validate_shape=validate_shape, name=full, dtype=dtype, constraint=constraint,
                     _absolute_name=True)
    else:
        iv = initializer
        if shape is not None and not isinstance(iv, (Tensor, Variable)):
            iv = array_ops.constant(iv, dtype=dtype, shape=shape)
        v = Variable(iv, trainable=trainable, collections=collections,
                     validate_shape=validate_shape, name=full, dtype=dtype, constraint=constraint,
                     _absolute_name=True)
    store.vars[full] = v
    reg = regularizer if regularizer is not None else scope.regularizer
    if reg is not None:
        with name_scope(full + "/Regularizer/"):
            loss = reg(v)
        if loss is not None:
            get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return v

