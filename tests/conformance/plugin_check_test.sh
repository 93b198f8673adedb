#!/usr/bin/env bash
# `loom plugin-check --conformance <plugin>` as a vendor runs it, checked on
#  - the CPU plugin (the reference against itself): exit 0, every op row with
#    0 failures, MatMul and AddV2 among them with passing cases, every
#    device-interface check of CPU:0 passing;
#  - the FAKEDEV fixture, whose AddV2 kernel does not broadcast: exit 1,
#    AddV2's row counts both passes (same shapes) and failures (broadcasts),
#    the failure names the kernel's error, and its (correct) copies pass.
set -uo pipefail
loom=$1 cpu_plugin=$2 fake_plugin=$3
fail=0
say() { echo "FAIL: $*"; fail=1; }
row() { grep -E "^$1 +[0-9]" "$2"; }  # OP CASES PASS FAIL SKIP RESULT

out=$(mktemp)
trap 'rm -f "$out"' EXIT

env -u LOOM_PLUGIN_PATH "$loom" plugin-check --conformance "$cpu_plugin" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 0 ] || say "CPU plugin: exit $rc, want 0"
for op in MatMul AddV2 Softmax; do
  r=$(row "$op" "$out") || { say "no row for $op"; continue; }
  read -r _ cases pass nfail _ <<<"$r"
  [ "$nfail" -eq 0 ] && [ "$pass" -gt 0 ] && [ "$pass" -le "$cases" ] || say "CPU row: $r"
done
if awk '$1 ~ /^[A-Z]/ && $4 ~ /^[0-9]+$/ && $4 > 0' "$out" | grep -q .; then say "a CPU op row has failures"; fi
for check in CopiesRoundTripThroughDeviceMemory BuffersAreIndependent MemoryStatsCountLiveBytes; do
  grep -qE "^CPU:0 +$check +pass" "$out" || say "CPU:0 $check did not pass"
done
grep -q "^PASS: 0 op case(s) failed; device interface passed" "$out" || say "CPU: no PASS summary"

echo "======== FAKEDEV"
env -u LOOM_PLUGIN_PATH "$loom" plugin-check --conformance "$fake_plugin" >"$out" 2>&1
rc=$?
cat "$out"
[ $rc -eq 1 ] || say "FAKEDEV: exit $rc, want 1"
r=$(row AddV2 "$out") || say "FAKEDEV: no AddV2 row"
read -r _ cases pass nfail _ result <<<"${r:-x 0 0 0 0 x}"
[ "$pass" -ge 1 ] && [ "$nfail" -ge 1 ] && [ "$result" = FAIL ] || say "FAKEDEV AddV2 row: $r"
grep -q "FAKEDEV AddV2.row_vector:" "$out" || say "FAKEDEV: the broadcast case is not among the failures"
grep -q "fakedev: shapes must match" "$out" || say "FAKEDEV: the kernel's error is not shown"
grep -qE "^FAKEDEV:1 +CopiesRoundTripThroughDeviceMemory +pass" "$out" || say "FAKEDEV:1 copies did not pass"
grep -q "^FAIL: " "$out" || say "FAKEDEV: no FAIL summary"
[ $fail -eq 0 ] && echo "OK"
exit $fail
