"""Loads the extension loom._C and, through it, libloom.so.

Installed (pip): the extension's rpath $ORIGIN/lib finds the bundled
loom/lib/libloom.so, and libloom finds its plugins in loom/lib/loom/plugins.
In the tree: LOOM_LIBRARY_DIR=<build>/lib preloads that libloom.so first
(so its plugins, found relative to it, are that build's), which the dynamic
linker then reuses for the extension (it matches the extension's DT_NEEDED
by soname, whatever the scope it was loaded into).

The preload is RTLD_LOCAL, like every Python extension: RTLD_GLOBAL would put
libloom's dependencies -- Debian's libprotobuf.so among them -- into the
process's global scope, where every library loaded later binds to them first.
TensorFlow's libtensorflow_framework.so.2 carries its own protobuf with
default visibility, so `import loom; import tensorflow` then ran TensorFlow's
static initialisers against Debian's protobuf and crashed (SIGSEGV in
google::protobuf::Arena, from tensorflow::KernelDefBuilder). libloom itself
exports only loom_* symbols, and nothing looks them up globally.
"""
import ctypes
import glob
import os


def _preload():
    d = os.environ.get("LOOM_LIBRARY_DIR")
    if not d:
        return None
    candidates = [os.path.join(d, "libloom.so")] + sorted(glob.glob(os.path.join(d, "libloom.so.*")))
    for path in candidates:
        if os.path.exists(path):
            return ctypes.CDLL(path, mode=getattr(os, "RTLD_LOCAL", 0) | getattr(os, "RTLD_NOW", 2))
    raise ImportError("LOOM_LIBRARY_DIR=%s holds no libloom.so" % d)


_handle = _preload()

try:
    from . import _C  # noqa: E402
except ImportError as e:  # pragma: no cover - message for people, not tests
    raise ImportError(
        "loom: cannot import the extension loom._C (%s). Install with "
        "`pip install ./bindings/python`, or build it in the tree with "
        "`LOOM_BUILD_DIR=<build> python bindings/python/setup.py build_ext --inplace` "
        "and run with LOOM_LIBRARY_DIR=<build>/lib." % e) from e
