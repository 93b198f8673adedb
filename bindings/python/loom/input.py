"""Input pipelines on queues (tf.train.batch, shuffle_batch, limit_epochs,
input_producer, range_input_producer, slice_input_producer), as in
TensorFlow 1.x. Each builds a queue and registers a QueueRunner that fills it;
start them with tf.train.start_queue_runners. When the input runs out
(num_epochs), the queues close in turn and the consumer's dequeue raises
tf.errors.OutOfRangeError.

string_input_producer is absent: Loom has no string tensors yet.
input_producer's shuffle draws from a RandomShuffleQueue as elements arrive
(Loom has no RandomShuffle op): every element still comes once per epoch, but
neighbouring epochs may interleave.
"""
from . import array_ops
from . import dtypes as _dtypes
from .data_flow_ops import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue
from .framework import (GraphKeys, TensorShape, attr_int, control_dependencies, convert_to_tensor,
                        name_scope)
from .queue_runner import QueueRunner, add_queue_runner

__all__ = ["limit_epochs", "input_producer", "range_input_producer", "slice_input_producer",
           "batch", "shuffle_batch", "count_up_to"]


def count_up_to(ref, limit, name=None):
    """Increments ref (an int32/int64 variable) and returns its old value;
    OutOfRangeError once it has reached limit."""
    var = getattr(ref, "_variable", ref)
    g = var.graph
    return g.create_op("CountUpTo", [var], [attr_int("limit", limit),
                                            ("T", "type", var.dtype.base_dtype.as_datatype_enum
                                             if hasattr(var.dtype, "base_dtype")
                                             else var.dtype.as_datatype_enum)],
                       name or "CountUpTo").outputs[0]


def limit_epochs(tensor, num_epochs=None, name=None):
    """Returns tensor num_epochs times, then raises OutOfRangeError."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError("num_epochs must be > 0 not %d." % num_epochs)
    from .variables import Variable
    with name_scope(name, "limit_epochs", [tensor]):
        zero64 = array_ops.zeros([], dtype=_dtypes.int64)
        epochs = Variable(zero64, name="epochs", trainable=False,
                          collections=[GraphKeys.LOCAL_VARIABLES])
        counter = count_up_to(epochs, num_epochs)
        with control_dependencies([counter]):
            return array_ops.identity(tensor, name="limit_epochs")


def input_producer(input_tensor, element_shape=None, num_epochs=None, shuffle=True, seed=None,
                   capacity=32, shared_name=None, summary_name=None, name=None,
                   cancel_op=None):
    """A queue filled, by a QueueRunner, with the rows of input_tensor,
    num_epochs times (forever if None)."""
    with name_scope(name, "input_producer", [input_tensor]):
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = input_tensor.shape[1:].merge_with(element_shape) \
            if element_shape is not None and input_tensor.shape.ndims is not None \
            else (TensorShape(input_tensor.shape.as_list()[1:])
                  if input_tensor.shape.ndims is not None else element_shape)
        if element_shape is None or not TensorShape(element_shape).is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or "
                             "`element_shape` must be specified")
        input_tensor = limit_epochs(input_tensor, num_epochs)
        if shuffle:
            q = RandomShuffleQueue(capacity=capacity, min_after_dequeue=0,
                                   dtypes=[input_tensor.dtype.base_dtype],
                                   shapes=[element_shape], seed=seed, shared_name=shared_name,
                                   name="random_shuffle_queue")
        else:
            q = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype],
                          shapes=[element_shape], shared_name=shared_name, name="fifo_queue")
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        return q


def range_input_producer(limit, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """A queue of the integers 0 .. limit-1 (int32), num_epochs times."""
    with name_scope(name, "input_producer", [limit]):
        range_tensor = array_ops.range(limit)
        return input_producer(range_tensor, [], num_epochs, shuffle, seed, capacity,
                              shared_name, "fraction_of_%d_full" % capacity, "input_producer/")


def slice_input_producer(tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32,
                         shared_name=None, name=None):
    """One row of every tensor of tensor_list at a time (the same row index
    for all), num_epochs times over the rows."""
    with name_scope(name, "input_producer", tensor_list):
        tensor_list = [convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        n = tensor_list[0].shape[0].value if tensor_list[0].shape.ndims else None
        if n is None:
            n = array_ops.shape(tensor_list[0])[0]
        queue = range_input_producer(n, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        rows = []
        for t in tensor_list:
            row = array_ops.gather(t, index)
            if t.shape.ndims is not None:
                row.set_shape(TensorShape(t.shape.as_list()[1:]))
            rows.append(row)
        return rows


def _flatten(tensors):
    if isinstance(tensors, dict):
        keys = sorted(tensors)
        return [tensors[k] for k in keys], (lambda vals: dict(zip(keys, vals)))
    if isinstance(tensors, (list, tuple)):
        return list(tensors), (lambda vals: list(vals))
    return [tensors], (lambda vals: vals[0])


def _shapes(tensor_list, shapes, enqueue_many):
    if shapes is not None:
        return [TensorShape(s) for s in shapes]
    out = []
    for t in tensor_list:
        s = t.shape
        if enqueue_many:
            s = TensorShape(s.as_list()[1:]) if s.ndims is not None else TensorShape(None)
        out.append(s)
    return out


def _batch(queue, tensor_list, rebuild, batch_size, num_threads, enqueue_many,
           allow_smaller_final_batch):
    enq = queue.enqueue_many(tensor_list) if enqueue_many else queue.enqueue(tensor_list)
    add_queue_runner(QueueRunner(queue, [enq] * num_threads))
    if allow_smaller_final_batch:
        out = queue.dequeue_up_to(batch_size)
    else:
        out = queue.dequeue_many(batch_size)
    if not isinstance(out, list):
        out = [out]
    return rebuild(out)


def batch(tensors, batch_size, num_threads=1, capacity=32, enqueue_many=False, shapes=None,
          dynamic_pad=False, allow_smaller_final_batch=False, shared_name=None, name=None):
    """Batches tensors through a FIFOQueue (a PaddingFIFOQueue with
    dynamic_pad) filled by num_threads QueueRunner threads."""
    with name_scope(name, "batch"):
        tensor_list, rebuild = _flatten(tensors)
        tensor_list = [convert_to_tensor(t) for t in tensor_list]
        shapes = _shapes(tensor_list, shapes, enqueue_many)
        dtypes = [t.dtype.base_dtype for t in tensor_list]
        if dynamic_pad:
            queue = PaddingFIFOQueue(capacity, dtypes, shapes, shared_name=shared_name,
                                     name="padding_fifo_queue")
        else:
            if not all(s.is_fully_defined() for s in shapes):
                raise ValueError("All shapes must be fully defined: %s (pass shapes=, or "
                                 "dynamic_pad=True)" % (shapes,))
            queue = FIFOQueue(capacity, dtypes, shapes, shared_name=shared_name,
                              name="fifo_queue")
        return _batch(queue, tensor_list, rebuild, batch_size, num_threads, enqueue_many,
                      allow_smaller_final_batch)


def shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, num_threads=1, seed=None,
                  enqueue_many=False, shapes=None, allow_smaller_final_batch=False,
                  shared_name=None, name=None):
    """Batches tensors in random order through a RandomShuffleQueue."""
    with name_scope(name, "shuffle_batch"):
        tensor_list, rebuild = _flatten(tensors)
        tensor_list = [convert_to_tensor(t) for t in tensor_list]
        shapes = _shapes(tensor_list, shapes, enqueue_many)
        if not all(s.is_fully_defined() for s in shapes):
            raise ValueError("All shapes must be fully defined: %s" % (shapes,))
        dtypes = [t.dtype.base_dtype for t in tensor_list]
        queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue,
                                   seed=seed, dtypes=dtypes, shapes=shapes,
                                   shared_name=shared_name, name="random_shuffle_queue")
        return _batch(queue, tensor_list, rebuild, batch_size, num_threads, enqueue_many,
                      allow_smaller_final_batch)

