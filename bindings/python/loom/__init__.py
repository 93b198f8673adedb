"""Loom: a dataflow-graph ML runtime, with TensorFlow 1.x's graph API.

    import loom as tf
    with tf.Session():
        x = tf.constant([[5, 6], [7, 8]])
        z = tf.matmul(x, x) + tf.matmul(x, [[1, 0], [0, 1]])
        print(z.eval())
"""
import types as _types

from ._lib import _C
from . import dtypes
from . import errors
from .dtypes import (DType, as_dtype, bfloat16, bool, double, float16, float32, float64,  # noqa: A004
                     half, int8, int16, int32, int64, string, uint8, uint16, uint32, uint64)
from .framework import (Dimension, Graph, GraphKeys, Operation, Tensor, TensorShape,
                        add_to_collection, add_to_collections, control_dependencies,
                        convert_to_tensor, device, get_collection, get_collection_ref,
                        get_default_graph, get_default_session, get_seed, is_tensor, name_scope,
                        register_tensor_conversion_function, reset_default_graph,
                        set_random_seed)
from .array_ops import (broadcast_to, cast, concat, constant, expand_dims, fill, gather,
                        identity, newaxis, one_hot, ones, ones_like, pack, placeholder,
                        placeholder_with_default, range, rank,  # noqa: A004
                        reshape, shape, size, slice, split, squeeze, stack, stop_gradient,  # noqa: A004
                        strided_slice, tile, to_double, to_float, to_int32, to_int64, transpose,
                        unpack, unstack, where, where_v2, zeros, zeros_like,
                        pad, unsorted_segment_sum, dynamic_stitch, invert_permutation)
from .math_ops import (abs, accumulate_n, add, add_n, arg_max, arg_min, argmax, argmin, ceil,  # noqa: A004
                       cos, count_nonzero, cumsum, div, div_no_nan, divide, equal, exp, floor,
                       floordiv, floormod, greater, greater_equal, less, less_equal, log, log1p,
                       logical_and, logical_not, logical_or, logical_xor, matmul, maximum,
                       minimum, mod, multiply, negative, not_equal, pow, realdiv, reciprocal,  # noqa: A004
                       reduce_all, reduce_any, reduce_logsumexp, reduce_max, reduce_mean,
                       reduce_min, reduce_prod, reduce_sum, round, rsqrt, scalar_mul, sigmoid,  # noqa: A004
                       sign, sin, sqrt, square, squared_difference, subtract, tanh, truediv,
                       clip_by_value, clip_by_norm, clip_by_global_norm, global_norm, norm,
                       tan, asin, acos, atan, atan2, sinh, cosh, erf, expm1, is_nan, is_inf,
                       is_finite)
from .random_ops import random_normal, random_uniform, truncated_normal
from .variables import (AUTO_REUSE, Variable, VariableScope, all_variables, assign, assign_add,
                        assign_sub, constant_initializer, get_variable, get_variable_scope,
                        glorot_normal_initializer, glorot_uniform_initializer,
                        global_variables, global_variables_initializer, group,
                        initialize_all_variables, initialize_local_variables,
                        initialize_variables, is_variable_initialized, local_variables,
                        local_variables_initializer, model_variables, no_op, ones_initializer,
                        random_normal_initializer, random_uniform_initializer,
                        trainable_variables, truncated_normal_initializer,
                        variable_op_scope, variable_scope, variables_initializer,
                        variance_scaling_initializer, zeros_initializer)
from .gradients_impl import NoGradient, NotDifferentiable, RegisterGradient, gradients
from .session import (ConfigProto, GPUOptions, InteractiveSession, RunMetadata, RunOptions,
                      Session)
from .graph_io import GraphDef, import_graph_def
from .data_flow_ops import (ConditionalAccumulator, ConditionalAccumulatorBase, FIFOQueue,
                            PaddingFIFOQueue, QueueBase, RandomShuffleQueue)
from .input import count_up_to
from .monitored_session import report_uninitialized_variables
from . import nn
from . import losses
from . import train
from . import layers
from . import datasets
from . import variables as _variables

sub = subtract
mul = multiply
neg = negative

initializers = _types.SimpleNamespace(
    zeros=_variables.Zeros, ones=_variables.Ones, constant=_variables.Constant,
    random_normal=_variables.RandomNormal, truncated_normal=_variables.TruncatedNormal,
    random_uniform=_variables.RandomUniform, variance_scaling=_variables.VarianceScaling,
    glorot_uniform=glorot_uniform_initializer, glorot_normal=glorot_normal_initializer,
    he_normal=_variables.he_normal, he_uniform=_variables.he_uniform,
    lecun_normal=_variables.lecun_normal, lecun_uniform=_variables.lecun_uniform,
    global_variables=global_variables_initializer, variables=variables_initializer,
    local_variables=local_variables_initializer)

random = _types.SimpleNamespace(normal=random_normal, uniform=random_uniform,
                                truncated_normal=truncated_normal, set_seed=set_random_seed,
                                set_random_seed=set_random_seed)

math = _types.SimpleNamespace(
    abs=abs, add=add, add_n=add_n, argmax=argmax, argmin=argmin, ceil=ceil, cos=cos,
    cumsum=cumsum, divide=divide, equal=equal, exp=exp, floor=floor, floordiv=floordiv,
    floormod=floormod, greater=greater, greater_equal=greater_equal, less=less,
    less_equal=less_equal, log=log, log1p=log1p, logical_and=logical_and,
    logical_not=logical_not, logical_or=logical_or, maximum=maximum, minimum=minimum,
    multiply=multiply, negative=negative, not_equal=not_equal, pow=pow, reciprocal=reciprocal,
    reduce_max=reduce_max, reduce_mean=reduce_mean, reduce_min=reduce_min,
    reduce_prod=reduce_prod, reduce_sum=reduce_sum, round=round, rsqrt=rsqrt, sigmoid=sigmoid,
    sign=sign, sin=sin, sqrt=sqrt, square=square, squared_difference=squared_difference,
    subtract=subtract, tanh=tanh, truediv=truediv, softplus=nn.softplus, tan=tan, asin=asin,
    acos=acos, atan=atan, atan2=atan2, sinh=sinh, cosh=cosh, erf=erf, expm1=expm1, is_nan=is_nan,
    is_inf=is_inf, is_finite=is_finite)

compat = _types.SimpleNamespace()
compat.v1 = __import__(__name__)

# The release version comes from the C library (one copy: CMake's
# project(VERSION)); pyproject.toml's is checked against it by tests/test_version.py.
__version__ = _C.version().split(" ")[0]
VERSION = __version__


def version():
    """The C library's version string."""
    return _C.version()


def list_devices():
    """[(name, type)] of the devices of all loaded plugins."""
    return _C.devices()


def load_op_library(path):
    """Loads a plugin that registers ops, kernels and gradients."""
    _C.load_op_library(path)


def load_plugin(path):
    _C.load_plugin(path)
