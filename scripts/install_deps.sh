#!/usr/bin/env bash
# Installs what Loom needs to build, test and train on a fresh Debian bookworm
# machine (run as root, or with sudo available). Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
PKGS=(cmake ninja-build g++ ccache pkg-config
      libeigen3-dev libopenblas-dev zlib1g-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      libprotobuf-dev protobuf-compiler golang-go
      ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
      libzmq3-dev libuv1-dev
      dataset-fashion-mnist)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
PY=${PYTHON:-python3}
$PY -c "import numpy, pytest, setuptools" 2>/dev/null || $PY -m pip install -q numpy pytest setuptools
