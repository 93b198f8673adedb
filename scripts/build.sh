#!/usr/bin/env bash
# Configures and builds Loom into ${LOOM_BUILD_DIR:-build} (Release-with-debug-info,
# warnings as errors). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${LOOM_BUILD_DIR:-build}
# Share compiled objects between build folders and clones (ccache keys ignore the folder).
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
cmake -S . -B "$BUILD" -G Ninja -DLOOM_WERROR=ON "$@" >/dev/null
ninja -C "$BUILD" -j"$(nproc)"
