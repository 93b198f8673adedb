"""loom.saved_model: model directories shared with Go and C.

A model directory holds a graph, all its variables and named signatures, in
the layout of proto/model.proto -- the same files that loom_model_save and
loom_model_load (C), and loom.SaveModel / loom.LoadModel (Go) write and read:

    <dir>/model.pb          ModelDef: the GraphDef, the signatures, the checkpoint's name
    <dir>/variables.ckpt    the variables (Loom's checkpoint format)

    import loom as tf
    import loom.saved_model
    loom.saved_model.save(sess, "/tmp/model", inputs={"x": x}, outputs={"logits": logits},
                          signatures={"train": {"inputs": {"x": x, "y": y},
                                                "outputs": {"loss": loss},
                                                "targets": [train_op]}})
    model = loom.saved_model.load("/tmp/model")
    model.session.run(model.signatures["serving_default"].outputs["logits"], {...})

The graph and the variables go through loom._C (loom_graph_to_graphdef,
loom_session_save/restore, loom_graph_import_graphdef); the small ModelDef
wrapper around them is written here, field for field as proto/model.proto
declares it.
"""
import os

from . import errors
from .framework import Graph, Operation, Tensor
from .graph_io import import_graph_def
from .session import Session

SERVING = "serving_default"
MODEL_FILE = "model.pb"
CHECKPOINT_FILE = "variables.ckpt"
_FORMAT_VERSION = 1


# ---------------------------------------------------------------- protobuf wire format


def _varint(n):
    n &= (1 << 64) - 1  # negative int32/int64 as TensorFlow's protobuf writes them
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_varint(num, n):
    return _varint(num << 3) + _varint(n)


def _field_bytes(num, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _varint((num << 3) | 2) + _varint(len(data)) + data


def _parse(data):
    """Yields (field number, wire type, value) of one message; value is an
    int (varint), bytes (length-delimited) or skipped for fixed widths."""
    i, n = 0, len(data)

    def varint():
        nonlocal i
        shift = result = 0
        while True:
            if i >= n:
                raise ValueError("truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")

    while i < n:
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            yield num, wire, varint()
        elif wire == 2:
            length = varint()
            if length > n - i:
                raise ValueError("field %d runs past the end" % num)
            yield num, wire, data[i:i + length]
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        if i > n:
            raise ValueError("truncated field %d" % num)


# ---------------------------------------------------------------- signatures


class Signature(object):
    """One way of running a model: inputs and outputs ({key: Tensor}) and
    targets ([Operation])."""

    def __init__(self, inputs=None, outputs=None, targets=None):
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})
        self.targets = list(targets or [])

    def __repr__(self):
        return "Signature(inputs=%s, outputs=%s, targets=%s)" % (
            sorted(self.inputs), sorted(self.outputs), [t.name for t in self.targets])


def _as_signature(s):
    if isinstance(s, Signature):
        return s
    return Signature(s.get("inputs"), s.get("outputs"), s.get("targets"))


def _tensor_info(t):
    if not isinstance(t, Tensor):
        raise TypeError("signature entries must be Tensors, got %r" % (t,))
    shape = b""
    dims = t.shape._as_list_or_none()
    if dims is None:
        shape = _field_varint(3, 1)
    else:
        for d in dims:
            shape += _field_bytes(2, _field_varint(1, -1 if d is None else d))
    return (_field_bytes(1, "%s:%d" % (t.op.name, t.value_index)) +
            _field_varint(2, t.dtype.as_datatype_enum) + _field_bytes(3, shape))


def _signature_def(sig):
    out = b""
    for num, entries in ((1, sig.inputs), (2, sig.outputs)):
        for key in sorted(entries):
            out += _field_bytes(num, _field_bytes(1, key) + _field_bytes(2, _tensor_info(entries[key])))
    for t in sig.targets:
        op = t.op if isinstance(t, Tensor) else t
        if not isinstance(op, Operation):
            raise TypeError("signature targets must be Operations, got %r" % (t,))
        out += _field_bytes(3, op.name)
    return out


def _write_atomically(path, data):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- save / load


def save(sess, export_dir, inputs=None, outputs=None, signatures=None):
    """Writes sess's graph, all its variables and the signatures to export_dir.

    inputs and outputs ({key: Tensor}) form the "serving_default" signature;
    signatures adds more: {name: Signature or dict(inputs=, outputs=,
    targets=[Operation])}, e.g. a "train" signature whose target is the
    training op. Every variable must be initialized. Each file is written
    atomically, the variables first."""
    sigs = {}
    if inputs or outputs:
        sigs[SERVING] = Signature(inputs, outputs)
    for name, s in (signatures or {}).items():
        sigs[name] = _as_signature(s)
    graph = sess.graph
    os.makedirs(export_dir, exist_ok=True)
    has_variables = any(op.type == "VariableV2" for op in graph.get_operations())
    model = _field_varint(1, _FORMAT_VERSION) + _field_bytes(2, graph._c.to_graphdef(0))
    for name in sorted(sigs):
        model += _field_bytes(3, _field_bytes(1, name) + _field_bytes(2, _signature_def(sigs[name])))
    if has_variables:
        try:
            sess._c.save(os.path.join(export_dir, CHECKPOINT_FILE), None)
        except errors.OpError as e:
            raise e._resolve_op(graph) from None
        model += _field_bytes(4, CHECKPOINT_FILE)
    model += _field_bytes(5, "loom python")
    _write_atomically(os.path.join(export_dir, MODEL_FILE), model)
    return export_dir


class Model(object):
    """A loaded model directory: its graph, a session with the variables
    restored, and the signatures ({name: Signature})."""

    def __init__(self, graph, session, signatures):
        self.graph = graph
        self.session = session
        self.signatures = signatures

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(export_dir, graph=None, config=None):
    """Loads export_dir into graph (a new Graph if None) and a new Session
    (config as for Session), restoring every variable. Raises
    errors.DataLossError for a damaged model or checkpoint."""
    path = os.path.join(export_dir, MODEL_FILE)
    with open(path, "rb") as f:
        data = f.read()
    graph_def, checkpoint, raw_sigs, version = None, "", [], 0
    try:
        for num, wire, value in _parse(data):
            if num == 1 and wire == 0:
                version = value
            elif num == 2 and wire == 2:
                graph_def = bytes(value)
            elif num == 3 and wire == 2:
                raw_sigs.append(value)
            elif num == 4 and wire == 2:
                checkpoint = bytes(value).decode("utf-8")
        if version != _FORMAT_VERSION:
            raise ValueError("format version %d, this Loom reads %d" % (version, _FORMAT_VERSION))
        if "/" in checkpoint or checkpoint == "..":
            raise ValueError("checkpoint %r must be a file inside the directory" % checkpoint)
        sigs = {}
        for entry in raw_sigs:
            name, body = "", b""
            for num, wire, value in _parse(entry):
                if num == 1 and wire == 2:
                    name = bytes(value).decode("utf-8")
                elif num == 2 and wire == 2:
                    body = value
            parts = {1: {}, 2: {}, 3: []}
            for num, wire, value in _parse(body):
                if wire != 2:
                    continue
                if num == 3:
                    parts[3].append(bytes(value).decode("utf-8"))
                elif num in (1, 2):
                    key = tensor = ""
                    for n2, w2, v2 in _parse(value):
                        if n2 == 1 and w2 == 2:
                            key = bytes(v2).decode("utf-8")
                        elif n2 == 2 and w2 == 2:
                            for n3, w3, v3 in _parse(v2):
                                if n3 == 1 and w3 == 2:
                                    tensor = bytes(v3).decode("utf-8")
                    parts[num][key] = tensor
            sigs[name] = parts
    except (ValueError, UnicodeDecodeError) as e:
        raise errors.DataLossError(None, None, "model %s is damaged or not a model: %s" % (path, e))
    if graph_def is None:
        raise errors.DataLossError(None, None, "model %s has no graph" % path)

    graph = graph or Graph()
    with graph.as_default():
        import_graph_def(graph_def, name="")
    sess = Session(graph=graph, config=config)
    if checkpoint:
        try:
            sess._c.restore(os.path.join(export_dir, checkpoint), None)
        except errors.OpError as e:
            sess.close()
            raise e._resolve_op(graph) from None
    signatures = {}
    for name, parts in sigs.items():
        signatures[name] = Signature(
            {k: graph.get_tensor_by_name(v) for k, v in parts[1].items()},
            {k: graph.get_tensor_by_name(v) for k, v in parts[2].items()},
            [graph.get_operation_by_name(t) for t in parts[3]])
    return Model(graph, sess, signatures)
