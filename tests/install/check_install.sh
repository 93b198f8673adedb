#!/usr/bin/env bash
# Installs the build into a temporary prefix (cmake --install --prefix) and
# checks what a user of that installation gets:
#   - `loom devices` lists CPU:0 and none of the fixture devices (FAKEDEV,
#     FUTUREDEV, OLDDEV) nor the null template's NULL device;
#   - nothing on stderr says "skipping plugin" (no broken fixture is discovered);
#   - no fixture, template or example library is in the prefix at all;
#   - the conformance runner and loom_version.h (naming the build's version) are;
#   - the Python package, which bundles the installation, lists the same devices.
set -euo pipefail
build_dir=$1
sanitizer=${2:-}  # a sanitized libloom cannot be loaded by a plain python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build_dir" --prefix "$tmp/prefix" >/dev/null
fail=0
say() { echo "FAIL: $*"; fail=1; }

# Only the installation's own plugin directory: no LOOM_PLUGIN_PATH from the caller.
env -u LOOM_PLUGIN_PATH "$tmp/prefix/bin/loom" devices >"$tmp/out" 2>"$tmp/err" || say "loom devices exited $?"
echo "--- loom devices (installed):"; cat "$tmp/out"
echo "--- stderr:"; cat "$tmp/err"
grep -q '/device:CPU:0' "$tmp/out" || say "CPU:0 is not listed"
for dev in FAKEDEV FUTUREDEV OLDDEV NULL; do
  if grep -q "device:$dev:" "$tmp/out"; then say "fixture device $dev is listed"; fi
done
if grep -qi 'skipping plugin' "$tmp/err"; then say "a plugin was skipped at start-up"; fi

found=$(find "$tmp/prefix" \( -name 'libloom_fixture_*' -o -name 'libloom_test_*' \
        -o -name 'libloom_null*' -o -name 'libscaled_softplus*' \) -print)
if [ -n "$found" ]; then say "fixture libraries installed: $found"; fi
echo "--- installed plugins:"; ls "$tmp"/prefix/lib*/loom/plugins/

[ -x "$tmp/prefix/libexec/loom/loom-conformance" ] || say "the conformance runner (libexec/loom/loom-conformance) is not installed"

version=$("$tmp/prefix/bin/loom" version | cut -d' ' -f1)
grep -q "#define LOOM_VERSION_STRING \"$version\"" "$tmp/prefix/include/loom/loom_version.h" \
  || say "include/loom/loom_version.h does not name version $version"
# The Python package bundles what the installation holds (setup.py runs
# cmake --install): tf.list_devices() there shows the real devices, no warnings.
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "$sanitizer" ]; then
  echo "(built with LOOM_SANITIZE=$sanitizer: the bundled Python package is not checked)"
elif python3 -c 'import numpy, setuptools' 2>/dev/null; then
  (cd "$src/bindings/python" && LOOM_BUILD_DIR="$build_dir" python3 setup.py -q build_ext \
     --build-lib "$tmp/py" --build-temp "$tmp/pytmp" >/dev/null 2>&1) || say "setup.py build_ext failed"
  cp -rn "$src"/bindings/python/loom/. "$tmp/py/loom/"  # the sources; the built _C stays
  devices=$(cd "$tmp" && env -u LOOM_LIBRARY_DIR -u LOOM_PLUGIN_PATH PYTHONPATH="$tmp/py" python3 -c \
    'import loom as tf; print(" ".join(n for n, _ in tf.list_devices()))' 2>"$tmp/pyerr") \
    || say "import loom from the bundled package failed"
  echo "--- tf.list_devices() (bundled): $devices"; cat "$tmp/pyerr"
  case " $devices " in *" /device:CPU:0 "*) ;; *) say "tf.list_devices() lacks CPU:0";; esac
  if echo "$devices" | grep -qE 'FAKEDEV|FUTUREDEV|OLDDEV|NULL'; then say "tf.list_devices() lists a fixture"; fi
  if grep -qi 'skipping plugin' "$tmp/pyerr"; then say "import loom skipped a plugin"; fi
else
  echo "(python3 with numpy and setuptools not found: the bundled package is not checked)"
fi

[ $fail -eq 0 ] && echo "OK: the installed Loom holds no test fixtures"
exit $fail
