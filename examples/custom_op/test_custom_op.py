"""The op library example: the op computes alpha*softplus, its C-registered
gradient matches central differences, and training through it fits the data."""
import os

import numpy as np
import pytest

import loom as tf
from loom.framework import attr_float, make_op1

LIB = os.path.join(os.environ.get("LOOM_LIBRARY_DIR", ""), "loom", "ops", "libscaled_softplus.so")
pytestmark = pytest.mark.skipif(not os.path.exists(LIB), reason="libscaled_softplus.so not built at " + LIB)


def test_values_and_gradient_match_the_formula():
    tf.load_op_library(LIB)
    xs = np.array([-30.0, -2.0, 0.0, 0.5, 3.0, 40.0])
    x = tf.placeholder(tf.float32, [6])
    y = make_op1("ScaledSoftplus", [x], [attr_float("alpha", 1.5)])
    (dx,) = tf.gradients(tf.reduce_sum(y), [x])
    with tf.Session() as s:
        got, grad = s.run([y, dx], {x: xs.astype(np.float32)})
    np.testing.assert_allclose(got, 1.5 * np.logaddexp(0, xs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, 1.5 / (1 + np.exp(-xs)), rtol=1e-5, atol=1e-6)


def test_training_through_the_op_reduces_the_loss_tenfold():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "train_scaled_softplus", os.path.join(os.path.dirname(__file__), "train_scaled_softplus.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    first, last = mod.main(LIB, steps=300)
    assert last < first / 10, (first, last)
