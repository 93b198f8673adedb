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
    return _dropout_tensor_training(inputs, rate, noise_shape, seed, training, name)


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


# ---------------------------------------------------------------- convolutional layers
# tf.layers.conv2d / max_pooling2d / average_pooling2d / batch_normalization
# (functional forms, channels_last), with TensorFlow's argument names and
# variable names (<name>/kernel, <name>/bias, <name>/gamma, ...).

from . import framework as _framework  # noqa: E402
from . import variables as _variables  # noqa: E402
from .variables import Ones  # noqa: E402


def _pair(v, name):
    if isinstance(v, int):
        return [v, v]
    v = [int(x) for x in v]
    if len(v) == 1:
        return v * 2
    if len(v) != 2:
        raise ValueError("The `%s` argument must be a tuple of 2 integers. Received: %s"
                         % (name, v))
    return v


def _channels_last(data_format):
    if data_format not in ("channels_last", "NHWC", None):
        raise NotImplementedError("data_format %r: Loom's CPU kernels are channels_last (NHWC) "
                                  "only" % (data_format,))


def conv2d(inputs, filters, kernel_size, strides=(1, 1), padding="valid",
           data_format="channels_last", dilation_rate=(1, 1), activation=None, use_bias=True,
           kernel_initializer=None, bias_initializer=None, kernel_regularizer=None,
           bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
           bias_constraint=None, trainable=True, name=None, reuse=None):
    """tf.layers.conv2d: a 2-D convolution (+ bias, + activation) over NHWC inputs."""
    _channels_last(data_format)
    inputs = convert_to_tensor(inputs)
    in_ch = inputs.shape[-1].value
    if in_ch is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    kh, kw = _pair(kernel_size, "kernel_size")
    with variable_scope(name, default_name="conv2d", values=[inputs], reuse=reuse):
        kernel = get_variable("kernel", [kh, kw, in_ch, filters], dtype=inputs.dtype,
                              initializer=kernel_initializer, regularizer=kernel_regularizer,
                              trainable=trainable)
        out = nn.conv2d(inputs, kernel, strides=_pair(strides, "strides"),
                        padding=padding.upper(), dilations=_pair(dilation_rate, "dilation_rate"),
                        name="Conv2D")
        if use_bias:
            bias = get_variable("bias", [filters], dtype=inputs.dtype,
                                initializer=bias_initializer or Zeros(),
                                regularizer=bias_regularizer, trainable=trainable)
            out = nn.bias_add(out, bias)
        if activation is not None:
            out = activation(out)
        return out


def _pooling2d(op, inputs, pool_size, strides, padding, data_format, name, default):
    _channels_last(data_format)
    with _framework.name_scope(name, default, [inputs]):
        return op(inputs, ksize=_pair(pool_size, "pool_size"), strides=_pair(strides, "strides"),
                  padding=padding.upper())


def max_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                  name=None):
    return _pooling2d(nn.max_pool, inputs, pool_size, strides, padding, data_format, name,
                      "max_pooling2d")


def average_pooling2d(inputs, pool_size, strides, padding="valid", data_format="channels_last",
                      name=None):
    return _pooling2d(nn.avg_pool, inputs, pool_size, strides, padding, data_format, name,
                      "average_pooling2d")


def _dropout_tensor_training(inputs, rate, noise_shape, seed, training, name):
    """dropout with a boolean tensor `training`: keep_prob is 1 - rate when it is true and 1
    when false, and floor(1 + U[0, 1)) == 1 keeps every element, so one graph serves both."""
    with _framework.name_scope(name, "dropout", [inputs]):
        inputs = convert_to_tensor(inputs)
        training = convert_to_tensor(training)
        keep = array_ops.where_v2(training, array_ops.constant(1.0 - rate, dtype=inputs.dtype),
                                  array_ops.constant(1.0, dtype=inputs.dtype))
        return nn.dropout(inputs, keep_prob=keep, noise_shape=noise_shape, seed=seed)


def batch_normalization(inputs, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                        beta_initializer=None, gamma_initializer=None,
                        moving_mean_initializer=None, moving_variance_initializer=None,
                        beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                        gamma_constraint=None, training=False, trainable=True, name=None,
                        reuse=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                        fused=None, virtual_batch_size=None, adjustment=None):
    """tf.layers.batch_normalization over the last axis, on FusedBatchNormV3.

    As in TensorFlow, training=True normalises with the batch's statistics and
    adds the moving-average updates to tf.GraphKeys.UPDATE_OPS (run them with
    the train op); training=False uses the moving averages. `training` may be
    a boolean tensor."""
    if renorm or virtual_batch_size or adjustment:
        raise NotImplementedError("batch_normalization: renorm, virtual_batch_size and "
                                  "adjustment are not supported")
    inputs = convert_to_tensor(inputs)
    ndims = inputs.shape.ndims
    if ndims is None:
        raise ValueError("Input has undefined rank.")
    if axis not in (-1, ndims - 1):
        raise NotImplementedError("batch_normalization over axis %d: only the last axis "
                                  "(channels_last) is supported" % axis)
    ch = inputs.shape[-1].value
    if ch is None:
        raise ValueError("Input has undefined channel dimension.")
    with variable_scope(name, default_name="batch_normalization", values=[inputs], reuse=reuse):
        gamma = get_variable("gamma", [ch], initializer=gamma_initializer or Ones(),
                             regularizer=gamma_regularizer, trainable=trainable and scale) \
            if scale else array_ops.ones([ch])
        beta = get_variable("beta", [ch], initializer=beta_initializer or Zeros(),
                            regularizer=beta_regularizer, trainable=trainable and center) \
            if center else array_ops.zeros([ch])
        moving_mean = get_variable("moving_mean", [ch],
                                   initializer=moving_mean_initializer or Zeros(),
                                   trainable=False)
        moving_var = get_variable("moving_variance", [ch],
                                  initializer=moving_variance_initializer or Ones(),
                                  trainable=False)
        x = inputs if ndims == 4 else array_ops.reshape(inputs, [-1, 1, 1, ch])

        def fused(is_training):
            if is_training:
                return nn.fused_batch_norm(x, gamma, beta, epsilon=epsilon, is_training=True)
            return nn.fused_batch_norm(x, gamma, beta, mean=moving_mean, variance=moving_var,
                                       epsilon=epsilon, is_training=False)

        if training is False:
            y = fused(False)[0]
        else:
            y_train, batch_mean, batch_var = fused(True)
            decay = 1.0 - momentum
            if training is True:
                y = y_train
            else:
                training = convert_to_tensor(training)
                y = array_ops.where_v2(training, y_train, fused(False)[0])
                decay = array_ops.where_v2(training, array_ops.constant(decay),
                                           array_ops.constant(0.0))
            g = _framework.get_default_graph()
            for var, value in ((moving_mean, batch_mean), (moving_var, batch_var)):
                upd = _variables.assign_sub(var, (var - value) * decay)
                g.add_to_collection(_framework.GraphKeys.UPDATE_OPS, upd)
        if ndims != 4:
            y = array_ops.reshape(y, array_ops.shape(inputs))
        return y
