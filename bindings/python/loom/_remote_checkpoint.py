"""Checkpoints of variables that live on other tasks (a session whose target is
a server). The local save/restore of the C API reads the session's own
variable store, which holds none of a ps task's variables; here the values
travel through the graph instead: save fetches them and writes the file from a
private in-process session (so the write stays atomic, as every checkpoint's
is); restore reads the file there and assigns the values through
placeholders and Assign ops made when the Saver was built (a
MonitoredSession finalizes its graph before it restores).
"""
import threading

import numpy as np

from .framework import Graph, attr_bool, attr_type


class RemoteCheckpointer(object):
    def __init__(self, variables):
        # Restore ops in the user's graph, made now (the graph may be
        # finalized by the time a restore runs).
        self._vars = {}
        for v in variables:
            name = v.op.name
            g = v.graph
            with g.as_default(), g.name_scope(None), g.control_dependencies(None), \
                    g.device(v.device or None):
                ph = g.create_op("Placeholder", [], [attr_type("dtype", v.dtype.base_dtype),
                                                     ("shape", "shape", v.get_shape()._as_list_or_none())],
                                 name="save_restore/%s/value" % name).outputs[0]
                assign = g.create_op("Assign", [v._variable, ph],
                                     [attr_type("T", v.dtype.base_dtype),
                                      attr_bool("validate_shape", False),
                                      attr_bool("use_locking", True)],
                                     name="save_restore/%s/assign" % name)
            self._vars[name] = (v, ph, assign)
        self._lock = threading.Lock()
        self._local = {}  # names -> (graph, session, placeholders, assigns)

    def covers(self, names):
        return all(n in self._vars for n in names)

    def _local_session(self, names):
        """An in-process session over variables of the same names, dtypes and shapes."""
        from .session import Session
        key = tuple(names)
        with self._lock:
            entry = self._local.get(key)
            if entry is not None:
                return entry
            g = Graph()
            phs, assigns, reads = [], [], []
            with g.as_default():
                for n in names:
                    v = self._vars[n][0]
                    dt = v.dtype.base_dtype
                    shape = v.get_shape()._as_list_or_none()
                    var = g.create_op("VariableV2", [], [("shape", "shape", shape), attr_type("dtype", dt)],
                                      name=n, exact_name=True).outputs[0]
                    ph = g.create_op("Placeholder", [], [attr_type("dtype", dt), ("shape", "shape", shape)],
                                     name=n + "/value", exact_name=True).outputs[0]
                    assigns.append(g.create_op("Assign", [var, ph], [attr_type("T", dt),
                                                                     attr_bool("validate_shape", False)],
                                               name=n + "/assign", exact_name=True))
                    reads.append(g.create_op("Identity", [var], [attr_type("T", dt)],
                                             name=n + "/read", exact_name=True).outputs[0])
                    phs.append(ph)
            entry = (g, Session(graph=g), phs, assigns, reads)
            self._local[key] = entry
            return entry

    def save(self, sess, path, names):
        values = sess.run([self._vars[n][0]._variable for n in names])
        g, local, phs, assigns, _ = self._local_session(names)
        local.run(assigns, feed_dict={p: np.asarray(v) for p, v in zip(phs, values)})
        local._c.save(path, list(names))

    def restore(self, sess, path, names):
        g, local, _, _, reads = self._local_session(names)
        local._c.restore(path, list(names))
        values = local.run(reads)
        feeds = {self._vars[n][1]: v for n, v in zip(names, values)}
        sess.run([self._vars[n][2] for n in names], feed_dict=feeds)

