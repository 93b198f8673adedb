"""Queues and conditional accumulators (tf.FIFOQueue, tf.RandomShuffleQueue,
tf.PaddingFIFOQueue, tf.QueueBase, tf.ConditionalAccumulator), as in
TensorFlow 1.x.

They are resources shared by name: on a server (``tf.Session(server.target)``)
every session that builds a queue with the same ``shared_name`` (else the same
op name) on the same task uses the same queue, which is how workers of a
cluster hand each other tokens and gradients. The core runs these ops itself;
a dequeue from an empty queue waits without holding a thread, and its step's
deadline (``operation_timeout_in_ms``) or failure wakes it.

A queue's handle (``queue_ref``) is a reference edge with no value: it cannot
be fetched; ops that use the queue must take it directly.
"""
from . import dtypes as _dtypes
from .framework import (GraphKeys, TensorShape, as_shape, attr_bool, attr_int, attr_string,
                        attr_type, convert_to_tensor, get_default_graph, get_seed, name_scope)

__all__ = ["QueueBase", "FIFOQueue", "PaddingFIFOQueue", "RandomShuffleQueue",
           "ConditionalAccumulator", "ConditionalAccumulatorBase"]


def _attr_types(name, types):
    return (name, "list(type)", [_dtypes.as_dtype(t).as_datatype_enum for t in types])


def _attr_shapes(name, shapes):
    return (name, "list(shape)", [as_shape(s)._as_list_or_none() for s in shapes])


def _as_type_list(dtypes):
    if isinstance(dtypes, (list, tuple)):
        return [_dtypes.as_dtype(d) for d in dtypes]
    return [_dtypes.as_dtype(dtypes)]


def _as_shape_list(shapes, dtypes, unknown_dim_allowed=False):
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (list, tuple)):
        raise TypeError("shapes must be a TensorShape or a list or tuple of TensorShapes.")
    if all(s is None or isinstance(s, int) for s in shapes):
        shapes = [shapes]  # one shape, as TensorFlow reads it
    shapes = [as_shape(s) for s in shapes]
    if len(shapes) != len(dtypes):
        raise ValueError("shapes must have the same length as dtypes: %d shapes for %d dtypes"
                         % (len(shapes), len(dtypes)))
    if not unknown_dim_allowed:
        for s in shapes:
            if not s.is_fully_defined():
                raise ValueError("All shapes must be fully defined: %s" % (shapes,))
    return shapes


class QueueBase(object):
    """Base class of the queues: enqueue/dequeue of tuples of tensors."""

    def __init__(self, dtypes, shapes, names, queue_ref):
        self._dtypes = dtypes
        self._shapes = shapes if shapes is not None else [TensorShape(None) for _ in dtypes]
        self._names = names
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name

    @staticmethod
    def from_list(index, queues):
        raise NotImplementedError("QueueBase.from_list needs a QueueSelect op, which Loom lacks")

    @property
    def queue_ref(self):
        return self._queue_ref

    @property
    def name(self):
        return self._name

    @property
    def dtypes(self):
        return self._dtypes

    @property
    def shapes(self):
        return self._shapes

    @property
    def names(self):
        return self._names

    def _check_enqueue_dtypes(self, vals):
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names) != sorted(vals.keys()):
                raise ValueError("Keys in dictionary to enqueue do not match names of Queue.  "
                                 "Dictionary: (%s), Queue: (%s)" % (sorted(vals.keys()),
                                                                    sorted(self._names)))
            vals = [vals[k] for k in self._names]
        elif self._names:
            raise ValueError("You must enqueue a dictionary in a Queue with names")
        elif not isinstance(vals, (list, tuple)):
            vals = [vals]
        tensors = []
        for i, (val, dtype) in enumerate(zip(vals, self._dtypes)):
            tensors.append(convert_to_tensor(val, dtype=dtype, name="component_%d" % i))
        if len(tensors) != len(self._dtypes):
            raise ValueError("Expected %d components to enqueue, got %d" % (len(self._dtypes),
                                                                             len(tensors)))
        return tensors

    def _op(self, op_type, inputs, attrs, name):
        g = self._queue_ref.graph
        return g.create_op(op_type, [self._queue_ref] + list(inputs), attrs, name)

    def enqueue(self, vals, name=None):
        with name_scope(name, "%s_enqueue" % self._name.split("/")[-1]) as scope:
            vals = self._check_enqueue_dtypes(vals)
            for v, s in zip(vals, self._shapes):
                v.get_shape().assert_is_compatible_with(s)
            return self._op("QueueEnqueueV2", [vals],
                            [_attr_types("Tcomponents", [v.dtype for v in vals])], scope)

    def enqueue_many(self, vals, name=None):
        with name_scope(name, "%s_EnqueueMany" % self._name.split("/")[-1]) as scope:
            vals = self._check_enqueue_dtypes(vals)
            batch = None
            for v, s in zip(vals, self._shapes):
                vs = v.get_shape()
                if vs.ndims == 0:
                    raise ValueError("enqueue_many needs components of rank >= 1; %s is a scalar"
                                     % (v.name,))
                if vs.ndims is not None:
                    TensorShape(vs.as_list()[1:]).assert_is_compatible_with(s)
                    d = vs.as_list()[0]
                    if d is not None and batch is not None and d != batch:
                        raise ValueError("enqueue_many: components have different first "
                                         "dimensions (%d and %d)" % (batch, d))
                    batch = d if d is not None else batch
            return self._op("QueueEnqueueManyV2", [vals],
                            [_attr_types("Tcomponents", [v.dtype for v in vals])], scope)

    def _dequeue_return_value(self, tensors):
        if self._names:
            return {n: t for n, t in zip(self._names, tensors)}
        if len(tensors) == 1:
            return tensors[0]
        return tensors

    def _types_attr(self):
        return [_attr_types("component_types", self._dtypes)]

    def dequeue(self, name=None):
        if name is None:
            name = "%s_Dequeue" % self._name.split("/")[-1]
        op = self._op("QueueDequeueV2", [], self._types_attr(), name)
        out = op.outputs
        for t, s in zip(out, self._shapes):
            t.set_shape(s)
        return self._dequeue_return_value(out)

    def _dequeue_n(self, op_type, n, name, known_batch):
        batch = int(n) if known_batch and isinstance(n, int) else None
        n = convert_to_tensor(n, dtype=_dtypes.int32, name="n")
        op = self._op(op_type, [n], self._types_attr(), name)
        out = op.outputs
        for t, s in zip(out, self._shapes):
            if s.ndims is not None:
                t.set_shape(TensorShape([batch] + s.as_list()))
        return self._dequeue_return_value(out)

    def dequeue_many(self, n, name=None):
        if name is None:
            name = "%s_DequeueMany" % self._name.split("/")[-1]
        return self._dequeue_n("QueueDequeueManyV2", n, name, True)

    def dequeue_up_to(self, n, name=None):
        if name is None:
            name = "%s_DequeueUpTo" % self._name.split("/")[-1]
        return self._dequeue_n("QueueDequeueUpToV2", n, name, False)

    def close(self, cancel_pending_enqueues=False, name=None):
        if name is None:
            name = "%s_Close" % self._name.split("/")[-1]
        return self._op("QueueCloseV2", [],
                        [attr_bool("cancel_pending_enqueues", cancel_pending_enqueues)], name)

    def is_closed(self, name=None):
        if name is None:
            name = "%s_IsClosed" % self._name.split("/")[-1]
        return self._op("QueueIsClosedV2", [], [], name).outputs[0]

    def size(self, name=None):
        if name is None:
            name = "%s_Size" % self._name.split("/")[-1]
        return self._op("QueueSizeV2", [], [], name).outputs[0]


def _queue_attrs(dtypes, shapes, capacity, shared_name):
    attrs = [_attr_types("component_types", dtypes), attr_int("capacity", capacity)]
    if shapes is not None:
        attrs.append(_attr_shapes("shapes", shapes))
    if shared_name:
        attrs.append(attr_string("shared_name", shared_name))
    return attrs


class FIFOQueue(QueueBase):
    """A queue that dequeues elements in first-in first-out order."""

    def __init__(self, capacity, dtypes, shapes=None, names=None, shared_name=None,
                 name="fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = list(names) if names is not None else None
        g = get_default_graph()
        op = g.create_op("FIFOQueueV2", [], _queue_attrs(dtypes, shapes, capacity, shared_name),
                         name)
        super(FIFOQueue, self).__init__(dtypes, shapes, names, op.outputs[0])


class PaddingFIFOQueue(QueueBase):
    """A FIFOQueue whose dequeue_many pads each component to the batch's largest
    shape with zeros; shapes may have None dimensions."""

    def __init__(self, capacity, dtypes, shapes, names=None, shared_name=None,
                 name="padding_fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes, unknown_dim_allowed=True)
        if shapes is None or len(shapes) != len(dtypes):
            raise ValueError("Shapes must be provided for all components, but received %d dtypes "
                             "and %d shapes." % (len(dtypes), len(shapes or [])))
        names = list(names) if names is not None else None
        g = get_default_graph()
        op = g.create_op("PaddingFIFOQueueV2", [],
                         _queue_attrs(dtypes, shapes, capacity, shared_name), name)
        super(PaddingFIFOQueue, self).__init__(dtypes, shapes, names, op.outputs[0])


class RandomShuffleQueue(QueueBase):
    """A queue that dequeues elements in a random order, keeping at least
    min_after_dequeue elements while open. A seed makes the order reproducible."""

    def __init__(self, capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None,
                 shared_name=None, name="random_shuffle_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = list(names) if names is not None else None
        seed1, seed2 = get_seed(seed)  # (None, None): a random order
        attrs = _queue_attrs(dtypes, shapes, capacity, shared_name) + [
            attr_int("min_after_dequeue", min_after_dequeue), attr_int("seed", seed1 or 0),
            attr_int("seed2", seed2 or 0)]
        g = get_default_graph()
        op = g.create_op("RandomShuffleQueueV2", [], attrs, name)
        super(RandomShuffleQueue, self).__init__(dtypes, shapes, names, op.outputs[0])


class ConditionalAccumulatorBase(object):
    def __init__(self, dtype, shape, accumulator_ref):
        self._dtype = _dtypes.as_dtype(dtype)
        self._shape = as_shape(shape) if shape is not None else TensorShape(None)
        self._accumulator_ref = accumulator_ref
        self._name = accumulator_ref.op.name

    @property
    def accumulator_ref(self):
        return self._accumulator_ref

    @property
    def name(self):
        return self._name

    @property
    def dtype(self):
        return self._dtype

    def _op(self, op_type, inputs, attrs, name):
        g = self._accumulator_ref.graph
        return g.create_op(op_type, [self._accumulator_ref] + list(inputs), attrs, name)

    def num_accumulated(self, name=None):
        if name is None:
            name = "%s_NumAccumulated" % self._name.split("/")[-1]
        return self._op("AccumulatorNumAccumulated", [], [], name).outputs[0]

    def set_global_step(self, new_global_step, name=None):
        step = convert_to_tensor(new_global_step, dtype=_dtypes.int64)
        return self._op("AccumulatorSetGlobalStep", [step], [],
                        name or "%s_SetGlobalStep" % self._name.split("/")[-1])


class ConditionalAccumulator(ConditionalAccumulatorBase):
    """Averages gradients: apply_grad(grad, local_step) adds one unless its
    local_step is behind the accumulator's global step (stale: dropped);
    take_grad(n) waits for n gradients, returns their mean, resets and
    advances the global step by one."""

    def __init__(self, dtype, shape=None, shared_name=None, name="conditional_accumulator",
                 reduction_type="MEAN"):
        if reduction_type not in ("MEAN", "SUM"):
            raise ValueError("reduction_type must be 'MEAN' or 'SUM', got %r" % (reduction_type,))
        attrs = [attr_type("dtype", dtype), ("shape", "shape", as_shape(shape)._as_list_or_none()
                                                 if shape is not None else None),
                 attr_string("reduction_type", reduction_type)]
        if shared_name:
            attrs.append(attr_string("shared_name", shared_name))
        g = get_default_graph()
        op = g.create_op("ConditionalAccumulator", [], attrs, name)
        super(ConditionalAccumulator, self).__init__(dtype, shape, op.outputs[0])

    def apply_grad(self, grad, local_step=0, name=None):
        grad = convert_to_tensor(grad, dtype=self._dtype)
        grad.get_shape().assert_is_compatible_with(self._shape)
        local_step = convert_to_tensor(local_step, dtype=_dtypes.int64)
        return self._op("AccumulatorApplyGradient", [local_step, grad],
                        [attr_type("dtype", self._dtype)],
                        name or "%s_ApplyGradient" % self._name.split("/")[-1])

    def take_grad(self, num_required, name=None):
        n = convert_to_tensor(num_required, dtype=_dtypes.int32)
        out = self._op("AccumulatorTakeGradient", [n], [attr_type("dtype", self._dtype)],
                       name or "%s_TakeGradient" % self._name.split("/")[-1]).outputs[0]
        if self._shape.ndims is not None:
            out.set_shape(self._shape)
        return out


# A TensorFlow collection name the queue runners use.
GraphKeys.QUEUE_RUNNERS = "queue_runners"
