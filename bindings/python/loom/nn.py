"""tf.nn: activations, softmax, losses over logits, dropout, bias_add."""
from . import array_ops
from . import dtypes as _dtypes
from . import math_ops
from . import random_ops
from .framework import Tensor, attr_float, attr_string, attr_type, convert_to_tensor, make_op, make_op1, name_scope


def _activation(op_type, doc):
    def fn(features, name=None):
        x = convert_to_tensor(features)
        return make_op1(op_type, [x], [attr_type("T", x.dtype)], name=name or op_type)
    fn.__name__ = op_type.lower()
    fn.__doc__ = doc
    return fn


relu = _activation("Relu", "max(features, 0).")
relu6 = _activation("Relu6", "min(max(features, 0), 6).")
elu = _activation("Elu", "features < 0 ? exp(features) - 1 : features.")
selu = _activation("Selu", "scale * (features < 0 ? alpha * (exp(features) - 1) : features), "
                           "scale = 1.0507..., alpha = 1.6732... (Klambauer et al., 2017).")
softplus = _activation("Softplus", "log(exp(features) + 1).")
softsign = _activation("Softsign", "features / (abs(features) + 1).")


def leaky_relu(features, alpha=0.2, name=None):
    """features > 0 ? features : alpha * features."""
    x = convert_to_tensor(features)
    return make_op1("LeakyRelu", [x], [attr_type("T", x.dtype), attr_float("alpha", alpha)],
                    name=name or "LeakyRelu")


sigmoid = math_ops.sigmoid
tanh = math_ops.tanh


def _last_axis_op(op_type, logits, axis, name):
    x = convert_to_tensor(logits)
    r = x.shape.ndims
    if axis is None or axis == -1 or (r is not None and axis == r - 1):
        return make_op1(op_type, [x], [attr_type("T", x.dtype)], name=name or op_type)
    if r is None:
        raise ValueError("%s over axis %d needs a known rank" % (op_type, axis))
    axis = axis % r
    perm = list(range(r))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    y = make_op1(op_type, [array_ops.transpose(x, perm)], [attr_type("T", x.dtype)])
    return array_ops.transpose(y, perm, name=name)


def softmax(logits, axis=None, name=None, dim=None):
    return _last_axis_op("Softmax", logits, axis if axis is not None else dim, name)


def log_softmax(logits, axis=None, name=None, dim=None):
    return _last_axis_op("LogSoftmax", logits, axis if axis is not None else dim, name)


def bias_add(value, bias, data_format=None, name=None):
    value = convert_to_tensor(value)
    bias = convert_to_tensor(bias, dtype=value.dtype)
    return make_op1("BiasAdd", [value, bias],
                    [attr_type("T", value.dtype), attr_string("data_format", data_format or "NHWC")],
                    name=name or "BiasAdd")


def xw_plus_b(x, weights, biases, name=None):
    with name_scope(name, "xw_plus_b", [x, weights, biases]):
        return bias_add(math_ops.matmul(x, weights), biases)


def l2_loss(t, name=None):
    t = convert_to_tensor(t)
    return make_op1("L2Loss", [t], [attr_type("T", t.dtype)], name=name or "L2Loss")


def softmax_cross_entropy_with_logits_v2(_sentinel=None, labels=None, logits=None, dim=-1,
                                         name=None, axis=None):
    """Per-example cross entropy; gradients reach the labels too."""
    if _sentinel is not None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits_v2` with named "
                         "arguments (labels=..., logits=..., ...)")
    if axis is not None:
        dim = axis
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, dtype=logits.dtype)
    r = logits.shape.ndims
    if dim != -1 and not (r is not None and dim == r - 1):
        raise NotImplementedError("softmax_cross_entropy_with_logits over a non-last axis")
    with name_scope(name, "softmax_cross_entropy_with_logits", [logits, labels]) as scope:
        if r is not None and r != 2:
            n_classes = array_ops.shape(logits)[-1]
            flat_logits = array_ops.reshape(logits, array_ops.stack([-1, n_classes]))
            flat_labels = array_ops.reshape(labels, array_ops.stack([-1, n_classes]))
            op = make_op("SoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                         [attr_type("T", logits.dtype)])
            return array_ops.reshape(op.outputs[0], array_ops.shape(logits)[:-1],
                                     name=scope[:-1].rsplit("/", 1)[-1] + "_Reshape")
        op = make_op("SoftmaxCrossEntropyWithLogits", [logits, labels],
                     [attr_type("T", logits.dtype)])
        return op.outputs[0]


def softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, dim=-1,
                                      name=None, axis=None):
    """TensorFlow 1's version: no gradient flows into the labels."""
    if _sentinel is not None:
        raise ValueError("Only call `softmax_cross_entropy_with_logits` with named arguments "
                         "(labels=..., logits=..., ...)")
    labels = array_ops.stop_gradient(convert_to_tensor(labels), name="labels_stop_gradient")
    return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, dim=dim, name=name,
                                                axis=axis)


def sparse_softmax_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None,
                                             name=None):
    if _sentinel is not None:
        raise ValueError("Only call `sparse_softmax_cross_entropy_with_logits` with named "
                         "arguments (labels=..., logits=..., ...)")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    if labels.dtype not in (_dtypes.int32, _dtypes.int64):
        raise TypeError("labels must be int32 or int64, got %s" % labels.dtype.name)
    lr, xr = labels.shape.ndims, logits.shape.ndims
    if lr is not None and xr is not None and lr != xr - 1:
        raise ValueError("Rank mismatch: Rank of labels (received %d) should equal rank of "
                         "logits minus 1 (received %d)." % (lr, xr))
    with name_scope(name, "SparseSoftmaxCrossEntropyWithLogits", [labels, logits]):
        if xr is not None and xr != 2:
            n_classes = array_ops.shape(logits)[-1]
            flat_logits = array_ops.reshape(logits, array_ops.stack([-1, n_classes]))
            flat_labels = array_ops.reshape(labels, [-1])
            op = make_op("SparseSoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                         [attr_type("T", logits.dtype), attr_type("Tlabels", labels.dtype)])
            return array_ops.reshape(op.outputs[0], array_ops.shape(labels))
        op = make_op("SparseSoftmaxCrossEntropyWithLogits", [logits, labels],
                     [attr_type("T", logits.dtype), attr_type("Tlabels", labels.dtype)])
        return op.outputs[0]


def sigmoid_cross_entropy_with_logits(_sentinel=None, labels=None, logits=None, name=None):
    """max(x, 0) - x * z + log(1 + exp(-|x|)), TensorFlow's stable form."""
    with name_scope(name, "logistic_loss", [logits, labels]):
        x = convert_to_tensor(logits)
        z = convert_to_tensor(labels, dtype=x.dtype)
        zeros = array_ops.zeros_like(x)
        relu_logits = array_ops.where(math_ops.greater_equal(x, zeros), x, zeros)
        neg_abs = array_ops.where(math_ops.greater_equal(x, zeros), -x, x)
        return math_ops.add(relu_logits - x * z, math_ops.log1p(math_ops.exp(neg_abs)))


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Keeps each element with probability keep_prob, scaled by 1/keep_prob."""
    if keep_prob is None and rate is None:
        raise ValueError("You must provide a rate to dropout.")
    with name_scope(name, "dropout", [x]):
        x = convert_to_tensor(x)
        if keep_prob is None:
            keep_prob = 1 - convert_to_tensor(rate, dtype=x.dtype) if isinstance(
                rate, Tensor) else 1.0 - rate
        if not isinstance(keep_prob, Tensor) and not (0 < keep_prob <= 1):
            raise ValueError("keep_prob must be a scalar tensor or a float in the range (0, 1], "
                             "got %g" % keep_prob)
        if not isinstance(keep_prob, Tensor) and keep_prob == 1:
            return x
        kp = convert_to_tensor(keep_prob, dtype=x.dtype, name="keep_prob")
        ns = array_ops.shape(x) if noise_shape is None else noise_shape
        random_tensor = kp + random_ops.random_uniform(ns, seed=seed, dtype=x.dtype)
        binary = math_ops.floor(random_tensor)
        return math_ops.multiply(math_ops.truediv(x, kp), binary)


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    keep = bool(keepdims if keepdims is not None else keep_dims)
    with name_scope(name, "moments", [x, axes]):
        x = convert_to_tensor(x)
        mean = math_ops.reduce_mean(x, axes, keepdims=True, name="mean")
        variance = math_ops.reduce_mean(
            math_ops.squared_difference(x, array_ops.stop_gradient(mean)), axes, keepdims=True,
            name="variance")
        if not keep:
            mean = array_ops.squeeze(mean, axes)
            variance = array_ops.squeeze(variance, axes)
        return mean, variance


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    with name_scope(name, "l2_normalize", [x]):
        x = convert_to_tensor(x)
        sq = math_ops.reduce_sum(math_ops.square(x), axis if axis is not None else dim,
                                 keepdims=True)
        return math_ops.multiply(x, math_ops.rsqrt(math_ops.maximum(sq, epsilon)))


def in_top_k(predictions, targets, k, name=None):
    if k != 1:
        raise NotImplementedError("in_top_k supports k=1 only")
    with name_scope(name, "in_top_k", [predictions, targets]):
        t = convert_to_tensor(targets)
        return math_ops.equal(math_ops.argmax(predictions, 1, output_type=t.dtype), t)


def embedding_lookup(params, ids, partition_strategy="mod", name=None, validate_indices=True,
                     max_norm=None):
    if isinstance(params, (list, tuple)):
        if len(params) != 1:
            raise NotImplementedError("embedding_lookup over sharded params")
        params = params[0]
    return array_ops.gather(params, ids, name=name or "embedding_lookup")


# ---------------------------------------------------------------- convolution and pooling
# tf.nn.conv2d / max_pool / avg_pool / fused_batch_norm with TensorFlow's argument names.
# strides, ksize and dilations take an int, 1, 2 or 4 values (NHWC); padding takes
# "SAME", "VALID" or explicit [[0, 0], [top, bottom], [left, right], [0, 0]].

from .framework import attr_bool, attr_float, attr_ints  # noqa: E402


def _nhwc_sequence(value, name, data_format="NHWC"):
    """An int or a list of 1, 2 or 4 ints as the 4 values of a 2-D op's attr."""
    if value is None:
        return [1, 1, 1, 1]
    if isinstance(value, int):
        value = [value]
    value = [int(v) for v in value]
    channel_first = data_format.startswith("NC")
    if len(value) == 1:
        value = value * 2
    if len(value) == 2:
        return [1, 1] + value if channel_first else [1] + value + [1]
    if len(value) == 4:
        return value
    raise ValueError("%s should be of length 1, 2 or 4. Received: %s of length %d"
                     % (name, value, len(value)))


def _padding_attrs(padding):
    if isinstance(padding, (list, tuple)):
        flat = [int(p) for pair in padding for p in pair]
        if len(flat) != 8:
            raise ValueError("explicit padding must be 4 [before, after] pairs, got %s"
                             % (padding,))
        return [attr_string("padding", "EXPLICIT"), attr_ints("explicit_paddings", flat)]
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise ValueError("padding must be 'SAME', 'VALID' or a list of pairs, got %r"
                         % (padding,))
    return [attr_string("padding", padding.upper())]


def conv2d(input, filter=None, strides=None, padding=None, use_cudnn_on_gpu=True,  # noqa: A002
           data_format="NHWC", dilations=None, name=None, filters=None):
    """tf.nn.conv2d: input [batch, h, w, in], filter [kh, kw, in, out]."""
    if filter is None:
        filter = filters  # noqa: A001
    if filter is None:
        raise ValueError("conv2d needs a filter (filter= or filters=)")
    if padding is None:
        raise ValueError("conv2d needs padding ('SAME', 'VALID' or explicit pairs)")
    x = convert_to_tensor(input)
    w = convert_to_tensor(filter, dtype=x.dtype)
    data_format = data_format or "NHWC"
    attrs = [attr_type("T", x.dtype), attr_ints("strides", _nhwc_sequence(strides, "strides",
                                                                           data_format)),
             attr_bool("use_cudnn_on_gpu", use_cudnn_on_gpu), attr_string("data_format", data_format),
             attr_ints("dilations", _nhwc_sequence(dilations, "dilations", data_format))]
    return make_op1("Conv2D", [x, w], attrs + _padding_attrs(padding), name=name or "Conv2D")


def convolution(input, filter, padding, strides=None, dilation_rate=None, name=None,  # noqa: A002
                data_format=None, filters=None, dilations=None):
    """tf.nn.convolution for 2-D inputs (4-D tensors)."""
    return conv2d(input, filter if filter is not None else filters, strides=strides,
                  padding=padding, data_format=data_format or "NHWC",
                  dilations=dilations if dilations is not None else dilation_rate,
                  name=name or "convolution")


def conv2d_backprop_input(input_sizes, filter=None, out_backprop=None, strides=None,  # noqa: A002
                          padding=None, use_cudnn_on_gpu=True, data_format="NHWC",
                          dilations=None, name=None, filters=None):
    filter = filter if filter is not None else filters  # noqa: A001
    w = convert_to_tensor(filter)
    dy = convert_to_tensor(out_backprop, dtype=w.dtype)
    sizes = convert_to_tensor(input_sizes, dtype=_dtypes.int32)
    attrs = [attr_type("T", w.dtype), attr_ints("strides", _nhwc_sequence(strides, "strides")),
             attr_bool("use_cudnn_on_gpu", use_cudnn_on_gpu), attr_string("data_format", data_format),
             attr_ints("dilations", _nhwc_sequence(dilations, "dilations"))]
    return make_op1("Conv2DBackpropInput", [sizes, w, dy], attrs + _padding_attrs(padding),
                    name=name or "Conv2DBackpropInput")


def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                           use_cudnn_on_gpu=True, data_format="NHWC", dilations=None, name=None):
    x = convert_to_tensor(input)
    dy = convert_to_tensor(out_backprop, dtype=x.dtype)
    sizes = convert_to_tensor(filter_sizes, dtype=_dtypes.int32)
    attrs = [attr_type("T", x.dtype), attr_ints("strides", _nhwc_sequence(strides, "strides")),
             attr_bool("use_cudnn_on_gpu", use_cudnn_on_gpu), attr_string("data_format", data_format),
             attr_ints("dilations", _nhwc_sequence(dilations, "dilations"))]
    return make_op1("Conv2DBackpropFilter", [x, sizes, dy], attrs + _padding_attrs(padding),
                    name=name or "Conv2DBackpropFilter")


def _pool(op_type, value, ksize, strides, padding, data_format, name):
    x = convert_to_tensor(value)
    data_format = data_format or "NHWC"
    attrs = [attr_type("T", x.dtype), attr_ints("ksize", _nhwc_sequence(ksize, "ksize", data_format)),
             attr_ints("strides", _nhwc_sequence(strides, "strides", data_format)),
             attr_string("data_format", data_format)]
    pad = _padding_attrs(padding)
    if op_type == "AvgPool" and pad[0][2] == "EXPLICIT":
        raise ValueError("avg_pool does not support explicit padding")
    return make_op1(op_type, [x], attrs + pad, name=name or op_type)


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    """tf.nn.max_pool (TF1 argument order; `input` is TF2's name for `value`)."""
    return _pool("MaxPool", input if input is not None else value, ksize, strides, padding,
                 data_format, name)


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):  # noqa: A002
    return _pool("AvgPool", input if input is not None else value, ksize, strides, padding,
                 data_format, name)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    return _pool("MaxPool", input, ksize, strides, padding, data_format, name)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    return _pool("AvgPool", input, ksize, strides, padding, data_format, name)


def fused_batch_norm(x, scale, offset=None, mean=None, variance=None, epsilon=0.001,
                     data_format="NHWC", is_training=True, name=None, exponential_avg_factor=1.0):
    """tf.nn.fused_batch_norm (FusedBatchNormV3): returns (y, batch_mean, batch_variance)."""
    x = convert_to_tensor(x)
    scale = convert_to_tensor(scale)
    if offset is None:
        offset = array_ops.zeros_like(scale)
    offset = convert_to_tensor(offset, dtype=scale.dtype)
    if mean is None:
        mean = array_ops.constant([], dtype=scale.dtype)
    if variance is None:
        variance = array_ops.constant([], dtype=scale.dtype)
    mean = convert_to_tensor(mean, dtype=scale.dtype)
    variance = convert_to_tensor(variance, dtype=scale.dtype)
    # TensorFlow's floor on epsilon (cuDNN's minimum), kept for identical results.
    epsilon = max(float(epsilon), 1.001e-5)
    op = make_op("FusedBatchNormV3", [x, scale, offset, mean, variance],
                 [attr_type("T", x.dtype), attr_type("U", scale.dtype), attr_float("epsilon", epsilon),
                  attr_float("exponential_avg_factor", exponential_avg_factor),
                  attr_string("data_format", data_format), attr_bool("is_training", is_training)],
                 name=name or "FusedBatchNormV3")
    return op.outputs[0], op.outputs[1], op.outputs[2]


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """tf.nn.batch_normalization: (x - mean) * scale / sqrt(variance + eps) + offset."""
    with name_scope(name, "batchnorm", [x, mean, variance, scale, offset]):
        x = convert_to_tensor(x)
        inv = math_ops.rsqrt(convert_to_tensor(variance, dtype=x.dtype) + variance_epsilon)
        if scale is not None:
            inv = inv * convert_to_tensor(scale, dtype=x.dtype)
        mean = convert_to_tensor(mean, dtype=x.dtype)
        shift = (convert_to_tensor(offset, dtype=x.dtype) - mean * inv) if offset is not None \
            else -mean * inv
        return x * inv + shift


def depthwise_conv2d_native(input, filter, strides, padding, data_format="NHWC",  # noqa: A002
                            dilations=None, name=None):
    """tf.nn.depthwise_conv2d_native: filter [kh, kw, in, multiplier]; output
    channels in * multiplier."""
    x = convert_to_tensor(input)
    w = convert_to_tensor(filter, dtype=x.dtype)
    data_format = data_format or "NHWC"
    attrs = [attr_type("T", x.dtype),
             attr_ints("strides", _nhwc_sequence(strides, "strides", data_format)),
             attr_string("data_format", data_format),
             attr_ints("dilations", _nhwc_sequence(dilations, "dilations", data_format))]
    return make_op1("DepthwiseConv2dNative", [x, w], attrs + _padding_attrs(padding),
                    name=name or "DepthwiseConv2dNative")


def depthwise_conv2d(input, filter, strides, padding, rate=None, name=None,  # noqa: A002
                     data_format=None, dilations=None):
    """tf.nn.depthwise_conv2d (rate: TF1's name for the dilation rate)."""
    return depthwise_conv2d_native(input, filter, strides, padding,
                                   data_format=data_format or "NHWC",
                                   dilations=dilations if dilations is not None else rate,
                                   name=name or "depthwise")
