"""Loads the extension loom._C and, through it, libloom.so.

Installed (pip): the extension's rpath $ORIGIN/lib finds the bundled
loom/lib/libloom.so, and libloom finds its plugins in loom/lib/loom/plugins.
In the tree: LOOM_LIBRARY_DIR=<build>/lib preloads that libloom.so first
(so its plugins, found relative to it, are that build's), which the dynamic
linker then reuses for the extension.
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
            return ctypes.CDLL(path, mode=getattr(os, "RTLD_GLOBAL", 0x100) | getattr(os, "RTLD_NOW", 2))
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
