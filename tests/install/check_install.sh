#!/usr/bin/env bash
# Installs the build into a temporary prefix (cmake --install --prefix) and
# checks what a user of that installation gets:
#   - `loom devices` lists CPU:0 and none of the fixture devices (FAKEDEV,
#     FUTUREDEV, OLDDEV) nor the null template's NULL device;
#   - nothing on stderr says "skipping plugin" (no broken fixture is discovered);
#   - no fixture, template or example library is in the prefix at all;
#   - the conformance runner and loom_version.h (naming the build's version) are.
set -euo pipefail
build_dir=$1
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
[ $fail -eq 0 ] && echo "OK: the installed Loom holds no test fixtures"
exit $fail
