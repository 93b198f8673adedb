"""Builds loom._C against loom.h and bundles libloom.so and the plugins.

Where the C library comes from, in order:
  1. LOOM_BUILD_DIR: an existing CMake build tree of Loom (its lib/ holds
     libloom.so and lib/loom/plugins/*.so);
  2. otherwise CMake is run on the repository root (LOOM_SOURCE_DIR, default
     ../.. from this file) into build/cmake, with tests, benchmarks and
     examples off.

The wheel carries what `cmake --install` puts in a prefix: loom/lib/libloom.so*
and loom/lib/loom/plugins/*.so (the real plugins, never test fixtures); the
extension finds them through its rpath $ORIGIN/lib, and libloom finds its
plugins relative to itself. `setup.py build_ext --inplace` (for running the
tests in the tree) bundles nothing and instead records the build tree's lib/
as a second rpath; LOOM_LIBRARY_DIR=<build>/lib at run time overrides both.
"""
import glob
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _source_dir():
    d = os.environ.get("LOOM_SOURCE_DIR") or os.path.join(HERE, "..", "..")
    d = os.path.abspath(d)
    if not os.path.exists(os.path.join(d, "capi", "include", "loom", "loom.h")):
        sys.exit("loom: cannot find the Loom source tree at %s (set LOOM_SOURCE_DIR)" % d)
    return d


def _cmake_build(src, build_dir):
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    jobs = os.environ.get("LOOM_BUILD_JOBS", str(os.cpu_count() or 2))
    subprocess.check_call(
        ["cmake", "-S", src, "-B", build_dir] + gen + [
            "-DCMAKE_BUILD_TYPE=Release",
            "-DLOOM_BUILD_TESTS=OFF",
            "-DLOOM_BUILD_BENCH=OFF",
            "-DLOOM_BUILD_EXAMPLES=OFF",
        ])
    subprocess.check_call(["cmake", "--build", build_dir, "-j", jobs])


class build_ext(_build_ext):
    def run(self):
        src = _source_dir()
        build_dir = os.environ.get("LOOM_BUILD_DIR")
        if build_dir:
            build_dir = os.path.abspath(build_dir)
        else:
            build_dir = os.path.join(HERE, "build", "cmake")
            _cmake_build(src, build_dir)
        libdir = os.path.join(build_dir, "lib")
        libs = sorted(glob.glob(os.path.join(libdir, "libloom.so*")))
        if not libs:
            sys.exit("loom: no libloom.so under %s (build Loom first or unset LOOM_BUILD_DIR)"
                     % libdir)
        import numpy
        for ext in self.extensions:
            ext.include_dirs += [os.path.join(src, "capi", "include"), numpy.get_include()]
            ext.library_dirs += [libdir]
            ext.libraries += ["loom"]
            rpaths = ["$ORIGIN/lib"]
            if self.inplace:
                rpaths.append(libdir)
            ext.extra_link_args += ["-Wl,-rpath," + ":".join(rpaths)]
        self.force = True  # the library it links may have changed under it
        _build_ext.run(self)
        if not self.inplace:
            self._bundle(build_dir)

    def _bundle(self, build_dir):
        # What `cmake --install` puts in a prefix is what users get: the
        # library and the real plugins (test fixtures, the null template and
        # examples stay in the build tree).
        import tempfile
        staging = tempfile.mkdtemp(prefix="loom-wheel-")
        subprocess.check_call(["cmake", "--install", build_dir, "--prefix", staging],
                              stdout=subprocess.DEVNULL)
        libdir = next(d for d in sorted(glob.glob(os.path.join(staging, "lib*")))
                      if glob.glob(os.path.join(d, "libloom.so*")))
        dest = os.path.join(self.build_lib, "loom", "lib")
        os.makedirs(os.path.join(dest, "loom", "plugins"), exist_ok=True)
        # One copy, under the name the extension records (the SONAME, by
        # CMake's convention the shortest versioned name): wheels hold no
        # symlinks, and three copies of the library would triple the wheel.
        versioned = sorted((os.path.basename(f) for f in
                            glob.glob(os.path.join(libdir, "libloom.so.*"))), key=len)
        soname = versioned[0] if versioned else "libloom.so"
        shutil.copyfile(os.path.realpath(os.path.join(libdir, "libloom.so")),
                        os.path.join(dest, soname))
        for f in glob.glob(os.path.join(libdir, "loom", "plugins", "*.so")):
            shutil.copyfile(f, os.path.join(dest, "loom", "plugins", os.path.basename(f)))
        shutil.rmtree(staging, ignore_errors=True)


setup(
    ext_modules=[
        Extension(
            "loom._C",
            # loom_module.c (the module) and the files it is split into;
            # loom_c.h declares what they share.
            sources=[os.path.relpath(p, HERE)
                     for p in sorted(glob.glob(os.path.join(HERE, "src", "*.c")))],
            depends=["src/loom_c.h"],
            # Hidden: the files' shared names stay inside the extension
            # (PyMODINIT_FUNC exports PyInit__C).
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers", "-fvisibility=hidden"],
        )
    ],
    cmdclass={"build_ext": build_ext},
)
