"""Random tensors: random_normal, truncated_normal, random_uniform.

Seeds follow TensorFlow's get_seed (graph seed, op seed). A module of its own
so that array_ops (constants, shapes) needs nothing of math_ops, which these
scale and shift with.
"""
from . import dtypes as _dtypes
from . import math_ops
from .array_ops import _shape_tensor
from .framework import attr_int, attr_type, convert_to_tensor, get_seed, make_op1, name_scope


def _random(op_type, shape, dtype, seed, name):
    dtype = _dtypes.as_dtype(dtype)
    s = _shape_tensor(shape)
    seed1, seed2 = get_seed(seed)
    return make_op1(op_type, [s],
                    [attr_int("seed", seed1 or 0), attr_int("seed2", seed2 or 0),
                     attr_type("dtype", dtype), attr_type("T", s.dtype)], name=name or op_type)


def random_normal(shape, mean=0.0, stddev=1.0, dtype=_dtypes.float32, seed=None, name=None):
    with name_scope(name, "random_normal", [shape, mean, stddev]):
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        std_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random("RandomStandardNormal", shape, dtype, seed, None)
        return math_ops.add(math_ops.multiply(rnd, std_t, name="mul"), mean_t, name="add")


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=_dtypes.float32, seed=None, name=None):
    with name_scope(name, "truncated_normal", [shape, mean, stddev]):
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        std_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        rnd = _random("TruncatedNormal", shape, dtype, seed, None)
        return math_ops.add(math_ops.multiply(rnd, std_t, name="mul"), mean_t, name="add")


def random_uniform(shape, minval=0, maxval=None, dtype=_dtypes.float32, seed=None, name=None):
    dtype = _dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise NotImplementedError("random_uniform supports floating dtypes only (RandomUniformInt "
                                  "is not in Loom's op set)")
    if maxval is None:
        maxval = 1
    with name_scope(name, "random_uniform", [shape, minval, maxval]):
        lo = convert_to_tensor(minval, dtype=dtype, name="min")
        hi = convert_to_tensor(maxval, dtype=dtype, name="max")
        rnd = _random("RandomUniform", shape, dtype, seed, None)
        return math_ops.add(math_ops.multiply(rnd, math_ops.subtract(hi, lo, name="sub"),
                                              name="mul"), lo, name="add")
