#!/usr/bin/env bash
# Parameter-server training on this machine (issue 12's figures): examples/s
# and time to a test accuracy for 1 worker, async 2 and 3 workers, sync 3 of 3
# and sync 2 of 3 (one backup), then sync 3 of 3 and 2 of 3 with the last
# worker slowed by a per-step delay (a straggler).
#
#   LOOM_LIBRARY_DIR=build/lib PYTHONPATH=bindings/python bench/ps_training.sh [EPOCHS] [DELAY_MS]
#
# Every task is a process on this machine with one inter-op and one intra-op
# thread; on a 2-core machine the workers share the cores, so more workers do
# not mean more throughput here — the comparison that carries over is sync
# with and without a backup under a straggler.
set -euo pipefail
EPOCHS=${1:-3}
DELAY=${2:-200}
TARGET=${TARGET:-0.87}
run() {
  local name=$1
  shift
  local out
  out=$(python3 -m loom.examples.fashion_mnist_dist --epochs "$EPOCHS" --eval-every 100 \
        --target-accuracy "$TARGET" --log-every 100000 "$@" 2>&1)
  local rate acc t
  rate=$(echo "$out" | grep -E "^worker [0-9]+.*: done" | sed -E 's/.*\(([0-9]+) examples\/s\)/\1/' |
         paste -sd+ | bc)
  acc=$(echo "$out" | grep -E "^chief: global step .*test accuracy" | tail -1 | sed -E 's/.*accuracy ([0-9.]+).*/\1/')
  t=$(echo "$out" | grep -E "^chief: time to" | sed -E 's/.*accuracy: //')
  printf "%-34s %8s ex/s  final acc %s  time to %s: %s\n" "$name" "$rate" "$acc" "$TARGET" "$t"
}
run "1 worker"                --ps 1 --workers 1
run "async, 2 workers"        --ps 1 --workers 2
run "async, 3 workers"        --ps 1 --workers 3
run "sync 3 of 3"             --ps 1 --workers 3 --sync
run "sync 2 of 3 (1 backup)"  --ps 1 --workers 3 --sync --backup 1
run "sync 3 of 3, straggler"  --ps 1 --workers 3 --sync --straggler-delay-ms "$DELAY"
run "sync 2 of 3, straggler"  --ps 1 --workers 3 --sync --backup 1 --straggler-delay-ms "$DELAY"
