"""Graphs: names, scopes, variable reuse, control dependencies, devices."""
import numpy as np
import pytest

import loom as tf


def test_unique_names_like_tensorflow():
    a = tf.constant(1.0)
    b = tf.constant(2.0)
    m1 = tf.matmul([[1.0]], [[2.0]])
    m2 = tf.matmul([[1.0]], [[2.0]])
    assert (a.op.name, b.op.name) == ("Const", "Const_1")
    assert (m1.op.name, m2.op.name) == ("MatMul", "MatMul_1")
    assert a.name == "Const:0"
    c = tf.constant(3.0, name="c")
    d = tf.constant(3.0, name="c")
    assert (c.op.name, d.op.name) == ("c", "c_1")


def test_name_scopes():
    with tf.name_scope("dense"):
        x = tf.constant(1.0, name="x")
        y = tf.add(x, x)
        with tf.name_scope("inner") as scope:
            z = tf.identity(y)
    with tf.name_scope("dense"):
        w = tf.identity(x)
    assert x.op.name == "dense/x"
    assert y.op.name == "dense/Add"
    assert scope == "dense/inner/"
    assert z.op.name == "dense/inner/Identity"
    assert w.op.name == "dense_1/Identity"
    with tf.name_scope("dense/"):  # re-entered as is
        assert tf.identity(x).op.name == "dense/Identity"


def test_graph_queries():
    g = tf.get_default_graph()
    x = tf.placeholder(tf.float32, [2, None], name="x")
    y = tf.nn.relu(x, name="y")
    assert g.get_tensor_by_name("y:0") is y
    assert g.get_operation_by_name("x") is x.op
    assert y.op.type == "Relu" and y.op.inputs[0] is x
    assert [o.name for o in g.get_operations()] == ["x", "y"]
    assert x.shape.as_list() == [2, None]
    assert y.get_shape().as_list() == [2, None]
    assert y.dtype == tf.float32 and y.graph is g
    assert x.op.get_attr("dtype") == tf.float32
    assert y.op.get_attr("T") == tf.float32
    assert x.consumers() == [y.op]


def test_graphs_are_separate():
    g1, g2 = tf.Graph(), tf.Graph()
    with g1.as_default():
        a = tf.constant(1.0)
        assert tf.get_default_graph() is g1
    with g2.as_default():
        b = tf.constant(2.0)
    assert a.graph is g1 and b.graph is g2 and a.op.name == b.op.name == "Const"
    with pytest.raises(ValueError):
        tf.add(a, b)


def test_variables_names_and_collections():
    v = tf.Variable(tf.zeros([2, 3]), name="weights")
    u = tf.Variable(1.0, trainable=False)
    assert v.name == "weights:0" and v.op.name == "weights" and v.op.type == "VariableV2"
    assert v.initializer.name == "weights/Assign"
    assert v.value().op.name == "weights/read"
    assert v.shape.as_list() == [2, 3] and v.dtype == tf.float32
    assert tf.global_variables() == [v, u]
    assert tf.trainable_variables() == [v]
    init = tf.global_variables_initializer()
    assert init.name == "init"


def test_variable_scope_and_get_variable_reuse():
    with tf.variable_scope("layer"):
        w = tf.get_variable("w", [2, 2], initializer=tf.ones_initializer())
        y = tf.identity(w)
    assert w.name == "layer/w:0"
    assert y.op.name == "layer/Identity"
    with pytest.raises(ValueError, match="already exists"):
        with tf.variable_scope("layer"):
            tf.get_variable("w", [2, 2])
    with tf.variable_scope("layer", reuse=True):
        assert tf.get_variable("w") is w
        with pytest.raises(ValueError, match="does not exist"):
            tf.get_variable("nope", [1])
    with tf.variable_scope("layer") as scope:
        scope.reuse_variables()
        assert tf.get_variable("w", [2, 2]) is w
    with tf.variable_scope("layer", reuse=tf.AUTO_REUSE):
        assert tf.get_variable("w", [2, 2]) is w
        b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
    assert b.name == "layer/b:0"
    with pytest.raises(ValueError, match="specified shape"):
        with tf.variable_scope("layer", reuse=True):
            tf.get_variable("w", [3, 3])
    with tf.variable_scope("outer"):
        with tf.variable_scope("inner"):
            v = tf.get_variable("v", [], initializer=tf.constant_initializer(4.0))
    assert v.name == "outer/inner/v:0"
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(s.run(w), np.ones((2, 2)))
        assert s.run(v) == 4.0


def test_default_initializer_is_glorot_uniform():
    w = tf.get_variable("w", [100, 200])
    with tf.Session() as s:
        s.run(tf.global_variables_initializer())
        r = s.run(w)
    limit = np.sqrt(6.0 / 300)
    assert r.min() >= -limit and r.max() <= limit and r.std() > limit / 3


def test_control_dependencies_order_side_effects():
    v = tf.Variable(0.0)
    inc = tf.assign_add(v, 1.0)
    with tf.control_dependencies([inc]):
        read = tf.identity(v.value())
    assert inc.op in read.op.control_inputs
    with tf.Session() as s:
        s.run(v.initializer)
        s.run(read)
        s.run(read)
        assert s.run(v) == 2.0
    g = tf.group(inc, read)
    assert g.type == "NoOp" and set(g.control_inputs) == {inc.op, read.op}


def test_device_scopes_are_recorded():
    with tf.device("/cpu:0"):
        a = tf.constant(1.0)
        with tf.device(None):
            b = tf.constant(1.0)
    c = tf.constant(1.0)
    assert "CPU:0" in a.op.device
    assert b.op.device == "" and c.op.device == ""
    with tf.Session() as s:
        assert s.run(a) == 1.0


def test_tensor_bool_and_shape_helpers():
    x = tf.placeholder(tf.float32, [None, 3])
    with pytest.raises(TypeError):
        bool(x)
    assert x.shape.ndims == 2 and x.shape[1].value == 3 and x.shape[0].value is None
    assert not x.shape.is_fully_defined()
    x.set_shape([4, 3])
    assert x.shape.as_list() == [4, 3]
    assert tf.placeholder(tf.int32).shape.ndims is None


def test_dtypes_from_strings_and_numpy():
    assert tf.as_dtype("float") is tf.float32
    assert tf.as_dtype("int32") is tf.int32
    assert tf.as_dtype(np.float64) is tf.float64
    assert tf.float32.as_numpy_dtype is np.float32
    assert tf.float32 == "float32" and tf.int64.is_integer and tf.float16.is_floating
    assert tf.placeholder("float").dtype == tf.float32
    assert tf.float32.as_datatype_enum == 1 and tf.int64.as_datatype_enum == 9
