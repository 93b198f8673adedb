"""Errors arrive as TensorFlow's exception classes, naming the op."""
import numpy as np
import pytest

import loom as tf
from loom import errors


def test_shape_mismatch_at_build_time():
    a = tf.constant(np.zeros((2, 3), np.float32))
    b = tf.constant(np.zeros((4, 5), np.float32))
    with pytest.raises(errors.InvalidArgumentError) as e:
        tf.matmul(a, b, name="bad_matmul")
    assert e.value.op_name == "bad_matmul"
    assert "bad_matmul" in str(e.value)
    # TensorFlow raises ValueError here; code written for it still catches it
    with pytest.raises(ValueError):
        tf.add(a, b)


def test_dtype_mismatch_at_build_time():
    a = tf.constant([1.0])
    b = tf.constant([1])
    with pytest.raises(TypeError):
        tf.add(a, b)


def test_missing_feed_at_run_time():
    x = tf.placeholder(tf.float32, [2], name="needs_feed")
    y = x * 2.0
    with tf.Session() as s:
        with pytest.raises(errors.InvalidArgumentError) as e:
            s.run(y)
    assert e.value.op is not None and e.value.op.name == "needs_feed"
    assert "needs_feed" in e.value.message
    assert e.value.error_code == errors.INVALID_ARGUMENT


def test_feeding_a_wrong_dtype():
    x = tf.placeholder(tf.int32, [2], name="ints")
    with tf.Session() as s:
        with pytest.raises(errors.InvalidArgumentError) as e:
            s.run(x + 1, {x: np.array([1.5, 2.5])})
    assert e.value.op is not None and e.value.op.name == "ints"
    assert "float64" in str(e.value) and "int32" in str(e.value)


def test_uninitialized_variable():
    v = tf.Variable([1.0, 2.0], name="not_ready")
    with tf.Session() as s:
        with pytest.raises(errors.FailedPreconditionError) as e:
            s.run(v * 2.0)
    assert e.value.op is not None
    assert "not_ready" in e.value.op.name
    assert "not_ready" in str(e.value)


def test_unknown_op_type():
    g = tf.get_default_graph()
    with pytest.raises(errors.OpError) as e:
        g.create_op("NoSuchOpType", [], [], name="mystery")
    assert "NoSuchOpType" in str(e.value)


def test_error_classes_by_code():
    assert errors.exception_type_from_error_code(5) is errors.NotFoundError
    assert errors.exception_type_from_error_code(9) is errors.FailedPreconditionError
    assert issubclass(errors.OutOfRangeError, errors.OpError)
    e = errors.UnimplementedError(None, None, "msg")
    assert e.error_code == errors.UNIMPLEMENTED and e.message == "msg"


def test_runtime_kernel_error_names_op():
    logits = tf.placeholder(tf.float32, [2, 3])
    labels = tf.placeholder(tf.int32, [2])
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with tf.Session() as s:
        with pytest.raises(errors.InvalidArgumentError) as e:
            s.run(loss, {logits: np.zeros((2, 3)), labels: [0, 7]})
    assert "7" in str(e.value)
    assert e.value.op is not None
    assert e.value.op.type == "SparseSoftmaxCrossEntropyWithLogits"
