"""convert_to_tensor goes through registered conversion functions (as in
TensorFlow), so framework needs no module that makes tensors: the modules form
a chain framework <- array_ops <- math_ops <- random_ops, without cycles."""
import ast
import os

import numpy as np
import pytest

import loom as tf
from conftest import run

PKG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "loom")


def _imports(module):
    """The sibling modules a module imports, at its top or inside functions."""
    tree = ast.parse(open(os.path.join(PKG, module + ".py")).read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(a.name for a in node.names)
    return found


def test_tensor_modules_import_each_other_in_one_direction():
    assert not _imports("framework") & {"array_ops", "math_ops", "random_ops", "variables"}
    assert not _imports("array_ops") & {"math_ops", "random_ops"}
    assert not _imports("math_ops") & {"random_ops"}
    assert {"math_ops", "array_ops"} <= _imports("random_ops")


class _Meters(object):
    def __init__(self, v):
        self.v = v


def test_registered_conversion_function_converts_its_type():
    tf.register_tensor_conversion_function(
        _Meters, lambda m, dtype=None, name=None, as_ref=False: tf.constant(m.v * 100.0, dtype=dtype))
    y = tf.add(_Meters(np.array([1.5, 2.0], np.float32)), 1.0)
    np.testing.assert_allclose(run(y), [151.0, 201.0])


def test_not_implemented_passes_to_the_next_function_by_priority():
    class Pair(object):
        pass
    calls = []

    def declines(v, dtype=None, name=None, as_ref=False):
        calls.append("declines")
        return NotImplemented

    def accepts(v, dtype=None, name=None, as_ref=False):
        calls.append("accepts")
        return tf.constant([7, 8], dtype=dtype)

    tf.register_tensor_conversion_function(Pair, accepts, priority=50)
    tf.register_tensor_conversion_function(Pair, declines, priority=10)
    np.testing.assert_array_equal(run(tf.convert_to_tensor(Pair())), [7, 8])
    assert calls == ["declines", "accepts"]


def test_lists_holding_tensors_are_stacked_and_other_values_are_consts():
    a = tf.constant(1.0)
    packed = tf.convert_to_tensor([a, 2.0])
    assert packed.op.type == "Pack"
    np.testing.assert_array_equal(run(packed), [1.0, 2.0])
    c = tf.convert_to_tensor([[1, 2]])
    assert c.op.type == "Const" and c.dtype == tf.int32


def test_preferred_dtype_is_tried_first_and_dropped_when_it_does_not_fit():
    assert tf.convert_to_tensor(3, preferred_dtype=tf.int64).dtype == tf.int64
    assert tf.convert_to_tensor(2.5, preferred_dtype=tf.int32).dtype == tf.float32


def test_operations_do_not_convert():
    with pytest.raises(TypeError, match="Can't convert Operation"):
        tf.convert_to_tensor(tf.no_op(name="nothing"))


def test_random_ops_live_in_their_module():
    from loom import random_ops
    assert tf.random_normal is random_ops.random_normal
    tf.set_random_seed(1)
    x = run(tf.random_uniform([1000], -2.0, 3.0, seed=4))
    assert x.min() >= -2.0 and x.max() < 3.0
    assert abs(x.mean() - 0.5) < 0.2  # mean of U(-2, 3); sd of the mean 1.44/sqrt(1000)
