#!/usr/bin/env bash
# Runs every test: installs dependencies, builds, then CTest (C/C++ tests) and
# pytest (the Python binding). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
status=0
(cd "$BUILD" && ctest -j"$(nproc)" --output-on-failure --timeout 600) || status=1
if [ -d bindings/python/tests ]; then
  PYTHONPATH="$PWD/bindings/python" LOOM_LIBRARY_DIR="$PWD/$BUILD/lib" \
    ${PYTHON:-python3} -m pytest -q bindings/python/tests || status=1
fi
exit $status
