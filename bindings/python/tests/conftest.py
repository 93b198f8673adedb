"""Each test builds into a fresh default graph."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PKG_ROOT = os.path.dirname(HERE)  # bindings/python
sys.path.insert(0, PKG_ROOT)  # run in the tree


def _build_extension_in_tree():
    """In the tree (LOOM_LIBRARY_DIR=<build>/lib), builds loom._C in place when
    it is missing or older than its sources (src/*.c, src/*.h), loom.h or libloom, so that the
    README's test command needs no separate step."""
    libdir = os.environ.get("LOOM_LIBRARY_DIR")
    if not libdir:
        return
    import glob
    import subprocess
    exts = glob.glob(os.path.join(PKG_ROOT, "loom", "_C*.so"))
    src = os.path.join(PKG_ROOT, "src")
    inputs = (glob.glob(os.path.join(src, "*.c")) + glob.glob(os.path.join(src, "*.h")) +
              [os.path.join(PKG_ROOT, "..", "..", "capi", "include", "loom", "loom.h"),
               os.path.join(libdir, "libloom.so")])
    newest = max(os.path.getmtime(p) for p in inputs if os.path.exists(p))
    if exts and os.path.getmtime(exts[0]) >= newest:
        return
    env = dict(os.environ, LOOM_BUILD_DIR=os.path.dirname(os.path.abspath(libdir)))
    subprocess.check_call([sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
                          cwd=PKG_ROOT, env=env)


_build_extension_in_tree()

import loom as tf  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)
