"""The release version is written once, in CMakeLists.txt's project(VERSION);
every other copy comes from the C library or is checked against it here."""
import os
import re

import loom as tf

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def _cmake_version():
    text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    return re.search(r"project\(Loom VERSION ([0-9.]+)", text).group(1)


def test_library_reports_the_cmake_project_version():
    assert tf.version().split(" ")[0] == _cmake_version()


def test_package_version_is_the_librarys():
    assert tf.__version__ == _cmake_version()
    assert tf.VERSION == tf.__version__


def test_pyproject_version_matches_cmake():
    text = open(os.path.join(ROOT, "bindings", "python", "pyproject.toml")).read()
    assert re.search(r'^version = "([^"]+)"', text, re.M).group(1) == _cmake_version()
