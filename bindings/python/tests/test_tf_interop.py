"""Loom and TensorFlow in one Python process, imported in either order, each
running a session afterwards.

TensorFlow is never installed into the Python that runs these tests: point
LOOM_TF_PYTHON at an interpreter that has `tensorflow-cpu` (a virtualenv:
`python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
numpy`, then LOOM_TF_PYTHON=/tmp/tfvenv/bin/python). Each case runs there in
a subprocess, since the failure this guards against is a crash (SIGSEGV in
TensorFlow's protobuf initialisation once Loom had put Debian's libprotobuf
into the global symbol scope). Without LOOM_TF_PYTHON the cases skip, saying
so.

Loom runs with only its CPU plugin here: TensorFlow's libtensorflow_framework
exports its own LLVM globally, and PoCL (the OpenCL ICD in CI) crashes in its
LLVM's static initialisers once TensorFlow is loaded -- with a bare
clGetPlatformIDs through ctypes too, without Loom -- so the OpenCL plugin
cannot be loaded after TensorFlow on such machines.
"""
import os
import subprocess
import sys
import textwrap

import pytest

TF_PYTHON = os.environ.get("LOOM_TF_PYTHON")
LIBDIR = os.environ.get("LOOM_LIBRARY_DIR")
PKG_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = textwrap.dedent("""
    import sys
    if sys.argv[1] == "loom_first":
        import loom
        import tensorflow
    else:
        import tensorflow
        import loom
    import numpy as np

    g = loom.Graph()
    with g.as_default():
        x = loom.placeholder(loom.float32, [2])
        y = loom.reduce_sum(x * 3.0)
        with loom.Session(graph=g) as s:
            got = s.run(y, {x: np.array([1.0, 2.0], np.float32)})
    assert got == 9.0, got

    assert float(tensorflow.reduce_sum(tensorflow.constant([1.0, 2.0]) * 3.0).numpy()) == 9.0
    g1 = tensorflow.Graph()
    with g1.as_default():
        c = tensorflow.compat.v1.placeholder(tensorflow.float32, [2])
        z = tensorflow.reduce_sum(c * 3.0)
        with tensorflow.compat.v1.Session(graph=g1) as s:
            assert s.run(z, {c: np.array([1.0, 2.0], np.float32)}) == 9.0
    print("both ran")
""")


def _tf_python_or_skip():
    if not TF_PYTHON:
        pytest.skip("LOOM_TF_PYTHON is not set: no interpreter with tensorflow-cpu to test "
                    "Loom and TensorFlow in one process")
    probe = subprocess.run([TF_PYTHON, "-c", "import tensorflow"], capture_output=True,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), timeout=300)
    if probe.returncode != 0:
        pytest.skip("LOOM_TF_PYTHON=%s cannot import tensorflow: %s"
                    % (TF_PYTHON, probe.stderr.decode(errors="replace")[-300:]))
    if not LIBDIR:
        pytest.skip("LOOM_LIBRARY_DIR is not set: the case needs the build's CPU plugin")
    return TF_PYTHON


@pytest.mark.parametrize("order", ["loom_first", "tf_first"])
def test_loom_and_tensorflow_run_in_one_process(order):
    python = _tf_python_or_skip()
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([PKG_ROOT, os.environ.get("PYTHONPATH", "")]),
               TF_CPP_MIN_LOG_LEVEL="3",
               LOOM_NO_DEFAULT_PLUGINS="1",
               LOOM_PLUGIN_PATH=os.path.join(LIBDIR, "loom", "plugins", "libloom_cpu.so"))
    r = subprocess.run([python, "-c", PROGRAM, order], capture_output=True, env=env,
                       timeout=600)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert r.returncode == 0, "exit %d (negative: killed by that signal):\n%s" % (
        r.returncode, out[-3000:])
    assert "both ran" in out
