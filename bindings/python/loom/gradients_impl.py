"""tf.gradients over loom_graph_add_gradients, and gradient functions written
in Python (RegisterGradient) registered through loom_register_gradient.

The gradients of the standard ops are the core's (registered in C); nothing
here knows a gradient formula."""
from . import array_ops
from . import framework
from .framework import Tensor, convert_to_tensor
from ._lib import _C

_PY_GRADIENTS = {}


def _as_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _x_tensor(x):
    if hasattr(x, "_as_tensor"):
        return x._as_tensor()
    if isinstance(x, Tensor):
        return x
    raise TypeError("gradients: xs must be Tensors or Variables, got %r" % (x,))


def gradients(ys, xs, grad_ys=None, name="gradients", colocate_gradients_with_ops=False,
              gate_gradients=False, aggregation_method=None, stop_gradients=None,
              unconnected_gradients=None):
    """d(sum(ys))/d(xs) as a list of Tensors (None where xs do not reach ys)."""
    if stop_gradients:
        raise NotImplementedError("stop_gradients is not supported; wrap the tensors in "
                                  "tf.stop_gradient instead")
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [_x_tensor(x) for x in _as_list(xs)]
    g = ys[0].graph
    dys = None
    if grad_ys is not None:
        grad_ys = _as_list(grad_ys)
        if len(grad_ys) != len(ys):
            raise ValueError("Passed %d grad_ys for %d ys" % (len(grad_ys), len(ys)))
        dys = []
        for y, gy in zip(ys, grad_ys):
            if gy is None:
                dys.append(None)
            else:
                dys.append(convert_to_tensor(gy, dtype=y.dtype, name="grad_y")._out)
    prefix = g.unique_name(name or "gradients", mark_as_used=True)
    outs = g._c.add_gradients(prefix, [y._out for y in ys], [x._out for x in xs], dys)
    result = [g._tensor_from(o) for o in outs]
    if unconnected_gradients == "zero":
        result = [array_ops.zeros_like(x) if r is None else r for r, x in zip(result, xs)]
    return result


def _trampoline(py_fn, op_type):
    """Adapts a TensorFlow-style gradient function fn(op, *grads) to the C
    calling convention fn(graph_address, op, grads) -> [(op, index)|None]."""
    def call(graph_address, op_ptr, grads):
        g = framework._GRAPHS.get(graph_address)
        if g is None:
            raise RuntimeError("gradient function for %s called for a graph unknown to Python"
                               % op_type)
        op = g._op_from_ptr(op_ptr)
        with g.as_default(), g._gradient_function_scope():
            grad_tensors = [g._tensor_from(o) for o in grads]
            if len(grad_tensors) > 1 and any(t is None for t in grad_tensors):
                grad_tensors = [array_ops.zeros_like(out) if t is None else t
                                for t, out in zip(grad_tensors, op.outputs)]
            res = py_fn(op, *grad_tensors)
            if not isinstance(res, (list, tuple)):
                res = [res]
            out = []
            for r, inp in zip(res, op.inputs):
                if r is None:
                    out.append(None)
                else:
                    out.append(convert_to_tensor(r, dtype=inp.dtype)._out)
            if len(res) != len(out):
                out = list(out) + [None] * (len(res) - len(out))
            return out
    return call


class RegisterGradient(object):
    """@tf.RegisterGradient("OpType"): registers a Python gradient function
    fn(op, *grads) -> grads of op's inputs, for every op of that type in the
    process (it replaces a built-in gradient of that type)."""

    def __init__(self, op_type):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, f):
        _C.register_gradient(self._op_type, _trampoline(f, self._op_type))
        _PY_GRADIENTS[self._op_type] = f
        return f


def NotDifferentiable(op_type):  # noqa: N802 - TensorFlow's name
    """Declares op_type not differentiable: its inputs receive no gradient."""
    _C.register_gradient(op_type, None)
    _PY_GRADIENTS[op_type] = None


NoGradient = NotDifferentiable


def get_gradient_function(op):
    return _PY_GRADIENTS.get(op.type)


def hessians(ys, xs, name="hessians", **kw):
    raise NotImplementedError("hessians are not implemented")


