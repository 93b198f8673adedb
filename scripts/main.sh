#!/usr/bin/env bash
# The main job: installs dependencies, builds Loom and its Python binding, and
# trains the CNN of TensorFlow's layers tutorial on Fashion-MNIST (Debian's
# dataset-fashion-mnist) from Python with a progress bar, printing the test
# accuracy after every epoch. Arguments go to the trainer
# (python -m loom.examples.fashion_mnist_cnn --help; --epochs, default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
PY=${PYTHON:-python3}
(cd bindings/python && LOOM_BUILD_DIR="$PWD/../../$BUILD" $PY setup.py -q build_ext --inplace >/dev/null)
export PYTHONPATH="$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
export LOOM_LIBRARY_DIR="$PWD/$BUILD/lib"
exec $PY -m loom.examples.fashion_mnist_cnn "$@"
