"""GraphDef export/import and checkpoints (Saver) over loom.h."""
import os
import re

from . import errors
from .framework import Graph, Tensor, get_default_graph
from ._lib import _C

_BINARY, _TEXT = 0, 1


class GraphDef(object):
    """A serialized GraphDef (TensorFlow's wire format). Holds the bytes;
    SerializeToString() gives them back, str() the text format."""

    def __init__(self, data=b""):
        self._data = bytes(data)

    def SerializeToString(self):  # noqa: N802 - protobuf's name
        return self._data

    def ParseFromString(self, data):  # noqa: N802
        self._data = bytes(data)

    def __str__(self):
        g = Graph()
        g._c.import_graphdef(self._data, _BINARY, None, [], [], False, None)
        return g._c.to_graphdef(_TEXT).decode("utf-8")

    @property
    def node(self):
        g = Graph()
        g._c.import_graphdef(self._data, _BINARY, None, [], [], False, None)
        return [errors._NodeDef(op) for op in g.get_operations()]

    def __len__(self):
        return len(self._data)


def as_graph_def(graph=None, as_text=False):
    g = graph or get_default_graph()
    if as_text:
        return g._c.to_graphdef(_TEXT).decode("utf-8")
    return GraphDef(g._c.to_graphdef(_BINARY))


Graph.as_graph_def = lambda self, from_version=None, add_shapes=False: as_graph_def(self)
Graph.as_graph_def_text = lambda self: as_graph_def(self, as_text=True)


def _data_and_format(graph_def):
    if isinstance(graph_def, GraphDef):
        return graph_def.SerializeToString(), _BINARY
    if isinstance(graph_def, str):
        return graph_def.encode("utf-8"), _TEXT
    if isinstance(graph_def, (bytes, bytearray, memoryview)):
        return bytes(graph_def), _BINARY
    if hasattr(graph_def, "SerializeToString"):  # a TensorFlow GraphDef proto
        return graph_def.SerializeToString(), _BINARY
    raise TypeError("graph_def must be a GraphDef, bytes (binary) or str (text), got %r"
                    % type(graph_def).__name__)


def import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
                     op_dict=None, producer_op_list=None, clear_devices=False):
    """tf.import_graph_def: adds the GraphDef's ops to the default graph under
    the prefix name ("import" by default); input_map replaces its tensors
    ("op:index" or "^op") with existing ones; returns return_elements."""
    data, fmt = _data_and_format(graph_def)
    g = get_default_graph()
    prefix = g.unique_name(name if name is not None else "import") if name != "" else None
    imap, cmap = [], []
    for k, v in (input_map or {}).items():
        if k.startswith("^"):
            cmap.append((k[1:], v._ptr if hasattr(v, "_ptr") else v.op._ptr))
            continue
        if ":" in k:
            n, i = k.rsplit(":", 1)
            i = int(i)
        else:
            n, i = k, 0
        if hasattr(v, "_as_tensor"):
            v = v._as_tensor()
        if not isinstance(v, Tensor):
            raise TypeError("input_map values must be Tensors, got %r" % (v,))
        imap.append((n, i, v._out))
    try:
        first = g._c.import_graphdef(data, fmt, prefix, imap, cmap, clear_devices, None)
    except errors.OpError as e:
        raise errors._build_error(e) from None
    n = g._c.num_ops()
    for i in range(first, n):
        op = g._op_from_ptr(g._c.op_at(i))
        g._names_in_use.setdefault(op.name.lower(), 1)
    if return_elements is None:
        return None
    out = []
    for r in return_elements:
        full = (prefix + "/" + r) if prefix else r
        out.append(g.as_graph_element(full))
    return out


def write_graph(graph_or_graph_def, logdir, name, as_text=True):
    """tf.train.write_graph: writes logdir/name (text or binary GraphDef)."""
    if isinstance(graph_or_graph_def, Graph):
        data = graph_or_graph_def._c.to_graphdef(_TEXT if as_text else _BINARY)
    else:
        raw, fmt = _data_and_format(graph_or_graph_def)
        if as_text and fmt == _BINARY:
            data = str(GraphDef(raw)).encode("utf-8")
        elif not as_text and fmt == _TEXT:
            g = Graph()
            g._c.import_graphdef(raw, _TEXT, None, [], [], False, None)
            data = g._c.to_graphdef(_BINARY)
        else:
            data = raw
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- checkpoints


class Saver(object):
    """tf.train.Saver over loom_session_save/restore. Variables are stored
    under their op names; a dict var_list must use those names."""

    def __init__(self, var_list=None, max_to_keep=5, **unused):
        self._var_list = var_list
        self._max_to_keep = max_to_keep
        self._last = []
        self._remote = None
        # Variables on other tasks are saved and restored through the graph
        # (_remote_checkpoint.py): its restore ops are made now, while the
        # graph can still grow.
        from .framework import get_default_graph
        from .variables import global_variables
        vl = var_list if var_list is not None else global_variables()
        vl = list(vl.values()) if isinstance(vl, dict) else list(vl)
        if vl and any(v.device for v in vl) and not get_default_graph().finalized:
            from ._remote_checkpoint import RemoteCheckpointer
            self._remote = RemoteCheckpointer(vl)

    def _remote_for(self, sess, names):
        if not getattr(sess, "sess_str", ""):
            return None
        if self._remote is None or not self._remote.covers(names):
            raise NotImplementedError("Saver: variables of a cluster session must have a device "
                                      "and exist when the Saver is made")
        return self._remote

    def _names(self):
        from .variables import global_variables
        vl = self._var_list
        if vl is None:
            vl = global_variables()
        if isinstance(vl, dict):
            for k, v in vl.items():
                if k != v.op.name:
                    raise NotImplementedError("Saver: checkpoint names must be the variables' "
                                              "op names (%r != %r)" % (k, v.op.name))
            vl = list(vl.values())
        return [v.op.name for v in vl]

    def save(self, sess, save_path, global_step=None, latest_filename=None,
             meta_graph_suffix="meta", write_meta_graph=True, write_state=True, **unused):
        path = save_path
        if global_step is not None:
            if not isinstance(global_step, int):
                global_step = int(sess.run(global_step))
            path = "%s-%d" % (save_path, global_step)
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        try:
            remote = self._remote_for(sess, self._names())
            if remote is not None:
                remote.save(sess, path, self._names())
            else:
                sess._c.save(path, self._names())
        except errors.OpError as e:
            raise e._resolve_op(sess.graph) from None
        if write_meta_graph:
            write_graph(sess.graph, d or ".", os.path.basename(path) + ".pb", as_text=False)
        if write_state:
            self._last = [p for p in self._last if p != path] + [path]
            if self._max_to_keep and len(self._last) > self._max_to_keep:
                for old in self._last[:-self._max_to_keep]:
                    for f in (old, old + ".pb"):
                        if os.path.exists(f):
                            os.remove(f)
                self._last = self._last[-self._max_to_keep:]
            _write_state(d or ".", path, self._last, latest_filename or "checkpoint")
        return path

    def restore(self, sess, save_path):
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        try:
            remote = self._remote_for(sess, self._names())
            if remote is not None:
                remote.restore(sess, save_path, self._names())
            else:
                sess._c.restore(save_path, self._names())
        except errors.OpError as e:
            raise e._resolve_op(sess.graph) from None

    @property
    def last_checkpoints(self):
        return list(self._last)


def _write_state(d, path, all_paths, filename):
    def rel(p):
        return os.path.relpath(p, d) if not os.path.isabs(p) or p.startswith(d) else p
    lines = ['model_checkpoint_path: "%s"' % rel(path)]
    lines += ['all_model_checkpoint_paths: "%s"' % rel(p) for p in all_paths]
    tmp = os.path.join(d, filename + ".tmp")
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, os.path.join(d, filename))


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    state = os.path.join(checkpoint_dir, latest_filename or "checkpoint")
    if not os.path.exists(state):
        return None
    with open(state) as f:
        m = re.search(r'^model_checkpoint_path: "(.*)"$', f.read(), re.M)
    if not m:
        return None
    p = m.group(1)
    return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)


def list_variables(ckpt_dir_or_file):
    path = _ckpt_path(ckpt_dir_or_file)
    return [(n, list(s) if s is not None else None) for n, _, s in _C.checkpoint_list(path)]


def load_variable(ckpt_dir_or_file, name):
    return _C.checkpoint_read(_ckpt_path(ckpt_dir_or_file), name)


def _ckpt_path(p):
    if os.path.isdir(p):
        c = latest_checkpoint(p)
        if c is None:
            raise ValueError("Couldn't find 'checkpoint' file or checkpoints in given directory "
                             "%s" % p)
        return c
    return p
