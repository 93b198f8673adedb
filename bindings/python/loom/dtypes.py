"""Data types, numbered as TensorFlow's DataType (and loom_dtype)."""
import numpy as np


class DType(object):
    """A tensor element type, like tf.DType."""

    __slots__ = ("_enum", "_name", "_np")

    def __init__(self, enum, name, np_type):
        self._enum = enum
        self._name = name
        self._np = np_type

    @property
    def as_datatype_enum(self):
        return self._enum

    enum = as_datatype_enum

    @property
    def name(self):
        return self._name

    @property
    def as_numpy_dtype(self):
        return self._np

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        return self

    @property
    def is_floating(self):
        return self._enum in (1, 2, 19, 14)

    @property
    def is_integer(self):
        return self._enum in (3, 4, 5, 6, 9, 17, 22, 23)

    @property
    def is_bool(self):
        return self._enum == 10

    @property
    def is_unsigned(self):
        return self._enum in (4, 17, 22, 23)

    @property
    def is_complex(self):
        return False

    @property
    def size(self):
        return np.dtype(self._np).itemsize if self._np is not None else 0

    @property
    def min(self):
        if self.is_floating:
            return np.finfo(self._np).min
        return np.iinfo(self._np).min

    @property
    def max(self):
        if self.is_floating:
            return np.finfo(self._np).max
        return np.iinfo(self._np).max

    def is_compatible_with(self, other):
        return self == as_dtype(other)

    def __eq__(self, other):
        if other is None:
            return False
        if not isinstance(other, DType):
            try:
                other = as_dtype(other)
            except TypeError:
                return False
        return self._enum == other._enum

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __repr__(self):
        return "tf.%s" % self._name

    def __str__(self):
        return "<dtype: %r>" % self._name

    def __reduce__(self):
        return as_dtype, (self._name,)


float32 = DType(1, "float32", np.float32)
float64 = DType(2, "float64", np.float64)
int32 = DType(3, "int32", np.int32)
uint8 = DType(4, "uint8", np.uint8)
int16 = DType(5, "int16", np.int16)
int8 = DType(6, "int8", np.int8)
string = DType(7, "string", np.object_)
int64 = DType(9, "int64", np.int64)
bool = DType(10, "bool", np.bool_)  # noqa: A001 - TensorFlow's name
bfloat16 = DType(14, "bfloat16", None)
uint16 = DType(17, "uint16", np.uint16)
float16 = DType(19, "float16", np.float16)
uint32 = DType(22, "uint32", np.uint32)
uint64 = DType(23, "uint64", np.uint64)
half = float16
double = float64

_ALL = [float32, float64, int32, uint8, int16, int8, string, int64, bool, bfloat16, uint16,
        float16, uint32, uint64]
_BY_ENUM = {d.as_datatype_enum: d for d in _ALL}
_BY_NAME = {d.name: d for d in _ALL}
_BY_NAME.update({"float": float32, "double": float64, "half": float16, "bool_": bool})
_BY_NP = {np.dtype(d.as_numpy_dtype): d for d in _ALL if d.as_numpy_dtype not in (None, np.object_)}


def as_dtype(type_value):
    """Converts a DType, an enum number, a name ("float", "int32"), a numpy
    dtype or a Python type to a DType; TypeError otherwise."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        d = _BY_NAME.get(type_value)
        if d is not None:
            return d
        raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))
    if isinstance(type_value, int) and not isinstance(type_value, type(True)):
        d = _BY_ENUM.get(type_value)
        if d is not None:
            return d
        raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))
    if type_value is float:
        return float32
    if type_value is int:
        return int32
    if type_value is type(True):
        return bool
    try:
        d = _BY_NP.get(np.dtype(type_value))
    except TypeError:
        d = None
    if d is not None:
        return d
    raise TypeError("Cannot convert value %r to a TensorFlow DType." % (type_value,))
