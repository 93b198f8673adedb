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
    ${PYTHON:-python3} -m pytest -q bindings/python/tests examples/custom_op || status=1
fi
# The Go binding: cgo over loom.h, linked against this build's libloom. Its
# cross-language test trains with the Python binding (built by pytest above).
if command -v go >/dev/null 2>&1; then
  LIB="$(cd "$BUILD" && pwd)/lib"
  (cd bindings/go && CGO_ENABLED=1 CGO_CFLAGS="-I$OLDPWD/capi/include" \
     CGO_LDFLAGS="-L$LIB -Wl,-rpath,$LIB" LD_LIBRARY_PATH="$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
     LOOM_LIBRARY_DIR="$LIB" PYTHON="${PYTHON:-python3}" \
     GOFLAGS=-mod=mod GOPROXY=off go test -count=1 ./...) || status=1
else
  echo "go not found: skipping the Go binding's tests (apt-get install golang-go)"
fi
exit $status
