#!/usr/bin/env bash
# The main job: installs dependencies, builds, and trains on Fashion-MNIST
# (Debian's dataset-fashion-mnist). Arguments go to the training program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/build.sh
BUILD=${LOOM_BUILD_DIR:-build}
exec "$BUILD/bin/mlp" "$@"
