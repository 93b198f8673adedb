"""Element-wise math, reductions, matmul, comparisons; Tensor operators."""
import builtins

import numpy as np

from . import array_ops
from . import dtypes as _dtypes
from .framework import (Tensor, attr_bool, attr_int, attr_type, convert_to_tensor, make_op1,
                        name_scope)


def _is_tensorlike(x):
    return isinstance(x, Tensor) or hasattr(x, "_as_tensor")


def _binary_args(x, y, op_type):
    """Converts x and y to tensors of one dtype: a Python/numpy value takes the
    dtype of the tensor beside it, as TensorFlow's op builder does."""
    if _is_tensorlike(x):
        x = convert_to_tensor(x)
        if _is_tensorlike(y):
            y = convert_to_tensor(y)
        else:
            y = convert_to_tensor(y, dtype=x.dtype, name="y")
    elif _is_tensorlike(y):
        y = convert_to_tensor(y)
        x = convert_to_tensor(x, dtype=y.dtype, name="x")
    else:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype=x.dtype, name="y")
    if x.dtype != y.dtype:
        raise TypeError("Input 'y' of '%s' Op has type %s that does not match type %s of "
                        "argument 'x'." % (op_type, y.dtype.name, x.dtype.name))
    return x, y


def _binary(op_type, default_name):
    def fn(x, y, name=None):
        x, y = _binary_args(x, y, op_type)
        return make_op1(op_type, [x, y], [attr_type("T", x.dtype)], name=name or default_name)
    fn.__name__ = default_name
    return fn


def _unary(op_type, default_name=None):
    def fn(x, name=None):
        x = convert_to_tensor(x)
        return make_op1(op_type, [x], [attr_type("T", x.dtype)], name=name or default_name or op_type)
    fn.__name__ = (default_name or op_type).lower()
    return fn


cast = array_ops.cast
add = _binary("Add", "Add")
add_v2 = _binary("AddV2", "AddV2")
subtract = _binary("Sub", "Sub")
sub = subtract
multiply = _binary("Mul", "Mul")
mul = multiply
div = _binary("Div", "Div")
realdiv = _binary("RealDiv", "RealDiv")
floordiv = _binary("FloorDiv", "FloorDiv")
floor_div = floordiv
floormod = _binary("FloorMod", "FloorMod")
mod = floormod
maximum = _binary("Maximum", "Maximum")
minimum = _binary("Minimum", "Minimum")
pow = _binary("Pow", "Pow")  # noqa: A001
squared_difference = _binary("SquaredDifference", "SquaredDifference")
equal = _binary("Equal", "Equal")
not_equal = _binary("NotEqual", "NotEqual")
less = _binary("Less", "Less")
less_equal = _binary("LessEqual", "LessEqual")
greater = _binary("Greater", "Greater")
greater_equal = _binary("GreaterEqual", "GreaterEqual")

negative = _unary("Neg")
neg = negative
abs = _unary("Abs")  # noqa: A001
exp = _unary("Exp")
log = _unary("Log")
log1p = _unary("Log1p")
sqrt = _unary("Sqrt")
rsqrt = _unary("Rsqrt")
square = _unary("Square")
reciprocal = _unary("Reciprocal")
inv = reciprocal
sign = _unary("Sign")
floor = _unary("Floor")
ceil = _unary("Ceil")
round = _unary("Round")  # noqa: A001
sin = _unary("Sin")
cos = _unary("Cos")
tan, asin, acos, atan, sinh, cosh, erf, expm1 = (
    _unary(t) for t in ("Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Erf", "Expm1"))
is_nan, is_inf, is_finite = (_unary(t) for t in ("IsNan", "IsInf", "IsFinite"))
atan2 = _binary("Atan2", "Atan2")  # atan2(y, x), as TensorFlow
sigmoid = _unary("Sigmoid")
tanh = _unary("Tanh")


def logical_and(x, y, name=None):
    x = convert_to_tensor(x, dtype=_dtypes.bool)
    y = convert_to_tensor(y, dtype=_dtypes.bool)
    return make_op1("LogicalAnd", [x, y], [], name=name or "LogicalAnd")


def logical_or(x, y, name=None):
    x = convert_to_tensor(x, dtype=_dtypes.bool)
    y = convert_to_tensor(y, dtype=_dtypes.bool)
    return make_op1("LogicalOr", [x, y], [], name=name or "LogicalOr")


def logical_not(x, name=None):
    x = convert_to_tensor(x, dtype=_dtypes.bool)
    return make_op1("LogicalNot", [x], [], name=name or "LogicalNot")


def logical_xor(x, y, name="LogicalXor"):
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


_TRUEDIV_CAST = {_dtypes.int8: _dtypes.float32, _dtypes.uint8: _dtypes.float32,
                 _dtypes.int16: _dtypes.float32, _dtypes.uint16: _dtypes.float32,
                 _dtypes.int32: _dtypes.float64, _dtypes.int64: _dtypes.float64}


def truediv(x, y, name=None):
    """Python 3 division: integers are cast to floating point first."""
    x, y = _binary_args(x, y, "RealDiv")
    target = _TRUEDIV_CAST.get(x.dtype)
    if target is not None:
        x = array_ops.cast(x, target)
        y = array_ops.cast(y, target)
    return make_op1("RealDiv", [x, y], [attr_type("T", x.dtype)], name=name or "truediv")


def divide(x, y, name=None):
    if name is not None:
        return truediv(x, y, name=name)
    return truediv(x, y, name="truediv")


def div_no_nan(x, y, name=None):
    with name_scope(name, "div_no_nan", [x, y]):
        x, y = _binary_args(x, y, "DivNoNan")
        zero = array_ops.zeros_like(y)
        safe_y = array_ops.where_v2(equal(y, zero), array_ops.ones_like(y), y)
        return array_ops.where_v2(equal(y, zero), zero, realdiv(x, safe_y))


def scalar_mul(scalar, x, name=None):
    return multiply(scalar, x, name=name)


def add_n(inputs, name=None):
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and "
                         "shape")
    inputs = [convert_to_tensor(t) for t in inputs]
    if len(inputs) == 1:
        return array_ops.identity(inputs[0], name=name) if name else inputs[0]
    return make_op1("AddN", [inputs], [attr_int("N", len(inputs)), attr_type("T", inputs[0].dtype)],
                    name=name or "AddN")


accumulate_n = add_n


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, name=None):
    a, b = _binary_args(a, b, "MatMul")
    ra, rb = a.shape.ndims, b.shape.ndims
    ta = transpose_a or adjoint_a
    tb = transpose_b or adjoint_b
    if (ra is None or ra == 2) and (rb is None or rb == 2):
        return make_op1("MatMul", [a, b],
                        [attr_bool("transpose_a", ta), attr_bool("transpose_b", tb),
                         attr_type("T", a.dtype)], name=name or "MatMul")
    return make_op1("BatchMatMulV2", [a, b],
                    [attr_type("T", a.dtype), attr_bool("adj_x", ta), attr_bool("adj_y", tb)],
                    name=name or "MatMul")


def _reduction_axes(x, axis):
    if axis is None:
        r = x.shape.ndims
        if r is not None:
            return array_ops._const_int(np.arange(r, dtype=np.int32), name="Const")
        return array_ops.range(0, array_ops.rank(x), 1)
    if isinstance(axis, Tensor):
        return axis
    return array_ops._const_int(axis, name="Const")


def _reduce(op_type, default_name):
    def fn(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
           keep_dims=None):
        if axis is None:
            axis = reduction_indices
        if keepdims is None:
            keepdims = keep_dims
        keepdims = bool(keepdims)
        x = convert_to_tensor(input_tensor)
        ax = _reduction_axes(x, axis)
        return make_op1(op_type, [x, ax],
                        [attr_bool("keep_dims", keepdims), attr_type("T", x.dtype),
                         attr_type("Tidx", ax.dtype)], name=name or default_name)
    fn.__name__ = default_name
    return fn


reduce_sum = _reduce("Sum", "Sum")
reduce_mean = _reduce("Mean", "Mean")
reduce_max = _reduce("Max", "Max")
reduce_min = _reduce("Min", "Min")
reduce_prod = _reduce("Prod", "Prod")


def reduce_all(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    x = array_ops.cast(input_tensor, _dtypes.int32)
    m = reduce_min(x, axis=axis if axis is not None else reduction_indices,
                   keepdims=keepdims if keepdims is not None else keep_dims)
    return array_ops.cast(m, _dtypes.bool, name=name)


def reduce_any(input_tensor, axis=None, keepdims=None, name=None, reduction_indices=None,
               keep_dims=None):
    x = array_ops.cast(input_tensor, _dtypes.int32)
    m = reduce_max(x, axis=axis if axis is not None else reduction_indices,
                   keepdims=keepdims if keepdims is not None else keep_dims)
    return array_ops.cast(m, _dtypes.bool, name=name)


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None, reduction_indices=None,
                     keep_dims=None):
    if axis is None:
        axis = reduction_indices
    keepdims = keepdims or bool(keep_dims)
    with name_scope(name, "ReduceLogSumExp", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        m = array_ops.stop_gradient(reduce_max(x, axis=axis, keepdims=True))
        s = log(reduce_sum(exp(x - m), axis=axis, keepdims=True)) + m
        if not keepdims:
            s = reduce_sum(s, axis=axis)  # drops the kept size-1 dims
        return s


def _arg(op_type):
    def fn(input, axis=None, name=None, dimension=None, output_type=_dtypes.int64):  # noqa: A002
        if axis is None:
            axis = dimension
        if axis is None:
            axis = 0
        x = convert_to_tensor(input)
        ax = axis if isinstance(axis, Tensor) else array_ops._const_int(axis, name="dimension")
        return make_op1(op_type, [x, ax],
                        [attr_type("T", x.dtype), attr_type("Tidx", ax.dtype),
                         attr_type("output_type", output_type)], name=name or op_type)
    fn.__name__ = op_type.lower()
    return fn


argmax = _arg("ArgMax")
argmin = _arg("ArgMin")
arg_max = argmax
arg_min = argmin


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    x = convert_to_tensor(x)
    ax = axis if isinstance(axis, Tensor) else array_ops._const_int(axis, name="axis")
    return make_op1("Cumsum", [x, ax],
                    [attr_bool("exclusive", exclusive), attr_bool("reverse", reverse),
                     attr_type("T", x.dtype), attr_type("Tidx", ax.dtype)], name=name or "Cumsum")


def count_nonzero(input_tensor, axis=None, keepdims=None, dtype=_dtypes.int64, name=None,
                  reduction_indices=None, keep_dims=None):
    with name_scope(name, "count_nonzero", [input_tensor]):
        x = convert_to_tensor(input_tensor)
        nz = array_ops.cast(not_equal(x, array_ops.zeros_like(x)), dtype)
        return reduce_sum(nz, axis=axis if axis is not None else reduction_indices,
                          keepdims=keepdims if keepdims is not None else keep_dims)


def tensordot(a, b, axes, name=None):
    raise NotImplementedError("tensordot is not implemented in Loom's Python API")


# ---------------------------------------------------------------- operators


def _r(fn):
    def r(y, x):
        return fn(x, y)
    return r


def _op_name(fn, name):
    def f(x, y):
        return fn(x, y, name=name)
    return f


def _getitem(self, key):
    return array_ops._slice_helper(self, key)


def _matmul_op(x, y):
    return matmul(x, y, name="matmul")


def _install_operators(cls):
    ops = {
        "__add__": _op_name(add, "add"),
        "__radd__": _r(_op_name(add, "add")),
        "__sub__": _op_name(subtract, "sub"),
        "__rsub__": _r(_op_name(subtract, "sub")),
        "__mul__": _op_name(multiply, "mul"),
        "__rmul__": _r(_op_name(multiply, "mul")),
        "__truediv__": _op_name(truediv, "truediv"),
        "__rtruediv__": _r(_op_name(truediv, "truediv")),
        "__floordiv__": _op_name(floordiv, "floordiv"),
        "__rfloordiv__": _r(_op_name(floordiv, "floordiv")),
        "__mod__": _op_name(floormod, "mod"),
        "__rmod__": _r(_op_name(floormod, "mod")),
        "__pow__": _op_name(pow, "pow"),
        "__rpow__": _r(_op_name(pow, "pow")),
        "__matmul__": _matmul_op,
        "__rmatmul__": _r(_matmul_op),
        "__lt__": _op_name(less, "Less"),
        "__le__": _op_name(less_equal, "LessEqual"),
        "__gt__": _op_name(greater, "Greater"),
        "__ge__": _op_name(greater_equal, "GreaterEqual"),
        "__and__": _op_name(logical_and, "LogicalAnd"),
        "__rand__": _r(_op_name(logical_and, "LogicalAnd")),
        "__or__": _op_name(logical_or, "LogicalOr"),
        "__ror__": _r(_op_name(logical_or, "LogicalOr")),
        "__xor__": _op_name(logical_xor, "LogicalXor"),
        "__neg__": lambda x: negative(x, name="Neg"),
        "__abs__": lambda x: abs(x, name="Abs"),
        "__invert__": lambda x: logical_not(x, name="LogicalNot"),
        "__getitem__": _getitem,
    }
    for k, v in ops.items():
        setattr(cls, k, v)


_install_operators(Tensor)

# Used by array_ops.transpose with unknown rank.
_ = builtins


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    with name_scope(name, "clip_by_value", [t]):
        t = convert_to_tensor(t)
        return maximum(minimum(t, clip_value_max), clip_value_min)


def global_norm(t_list, name=None):
    with name_scope(name, "global_norm", t_list):
        sq = [reduce_sum(square(convert_to_tensor(t))) for t in t_list if t is not None]
        return sqrt(add_n(sq))


def clip_by_norm(t, clip_norm, axes=None, name=None):
    with name_scope(name, "clip_by_norm", [t]):
        t = convert_to_tensor(t)
        l2 = sqrt(reduce_sum(square(t), axes, keepdims=True))
        c = convert_to_tensor(clip_norm, dtype=t.dtype)
        return t * c / maximum(l2, c)


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    with name_scope(name, "clip_by_global_norm", t_list):
        norm = use_norm if use_norm is not None else global_norm(t_list)
        c = convert_to_tensor(clip_norm, dtype=norm.dtype)
        scale = c / maximum(norm, c)
        out = []
        for t in t_list:
            if t is None:
                out.append(None)
            else:
                t = convert_to_tensor(t)
                out.append(t * array_ops.cast(scale, t.dtype))
        return out, norm


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None, keep_dims=None):  # noqa: A002
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name, "norm", [tensor]):
        t = convert_to_tensor(tensor)
        if ord in ("euclidean", 2, 2.0, "fro"):
            return sqrt(reduce_sum(square(t), axis, keepdims=keep))
        if ord == 1:
            return reduce_sum(abs(t), axis, keepdims=keep)
        if ord == np.inf:
            return reduce_max(abs(t), axis, keepdims=keep)
        raise ValueError("norm: unsupported ord %r" % (ord,))
