"""Exceptions, one class per canonical status code, named like TensorFlow's.

Every error from the C library arrives as an OpError subclass carrying the
code, the core's message and, where it can be told, the op: `e.op` (an
Operation, or None) and `e.op_name`.
"""
import re

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """An error from running or building ops (tf.errors.OpError)."""

    def __init__(self, node_def, op, message, error_code):
        super(OpError, self).__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        self._error_code = error_code
        self._op_name = op.name if op is not None else None
        self._candidates = ()

    @property
    def message(self):
        return self._message

    @property
    def op(self):
        return self._op

    @property
    def op_name(self):
        return self._op_name

    @property
    def error_code(self):
        return self._error_code

    @property
    def node_def(self):
        return self._node_def

    def __str__(self):
        return self._message

    def _resolve_op(self, graph):
        """Finds self.op in graph from the op name the error carries or the
        names quoted in its message."""
        if self._op is not None or graph is None:
            return self
        names = ([self._op_name] if self._op_name else []) + list(self._candidates)
        for n in names:
            for cand in (n, n.split(":")[0]):
                op = graph._op_by_name_or_none(cand)
                if op is not None:
                    self._op = op
                    self._op_name = op.name
                    self._node_def = _NodeDef(op)
                    return self
        return self


class _NodeDef(object):
    def __init__(self, op):
        self.name = op.name
        self.op = op.type
        self.device = op.device

    def __repr__(self):
        return "name: %r op: %r device: %r" % (self.name, self.op, self.device)


def _make_class(name, code):
    def __init__(self, node_def, op, message, *args):
        OpError.__init__(self, node_def, op, message, code)
    return type(name, (OpError,), {"__init__": __init__, "__module__": __name__})


CancelledError = _make_class("CancelledError", CANCELLED)
UnknownError = _make_class("UnknownError", UNKNOWN)
InvalidArgumentError = _make_class("InvalidArgumentError", INVALID_ARGUMENT)
DeadlineExceededError = _make_class("DeadlineExceededError", DEADLINE_EXCEEDED)
NotFoundError = _make_class("NotFoundError", NOT_FOUND)
AlreadyExistsError = _make_class("AlreadyExistsError", ALREADY_EXISTS)
PermissionDeniedError = _make_class("PermissionDeniedError", PERMISSION_DENIED)
ResourceExhaustedError = _make_class("ResourceExhaustedError", RESOURCE_EXHAUSTED)
FailedPreconditionError = _make_class("FailedPreconditionError", FAILED_PRECONDITION)
AbortedError = _make_class("AbortedError", ABORTED)
OutOfRangeError = _make_class("OutOfRangeError", OUT_OF_RANGE)
UnimplementedError = _make_class("UnimplementedError", UNIMPLEMENTED)
InternalError = _make_class("InternalError", INTERNAL)
UnavailableError = _make_class("UnavailableError", UNAVAILABLE)
DataLossError = _make_class("DataLossError", DATA_LOSS)
UnauthenticatedError = _make_class("UnauthenticatedError", UNAUTHENTICATED)

_CODE_TO_CLASS = {
    CANCELLED: CancelledError, UNKNOWN: UnknownError, INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError, NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError, PERMISSION_DENIED: PermissionDeniedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError, FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError, OUT_OF_RANGE: OutOfRangeError, UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError, UNAVAILABLE: UnavailableError, DATA_LOSS: DataLossError,
    UNAUTHENTICATED: UnauthenticatedError,
}


def exception_type_from_error_code(error_code):
    return _CODE_TO_CLASS.get(error_code, UnknownError)


def error_code_from_exception_type(cls):
    for code, c in _CODE_TO_CLASS.items():
        if issubclass(cls, c):
            return code
    return UNKNOWN


class _BuildError(object):
    """Mixed into errors raised while building the graph, so that code written
    for TensorFlow (which raises ValueError/TypeError there) catches them."""


_BUILD_CLASSES = {}


def _build_error(e):
    """The same error as an instance of a subclass that is also a ValueError
    (TensorFlow raises ValueError for shape errors found while building)."""
    cls = type(e)
    sub = _BUILD_CLASSES.get(cls)
    if sub is None:
        sub = type(cls.__name__, (cls, ValueError, _BuildError), {"__module__": __name__})
        _BUILD_CLASSES[cls] = sub
    n = sub(e.node_def, e.op, e.message)
    n._op_name = e._op_name
    n._candidates = e._candidates
    return n


# Op names in messages: 'name', "name", {{node name}}, node name, op name.
_QUOTED = re.compile(r"'([^'\s]+)'|\"([^\"\s]+)\"|\{\{node ([^}]+)\}\}|\b(?:node|op) ([\w./\-]+)")


def _factory(code, message, op_name):
    cls = _CODE_TO_CLASS.get(code, UnknownError)
    e = cls(None, None, message)
    e._op_name = op_name
    cands = []
    for m in _QUOTED.finditer(message):
        for g in m.groups():
            if g:
                cands.append(g)
    e._candidates = tuple(cands)
    return e
