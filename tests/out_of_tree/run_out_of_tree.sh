#!/usr/bin/env bash
# Installs the built Loom into a temporary prefix, builds tests/out_of_tree/project
# against that prefix alone (find_package(Loom)), and runs its app with its plugin.
# Usage: run_out_of_tree.sh <build dir> [sanitizer]. With a sanitizer (Loom was
# built with -DLOOM_SANITIZE=<it>), the project is built with the same
# -fsanitize flags: an uninstrumented app would load an instrumented libloom
# after its runtime ("ASan runtime does not come first in initial library list").
set -euo pipefail
build_dir=$1
sanitize=${2:-}
src_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
flags=()
if [[ -n $sanitize ]]; then
  cflags="-fsanitize=$sanitize -fno-omit-frame-pointer"
  flags=(-DCMAKE_C_FLAGS="$cflags" -DCMAKE_CXX_FLAGS="$cflags"
         -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitize"
         -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=$sanitize")
fi
cmake -S "$src_dir/project" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_C_COMPILER_LAUNCHER= -DCMAKE_CXX_COMPILER_LAUNCHER= "${flags[@]}" >/dev/null
ninja -C "$work/build" >/dev/null
libdir=$(ls -d "$work"/prefix/lib*/ | head -n 1)
# The installed runtime discovers the installed OpenCL plugin; PoCL keeps its
# state until exit (the conformance suite's suppressions say so).
supp="$src_dir/../conformance/sanitizer"
case $sanitize in
  address) export LSAN_OPTIONS="suppressions=$supp/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" ;;
  thread) export TSAN_OPTIONS="suppressions=$supp/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}" ;;
esac
LD_LIBRARY_PATH="$libdir" LOOM_PLUGIN_PATH= "$work/build/vendor_app" "$work/build/libvendor_plugin.so"

# The conformance kit as the vendor runs it on the plugin just built: its
# device interface (VENDORX's host memory) passes; its one op, VendorNegate,
# has no case in Loom's suite and is listed as such.
LOOM_PLUGIN_PATH= "$work/prefix/bin/loom" plugin-check --conformance "$work/build/libvendor_plugin.so" >"$work/conformance.txt" 2>&1 \
  || { cat "$work/conformance.txt"; echo "FAIL: loom plugin-check --conformance exited non-zero"; exit 1; }
cat "$work/conformance.txt"
grep -qE '^VENDORX:0 +CopiesRoundTripThroughDeviceMemory +pass' "$work/conformance.txt" \
  || { echo "FAIL: VENDORX:0's copies did not pass"; exit 1; }
grep -q 'kernels without a conformance case: VendorNegate' "$work/conformance.txt" \
  || { echo "FAIL: VendorNegate is not listed as uncovered"; exit 1; }
