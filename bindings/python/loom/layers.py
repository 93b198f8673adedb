"""tf.layers (the functional subset tutorials use): dense, dropout, flatten."""
from . import array_ops
from . import math_ops
from . import nn
from .framework import convert_to_tensor
from .variables import Zeros, get_variable, variable_scope


def dense(inputs, units, activation=None, use_bias=True, kernel_initializer=None,
          bias_initializer=None, kernel_regularizer=None, bias_regularizer=None,
          activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          trainable=True, name=None, reuse=None):
    inputs = convert_to_tensor(inputs)
    in_dim = inputs.shape[-1].value
    if in_dim is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. "
                         "Found `None`.")
    with variable_scope(name, default_name="dense", values=[inputs], reuse=reuse):
        kernel = get_variable("kernel", [in_dim, units], dtype=inputs.dtype,
                              initializer=kernel_initializer, regularizer=kernel_regularizer,
                              trainable=trainable)
        if inputs.shape.ndims == 2:
            out = math_ops.matmul(inputs, kernel)
        else:
            flat = array_ops.reshape(inputs, [-1, in_dim])
            out = math_ops.matmul(flat, kernel)
            shape = array_ops.concat([array_ops.shape(inputs)[:-1], [units]], 0)
            out = array_ops.reshape(out, shape)
        if use_bias:
            bias = get_variable("bias", [units], dtype=inputs.dtype,
                                initializer=bias_initializer or Zeros(),
                                regularizer=bias_regularizer, trainable=trainable)
            out = nn.bias_add(out, bias)
        if activation is not None:
            out = activation(out)
        return out


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    if training is False:
        return inputs
    if training is True:
        return nn.dropout(inputs, keep_prob=1.0 - rate, noise_shape=noise_shape, seed=seed,
                          name=name)
    raise NotImplementedError("layers.dropout with a tensor `training` needs tf.cond")


def flatten(inputs, name=None):
    inputs = convert_to_tensor(inputs)
    dims = inputs.shape.as_list()[1:]
    if all(d is not None for d in dims):
        n = 1
        for d in dims:
            n *= d
        return array_ops.reshape(inputs, [-1, n], name=name)
    return array_ops.reshape(inputs, array_ops.stack([array_ops.shape(inputs)[0], -1]),
                             name=name)
