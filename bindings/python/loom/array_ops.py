"""Constants, placeholders, shape and array manipulation (random numbers: random_ops)."""
import builtins
import numbers

import numpy as np

from . import dtypes as _dtypes
from .framework import (Tensor, TensorShape, as_shape, attr_int, attr_ints,
                        attr_shape, attr_tensor, attr_type, convert_to_tensor, get_default_graph,
                        make_op, make_op1, name_scope, register_tensor_conversion_function)

_MAX_SMALL_CONST = 1000


def _c_order(a):
    # np.ascontiguousarray would turn a 0-d array into a 1-d one.
    return np.asarray(a, order="C")


# ---------------------------------------------------------------- constants


def _to_numpy(value, dtype):
    """value -> numpy array with TensorFlow's defaults: Python floats become
    float32 and Python ints int32 (int64 when they do not fit)."""
    if dtype is not None:
        dtype = _dtypes.as_dtype(dtype)
        src = np.asarray(value)
        if src.dtype == object or src.dtype.kind in "US":
            raise TypeError("Expected %s, got %r of type '%s' instead." % (
                dtype.name, value, type(value).__name__))
        if dtype.is_integer and src.dtype.kind == "f" and src.size and not np.all(
                np.equal(np.mod(src, 1), 0)):
            raise TypeError("Expected %s, got %r of type '%s' instead." % (
                dtype.name, value, type(value).__name__))
        if dtype.is_bool and src.dtype.kind not in "b":
            raise TypeError("Expected bool, got %r of type '%s' instead." % (
                value, type(value).__name__))
        return _c_order(src.astype(dtype.as_numpy_dtype, copy=False))
    if isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
    else:
        arr = np.asarray(value)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu" and arr.dtype != np.bool_:
            if arr.size == 0 or (arr.min() >= -2**31 and arr.max() < 2**31):
                arr = arr.astype(np.int32)
            else:
                arr = arr.astype(np.int64)
    if arr.dtype == object or arr.dtype.kind in "USO":
        raise TypeError("Failed to convert object of type %s to Tensor. Contents: %r."
                        % (type(value).__name__, value))
    if arr.dtype == np.float64 and not isinstance(value, (np.ndarray, np.generic)):
        arr = arr.astype(np.float32)
    return _c_order(arr)


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """tf.constant: a Const op holding value (broadcast to shape if given)."""
    arr = _to_numpy(value, dtype)
    if shape is not None:
        shape = [int(d) for d in as_shape(shape).as_list()]
        n = int(np.prod(shape)) if shape else 1
        if arr.size == n:
            arr = arr.reshape(shape)
        elif arr.size == 1 and not verify_shape:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        else:
            raise TypeError("Expected Tensor's shape: %s, got %s." % (tuple(shape), arr.shape))
    dt = _dtypes.as_dtype(arr.dtype)
    return get_default_graph().create_op(
        "Const", [], [attr_tensor("value", arr), attr_type("dtype", dt)], name=name)._outputs[0]


def _const_int(value, name="Const", dtype=_dtypes.int32):
    return constant(np.asarray(value, dtype=dtype.as_numpy_dtype), name=name)


def _shape_tensor(shape, name="shape"):
    """A shape as an int32 (or int64) tensor: Tensors pass, lists may hold Tensors."""
    if isinstance(shape, Tensor):
        return shape
    if hasattr(shape, "_as_tensor"):
        return shape._as_tensor()
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
        return stack([convert_to_tensor(d, dtype=_dtypes.int32) for d in shape], name=name)
    arr = np.asarray(shape)
    if arr.size == 0:
        arr = arr.astype(np.int32)
    if arr.dtype.kind == "f":
        raise TypeError("shape must be integers, got %r" % (shape,))
    if arr.size and (arr.max() >= 2**31 or arr.min() < -2**31):
        return constant(arr.astype(np.int64), name=name)
    return constant(arr.astype(np.int32).reshape(arr.shape), name=name)


def placeholder(dtype, shape=None, name=None):
    """tf.placeholder: must be fed. shape None (any) or with None dims."""
    dtype = _dtypes.as_dtype(dtype)
    attrs = [attr_type("dtype", dtype)]
    attrs.append(attr_shape("shape", shape))
    t = get_default_graph().create_op("Placeholder", [], attrs, name=name or "Placeholder")._outputs[0]
    if shape is not None:
        t.set_shape(shape)
    return t


def placeholder_with_default(input, shape, name=None):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("PlaceholderWithDefault", [input],
                    [attr_type("dtype", input.dtype), attr_shape("shape", shape)],
                    name=name or "PlaceholderWithDefault")


# ---------------------------------------------------------------- simple wrappers


def identity(input, name=None):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("Identity", [input], [attr_type("T", input.dtype)], name=name or "Identity")


def stop_gradient(input, name=None):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("StopGradient", [input], [attr_type("T", input.dtype)],
                    name=name or "StopGradient")


def prevent_gradient(input, message="", name=None):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("PreventGradient", [input], [attr_type("T", input.dtype)],
                    name=name or "PreventGradient")


def shape(input, name=None, out_type=_dtypes.int32):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("Shape", [input], [attr_type("T", input.dtype), attr_type("out_type", out_type)],
                    name=name or "Shape")


def size(input, name=None, out_type=_dtypes.int32):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("Size", [input], [attr_type("T", input.dtype), attr_type("out_type", out_type)],
                    name=name or "Size")


def rank(input, name=None):  # noqa: A002
    input = convert_to_tensor(input)
    return make_op1("Rank", [input], [attr_type("T", input.dtype)], name=name or "Rank")


def reshape(tensor, shape, name=None):
    tensor = convert_to_tensor(tensor)
    s = _shape_tensor(shape)
    return make_op1("Reshape", [tensor, s],
                    [attr_type("T", tensor.dtype), attr_type("Tshape", s.dtype)],
                    name=name or "Reshape")


def transpose(a, perm=None, name="transpose", conjugate=False):
    a = convert_to_tensor(a)
    if perm is None:
        r = a.shape.ndims
        if r is None:
            rk = rank(a)
            p = (rk - 1) - range(0, rk, 1)
        else:
            p = _const_int(list(builtins.range(r - 1, -1, -1)))
    else:
        p = perm if isinstance(perm, Tensor) else _const_int(perm)
    return make_op1("Transpose", [a, p], [attr_type("T", a.dtype), attr_type("Tperm", p.dtype)],
                    name=name or "transpose")


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    if axis is None:
        axis = dim
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    input = convert_to_tensor(input)
    ax = axis if isinstance(axis, Tensor) else _const_int(axis)
    return make_op1("ExpandDims", [input, ax],
                    [attr_type("T", input.dtype), attr_type("Tdim", ax.dtype)],
                    name=name or "ExpandDims")


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    if axis is None:
        axis = squeeze_dims
    if axis is None:
        axis = []
    elif isinstance(axis, int):
        axis = [axis]
    input = convert_to_tensor(input)
    return make_op1("Squeeze", [input],
                    [attr_type("T", input.dtype), attr_ints("squeeze_dims", axis)],
                    name=name or "Squeeze")


def concat(values, axis, name="concat"):
    if not isinstance(values, (list, tuple)):
        values = [values]
    values = [convert_to_tensor(v) for v in values]
    dt = values[0].dtype
    values = [convert_to_tensor(v, dtype=dt) for v in values]
    if len(values) == 1:
        return identity(values[0], name=name)
    ax = axis if isinstance(axis, Tensor) else _const_int(axis, name="concat/axis")
    return make_op1("ConcatV2", [values, ax],
                    [attr_int("N", len(values)), attr_type("T", dt), attr_type("Tidx", ax.dtype)],
                    name=name or "concat")


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    value = convert_to_tensor(value)
    ax = axis if isinstance(axis, Tensor) else _const_int(axis, name="split/split_dim")
    if isinstance(num_or_size_splits, (numbers.Integral, np.integer)):
        n = int(num_or_size_splits)
        op = make_op("Split", [ax, value], [attr_int("num_split", n), attr_type("T", value.dtype)],
                     name=name or "split")
        return op.outputs
    sizes = num_or_size_splits
    if isinstance(sizes, Tensor):
        if num is None:
            num = sizes.shape[0].value
        if num is None:
            raise ValueError("Cannot infer num from shape %s" % sizes.shape)
        st = sizes
    else:
        num = len(sizes)
        st = _const_int(sizes, name="split/size_splits")
    op = make_op("SplitV", [value, st, ax],
                 [attr_int("num_split", num), attr_type("T", value.dtype),
                  attr_type("Tlen", st.dtype)], name=name or "split")
    return op.outputs


def stack(values, axis=0, name="stack"):
    values = list(values)
    first = None
    for v in values:
        if isinstance(v, Tensor) or hasattr(v, "_as_tensor"):
            first = convert_to_tensor(v)
            break
    dt = first.dtype if first is not None else None
    values = [convert_to_tensor(v, dtype=dt) for v in values]
    dt = values[0].dtype
    return make_op1("Pack", [values],
                    [attr_int("N", len(values)), attr_type("T", dt), attr_int("axis", axis)],
                    name=name or "stack")


pack = stack


def _autopack(value, dtype=None, name="packed"):
    """A (nested) list holding Tensors, stacked into one Tensor."""
    def conv(v):
        if isinstance(v, (list, tuple)):
            return stack([conv(x) for x in v])
        return v
    dt = dtype
    if dt is None:
        def find(v):
            for x in v:
                if isinstance(x, (list, tuple)):
                    r = find(x)
                    if r is not None:
                        return r
                elif isinstance(x, Tensor) or hasattr(x, "_as_tensor"):
                    return convert_to_tensor(x).dtype
            return None
        dt = find(value)
    elems = [conv(v) if isinstance(v, (list, tuple)) else v for v in value]
    return stack([convert_to_tensor(e, dtype=dt) for e in elems], name=name)


def _contains_tensor(value):
    for v in value:
        if isinstance(v, Tensor) or hasattr(v, "_as_tensor"):
            return True
        if isinstance(v, (list, tuple)) and _contains_tensor(v):
            return True
    return False


def _autopacking_conversion_function(value, dtype=None, name=None, as_ref=False):
    if not _contains_tensor(value):
        return NotImplemented
    return _autopack(value, dtype=dtype, name=name or "packed")


def _constant_tensor_conversion_function(value, dtype=None, name=None, as_ref=False):
    return constant(value, dtype=dtype, name=name or "Const")


# As TensorFlow: lists holding Tensors are stacked; any other value is a Const.
register_tensor_conversion_function((list, tuple), _autopacking_conversion_function, 99)
register_tensor_conversion_function(object, _constant_tensor_conversion_function, 200)


def unstack(value, num=None, axis=0, name="unstack"):
    value = convert_to_tensor(value)
    if num is None:
        s = value.shape
        if s.ndims is None:
            raise ValueError("Cannot infer num from shape %s" % s)
        num = s[axis].value
        if num is None:
            raise ValueError("Cannot infer num from shape %s" % s)
    op = make_op("Unpack", [value],
                 [attr_int("num", num), attr_type("T", value.dtype), attr_int("axis", axis)],
                 name=name or "unstack")
    return op.outputs


unpack = unstack


def tile(input, multiples, name=None):  # noqa: A002
    input = convert_to_tensor(input)
    m = _shape_tensor(multiples, name="multiples")
    return make_op1("Tile", [input, m],
                    [attr_type("T", input.dtype), attr_type("Tmultiples", m.dtype)],
                    name=name or "Tile")


def fill(dims, value, name=None):
    d = _shape_tensor(dims, name="dims")
    v = convert_to_tensor(value)
    return make_op1("Fill", [d, v], [attr_type("T", v.dtype), attr_type("index_type", d.dtype)],
                    name=name or "Fill")


def _constant_if_small(scalar, shape, dtype, name):
    dtype = _dtypes.as_dtype(dtype)
    if not isinstance(shape, Tensor):
        try:
            dims = [int(d) for d in as_shape(shape).as_list()] if not isinstance(
                shape, (int, np.integer)) else [int(shape)]
        except (TypeError, ValueError):
            dims = None
        if dims is not None and int(np.prod(dims) if dims else 1) < _MAX_SMALL_CONST:
            return constant(np.full(dims, scalar, dtype=dtype.as_numpy_dtype), name=name)
    with name_scope(name, "zeros" if scalar == 0 else "ones") as scope:
        d = _shape_tensor(shape, name="shape")
        v = constant(np.asarray(scalar, dtype=dtype.as_numpy_dtype))
        return get_default_graph().create_op(
            "Fill", [d, v], [attr_type("T", v.dtype), attr_type("index_type", d.dtype)],
            name=scope[:-1], exact_name=True)._outputs[0]


def zeros(shape, dtype=_dtypes.float32, name=None):
    return _constant_if_small(False if _dtypes.as_dtype(dtype).is_bool else 0, shape, dtype,
                              name or "zeros")


def ones(shape, dtype=_dtypes.float32, name=None):
    return _constant_if_small(True if _dtypes.as_dtype(dtype).is_bool else 1, shape, dtype,
                              name or "ones")


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    tensor = convert_to_tensor(tensor)
    if dtype is not None and _dtypes.as_dtype(dtype) != tensor.dtype:
        return zeros(shape(tensor), dtype=dtype, name=name)
    return make_op1("ZerosLike", [tensor], [attr_type("T", tensor.dtype)], name=name or "zeros_like")


def ones_like(tensor, dtype=None, name=None, optimize=True):
    tensor = convert_to_tensor(tensor)
    if dtype is not None and _dtypes.as_dtype(dtype) != tensor.dtype:
        return ones(shape(tensor), dtype=dtype, name=name)
    return make_op1("OnesLike", [tensor], [attr_type("T", tensor.dtype)], name=name or "ones_like")


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    indices = convert_to_tensor(indices)
    if dtype is None:
        if on_value is not None and not isinstance(on_value, (int, float, bool)):
            dtype = convert_to_tensor(on_value).dtype
        elif off_value is not None and not isinstance(off_value, (int, float, bool)):
            dtype = convert_to_tensor(off_value).dtype
        else:
            dtype = _dtypes.float32
    dtype = _dtypes.as_dtype(dtype)
    on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype, name="on_value")
    off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype, name="off_value")
    d = depth if isinstance(depth, Tensor) else _const_int(depth, name="depth")
    return make_op1("OneHot", [indices, d, on, off],
                    [attr_int("axis", -1 if axis is None else axis), attr_type("T", dtype),
                     attr_type("TI", indices.dtype)], name=name or "one_hot")


def slice(input_, begin, size, name=None):  # noqa: A001
    input_ = convert_to_tensor(input_)
    b = _shape_tensor(begin, name="begin")
    s = _shape_tensor(size, name="size")
    return make_op1("Slice", [input_, b, s],
                    [attr_type("T", input_.dtype), attr_type("Index", b.dtype)], name=name or "Slice")


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    input_ = convert_to_tensor(input_)
    b = _shape_tensor(begin, name="stack")
    e = _shape_tensor(end, name="stack_1")
    if strides is None:
        strides = [1] * (b.shape[0].value or 0)
    s = _shape_tensor(strides, name="stack_2")
    return make_op1("StridedSlice", [input_, b, e, s],
                    [attr_type("T", input_.dtype), attr_type("Index", b.dtype),
                     attr_int("begin_mask", begin_mask), attr_int("end_mask", end_mask),
                     attr_int("ellipsis_mask", ellipsis_mask),
                     attr_int("new_axis_mask", new_axis_mask),
                     attr_int("shrink_axis_mask", shrink_axis_mask)],
                    name=name or "strided_slice")


def _slice_helper(tensor, slice_spec):
    """Tensor.__getitem__: basic indexing (ints, slices, ..., None) as
    StridedSlice, as TensorFlow does."""
    if not isinstance(slice_spec, (list, tuple)):
        slice_spec = [slice_spec]
    begin, end, strides = [], [], []
    begin_mask = end_mask = ellipsis_mask = new_axis_mask = shrink_axis_mask = 0
    for index, s in enumerate(slice_spec):
        if isinstance(s, type(np.s_[0:1])):
            if s.start is not None:
                begin.append(s.start)
            else:
                begin.append(0)
                begin_mask |= 1 << index
            if s.stop is not None:
                end.append(s.stop)
            else:
                end.append(0)
                end_mask |= 1 << index
            strides.append(1 if s.step is None else s.step)
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            ellipsis_mask |= 1 << index
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            new_axis_mask |= 1 << index
        else:
            if not isinstance(s, (Tensor, numbers.Integral, np.integer)):
                raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis "
                                "(`None`) and scalar tf.int32/tf.int64 tensors are valid indices, "
                                "got %r" % (s,))
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            shrink_axis_mask |= 1 << index
    with name_scope(None, "strided_slice", [tensor]) as scope:
        return strided_slice(tensor, begin, end, strides, begin_mask=begin_mask,
                             end_mask=end_mask, ellipsis_mask=ellipsis_mask,
                             new_axis_mask=new_axis_mask, shrink_axis_mask=shrink_axis_mask,
                             name=scope[:-1].rsplit("/", 1)[-1] if scope else None)


def gather(params, indices, validate_indices=None, name=None, axis=0, batch_dims=0):
    params = convert_to_tensor(params)
    indices = convert_to_tensor(indices)
    ax = axis if isinstance(axis, Tensor) else _const_int(axis, name="GatherV2/axis")
    return make_op1("GatherV2", [params, indices, ax],
                    [attr_type("Tparams", params.dtype), attr_type("Tindices", indices.dtype),
                     attr_type("Taxis", ax.dtype)], name=name or "GatherV2")


def where(condition, x=None, y=None, name=None):
    if x is None or y is None:
        raise NotImplementedError("tf.where with one argument (Where op) is not supported; "
                                  "pass x and y")
    condition = convert_to_tensor(condition)
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, dtype=x.dtype)
    return make_op1("Select", [condition, x, y], [attr_type("T", x.dtype)], name=name or "Select")


def where_v2(condition, x=None, y=None, name=None):
    condition = convert_to_tensor(condition)
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, dtype=x.dtype)
    return make_op1("SelectV2", [condition, x, y], [attr_type("T", x.dtype)],
                    name=name or "SelectV2")


def broadcast_to(input, shape, name=None):  # noqa: A002
    input = convert_to_tensor(input)
    s = _shape_tensor(shape)
    return make_op1("BroadcastTo", [input, s],
                    [attr_type("T", input.dtype), attr_type("Tidx", s.dtype)],
                    name=name or "BroadcastTo")


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    if limit is None:
        start, limit = 0, start
    vals = [start, limit, delta]
    if dtype is None:
        dts = [v.dtype for v in vals if isinstance(v, Tensor)]
        if dts:
            dtype = dts[0]
        elif any(isinstance(v, float) for v in vals):
            dtype = _dtypes.float32
        else:
            dtype = _dtypes.int32
    dtype = _dtypes.as_dtype(dtype)
    s, l, d = (convert_to_tensor(v, dtype=dtype) for v in vals)
    return make_op1("Range", [s, l, d], [attr_type("Tidx", dtype)], name=name or "Range")


def cast(x, dtype, name=None):
    dtype = _dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype == dtype:
        return x
    return make_op1("Cast", [x], [attr_type("SrcT", x.dtype), attr_type("DstT", dtype)],
                    name=name or "Cast")


def to_float(x, name="ToFloat"):
    return cast(x, _dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, _dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, _dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, _dtypes.int64, name=name)


newaxis = None


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    if mode.upper() != "CONSTANT" or (not isinstance(constant_values, Tensor)
                                      and constant_values != 0):
        raise NotImplementedError("pad supports mode='CONSTANT' with zeros (the Pad op)")
    tensor = convert_to_tensor(tensor)
    p = paddings if isinstance(paddings, Tensor) else _const_int(paddings, name="paddings")
    return make_op1("Pad", [tensor, p],
                    [attr_type("T", tensor.dtype), attr_type("Tpaddings", p.dtype)],
                    name=name or "Pad")


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    data = convert_to_tensor(data)
    ids = convert_to_tensor(segment_ids)
    n = num_segments if isinstance(num_segments, Tensor) else _const_int(num_segments,
                                                                         name="num_segments")
    return make_op1("UnsortedSegmentSum", [data, ids, n],
                    [attr_type("T", data.dtype), attr_type("Tindices", ids.dtype),
                     attr_type("Tnumsegments", n.dtype)], name=name or "UnsortedSegmentSum")


def dynamic_stitch(indices, data, name=None):
    indices = [convert_to_tensor(i, dtype=_dtypes.int32) for i in indices]
    data = [convert_to_tensor(d) for d in data]
    return make_op1("DynamicStitch", [indices, data],
                    [attr_int("N", len(indices)), attr_type("T", data[0].dtype)],
                    name=name or "DynamicStitch")


def invert_permutation(x, name=None):
    x = convert_to_tensor(x)
    return make_op1("InvertPermutation", [x], [attr_type("T", x.dtype)],
                    name=name or "InvertPermutation")
